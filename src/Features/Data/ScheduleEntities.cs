using Cube.Core.Runs;

namespace Cube.Features.Data;

/// <summary>
/// A cron schedule of a pipeline: when it fires, which pipeline version and inputs it runs, and the rules that decide
/// whether a fire starts a run (concurrency limit, skip when inputs are unchanged) and how failed runs are retried.
/// </summary>
public sealed class ScheduleEntity
{
    public Guid Id { get; set; } = Guid.NewGuid();
    public Guid ProjectId { get; set; }
    public Guid PipelineId { get; set; }
    public string Name { get; set; } = "";
    /// <summary>Five-field cron expression (or a macro such as <c>@daily</c>), read in <see cref="TimeZone"/>.</summary>
    public string Cron { get; set; } = "";
    /// <summary>IANA (or Windows) time zone id.</summary>
    public string TimeZone { get; set; } = "UTC";
    public string OutputDataset { get; set; } = "";
    /// <summary>A fixed pipeline version; null runs the latest version at fire time.</summary>
    public int? PipelineVersion { get; set; }
    /// <summary>Per-input overrides of the spec's version or tag, as JSON (<c>{"events": {"tag": "prod"}}</c>); tags resolve at fire time.</summary>
    public string InputsJson { get; set; } = "{}";
    /// <summary>Values for the spec's declared parameters on every fire (JSON object of text); the others keep their defaults.</summary>
    public string ParametersJson { get; set; } = "{}";
    public bool Enabled { get; set; } = true;
    public int MaxConcurrentRuns { get; set; } = 1;
    /// <summary>How many times a failed run is run again (0: never).</summary>
    public int MaxRetries { get; set; }
    /// <summary>Delay before the first retry; each further retry waits twice as long as the previous one.</summary>
    public int RetryDelaySeconds { get; set; } = 60;
    public bool SkipWhenUnchanged { get; set; }
    /// <summary>Whom runs are started for: the last person who created or changed the schedule.</summary>
    public Guid OwnerId { get; set; }
    public DateTimeOffset? LastFireAt { get; set; }
    public DateTimeOffset? NextFireAt { get; set; }
    public string? LastOutcome { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset UpdatedAt { get; set; }
    /// <summary>Bumped by every decision that may start runs, so two processes never decide for one schedule at once.</summary>
    public long RowVersion { get; set; }
}

public enum FireTrigger
{
    Cron,
    Manual,
    Backfill,
    Retry,
}

public enum FireOutcome
{
    /// <summary>Waiting for a free run slot (backfill dates, retries).</summary>
    Pending,
    Started,
    SkippedUnchanged,
    SkippedConcurrency,
    /// <summary>No run could be started (an input or the pipeline version could not be resolved).</summary>
    Failed,
}

/// <summary>One fire of a schedule for one logical date, what was decided, and the run it started.</summary>
public sealed class ScheduleFire
{
    public Guid Id { get; set; } = Guid.NewGuid();
    public Guid ScheduleId { get; set; }
    public Guid? BackfillId { get; set; }
    public FireTrigger Trigger { get; set; }
    /// <summary>The cron occurrence this fire stands for (the request time for a manual fire).</summary>
    public DateTimeOffset LogicalDate { get; set; }
    public DateTimeOffset FiredAt { get; set; }
    public FireOutcome Outcome { get; set; }
    public string? Detail { get; set; }
    /// <summary>1 for the first run of a logical date, 2 for its first retry, ...</summary>
    public int Attempt { get; set; } = 1;
    /// <summary>The failed fire this one retries.</summary>
    public Guid? RetryOfId { get; set; }
    /// <summary>Set once this fire's failed run has been retried, or its retries are used up.</summary>
    public bool RetryDecided { get; set; }
    public Guid? RunId { get; set; }
    /// <summary>The run's state as last seen; the runs table is the truth.</summary>
    public RunState? RunState { get; set; }
    public DateTimeOffset? RunFinishedAt { get; set; }
    public Guid? PipelineVersionId { get; set; }
    public int? PipelineVersion { get; set; }
    /// <summary>The inputs resolved for the run: input name to dataset version number, as JSON.</summary>
    public string? InputsJson { get; set; }
    /// <summary>Pipeline version and input dataset versions, the identity compared by skip-when-unchanged.</summary>
    public string? InputsKey { get; set; }
    /// <summary>Unique per schedule for cron fires, so a job the queue delivers twice fires once.</summary>
    public string? DedupeKey { get; set; }
}

/// <summary>A backfill request: one fire per cron occurrence between two instants, started as run slots free up.</summary>
public sealed class ScheduleBackfill
{
    public Guid Id { get; set; } = Guid.NewGuid();
    public Guid ScheduleId { get; set; }
    public DateTimeOffset From { get; set; }
    public DateTimeOffset To { get; set; }
    public int Total { get; set; }
    public Guid OwnerId { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
}
