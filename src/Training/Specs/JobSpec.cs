using System.Text.Json.Serialization;

namespace Cube.Training.Specs;

/// <summary>Where a job runs: as local processes, or on Kubernetes through one of three renderings.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<Distribution>))]
public enum Distribution
{
    /// <summary>Processes on the machine that runs the Cube worker.</summary>
    [JsonStringEnumMemberName("local")] Local,
    /// <summary>A Kubeflow <c>PyTorchJob</c> (kubeflow.org/v1): one master and <c>workers - 1</c> workers.</summary>
    [JsonStringEnumMemberName("pytorchjob")] PyTorchJob,
    /// <summary>A Volcano <c>Job</c> (batch.volcano.sh/v1alpha1) gang-scheduled with <c>minAvailable</c> = workers.</summary>
    [JsonStringEnumMemberName("volcano")] Volcano,
    /// <summary>A batch/v1 Job in Indexed completion mode plus a headless Service for rendezvous; needs no operator.</summary>
    [JsonStringEnumMemberName("indexed-job")] IndexedJob,
}

/// <summary>What the training code is written with; decides the launcher (torchrun for pytorch) and the environment contract.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<Framework>))]
public enum Framework
{
    [JsonStringEnumMemberName("custom")] Custom,
    [JsonStringEnumMemberName("pytorch")] PyTorch,
    [JsonStringEnumMemberName("tensorflow")] TensorFlow,
    [JsonStringEnumMemberName("mlnet")] MlNet,
    [JsonStringEnumMemberName("mpi")] Mpi,
}

/// <summary>
/// A training job as a user submits it (JSON through the API). Every field is checked by <see cref="JobSpecValidator"/>,
/// whose errors name the field by its JSON path (<c>resources.gpus</c>, <c>inputs[1].version</c>).
/// </summary>
public sealed record JobSpec
{
    /// <summary>DNS-1123 label: lower-case letters, digits and '-', at most 40 characters (room for suffixes in object names).</summary>
    public string Name { get; init; } = "";
    public Framework Framework { get; init; } = Framework.Custom;
    public Distribution Distribution { get; init; } = Distribution.Local;
    /// <summary>Container image; required for every distribution but <see cref="Distribution.Local"/>.</summary>
    public string? Image { get; init; }
    /// <summary>The executable and its fixed arguments (<c>["python", "train.py"]</c>).</summary>
    public IReadOnlyList<string> Command { get; init; } = [];
    public IReadOnlyList<string> Args { get; init; } = [];
    public IReadOnlyDictionary<string, string> Env { get; init; } = new Dictionary<string, string>();
    public Resources Resources { get; init; } = new();
    /// <summary>Number of worker replicas (pods, or local process groups); rank 0 is the master.</summary>
    public int Workers { get; init; } = 1;
    /// <summary>Dataset versions the job reads, materialised as files (local) or listed in the environment (cluster).</summary>
    public IReadOnlyList<DatasetInput> Inputs { get; init; } = [];
    /// <summary>Passed to the process as <c>--name=value</c> arguments and as <c>CUBE_HP_NAME</c> variables; recorded as run params.</summary>
    public IReadOnlyDictionary<string, string> Hyperparameters { get; init; } = new Dictionary<string, string>();
    public Scheduling Scheduling { get; init; } = new();
    /// <summary>Retries of a failed job on the cluster (backoffLimit / maxRetry); 0 to 10.</summary>
    public int Retries { get; init; }
    /// <summary>Wall-clock limit in seconds; the job is stopped and fails when it passes. Null: no limit.</summary>
    public int? TimeoutSeconds { get; init; }
    /// <summary>Kubernetes namespace for cluster distributions; the executor's default when null.</summary>
    public string? Namespace { get; init; }
    /// <summary>Experiment the run is filed under; the job name when null.</summary>
    public string? Experiment { get; init; }
    /// <summary>A hyperparameter search: the spec becomes a study whose trials are jobs like this one with sampled hyperparameters.</summary>
    public SearchSpec? Search { get; init; }
}

/// <summary>Resources per worker replica, as Kubernetes quantities (<c>"2"</c>, <c>"500m"</c>, <c>"8Gi"</c>).</summary>
public sealed record Resources
{
    public string? Cpu { get; init; }
    public string? Memory { get; init; }
    /// <summary>NVIDIA GPUs per worker (<c>nvidia.com/gpu</c> limit); also the processes per node torchrun starts.</summary>
    public int Gpus { get; init; }
    /// <summary>Size of the memory-backed <c>/dev/shm</c> volume (data loaders need more than the container default).</summary>
    public string? SharedMemory { get; init; }
}

/// <summary>One dataset version to read: <c>dataset</c> by name, <c>version</c> as number, <c>v3</c>, tag or <c>latest</c>.</summary>
public sealed record DatasetInput
{
    /// <summary>Name of the input in the environment (<c>CUBE_INPUT_TRAIN</c>); defaults to the dataset name.</summary>
    public string? Name { get; init; }
    public string Dataset { get; init; } = "";
    public string Version { get; init; } = "latest";
}

/// <summary>Cluster placement: queue (Volcano), priority class, node selector and tolerations (GPU or edge node pools).</summary>
public sealed record Scheduling
{
    public string? Queue { get; init; }
    public string? PriorityClass { get; init; }
    public IReadOnlyDictionary<string, string> NodeSelector { get; init; } = new Dictionary<string, string>();
    public IReadOnlyList<TolerationSpec> Tolerations { get; init; } = [];
}

public sealed record TolerationSpec
{
    public string? Key { get; init; }
    /// <summary><c>Equal</c> or <c>Exists</c>.</summary>
    public string Operator { get; init; } = "Equal";
    public string? Value { get; init; }
    /// <summary><c>NoSchedule</c>, <c>PreferNoSchedule</c>, <c>NoExecute</c>, or null for all effects.</summary>
    public string? Effect { get; init; }
}
