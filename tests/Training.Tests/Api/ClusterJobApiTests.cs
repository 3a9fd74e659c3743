using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Cube.Testing;
using Cube.Training.Apis;
using Cube.Training.Kubernetes;
using Cube.Training.Tests.Kubernetes;

namespace Cube.Training.Tests.Api;

/// <summary>A cluster job through the whole server: the host's Kubernetes executor talks to the fake API server.</summary>
public sealed class ClusterJobApiTests(SqliteCubeApp app) : IClassFixture<SqliteCubeApp>
{
    [Fact]
    public async Task PyTorchJob_SubmittedThroughTheApi_IsCreatedWatchedAndLogged()
    {
        await using var fake = await FakeKubernetesApi.StartAsync();
        await using var server = app.WithSettings(new Dictionary<string, string?>
        {
            ["Cube:Training:Kubernetes:Host"] = fake.Url,
            ["Cube:Training:Kubernetes:Namespace"] = "team",
            ["Cube:Training:Kubernetes:PodPollInterval"] = "00:00:00.050",
            ["Cube:Training:Kubernetes:LogDrainTime"] = "00:00:02",
        });
        using var admin = server.CreateClient();
        (await admin.PostAsJsonAsync("/api/auth/sign-in", new Cube.Core.Apis.SignInRequest(CubeAppFixture.AdminUser, CubeAppFixture.AdminPassword))).EnsureSuccessStatusCode();
        var slug = "p-" + Guid.NewGuid().ToString("N")[..10];
        (await admin.PostAsJsonAsync("/api/projects", new Cube.Core.Apis.CreateProjectRequest(slug, "cluster", null))).EnsureSuccessStatusCode();
        var client = new TrainingClient(admin, slug);

        fake.StatusScript =
        [
            new JsonObject { ["conditions"] = new JsonArray(new JsonObject { ["type"] = "Running", ["status"] = "True" }) },
            new JsonObject { ["conditions"] = new JsonArray(new JsonObject { ["type"] = "Succeeded", ["status"] = "True" }) },
        ];
        var spec = new
        {
            name = "ddp",
            distribution = "pytorchjob",
            framework = "pytorch",
            image = "pytorch/pytorch:2.5.1-cuda12.4-cudnn9-runtime",
            command = new[] { "python", "train.py" },
            resources = new { gpus = 8, sharedMemory = "8Gi" },
            workers = 2,
            hyperparameters = new Dictionary<string, string> { ["lr"] = "0.001" },
        };
        // Pod names follow the object name, which needs the job id: register the pods once the job exists.
        var submitted = await client.SubmitAsync(spec);
        var name = $"ddp-{submitted.Id.ToString("N")[..8]}";
        fake.PodLogs = new() { [$"{name}-master-0"] = ["metric loss=0.2 step=10", "epoch done"] };

        var job = await client.WaitAsync(submitted.Id);
        Assert.True(job.Job.State == "succeeded", $"{job.Job.State}: {job.Job.Error}");
        var create = Assert.Single(fake.Requests, r => r.Method == "POST");
        Assert.Equal("/apis/kubeflow.org/v1/namespaces/team/pytorchjobs", create.Path);
        Assert.Empty(UpstreamSchemas.PyTorchJob.Validate(create.Body));
        var logs = (await client.Http.GetFromJsonAsync<LogPageDto>($"{client.Base}/jobs/{submitted.Id}/logs", TrainingClient.Json))!;
        Assert.Contains(logs.Lines, l => l.Source == $"{name}-master-0" && l.Text == "epoch done");
        var metrics = (await client.Http.GetFromJsonAsync<List<MetricSeriesDto>>($"{client.Base}/jobs/{submitted.Id}/metrics", TrainingClient.Json))!;
        Assert.Equal(0.2, Assert.Single(Assert.Single(metrics).Points).Value);

        var manifests = (await client.Http.GetFromJsonAsync<List<ManifestDto>>($"{client.Base}/jobs/{submitted.Id}/manifests", TrainingClient.Json))!;
        var manifest = Assert.Single(manifests);
        Assert.Equal(("kubeflow.org/v1", "PyTorchJob", name), (manifest.ApiVersion, manifest.Kind, manifest.Name));
        Assert.Equal(KubeResource.PyTorchJob.CollectionPath("team"), manifest.Path);
    }
}
