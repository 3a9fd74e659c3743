using System.Globalization;
using System.Text.Json.Nodes;
using Cube.Training.Execution;
using Cube.Training.Specs;

namespace Cube.Training.Kubernetes;

/// <summary>Where a kind of object lives in the Kubernetes REST API.</summary>
public sealed record KubeResource(string Group, string Version, string Plural, string Kind)
{
    public string ApiVersion => Group.Length == 0 ? Version : $"{Group}/{Version}";

    /// <summary>The collection path in a namespace: <c>/api/v1/namespaces/ns/services</c> or <c>/apis/group/version/namespaces/ns/plural</c>.</summary>
    public string CollectionPath(string ns) => Group.Length == 0
        ? $"/api/{Version}/namespaces/{ns}/{Plural}"
        : $"/apis/{Group}/{Version}/namespaces/{ns}/{Plural}";

    public static readonly KubeResource PyTorchJob = new("kubeflow.org", "v1", "pytorchjobs", "PyTorchJob");
    public static readonly KubeResource VolcanoJob = new("batch.volcano.sh", "v1alpha1", "jobs", "Job");
    public static readonly KubeResource BatchJob = new("batch", "v1", "jobs", "Job");
    public static readonly KubeResource Service = new("", "v1", "services", "Service");
    public static readonly KubeResource Pod = new("", "v1", "pods", "Pod");
}

/// <summary>One rendered object and its resource.</summary>
public sealed record KubeObject(KubeResource Resource, string Name, JsonObject Body);

/// <summary>The objects of one job, created in order; <see cref="Primary"/> carries the job's status.</summary>
public sealed record RenderedJob(string Namespace, string Name, KubeObject Primary, IReadOnlyList<KubeObject> Objects)
{
    /// <summary>Label selector matching every pod of the job.</summary>
    public string PodSelector => $"{ManifestRenderer.JobLabel}={Name}";
}

/// <summary>
/// Renders a validated <see cref="JobSpec"/> into the Kubernetes objects of its distribution. Every pod gets the same
/// environment contract as a local run (<c>RANK</c>, <c>WORLD_SIZE</c>, <c>MASTER_ADDR</c>, <c>MASTER_PORT</c>,
/// <c>CUBE_*</c>), GPU limits, a memory-backed <c>/dev/shm</c>, node selectors and tolerations.
/// </summary>
public static class ManifestRenderer
{
    public const string JobLabel = "cube.dev/training-job";
    public const string JobIdLabel = "cube.dev/job-id";
    public const string ManagedByLabel = "app.kubernetes.io/managed-by";
    public const int MasterPort = 29500;
    public const string ContainerName = "pytorch"; // the name Kubeflow's PyTorchJob controller looks for; used by every kind for uniform log reads

    /// <summary>The object name of a job: its spec name plus the first 8 hex digits of its id, unique and short enough for pod names.</summary>
    public static string ObjectName(JobSpec spec, Guid jobId) => $"{spec.Name}-{jobId.ToString("N")[..8]}";

    public static RenderedJob Render(JobSpec spec, JobContext context, string defaultNamespace)
    {
        var ns = spec.Namespace ?? defaultNamespace;
        var name = ObjectName(spec, context.JobId);
        return spec.Distribution switch
        {
            Distribution.PyTorchJob => RenderPyTorchJob(spec, context, ns, name),
            Distribution.Volcano => RenderVolcano(spec, context, ns, name),
            Distribution.IndexedJob => RenderIndexedJob(spec, context, ns, name),
            _ => throw new ArgumentException($"Distribution '{JobSpecValidator.Name(spec.Distribution)}' is not rendered for Kubernetes.", nameof(spec)),
        };
    }

