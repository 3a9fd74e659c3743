using Cube.Training.Execution;
using Cube.Training.Specs;

namespace Cube.Training.Tests.Specs;

/// <summary>Specs for tests: a valid base and a seeded generator over every distribution and option combination.</summary>
internal static class SampleSpecs
{
    public static JobSpec Valid(Distribution distribution = Distribution.PyTorchJob) => new()
    {
        Name = "resnet",
        Framework = Framework.PyTorch,
        Distribution = distribution,
        Image = distribution == Distribution.Local ? null : "registry.example.com/team/train:1.4",
        Command = ["python", "train.py"],
        Args = ["--epochs", "3"],
        Env = new Dictionary<string, string> { ["NCCL_DEBUG"] = "INFO" },
        Resources = new Resources { Cpu = "4", Memory = "16Gi", Gpus = 2, SharedMemory = "2Gi" },
        Workers = 2,
        Inputs = [new DatasetInput { Dataset = "images", Version = "latest" }],
        Hyperparameters = new Dictionary<string, string> { ["lr"] = "0.01", ["batch-size"] = "64" },
    };

    public static JobContext Context() => new(Guid.CreateVersion7(), Guid.CreateVersion7(), Guid.CreateVersion7())
    {
        Inputs = [new ResolvedInput("IMAGES", "images", 3, Guid.CreateVersion7(), null)],
    };

    /// <summary>Many valid cluster specs: every distribution × framework × worker count × GPU count, with random scheduling options.</summary>
    public static IEnumerable<JobSpec> Generated(int seed)
    {
        var random = new Random(seed);
        var distributions = new[] { Distribution.PyTorchJob, Distribution.Volcano, Distribution.IndexedJob };
        var frameworks = new[] { Framework.PyTorch, Framework.Custom, Framework.TensorFlow, Framework.Mpi, Framework.MlNet };
        foreach (var distribution in distributions)
            foreach (var framework in frameworks)
                foreach (var workers in new[] { 1, 2, 5 })
                    foreach (var gpus in new[] { 0, 1, 8 })
                    {
                        if (distribution == Distribution.PyTorchJob && framework is not (Framework.PyTorch or Framework.Custom)) continue;
                        var tolerations = new List<TolerationSpec>();
                        if (random.Next(2) == 0) tolerations.Add(new TolerationSpec { Key = "edge.example.com/pool", Operator = "Equal", Value = "east", Effect = "NoSchedule" });
                        if (random.Next(3) == 0) tolerations.Add(new TolerationSpec { Key = "spot", Operator = "Exists" });
                        yield return new JobSpec
                        {
                            Name = $"job-{random.Next(1000)}",
                            Framework = framework,
                            Distribution = distribution,
                            Image = random.Next(2) == 0 ? "pytorch/pytorch:2.5.1-cuda12.4-cudnn9-runtime" : $"registry.local:5000/ml/trainer@sha256:{new string('a', 64)}",
                            Command = random.Next(2) == 0 ? ["python", "train.py"] : ["/app/train"],
                            Args = random.Next(2) == 0 ? [] : ["--data", "/data"],
                            Env = random.Next(2) == 0 ? new Dictionary<string, string>() : new Dictionary<string, string> { ["OMP_NUM_THREADS"] = "4", ["EMPTY"] = "" },
                            Resources = new Resources
                            {
                                Cpu = random.Next(3) switch { 0 => null, 1 => "500m", _ => "8" },
                                Memory = random.Next(2) == 0 ? null : "32Gi",
                                Gpus = gpus,
                                SharedMemory = random.Next(2) == 0 ? null : "1Gi",
                            },
                            Workers = workers,
                            Hyperparameters = random.Next(2) == 0 ? new Dictionary<string, string>() : new Dictionary<string, string> { ["lr"] = "3e-4", ["epochs"] = "10" },
                            Scheduling = new Scheduling
                            {
                                Queue = distribution == Distribution.Volcano && random.Next(2) == 0 ? "team-a" : null,
                                PriorityClass = random.Next(3) == 0 ? "high-priority" : null,
                                NodeSelector = random.Next(2) == 0 ? new Dictionary<string, string>() : new Dictionary<string, string> { ["nvidia.com/gpu.product"] = "NVIDIA-H100-80GB-HBM3", ["pool"] = "gpu" },
                                Tolerations = tolerations,
                            },
                            Retries = random.Next(4),
                            TimeoutSeconds = random.Next(2) == 0 ? null : 3600,
                            Namespace = random.Next(2) == 0 ? null : "ml-team",
                        };
                    }
    }
}
