using Cube.Training.Kubernetes;
using Cube.Training.Specs;
using Cube.Training.Tests.Execution;
using k8s;
using Microsoft.Extensions.Logging.Abstractions;

namespace Cube.Training.Tests.Kubernetes;

/// <summary>Runs a real Indexed Job on the cluster named by CUBE_TEST_KUBECONFIG (a kubeconfig path); skipped without one.</summary>
public sealed class LiveClusterTests
{
    [Fact]
    public async Task IndexedJob_RunsToCompletion_OnALiveCluster()
    {
        var kubeconfig = Environment.GetEnvironmentVariable("CUBE_TEST_KUBECONFIG");
        if (string.IsNullOrEmpty(kubeconfig) || !File.Exists(kubeconfig))
            Assert.Skip("CUBE_TEST_KUBECONFIG is not set to a kubeconfig file; no cluster to run on.");
        var ns = Environment.GetEnvironmentVariable("CUBE_TEST_K8S_NAMESPACE") ?? "default";
        var config = KubernetesClientConfiguration.BuildConfigFromConfigFile(kubeconfig);
        var executor = new KubernetesExecutor(() => new KubernetesClientApi(new k8s.Kubernetes(config)),
            new TrainingKubernetesOptions { Namespace = ns, PodPollInterval = TimeSpan.FromSeconds(1) }, TimeProvider.System, NullLogger<KubernetesExecutor>.Instance);
        var spec = new JobSpec
        {
            Name = "cube-live",
            Distribution = Distribution.IndexedJob,
            Image = "busybox:1.36",
            Command = ["/bin/sh", "-c", "echo rank=$RANK; echo metric loss=0.5 step=1"],
            Workers = 2,
            TimeoutSeconds = 300,
        };
        var observer = new RecordingObserver();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(5));
        var result = await executor.ExecuteAsync(spec, Specs.SampleSpecs.Context(), observer, timeout.Token);
        Assert.True(result.Succeeded, result.Error);
        Assert.Contains(observer.Metrics, m => m.Name == "loss");
        var api = new KubernetesClientApi(new k8s.Kubernetes(config));
        var job = ManifestRenderer.Render(spec, Specs.SampleSpecs.Context(), ns);
        foreach (var obj in job.Objects) await api.DeleteAsync(obj.Resource, ns, obj.Name, CancellationToken.None);
    }
}