    private static RenderedJob RenderPyTorchJob(JobSpec spec, JobContext context, string ns, string name)
    {
        // The operator sets RANK, WORLD_SIZE, MASTER_ADDR, MASTER_PORT and the PET_* variables torchrun reads.
        var command = LaunchCommand(spec, nodeRank: null, masterAddress: null);
        var replicaSpecs = new JsonObject
        {
            ["Master"] = Replica(1, PodTemplate(spec, context, name, command, extraEnv: [])),
        };
        if (spec.Workers > 1) replicaSpecs["Worker"] = Replica(spec.Workers - 1, PodTemplate(spec, context, name, command, extraEnv: []));
        var specNode = new JsonObject
        {
            ["nprocPerNode"] = spec.Resources.Gpus > 0 ? spec.Resources.Gpus.ToString(CultureInfo.InvariantCulture) : "1",
            ["pytorchReplicaSpecs"] = replicaSpecs,
            ["runPolicy"] = RunPolicy(spec),
        };
        var body = Root(KubeResource.PyTorchJob, name, ns, context, specNode);
        var primary = new KubeObject(KubeResource.PyTorchJob, name, body);
        return new RenderedJob(ns, name, primary, [primary]);

        static JsonObject Replica(int replicas, JsonObject template) => new()
        {
            ["replicas"] = replicas,
            ["restartPolicy"] = "OnFailure",
            ["template"] = template,
        };
    }

    private static JsonObject RunPolicy(JobSpec spec)
    {
        var policy = new JsonObject
        {
            ["backoffLimit"] = spec.Retries,
            ["cleanPodPolicy"] = "None",
        };
        if (spec.TimeoutSeconds is { } timeout) policy["activeDeadlineSeconds"] = timeout;
        if (spec.Scheduling.PriorityClass is not null)
            policy["schedulingPolicy"] = new JsonObject { ["priorityClass"] = spec.Scheduling.PriorityClass, ["minAvailable"] = spec.Workers };
        return policy;
    }

    private static RenderedJob RenderVolcano(JobSpec spec, JobContext context, string ns, string name)
    {
        // One task of N replicas; the svc plugin gives pod i the host name <job>-worker-<i>.<job> and the env plugin VK_TASK_INDEX.
        var masterAddress = $"{name}-worker-0.{name}";
        var command = LaunchCommand(spec, nodeRank: "${VK_TASK_INDEX}", masterAddress);
        var env = DistributedEnv(spec, masterAddress);
        var specNode = new JsonObject
        {
            // Gang scheduling: no pod starts until all of them can, so a half-placed job never holds GPUs idle.
            ["minAvailable"] = spec.Workers,
            ["schedulerName"] = "volcano",
            ["maxRetry"] = spec.Retries,
            ["plugins"] = new JsonObject { ["env"] = new JsonArray(), ["svc"] = new JsonArray() },
            ["policies"] = new JsonArray(
                new JsonObject { ["event"] = "PodEvicted", ["action"] = "RestartJob" },
                new JsonObject { ["event"] = "PodFailed", ["action"] = "RestartJob" }),
            ["tasks"] = new JsonArray(new JsonObject
            {
                ["name"] = "worker",
                ["replicas"] = spec.Workers,
                ["template"] = PodTemplate(spec, context, name, command, env),
            }),
        };
        if (spec.Scheduling.Queue is not null) specNode["queue"] = spec.Scheduling.Queue;
        if (spec.Scheduling.PriorityClass is not null) specNode["priorityClassName"] = spec.Scheduling.PriorityClass;
        var body = Root(KubeResource.VolcanoJob, name, ns, context, specNode);
        var primary = new KubeObject(KubeResource.VolcanoJob, name, body);
        return new RenderedJob(ns, name, primary, [primary]);
    }

