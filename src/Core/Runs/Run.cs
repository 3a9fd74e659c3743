namespace Cube.Core.Runs;

/// <summary>
/// One piece of long work. This row is the source of truth; the job queue only carries run ids, so a lost queue
/// entry is recovered from here and a duplicate one is a no-op (see <see cref="RunExecutor"/>).
/// </summary>
public sealed class Run
{
    public Guid Id { get; set; } = Guid.CreateVersion7();
    public required string Kind { get; set; }
    public RunState State { get; set; } = RunState.Queued;
    /// <summary>0 to 100.</summary>
    public double Progress { get; set; }
    public string? Message { get; set; }
    public string? Error { get; set; }
    public Guid? OwnerId { get; set; }
    public Guid? ProjectId { get; set; }
    /// <summary>What the run works on (a pipeline, a knowledge base), when its parameters say so through <see cref="IRunSubject"/>; indexed for history listings.</summary>
    public Guid? SubjectId { get; set; }
    public string ParametersJson { get; set; } = "{}";
    /// <summary>A reference to what the run produced (a dataset version, a model), as JSON.</summary>
    public string? ResultJson { get; set; }
    /// <summary>Whether running the work again from the start is safe; decides re-queue vs fail after a crash.</summary>
    public bool Idempotent { get; set; }
    public bool CancelRequested { get; set; }
    public int Attempt { get; set; }
    public string? WorkerId { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset? StartedAt { get; set; }
    public DateTimeOffset? FinishedAt { get; set; }
    public DateTimeOffset? HeartbeatAt { get; set; }

    public bool IsTerminal => State is RunState.Succeeded or RunState.Failed or RunState.Cancelled;
}

/// <summary>Run parameters that name the thing the run works on, so its runs can be listed without reading every run's parameters.</summary>
public interface IRunSubject
{
    Guid SubjectId { get; }
}

public enum RunState
{
    Queued,
    Running,
    Succeeded,
    Failed,
    Cancelled,
}
