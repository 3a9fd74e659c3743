using System.Text.Json.Nodes;
using Cube.Training.Kubernetes;
using Cube.Training.Specs;
using Cube.Training.Tests.Specs;
using NJsonSchema;

namespace Cube.Training.Tests.Kubernetes;

public sealed class ManifestRendererTests
{
    private static JsonSchema SchemaFor(KubeResource resource) =>
        resource == KubeResource.PyTorchJob ? UpstreamSchemas.PyTorchJob
        : resource == KubeResource.VolcanoJob ? UpstreamSchemas.VolcanoJob
        : resource == KubeResource.BatchJob ? UpstreamSchemas.BatchJob
        : resource == KubeResource.Service ? UpstreamSchemas.Service
        : throw new ArgumentOutOfRangeException(nameof(resource));

    [Fact]
    public void Render_ValidatesAgainstUpstreamSchemas_ForEveryGeneratedSpec()
    {
        var count = 0;
        foreach (var seed in new[] { 7, 8, 9 })
        {
            foreach (var spec in SampleSpecs.Generated(seed))
            {
                var job = ManifestRenderer.Render(spec, SampleSpecs.Context(), "default");
                foreach (var obj in job.Objects)
                {
                    var errors = SchemaFor(obj.Resource).Validate(obj.Body.ToJsonString());
                    Assert.True(errors.Count == 0, $"{obj.Resource.Kind} for {spec.Distribution}/{spec.Framework}/{spec.Workers}w/{spec.Resources.Gpus}g: " +
                        string.Join("; ", errors.Select(e => $"{e.Path}: {e.Kind}")) + "\n" + obj.Body.ToJsonString());
                    count++;
                }
            }
        }
        Assert.True(count > 300, $"only {count} manifests were checked");
    }

    [Theory]
    [InlineData(Distribution.PyTorchJob)]
    [InlineData(Distribution.Volcano)]
    [InlineData(Distribution.IndexedJob)]
    public void Schemas_RejectAMisspeltField_SoTheCheckHasTeeth(Distribution distribution)
    {
        var job = ManifestRenderer.Render(SampleSpecs.Valid(distribution), SampleSpecs.Context(), "default");
        var body = job.Primary.Body.DeepClone().AsObject();
        body["spec"]!.AsObject()["replica"] = 3;
        Assert.NotEmpty(SchemaFor(job.Primary.Resource).Validate(body.ToJsonString()));
        var container = Container(job.Primary.Body.DeepClone().AsObject(), distribution);
        container["imagePullPolicy"] = 5;
        Assert.NotEmpty(SchemaFor(job.Primary.Resource).Validate(Root(container).ToJsonString()));
    }

    [Fact]
    public void PyTorchJob_HasMasterAndWorkers_GpuLimits_AndNprocPerNode()
    {
        var job = ManifestRenderer.Render(SampleSpecs.Valid(Distribution.PyTorchJob) with { Workers = 4 }, SampleSpecs.Context(), "ml");
        var spec = job.Primary.Body["spec"]!;
        Assert.Equal("kubeflow.org/v1", (string?)job.Primary.Body["apiVersion"]);
        Assert.Equal(1, (int)spec["pytorchReplicaSpecs"]!["Master"]!["replicas"]!);
        Assert.Equal(3, (int)spec["pytorchReplicaSpecs"]!["Worker"]!["replicas"]!);
        Assert.Equal("2", (string?)spec["nprocPerNode"]);
        var container = Container(job.Primary.Body, Distribution.PyTorchJob);
        Assert.Equal("2", (string?)container["resources"]!["limits"]!["nvidia.com/gpu"]);
        Assert.Equal(["torchrun", "train.py", "--epochs", "3", "--batch-size=64", "--lr=0.01"], container["command"]!.AsArray().Select(n => (string)n!));
        var volume = job.Primary.Body["spec"]!["pytorchReplicaSpecs"]!["Master"]!["template"]!["spec"]!["volumes"]![0]!;
        Assert.Equal("Memory", (string?)volume["emptyDir"]!["medium"]);
        Assert.Equal("2Gi", (string?)volume["emptyDir"]!["sizeLimit"]);
        Assert.Equal("ml", job.Namespace);
    }

    [Fact]
    public void VolcanoJob_GangSchedulesAllWorkers_InTheQueue()
    {
        var spec = SampleSpecs.Valid(Distribution.Volcano) with { Workers = 3, Scheduling = new Scheduling { Queue = "team-a" } };
        var job = ManifestRenderer.Render(spec, SampleSpecs.Context(), "default");
        var body = job.Primary.Body["spec"]!;
        Assert.Equal(3, (int)body["minAvailable"]!);
        Assert.Equal("team-a", (string?)body["queue"]);
        Assert.Equal("volcano", (string?)body["schedulerName"]);
        Assert.Equal(3, (int)body["tasks"]![0]!["replicas"]!);
        var env = Container(job.Primary.Body, Distribution.Volcano)["env"]!.AsArray().ToDictionary(e => (string)e!["name"]!, e => (string)e!["value"]!);
        Assert.Equal($"{job.Name}-worker-0.{job.Name}", env["MASTER_ADDR"]);
        Assert.Equal("6", env["WORLD_SIZE"]);
        Assert.Equal("images@v3", env["CUBE_INPUT_IMAGES"]);
        Assert.Equal("0.01", env["CUBE_HP_LR"]);
    }

    [Fact]
    public void IndexedJob_HasHeadlessServiceAndStableHostNames()
    {
        var job = ManifestRenderer.Render(SampleSpecs.Valid(Distribution.IndexedJob) with { Workers = 4 }, SampleSpecs.Context(), "default");
        Assert.Equal([KubeResource.Service, KubeResource.BatchJob], job.Objects.Select(o => o.Resource));
        var service = job.Objects[0].Body["spec"]!;
        Assert.Equal("None", (string?)service["clusterIP"]);
        Assert.True((bool)service["publishNotReadyAddresses"]!);
        var spec = job.Primary.Body["spec"]!;
        Assert.Equal("Indexed", (string?)spec["completionMode"]);
        Assert.Equal(4, (int)spec["completions"]!);
        Assert.Equal(4, (int)spec["parallelism"]!);
        Assert.Equal(job.Name, (string?)spec["template"]!["spec"]!["subdomain"]);
        var command = Container(job.Primary.Body, Distribution.IndexedJob)["command"]!.AsArray().Select(n => (string)n!).ToList();
        Assert.Equal("/bin/sh", command[0]);
        Assert.Contains("${JOB_COMPLETION_INDEX}", command[2]);
        Assert.Contains($"--master-addr={job.Name}-0.{job.Name}", command);
    }

    private static JsonObject Container(JsonObject body, Distribution distribution)
    {
        var template = distribution switch
        {
            Distribution.PyTorchJob => body["spec"]!["pytorchReplicaSpecs"]!["Master"]!["template"]!,
            Distribution.Volcano => body["spec"]!["tasks"]![0]!["template"]!,
            _ => body["spec"]!["template"]!,
        };
        return template["spec"]!["containers"]![0]!.AsObject();
    }

    private static JsonNode Root(JsonNode node)
    {
        while (node.Parent is not null) node = node.Parent;
        return node;
    }
}
