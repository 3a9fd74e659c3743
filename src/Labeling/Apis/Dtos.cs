using System.Text.Json;
using Cube.Labeling.Data;

namespace Cube.Labeling.Apis;

public sealed record ProgressDto(int Tasks, int GoldTasks, int CompletedTasks, int Annotations, int Skipped, int PendingReviews);

public sealed record LabelingProjectDto(
    Guid Id, string Name, string? Instructions, JsonElement Config, int Overlap, string Ordering, double GoldRate, double ReviewRate,
    int LeaseSeconds, string State, Guid? SourceDatasetId, Guid? SourceVersionId, string? SourceTable, string? SourceColumn,
    DateTimeOffset CreatedAt, ProgressDto? Progress, int? AutoPrelabelEvery = null)
{
    public static LabelingProjectDto From(LabelingProject p, ProgressDto? progress) => new(
        p.Id, p.Name, p.Instructions, JsonDocument.Parse(p.ConfigJson).RootElement.Clone(), p.Overlap, Lower(p.Ordering), p.GoldRate, p.ReviewRate,
        p.LeaseSeconds, Lower(p.State), p.SourceDatasetId, p.SourceVersionId, p.SourceTable, p.SourceColumn, p.CreatedAt, progress, p.AutoPrelabelEvery);

    internal static string Lower<T>(T value) where T : struct, Enum => value.ToString().ToLowerInvariant();
}

public sealed record TaskSourceRequest(string Dataset, string? Version, string? Prefix, string? Table, string? Column);

public sealed record CreateLabelingProjectRequest(
    string Name, string? Instructions, JsonElement Config, int? Overlap, string? Ordering, double? GoldRate, double? ReviewRate,
    int? LeaseSeconds, TaskSourceRequest? Source);

/// <summary><c>AutoPrelabelEvery</c>: retrain the built-in text pre-labeler after this many new accepted labels; 0 turns it off.</summary>
public sealed record UpdateLabelingProjectRequest(string? Instructions, string? State, double? GoldRate, double? ReviewRate, int? LeaseSeconds, string? Ordering,
    int? AutoPrelabelEvery = null);

public sealed record NewTaskRequest(JsonElement Data, int? Priority, bool? Gold, JsonElement? GoldAnswer);

public sealed record AddTasksRequest(IReadOnlyList<NewTaskRequest> Tasks);

public sealed record AddedTasksDto(int Count, IReadOnlyList<Guid> Ids);

/// <summary>A task as managers and reviewers see it, with its counters and gold answer.</summary>
public sealed record TaskDto(Guid Id, long Ordinal, JsonElement Data, int Priority, bool IsGold, JsonElement? GoldAnswer, int Required, int Reserved, int Completed)
{
    public static TaskDto From(LabelingTask t) => new(t.Id, t.Ordinal, Parse(t.DataJson), t.Priority, t.IsGold,
        t.GoldAnswerJson is null ? null : Parse(t.GoldAnswerJson), t.IsGold ? 0 : t.Required, t.Reserved, t.Completed);

    internal static JsonElement Parse(string json) => JsonDocument.Parse(json).RootElement.Clone();
}

public sealed record UpdateTaskRequest(int? Priority, bool? Gold, JsonElement? GoldAnswer);

/// <summary>A task as its annotator sees it: only its data (so gold tasks look like any other) and the model predictions to start from.</summary>
public sealed record AnnotatorTaskDto(Guid Id, JsonElement Data, IReadOnlyList<PredictionDto>? Predictions = null);

public sealed record LeaseDto(Guid LeaseId, DateTimeOffset ExpiresAt, AnnotatorTaskDto Task, AnnotationDto? Annotation, string? ReviewComment);

public sealed record AnnotationDto(
    Guid Id, Guid TaskId, Guid AnnotatorId, string Status, JsonElement? Result, string? SkipReason, long TimeSpentMs, string ReviewState,
    long Version, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt, DateTimeOffset? SubmittedAt)
{
    public static AnnotationDto From(Annotation a) => new(a.Id, a.TaskId, a.AnnotatorId, LabelingProjectDto.Lower(a.Status),
        a.ResultJson is null ? null : TaskDto.Parse(a.ResultJson), a.SkipReason, a.TimeSpentMs, LabelingProjectDto.Lower(a.ReviewState), a.Version,
        a.CreatedAt, a.UpdatedAt, a.SubmittedAt);
}

public sealed record SaveAnnotationRequest(JsonElement Result, bool? Draft, long? TimeSpentMs);

public sealed record SkipRequest(string Reason, long? TimeSpentMs);

public sealed record ReviewRequest(string Decision, string? Comment, JsonElement? Result);

public sealed record ReviewDto(Guid Id, Guid AnnotationId, Guid TaskId, Guid ReviewerId, string Decision, string? Comment, JsonElement? CorrectedResult, DateTimeOffset CreatedAt)
{
    public static ReviewDto From(Review r) => new(r.Id, r.AnnotationId, r.TaskId, r.ReviewerId, LabelingProjectDto.Lower(r.Decision), r.Comment,
        r.CorrectedResultJson is null ? null : TaskDto.Parse(r.CorrectedResultJson), r.CreatedAt);
}

public sealed record ReturnedWorkDto(AnnotationDto Annotation, string? Comment);

public sealed record HistoryDto(long Id, Guid? TaskId, Guid? AnnotationId, Guid ActorId, string Action, JsonElement? Detail, DateTimeOffset At)
{
    public static HistoryDto From(HistoryEntry h) => new(h.Id, h.TaskId, h.AnnotationId, h.ActorId, h.Action, h.DetailJson is null ? null : TaskDto.Parse(h.DetailJson), h.At);
}
