namespace Cube.Training.Data;

public enum JobState
{
    Queued,
    Running,
    Succeeded,
    Failed,
    Cancelled,
}

/// <summary>
/// One submitted training job; it is also a run of its experiment (params, metrics, logs, artifacts hang off it).
/// Its work happens in the Core run <see cref="RunId"/>, which carries progress and cancellation.
/// </summary>
public sealed class TrainingJob
{
    public Guid Id { get; set; } = Guid.CreateVersion7();
    public Guid ProjectId { get; set; }
    public required string Name { get; set; }
    public required string Experiment { get; set; }
    public required string Distribution { get; set; }
    public required string Framework { get; set; }
    /// <summary>The validated spec as submitted, JSON.</summary>
    public required string SpecJson { get; set; }
    public JobState State { get; set; } = JobState.Queued;
    public Guid RunId { get; set; }
    /// <summary>GPUs the job holds while running (workers × GPUs per worker), counted against the project's quota.</summary>
    public int Gpus { get; set; }
    public Guid? SubmittedBy { get; set; }
    public string? Message { get; set; }
    public string? Error { get; set; }
    public int? ExitCode { get; set; }
    /// <summary>Log lines received (stored ones are capped by the MaxLogLines setting).</summary>
    public long LogLineCount { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset? StartedAt { get; set; }
    public DateTimeOffset? FinishedAt { get; set; }
    /// <summary>The study this job is a trial of, if any.</summary>
    public Guid? StudyId { get; set; }
    /// <summary>SHA-256 of the job's reporting token (<c>CUBE_TRACKING_TOKEN</c>); the token works only while the job runs.</summary>
    public string? TrackingTokenHash { get; set; }
}

/// <summary>A parameter of a run: each hyperparameter, plus the job's shape (workers, gpus, distribution).</summary>
public sealed class JobParam
{
    public Guid JobId { get; set; }
    public required string Key { get; set; }
    public required string Value { get; set; }
}

/// <summary>A dataset version the job read: lineage from data to the run and to the models it produced.</summary>
public sealed class JobInput
{
    public Guid JobId { get; set; }
    public required string Name { get; set; }
    public Guid DatasetId { get; set; }
    public required string Dataset { get; set; }
    public Guid VersionId { get; set; }
    public int VersionNumber { get; set; }
}

/// <summary>One value of one metric at one step.</summary>
public sealed class MetricPoint
{
    public long Id { get; set; }
    public Guid JobId { get; set; }
    public required string Name { get; set; }
    public long Step { get; set; }
    public double Value { get; set; }
    public DateTimeOffset At { get; set; }
}

public sealed class LogLine
{
    public Guid JobId { get; set; }
    /// <summary>1, 2, 3, … per job, in arrival order; clients page with <c>after</c>.</summary>
    public long Sequence { get; set; }
    public required string Source { get; set; }
    public required string Text { get; set; }
    public DateTimeOffset At { get; set; }
}

/// <summary>A file the job wrote to its output directory, stored in the object store.</summary>
public sealed class JobArtifact
{
    public Guid JobId { get; set; }
    public required string Path { get; set; }
    public required string ObjectKey { get; set; }
    public required string Sha256 { get; set; }
    public long Size { get; set; }
}

/// <summary>A named model of a project in the registry; its versions point at job artifacts.</summary>
public sealed class RegisteredModel
{
    public Guid Id { get; set; } = Guid.CreateVersion7();
    public Guid ProjectId { get; set; }
    public required string Name { get; set; }
    public string Description { get; set; } = "";
    public int LatestVersion { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
}

/// <summary>
/// An immutable model version: an artifact of a finished job, with a snapshot of the job's final metrics and its
/// lineage (<see cref="ModelVersionLineage"/>) to the dataset versions the job read.
/// </summary>
public sealed class ModelVersion
{
    public Guid Id { get; set; } = Guid.CreateVersion7();
    public Guid ModelId { get; set; }
    public int Number { get; set; }
    public Guid JobId { get; set; }
    public Guid RunId { get; set; }
    public required string ArtifactPath { get; set; }
    public required string ObjectKey { get; set; }
    public required string Sha256 { get; set; }
    public long Size { get; set; }
    /// <summary>mlnet, onnx, torchscript, pytorch, tensorflow or other.</summary>
    public required string Flavor { get; set; }
    /// <summary>The last value of each metric of the job, JSON object.</summary>
    public string MetricsJson { get; set; } = "{}";
    /// <summary>Input and output columns (name, type) as JSON <c>{"inputs":[...],"outputs":[...]}</c>, where the producer knows them.</summary>
    public string? SignatureJson { get; set; }
    public string Description { get; set; } = "";
    public Guid? CreatedBy { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
}

public sealed class ModelVersionLineage
{
    public Guid ModelVersionId { get; set; }
    public Guid DatasetVersionId { get; set; }
    public Guid DatasetId { get; set; }
    public required string Dataset { get; set; }
    public int VersionNumber { get; set; }
}

/// <summary>A movable name (staging, production, champion) pointing at one version of a model.</summary>
public sealed class ModelAlias
{
    public Guid ModelId { get; set; }
    public required string Alias { get; set; }
    public Guid VersionId { get; set; }
    public DateTimeOffset UpdatedAt { get; set; }
}

/// <summary>How many GPUs a project's running jobs may hold at once; jobs beyond it wait in the project's queue.</summary>
public sealed class GpuQuota
{
    public Guid ProjectId { get; set; }
    public int MaxGpus { get; set; }
    public DateTimeOffset UpdatedAt { get; set; }
}

public enum StudyState
{
    Running,
    /// <summary>Cancel requested: its trials are being stopped.</summary>
    Cancelling,
    Succeeded,
    Failed,
    Cancelled,
}

public enum TrialState
{
    /// <summary>Planned, not yet submitted (waiting for a parallelism slot).</summary>
    Pending,
    Queued,
    Running,
    Succeeded,
    Failed,
    Cancelled,
}

/// <summary>
/// A hyperparameter search: the parent of its trial jobs. Everything the scheduler needs is in this row and its
/// trials, so any Cube process can carry a study on after another stopped (see <c>StudyScheduler</c>).
/// </summary>
public sealed class Study
{
    public Guid Id { get; set; } = Guid.CreateVersion7();
    public Guid ProjectId { get; set; }
    public required string Name { get; set; }
    public required string Experiment { get; set; }
    /// <summary>grid, random or halving.</summary>
    public required string Strategy { get; set; }
    public required string Metric { get; set; }
    /// <summary>minimize or maximize.</summary>
    public required string Goal { get; set; }
    /// <summary>The validated spec, search block included (seed filled in, dataset inputs pinned to version numbers), JSON.</summary>
    public required string SpecJson { get; set; }
    public int Parallelism { get; set; }
    public int Seed { get; set; }
    public StudyState State { get; set; } = StudyState.Running;
    /// <summary>The rung being run (0 for grid and random).</summary>
    public int Rung { get; set; }
    public int Rungs { get; set; } = 1;
    /// <summary>Trials the study will have run when it ends, as planned now (halving revises it when fewer trials can be promoted).</summary>
    public int TotalTrials { get; set; }
    public Guid? BestTrialId { get; set; }
    public double? BestValue { get; set; }
    public string? Message { get; set; }
    public Guid? SubmittedBy { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset? FinishedAt { get; set; }
    /// <summary>The process advancing the study now, and until when its lease holds (so two processes never launch the same slot).</summary>
    public string? LeaseOwner { get; set; }
    public DateTimeOffset? LeaseUntil { get; set; }
}

/// <summary>One trial of a study: a configuration at a rung, run as the job <see cref="JobId"/> once a parallelism slot is free.</summary>
public sealed class StudyTrial
{
    public Guid Id { get; set; } = Guid.CreateVersion7();
    public Guid StudyId { get; set; }
    /// <summary>1, 2, 3, … in launch order; also the suffix of the job name.</summary>
    public int Number { get; set; }
    /// <summary>The configuration (0-based); a halving configuration keeps its number as it is promoted.</summary>
    public int Configuration { get; set; }
    public int Rung { get; set; }
    /// <summary>The sampled hyperparameters (and the resource, for halving), JSON object of strings.</summary>
    public required string ParamsJson { get; set; }
    public TrialState State { get; set; } = TrialState.Pending;
    /// <summary>Chosen before the job is submitted, so a scheduler that stops in between submits the same job again, never a second one.</summary>
    public Guid? JobId { get; set; }
    /// <summary>The trial of the previous rung this one continues.</summary>
    public Guid? PromotedFrom { get; set; }
    /// <summary>The last reported value of the study's metric.</summary>
    public double? MetricValue { get; set; }
    /// <summary>Why the trial ended where it did: completed, promoted, not promoted (rank), failed, cancelled.</summary>
    public string? StopReason { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset? FinishedAt { get; set; }
}
