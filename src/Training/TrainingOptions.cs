using System.ComponentModel.DataAnnotations;

namespace Cube.Training;

/// <summary>Settings of the Training module (<c>Cube:Training</c>).</summary>
public sealed class TrainingOptions
{
    public const string SectionName = "Cube:Training";

    /// <summary>Where local jobs get their scratch folders; <c>DataDirectory/training</c> when empty.</summary>
    public string? WorkDirectory { get; set; }

    /// <summary>Log lines kept per job in the database; older lines beyond this are dropped (the count is kept).</summary>
    [Range(100, 10_000_000)]
    public int MaxLogLines { get; set; } = 100_000;

    /// <summary>How often a job waiting for its project's GPU quota checks again.</summary>
    public TimeSpan QueuePollInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>How often open hyperparameter studies are moved on (besides right after each trial ends).</summary>
    [Range(typeof(TimeSpan), "00:00:00.050", "00:10:00")]
    public TimeSpan StudyPollInterval { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>
    /// The server URL local jobs report to (<c>CUBE_TRACKING_URL</c>); by default the address this server listens on,
    /// with a wildcard host read as 127.0.0.1. Set it when jobs run on a worker without an HTTP server.
    /// </summary>
    public string? TrackingUrl { get; set; }

    public TrainingKubernetesOptions Kubernetes { get; set; } = new();
}

/// <summary>The cluster cluster jobs go to (<c>Cube:Training:Kubernetes</c>).</summary>
public sealed class TrainingKubernetesOptions
{
    /// <summary>Path of a kubeconfig file; when empty the in-cluster service account is tried, then ~/.kube/config.</summary>
    public string? Kubeconfig { get; set; }
    /// <summary>The kubeconfig context; its current context when empty.</summary>
    public string? Context { get; set; }
    /// <summary>The API server URL, for a server reached without a kubeconfig (tests, a local proxy).</summary>
    public string? Host { get; set; }
    [Required, RegularExpression("^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")]
    public string Namespace { get; set; } = "default";
    public TimeSpan PodPollInterval { get; set; } = TimeSpan.FromSeconds(2);
    public TimeSpan LogDrainTime { get; set; } = TimeSpan.FromSeconds(5);
}