    private static RenderedJob RenderIndexedJob(JobSpec spec, JobContext context, string ns, string name)
    {
        // Pods of an Indexed Job with a subdomain get the stable host names <job>-<index>.<service>; the headless
        // Service (clusterIP None, publishNotReadyAddresses) makes them resolvable before the pods are ready.
        var masterAddress = $"{name}-0.{name}";
        var command = LaunchCommand(spec, nodeRank: "${JOB_COMPLETION_INDEX}", masterAddress);
        var template = PodTemplate(spec, context, name, command, DistributedEnv(spec, masterAddress));
        var podSpec = (JsonObject)template["spec"]!;
        podSpec["subdomain"] = name;
        podSpec["restartPolicy"] = "Never";
        var jobSpec = new JsonObject
        {
            ["completionMode"] = "Indexed",
            ["completions"] = spec.Workers,
            ["parallelism"] = spec.Workers,
            ["backoffLimit"] = spec.Retries,
            ["template"] = template,
        };
        if (spec.TimeoutSeconds is { } timeout) jobSpec["activeDeadlineSeconds"] = timeout;
        var job = new KubeObject(KubeResource.BatchJob, name, Root(KubeResource.BatchJob, name, ns, context, jobSpec));
        var service = new KubeObject(KubeResource.Service, name, Root(KubeResource.Service, name, ns, context, new JsonObject
        {
            ["clusterIP"] = "None",
            ["publishNotReadyAddresses"] = true,
            ["selector"] = new JsonObject { [JobLabel] = name },
            ["ports"] = new JsonArray(new JsonObject { ["name"] = "rendezvous", ["port"] = MasterPort, ["targetPort"] = MasterPort, ["protocol"] = "TCP" }),
        }));
        return new RenderedJob(ns, name, job, [service, job]);
    }

    private static JsonObject Root(KubeResource resource, string name, string ns, JobContext context, JsonObject spec) => new()
    {
        ["apiVersion"] = resource.ApiVersion,
        ["kind"] = resource.Kind,
        ["metadata"] = new JsonObject
        {
            ["name"] = name,
            ["namespace"] = ns,
            ["labels"] = Labels(name, context),
        },
        ["spec"] = spec,
    };

    private static JsonObject Labels(string name, JobContext context) => new()
    {
        [JobLabel] = name,
        [JobIdLabel] = context.JobId.ToString("N"),
        [ManagedByLabel] = "cube",
    };

    private static List<(string Name, string Value)> DistributedEnv(JobSpec spec, string masterAddress) =>
    [
        ("MASTER_ADDR", masterAddress),
        ("MASTER_PORT", MasterPort.ToString(CultureInfo.InvariantCulture)),
        ("WORLD_SIZE", (spec.Workers * Math.Max(1, spec.Resources.Gpus)).ToString(CultureInfo.InvariantCulture)),
    ];

    /// <summary>
    /// The container's command. PyTorch code goes through torchrun (one process per GPU); where the node rank comes
    /// from a variable the pod is given (Volcano, Indexed Job) a POSIX shell expands it before exec.
    /// </summary>
    internal static List<string> LaunchCommand(JobSpec spec, string? nodeRank, string? masterAddress)
    {
        var user = new List<string>(spec.Command);
        user.AddRange(spec.Args);
        user.AddRange(JobEnvironment.HyperparameterArgs(spec));
        if (spec.Framework != Framework.PyTorch)
        {
            if (nodeRank is null) return user;
            return ["/bin/sh", "-c", $"export RANK=\"{nodeRank}\"; exec \"$@\"", "--", .. user];
        }
        var torchrun = new List<string> { "torchrun" };
        if (nodeRank is not null)
        {
            torchrun.Add($"--nnodes={spec.Workers}");
            torchrun.Add($"--nproc-per-node={Math.Max(1, spec.Resources.Gpus)}");
            torchrun.Add($"--master-addr={masterAddress}");
            torchrun.Add($"--master-port={MasterPort}");
        }
        torchrun.AddRange(JobEnvironment.TorchrunScript(user));
        if (nodeRank is null) return torchrun;
        // torchrun sets RANK per process; the node rank is the pod's index.
        return ["/bin/sh", "-c", $"exec \"$0\" --node-rank=\"{nodeRank}\" \"$@\"", .. torchrun];
    }

