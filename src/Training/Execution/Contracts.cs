using Cube.Training.Specs;

namespace Cube.Training.Execution;

/// <summary>What an executor knows of the job beyond its spec: identities and the resolved inputs.</summary>
public sealed record JobContext(Guid JobId, Guid RunId, Guid ProjectId)
{
    public IReadOnlyList<ResolvedInput> Inputs { get; init; } = [];
    /// <summary>Local executor: the directory the job writes its outputs (artifacts) to.</summary>
    public string? OutputDirectory { get; init; }
    /// <summary>Local executor: the process's working directory (the job's scratch folder).</summary>
    public string? WorkingDirectory { get; init; }
    /// <summary>The job's reporting token and the server URL it reports to (<c>CUBE_TRACKING_TOKEN</c>, <c>CUBE_TRACKING_URL</c>).</summary>
    public string? TrackingToken { get; init; }
    public string? TrackingUrl { get; init; }
}

/// <summary>A dataset version an input resolved to; <see cref="LocalPath"/> is set where its files were materialised.</summary>
public sealed record ResolvedInput(string EnvName, string Dataset, int VersionNumber, Guid VersionId, string? LocalPath);

/// <summary>One metric value at one step, as a job reports it.</summary>
public sealed record MetricSample(string Name, double Value, long Step);

/// <summary>Receives what a running job produces. Executors make one call at a time, in the order lines arrived.</summary>
public interface IJobObserver
{
    /// <summary>One log line; <paramref name="source"/> is <c>stdout</c>/<c>stderr</c> locally, the pod name on a cluster.</summary>
    ValueTask LogAsync(string source, string line, CancellationToken cancellationToken);

    ValueTask MetricAsync(MetricSample sample, CancellationToken cancellationToken);

    /// <summary>A change of the job's state as the engine reports it (started, pending with a reason, ...).</summary>
    ValueTask StatusAsync(string message, CancellationToken cancellationToken);

    /// <summary>How far an in-process job is (<paramref name="fraction"/> in 0–1), with a message; recorders without progress keep the message.</summary>
    ValueTask ProgressAsync(double fraction, string message, CancellationToken cancellationToken) => StatusAsync(message, cancellationToken);
}

/// <summary>How a job ended. Cancellation is reported by throwing <see cref="OperationCanceledException"/>.</summary>
public sealed record ExecutionResult(bool Succeeded, int? ExitCode, string? Error)
{
    /// <summary>An artifact the job asks to be registered as a model version once its outputs are stored (built-in trainers).</summary>
    public ModelOutput? Model { get; init; }
}

/// <summary>A model a job produced: registered under <paramref name="ModelName"/> from the output file <paramref name="ArtifactPath"/>.</summary>
public sealed record ModelOutput(string ModelName, string ArtifactPath, string Flavor, string SignatureJson);

/// <summary>Runs a job to its end on one engine. One implementation per engine: local processes, Kubernetes.</summary>
public interface ITrainingExecutor
{
    /// <summary>True when this executor runs jobs of <paramref name="distribution"/>.</summary>
    bool Handles(Distribution distribution);

    /// <summary>True when this executor runs the job; executors that look beyond the distribution (built-in trainers) override it.</summary>
    bool Handles(JobSpec spec) => Handles(spec.Distribution);

    /// <summary>
    /// Starts the job and returns when it has ended. Cancelling <paramref name="cancellationToken"/> stops it (kills the
    /// process tree, deletes the cluster objects) before the <see cref="OperationCanceledException"/> propagates.
    /// </summary>
    Task<ExecutionResult> ExecuteAsync(JobSpec spec, JobContext context, IJobObserver observer, CancellationToken cancellationToken);
}
