using System.Text.Json.Nodes;
using Cube.Training.Kubernetes;
using Cube.Training.Specs;
using Cube.Training.Tests.Execution;
using Cube.Training.Tests.Specs;
using k8s;
using Microsoft.Extensions.Logging.Abstractions;

namespace Cube.Training.Tests.Kubernetes;

public sealed class KubernetesExecutorTests
{
    private static KubernetesExecutor Executor(FakeKubernetesApi fake) => new(
        () => new KubernetesClientApi(new k8s.Kubernetes(new KubernetesClientConfiguration { Host = fake.Url })),
        new TrainingKubernetesOptions { Namespace = "ml", PodPollInterval = TimeSpan.FromMilliseconds(50), LogDrainTime = TimeSpan.FromSeconds(2) },
        TimeProvider.System, NullLogger<KubernetesExecutor>.Instance);

    private static JsonObject Condition(string type) => new()
    {
        ["conditions"] = new JsonArray(new JsonObject { ["type"] = type, ["status"] = "True", ["reason"] = "Test", ["message"] = $"job is {type.ToLowerInvariant()}" }),
    };

    [Fact]
    public async Task Execute_CreatesWatchesAndStreamsLogs_ForAPyTorchJob_AndRelistsAfter410()
    {
        await using var fake = await FakeKubernetesApi.StartAsync();
        var spec = SampleSpecs.Valid(Distribution.PyTorchJob) with { Namespace = null };
        var context = SampleSpecs.Context();
        var name = ManifestRenderer.ObjectName(spec, context.JobId);
        fake.GoneOnFirstWatch = true;
        fake.StatusScript = [Condition("Created"), Condition("Running"), Condition("Succeeded")];
        fake.PodLogs = new()
        {
            [$"{name}-master-0"] = ["epoch 1", "metric loss=0.5 step=1", "metric loss=0.25 step=2"],
            [$"{name}-worker-0"] = ["worker ready"],
        };
        var observer = new RecordingObserver();

        var result = await Executor(fake).ExecuteAsync(spec, context, observer, TestContext.Current.CancellationToken);

        Assert.True(result.Succeeded, result.Error);
        var requests = fake.Requests.ToList();
        var create = Assert.Single(requests, r => r.Method == "POST");
        Assert.Equal("/apis/kubeflow.org/v1/namespaces/ml/pytorchjobs", create.Path);
        Assert.Empty(UpstreamSchemas.PyTorchJob.Validate(create.Body));
        // List, watch (410), list again, watch again: the documented recovery from an expired resourceVersion.
        var statusCalls = requests.Where(r => r.Method == "GET" && r.Path == "/apis/kubeflow.org/v1/namespaces/ml/pytorchjobs").Select(r => r.Query.Contains("watch=true")).ToList();
        Assert.Equal([false, true, false, true], statusCalls);
        Assert.All(requests.Where(r => r.Path.EndsWith("/pytorchjobs", StringComparison.Ordinal) && r.Method == "GET"),
            r => Assert.Contains($"fieldSelector=metadata.name%3D{name}", r.Query));
        Assert.Contains(observer.Statuses, s => s.Contains("410"));
        Assert.Contains(observer.Statuses, s => s.StartsWith("Running", StringComparison.Ordinal));
        Assert.Contains(($"{name}-master-0", "epoch 1"), observer.Logs);
        Assert.Contains(($"{name}-worker-0", "worker ready"), observer.Logs);
        Assert.Equal([0.5, 0.25], observer.Metrics.Select(m => m.Value));
        Assert.Contains(requests, r => r.Path == $"/api/v1/namespaces/ml/pods" && r.Query.Contains($"labelSelector=cube.dev%2Ftraining-job%3D{name}"));
        Assert.False(observer.Overlapped);
    }