    private static JsonObject PodTemplate(JobSpec spec, JobContext context, string name, List<string> command, List<(string Name, string Value)> extraEnv)
    {
        var env = new JsonArray();
        foreach (var (key, value) in JobEnvironment.Common(spec, context).Concat(extraEnv))
            env.Add(new JsonObject { ["name"] = key, ["value"] = value });

        var limits = new JsonObject();
        var requests = new JsonObject();
        if (spec.Resources.Cpu is { } cpu)
        {
            requests["cpu"] = cpu;
            limits["cpu"] = cpu;
        }
        if (spec.Resources.Memory is { } memory)
        {
            requests["memory"] = memory;
            limits["memory"] = memory;
        }
        // Extended resources are set as limits; Kubernetes copies them to requests.
        if (spec.Resources.Gpus > 0) limits["nvidia.com/gpu"] = spec.Resources.Gpus.ToString(CultureInfo.InvariantCulture);

        var container = new JsonObject
        {
            ["name"] = ContainerName,
            ["image"] = spec.Image,
            ["imagePullPolicy"] = "IfNotPresent",
            ["command"] = new JsonArray(command.Select(c => (JsonNode?)JsonValue.Create(c)).ToArray()),
            ["env"] = env,
            ["ports"] = new JsonArray(new JsonObject { ["name"] = "rendezvous", ["containerPort"] = MasterPort, ["protocol"] = "TCP" }),
            ["volumeMounts"] = new JsonArray(new JsonObject { ["name"] = "dshm", ["mountPath"] = "/dev/shm" }),
        };
        if (limits.Count > 0 || requests.Count > 0)
        {
            var resources = new JsonObject();
            if (limits.Count > 0) resources["limits"] = limits;
            if (requests.Count > 0) resources["requests"] = requests;
            container["resources"] = resources;
        }

        var shm = new JsonObject { ["medium"] = "Memory" };
        if (spec.Resources.SharedMemory is { } size) shm["sizeLimit"] = size;
        var podSpec = new JsonObject
        {
            ["containers"] = new JsonArray(container),
            ["volumes"] = new JsonArray(new JsonObject { ["name"] = "dshm", ["emptyDir"] = shm }),
        };
        if (spec.Scheduling.NodeSelector.Count > 0)
            podSpec["nodeSelector"] = new JsonObject(spec.Scheduling.NodeSelector.Select(p => KeyValuePair.Create(p.Key, (JsonNode?)p.Value)));
        var tolerations = spec.Scheduling.Tolerations.Select(Toleration).ToList();
        // GPU node pools are commonly tainted nvidia.com/gpu:NoSchedule; a GPU job tolerates that taint by default.
        if (spec.Resources.Gpus > 0 && !spec.Scheduling.Tolerations.Any(t => t.Key == "nvidia.com/gpu"))
            tolerations.Add(new JsonObject { ["key"] = "nvidia.com/gpu", ["operator"] = "Exists", ["effect"] = "NoSchedule" });
        if (tolerations.Count > 0) podSpec["tolerations"] = new JsonArray(tolerations.ToArray<JsonNode?>());
        if (spec.Scheduling.PriorityClass is not null) podSpec["priorityClassName"] = spec.Scheduling.PriorityClass;

        return new JsonObject
        {
            ["metadata"] = new JsonObject { ["labels"] = Labels(name, context) },
            ["spec"] = podSpec,
        };
    }

    private static JsonObject Toleration(TolerationSpec t)
    {
        var node = new JsonObject { ["operator"] = t.Operator };
        if (t.Key is not null) node["key"] = t.Key;
        if (t.Value is not null) node["value"] = t.Value;
        if (t.Effect is not null) node["effect"] = t.Effect;
        return node;
    }
}
