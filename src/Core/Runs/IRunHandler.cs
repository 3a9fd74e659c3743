using System.Text.Json;

namespace Cube.Core.Runs;

/// <summary>
/// The code behind one kind of run. The same handler executes in the server process or on a <c>cube worker</c>;
/// it reads its parameters from the context and reports progress through it.
/// </summary>
public interface IRunHandler
{
    /// <summary>Unique name, e.g. <c>datahub.commit</c>.</summary>
    string Kind { get; }

    /// <summary>
    /// True when executing the run again from the start after a crash gives the same outcome (it writes
    /// content-addressed or transactional results). Such runs are re-queued after a worker dies; others fail with a reason.
    /// </summary>
    bool Idempotent { get; }

    /// <summary>Does the work. Returns a result reference serialised into <see cref="Run.ResultJson"/>, or null.</summary>
    Task<object?> ExecuteAsync(RunContext context, CancellationToken cancellationToken);
}

/// <summary>What a running handler sees of its run.</summary>
public sealed class RunContext(Run run, IServiceProvider services, Func<double, string?, ValueTask> report)
{
    public Guid RunId => run.Id;
    public Guid? ProjectId => run.ProjectId;
    public Guid? OwnerId => run.OwnerId;
    public int Attempt => run.Attempt;
    public IServiceProvider Services => services;

    public T GetParameters<T>() =>
        JsonSerializer.Deserialize<T>(run.ParametersJson, RunJson.Options) ?? throw new InvalidOperationException($"Run {run.Id} has no parameters.");

    /// <summary>Reports progress (0–100) and a status line. Cheap to call often: writes are throttled.</summary>
    public ValueTask ReportAsync(double percent, string? message = null) => report(Math.Clamp(percent, 0, 100), message);
}

internal static class RunJson
{
    public static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.Web);
}

/// <summary>The problem a failed run reports when its failure was the client's (bad input), kept in <see cref="Run.ResultJson"/>.</summary>
public sealed record RunProblem(int Status, string Title, string Detail, IDictionary<string, object?> Extensions);
