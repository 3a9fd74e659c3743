namespace Cube.Labeling.Data;

/// <summary>How "next task" orders the pool.</summary>
public enum TaskOrdering
{
    Sequential,
    Random,
    Priority,
    /// <summary>
    /// Active learning: tasks whose most confident prediction is least confident come first (lowest top score, then
    /// insertion order); tasks with no scored prediction follow all scored ones, in insertion order. The top score is
    /// the highest <see cref="Prediction.Score"/> among a task's predictions, the one the annotator sees first.
    /// </summary>
    Uncertainty,
}

public enum LabelingProjectState
{
    Active,
    Paused,
}

/// <summary>A labeling project inside a Cube project: a label configuration, a pool of tasks and the rules that hand them out.</summary>
public sealed class LabelingProject
{
    public Guid Id { get; set; } = Guid.CreateVersion7();
    /// <summary>The Cube project it belongs to; roles come from there.</summary>
    public Guid ProjectId { get; set; }
    public required string Name { get; set; }
    public string? Instructions { get; set; }
    public required string ConfigJson { get; set; }
    /// <summary>Completed annotations required per (non-gold) task: the overlap k.</summary>
    public int Overlap { get; set; } = 1;
    public TaskOrdering Ordering { get; set; }
    /// <summary>Share of handed-out tasks that are gold tasks, 0..1.</summary>
    public double GoldRate { get; set; }
    /// <summary>Share of submitted annotations sampled for review, 0..1.</summary>
    public double ReviewRate { get; set; }
    public int LeaseSeconds { get; set; } = 600;
    public LabelingProjectState State { get; set; }
    public Guid? SourceDatasetId { get; set; }
    public Guid? SourceVersionId { get; set; }
    /// <summary>The table path and column that became the tasks, when made from a table.</summary>
    public string? SourceTable { get; set; }
    public string? SourceColumn { get; set; }
    public Guid CreatedBy { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    /// <summary>Next task ordinal; tasks keep their insertion order for sequential distribution.</summary>
    public long NextOrdinal { get; set; }
    /// <summary>Optimistic concurrency; exposed as the ETag.</summary>
    public long Version { get; set; } = 1;
    /// <summary>Retrain the built-in text pre-labeler after this many new training labels; null: only on demand.</summary>
    public int? AutoPrelabelEvery { get; set; }
    /// <summary>The training-label count when the last automatic pre-label run was started; the next starts at this plus <see cref="AutoPrelabelEvery"/>.</summary>
    public int PrelabelMark { get; set; }
    /// <summary>
    /// The standing training labels (<see cref="Prelabel.TrainingLabels.Standing"/>) while <see cref="AutoPrelabelEvery"/> is
    /// set: counted when it is turned on, then moved by the transaction of each change that makes or unmakes one.
    /// </summary>
    public int TrainingLabelCount { get; set; }
    /// <summary>
    /// Set when the count reached the next mark but the training labels had fewer than two classes: their one class
    /// (empty for none). Until the mark moves, only a label of another class can let the run start. Null otherwise.
    /// </summary>
    public string? PrelabelSoleClass { get; set; }
}

/// <summary>
/// One item to label. <see cref="Reserved"/> counts the slots held by live leases, returned work and submitted
/// annotations; <see cref="Completed"/> the submitted or accepted annotations. Check constraints keep
/// 0 &lt;= Completed &lt;= Reserved &lt;= Required in the database itself.
/// </summary>
public sealed class LabelingTask
{
    public Guid Id { get; set; } = Guid.CreateVersion7();
    public Guid LabelingProjectId { get; set; }
    public long Ordinal { get; set; }
    /// <summary>A random key fixed at creation; random ordering walks the pool by it.</summary>
    public int RandomKey { get; set; }
    public int Priority { get; set; }
    public bool IsGold { get; set; }
    public string? GoldAnswerJson { get; set; }
    /// <summary>What the annotator sees: <c>{"text":…}</c> or <c>{"image":path,"width":…,"height":…}</c> plus source fields.</summary>
    public required string DataJson { get; set; }
    /// <summary>The overlap k for ordinary tasks; gold tasks are answered by every annotator and have no cap.</summary>
    public int Required { get; set; }
    public int Reserved { get; set; }
    public int Completed { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
}

public enum AssignmentStatus
{
    /// <summary>Leased to the annotator until <see cref="Assignment.ExpiresAt"/>.</summary>
    Active,
    Submitted,
    Skipped,
    /// <summary>The lease ran out; the slot went back to the pool.</summary>
    Expired,
    /// <summary>A reviewer rejected the annotation; the slot stays with the annotator until they pick it up again.</summary>
    Returned,
}

/// <summary>One annotator's hold on one task. Unique per (task, annotator): nobody gets the same task twice.</summary>
public sealed class Assignment
{
    public Guid Id { get; set; } = Guid.CreateVersion7();
    public Guid LabelingProjectId { get; set; }
    public Guid TaskId { get; set; }
    public Guid AnnotatorId { get; set; }
    public AssignmentStatus Status { get; set; }
    public DateTimeOffset LeasedAt { get; set; }
    public DateTimeOffset ExpiresAt { get; set; }
    public DateTimeOffset? FinishedAt { get; set; }
}

public enum AnnotationStatus
{
    Draft,
    Submitted,
    Skipped,
    Accepted,
    Rejected,
}

public enum ReviewState
{
    NotSampled,
    Pending,
    Accepted,
    Rejected,
    Corrected,
}

/// <summary>An annotator's answer for a task (or their skip). Unique per (task, annotator).</summary>
public sealed class Annotation
{
    public Guid Id { get; set; } = Guid.CreateVersion7();
    public Guid LabelingProjectId { get; set; }
    public Guid TaskId { get; set; }
    public Guid AnnotatorId { get; set; }
    public AnnotationStatus Status { get; set; }
    public string? ResultJson { get; set; }
    public string? SkipReason { get; set; }
    public long TimeSpentMs { get; set; }
    public ReviewState ReviewState { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset UpdatedAt { get; set; }
    public DateTimeOffset? SubmittedAt { get; set; }
    /// <summary>Optimistic concurrency; exposed as the ETag.</summary>
    public long Version { get; set; } = 1;
}

public enum ReviewDecision
{
    Accept,
    Reject,
    Correct,
}

/// <summary>A reviewer's decision on an annotation.</summary>
public sealed class Review
{
    public Guid Id { get; set; } = Guid.CreateVersion7();
    public Guid LabelingProjectId { get; set; }
    public Guid AnnotationId { get; set; }
    public Guid TaskId { get; set; }
    public Guid ReviewerId { get; set; }
    public ReviewDecision Decision { get; set; }
    public string? Comment { get; set; }
    /// <summary>The reviewer's corrected result, for <see cref="ReviewDecision.Correct"/>.</summary>
    public string? CorrectedResultJson { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
}

/// <summary>An append-only record of who did what to a task and when; rows are only ever inserted.</summary>
public sealed class HistoryEntry
{
    public long Id { get; set; }
    public Guid LabelingProjectId { get; set; }
    public Guid? TaskId { get; set; }
    public Guid? AnnotationId { get; set; }
    public Guid ActorId { get; set; }
    /// <summary>leased, lease-expired, draft-saved, submitted, updated, skipped, accepted, rejected, corrected, task-changed.</summary>
    public required string Action { get; set; }
    public string? DetailJson { get; set; }
    public DateTimeOffset At { get; set; }
}

/// <summary>
/// A model's pre-annotation of a task: shown to the annotator as a suggestion, never counted as an annotation. The
/// result is validated against the project's configuration like an annotation's.
/// </summary>
public sealed class Prediction
{
    public Guid Id { get; set; } = Guid.CreateVersion7();
    public Guid LabelingProjectId { get; set; }
    public Guid TaskId { get; set; }
    public required string Model { get; set; }
    public string? ModelVersion { get; set; }
    public required string ResultJson { get; set; }
    /// <summary>The model's confidence, 0..1; the uncertainty ordering serves tasks by their highest score, lowest first.</summary>
    public double? Score { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
}

/// <summary>
/// An external model a labeling project sends its unlabeled tasks to for pre-labels (one per labeling project). The
/// bearer token is stored so it can be sent; the API never returns it and nothing logs it.
/// </summary>
public sealed class ModelEndpoint
{
    public Guid LabelingProjectId { get; set; }
    public required string Url { get; set; }
    /// <summary>The bearer token, encrypted with the deployment's data-protection keys (never returned by the API).</summary>
    public string? Token { get; set; }
    /// <summary>The model name sent in requests and stored with predictions unless the response names one.</summary>
    public required string Model { get; set; }
    public int BatchSize { get; set; }
    public int TimeoutSeconds { get; set; }
    public Guid UpdatedBy { get; set; }
    public DateTimeOffset UpdatedAt { get; set; }
}