    [Fact]
    public async Task Execute_ReportsFailure_WithTheConditionMessage()
    {
        await using var fake = await FakeKubernetesApi.StartAsync();
        fake.StatusScript = [Condition("Running"), Condition("Failed")];
        var result = await Executor(fake).ExecuteAsync(SampleSpecs.Valid(Distribution.PyTorchJob), SampleSpecs.Context(), new RecordingObserver(), TestContext.Current.CancellationToken);
        Assert.False(result.Succeeded);
        Assert.Equal("job is failed", result.Error);
    }

    [Fact]
    public async Task Execute_MapsVolcanoPhases()
    {
        await using var fake = await FakeKubernetesApi.StartAsync();
        fake.StatusScript =
        [
            new JsonObject { ["state"] = new JsonObject { ["phase"] = "Pending" } },
            new JsonObject { ["state"] = new JsonObject { ["phase"] = "Running" }, ["running"] = 2 },
            new JsonObject { ["state"] = new JsonObject { ["phase"] = "Completed" } },
        ];
        var observer = new RecordingObserver();
        var result = await Executor(fake).ExecuteAsync(SampleSpecs.Valid(Distribution.Volcano), SampleSpecs.Context(), observer, TestContext.Current.CancellationToken);
        Assert.True(result.Succeeded, result.Error);
        var create = Assert.Single(fake.Requests, r => r.Method == "POST");
        Assert.Equal("/apis/batch.volcano.sh/v1alpha1/namespaces/ml/jobs", create.Path);
        Assert.Empty(UpstreamSchemas.VolcanoJob.Validate(create.Body));
        Assert.Equal(["Pending", "Running", "Succeeded"], observer.Statuses.Skip(1));
    }

    [Fact]
    public async Task Execute_CreatesServiceThenIndexedJob_AndDeletesBoth_WhenCancelled()
    {
        await using var fake = await FakeKubernetesApi.StartAsync();
        fake.HoldWatchOpen = true;
        fake.StatusScript = [new JsonObject { ["active"] = 2 }];
        var observer = new RecordingObserver();
        var spec = SampleSpecs.Valid(Distribution.IndexedJob);
        var context = SampleSpecs.Context();
        var name = ManifestRenderer.ObjectName(spec, context.JobId);
        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        var run = Executor(fake).ExecuteAsync(spec, context, observer, cancel.Token);
        await observer.WaitForAsync(s => s == "Running");
        await cancel.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => run);

        var requests = fake.Requests.ToList();
        var creates = requests.Where(r => r.Method == "POST").ToList();
        Assert.Equal(["/api/v1/namespaces/ml/services", "/apis/batch/v1/namespaces/ml/jobs"], creates.Select(r => r.Path));
        Assert.Empty(UpstreamSchemas.Service.Validate(creates[0].Body));
        Assert.Empty(UpstreamSchemas.BatchJob.Validate(creates[1].Body));
        var deletes = requests.Where(r => r.Method == "DELETE").ToList();
        Assert.Equal([$"/apis/batch/v1/namespaces/ml/jobs/{name}", $"/api/v1/namespaces/ml/services/{name}"], deletes.Select(r => r.Path));
        Assert.All(deletes, d => Assert.Contains("\"propagationPolicy\":\"Background\"", d.Body));
        Assert.Empty(fake.Stored);
    }

    [Fact]
    public async Task Execute_AdoptsExistingObjects_On409()
    {
        await using var fake = await FakeKubernetesApi.StartAsync();
        var spec = SampleSpecs.Valid(Distribution.IndexedJob);
        var context = SampleSpecs.Context();
        fake.AlreadyExists = ManifestRenderer.ObjectName(spec, context.JobId);
        var observer = new RecordingObserver();
        // The service "exists" (409) and so does the job: the executor follows, and the job is found missing by the list.
        var result = await Executor(fake).ExecuteAsync(spec, context, observer, TestContext.Current.CancellationToken);
        Assert.Contains(observer.Statuses, s => s.Contains("already exists"));
        Assert.False(result.Succeeded);
        Assert.Contains("was deleted", result.Error);
    }
}
