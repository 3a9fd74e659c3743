using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Cube.Training.Apis;
using Cube.Testing;

namespace Cube.Training.Tests.Api;

/// <summary>The training API end to end on a real host: a local job runs a real process, then its model is registered and promoted.</summary>
public abstract class TrainingApiTests(CubeAppFixture app)
{
    private async Task<(TrainingClient Client, string Project)> ManagerAsync()
    {
        var (http, name) = await app.CreateUserClientAsync("trainer");
        var project = await app.CreateProjectAsync((name, "manager"));
        return (new TrainingClient(http, project), project);
    }

    /// <summary>A training "script": counts input rows, prints metrics per epoch and writes a model file.</summary>
    private const string Script = """
        rows=$(($(wc -l < "$CUBE_INPUT_TRAIN/data.csv") - 1))
        echo "training on $rows rows with lr=$CUBE_HP_LR ($*)"
        for epoch in 1 2 3; do
          echo "metric loss=0.$((9 - epoch * 2)) accuracy=0.$((6 + epoch)) step=$epoch"
          echo "metric progress=0.$((epoch * 3)) step=$epoch"
        done
        mkdir -p "$CUBE_OUTPUT_DIR/model"
        printf 'weights:%s' "$rows" > "$CUBE_OUTPUT_DIR/model/model.bin"
        echo done >&2
        """;

    private static object LocalSpec(string name, string script, string experiment = "churn") => new
    {
        name,
        experiment,
        distribution = "local",
        command = new[] { "/bin/sh", "-c", script, "train" },
        inputs = new[] { new { name = "train", dataset = "customers", version = "latest" } },
        hyperparameters = new Dictionary<string, string> { ["lr"] = "0.1", ["epochs"] = "3" },
    };

    private static byte[] Csv(int rows)
    {
        var text = new StringBuilder("id,age,churned\n");
        for (var i = 0; i < rows; i++) text.Append(System.Globalization.CultureInfo.InvariantCulture, $"{i},{20 + i % 50},{i % 3 == 0}\n");
        return Encoding.UTF8.GetBytes(text.ToString());
    }

    [Fact]
    public async Task LocalJob_RunsARealProcess_ThenItsArtifactBecomesAPromotedModelVersionWithLineage()
    {
        var (client, _) = await ManagerAsync();
        await client.PushDatasetAsync("customers", ("data.csv", Csv(250)));

        var submitted = await client.SubmitAsync(LocalSpec("churn-baseline", Script));
        Assert.Equal("local", submitted.Distribution);
        var job = await client.WaitAsync(submitted.Id);
        Assert.True(job.Job.State == "succeeded", $"{job.Job.State}: {job.Job.Error}");
        Assert.Equal(0, job.Job.ExitCode);
        Assert.Equal(100, job.Job.Progress);
        Assert.Equal("0.1", job.Params["lr"]);
        Assert.Equal("1", job.Params["workers"]);
        var input = Assert.Single(job.Inputs);
        Assert.Equal(("TRAIN", "customers", 1), (input.Name, input.Dataset, input.Version));

        // Logs, in order and by stream.
        var logs = (await client.Http.GetFromJsonAsync<LogPageDto>($"{client.Base}/jobs/{submitted.Id}/logs", TrainingClient.Json))!;
        Assert.Equal("training on 250 rows with lr=0.1 (--epochs=3 --lr=0.1)", logs.Lines[0].Text);
        Assert.Contains(logs.Lines, l => l.Source == "stderr" && l.Text == "done");
        Assert.Equal(logs.Total, logs.Lines.Count);
        var tail = (await client.Http.GetFromJsonAsync<LogPageDto>($"{client.Base}/jobs/{submitted.Id}/logs?after={logs.Lines[^2].Sequence}", TrainingClient.Json))!;
        Assert.Equal(logs.Lines[^1].Text, Assert.Single(tail.Lines).Text);

        // Metric series for charts.
        var metrics = (await client.Http.GetFromJsonAsync<List<MetricSeriesDto>>($"{client.Base}/jobs/{submitted.Id}/metrics", TrainingClient.Json))!;
        var loss = metrics.Single(m => m.Name == "loss");
        Assert.Equal([1L, 2L, 3L], loss.Points.Select(p => p.Step));
        Assert.Equal([0.7, 0.5, 0.3], loss.Points.Select(p => p.Value));

        // The artifact is in the object store, byte for byte.
        var artifact = Assert.Single(job.Artifacts);
        Assert.Equal("model/model.bin", artifact.Path);
        var bytes = await client.Http.GetByteArrayAsync($"{client.Base}/jobs/{submitted.Id}/artifacts/model/model.bin");
        Assert.Equal("weights:250", Encoding.UTF8.GetString(bytes));
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(bytes)), artifact.Sha256);

        // Register, promote, resolve by stage.
        var register = await client.Http.PostAsJsonAsync($"{client.Base}/models/churn/versions", new RegisterVersionRequest(submitted.Id, "model/model.bin", "other", "baseline"));
        Assert.Equal(HttpStatusCode.Created, register.StatusCode);
        var version = (await register.Content.ReadFromJsonAsync<ModelVersionDto>(TrainingClient.Json))!;
        Assert.Equal(1, version.Number);
        Assert.Equal(0.3, version.Metrics.GetProperty("loss").GetDouble(), 6);
        Assert.Equal(0.9, version.Metrics.GetProperty("accuracy").GetDouble(), 6);
        var lineage = Assert.Single(version.Lineage);
        Assert.Equal(("customers", 1, input.VersionId), (lineage.Dataset, lineage.Version, lineage.DatasetVersionId));

        await TrainingClient.EnsureAsync(await client.Http.PostAsJsonAsync($"{client.Base}/models/churn/versions/1/promote", new PromoteRequest("staging")));
        var second = (await (await TrainingClient.EnsureAsync(await client.Http.PostAsJsonAsync($"{client.Base}/models/churn/versions",
            new RegisterVersionRequest(submitted.Id, "model/model.bin", "onnx", null)))).Content.ReadFromJsonAsync<ModelVersionDto>(TrainingClient.Json))!;
        Assert.Equal(2, second.Number);
        await TrainingClient.EnsureAsync(await client.Http.PostAsJsonAsync($"{client.Base}/models/churn/versions/2/promote", new PromoteRequest("production")));
        await TrainingClient.EnsureAsync(await client.Http.PostAsJsonAsync($"{client.Base}/models/churn/versions/v2/promote", new PromoteRequest("staging")));
        var production = (await client.Http.GetFromJsonAsync<ModelVersionDto>($"{client.Base}/models/churn/versions/production", TrainingClient.Json))!;
        Assert.Equal(2, production.Number);
        Assert.Equal(["production", "staging"], production.Aliases);
        var models = (await client.Http.GetFromJsonAsync<List<ModelDto>>($"{client.Base}/models", TrainingClient.Json))!;
        var churn = Assert.Single(models);
        Assert.Equal(2, churn.LatestVersion);
        Assert.Equal(new Dictionary<string, int> { ["production"] = 2, ["staging"] = 2 }, churn.Aliases);
        Assert.Equal("weights:250", Encoding.UTF8.GetString(await client.Http.GetByteArrayAsync($"{client.Base}/models/churn/versions/production/artifact")));

        var badStage = await client.Http.PostAsJsonAsync($"{client.Base}/models/churn/versions/1/promote", new PromoteRequest("Prod Uction"));
        Assert.Equal(HttpStatusCode.BadRequest, badStage.StatusCode);
        Assert.True((await TrainingClient.ProblemAsync(badStage)).GetProperty("errors").TryGetProperty("stage", out _));
    }

    [Fact]
    public async Task ARunningJob_ReportsMetricsOverRest_WithItsOwnToken_OnlyWhileItRuns()
    {
        var (client, _) = await ManagerAsync();
        // The job hands its token to the test through its working directory, then waits to be told to finish.
        var submitted = await client.SubmitAsync(new
        {
            name = "reporter", distribution = "local",
            command = new[] { "/bin/sh", "-c", "printf %s \"$CUBE_TRACKING_TOKEN\" > token.tmp && mv token.tmp token; echo ready; while [ ! -f stop ]; do sleep 0.1; done" },
        });
        var workDirectory = Path.Combine(app.DataDirectory, "training", submitted.Id.ToString("N"));
        var tokenFile = Path.Combine(workDirectory, "token");
        await client.WaitAsync(submitted.Id, j => j.State == "running" && File.Exists(tokenFile));
        var token = await File.ReadAllTextAsync(tokenFile);
        Assert.StartsWith("cjt_" + submitted.Id.ToString("N") + "_", token);
        using var job = app.BearerClient(token);
        var report = new { metrics = new object[] { new { name = "loss", value = 0.5, step = 1 }, new { name = "loss", value = 0.25, step = 2 }, new { name = "val/acc", value = 0.9 } } };
        var accepted = await job.PostAsJsonAsync("/api/training/tracking/metrics", report);
        Assert.Equal(HttpStatusCode.OK, accepted.StatusCode);
        Assert.Equal(3, (await accepted.Content.ReadFromJsonAsync<ReportedDto>())!.Accepted);

        // Bad values are named; a forged or another job's token, or a user token, gets nothing; the job token opens nothing else.
        var bad = await job.PostAsJsonAsync("/api/training/tracking/metrics", new { metrics = new object[] { new { name = "ok", value = 1 }, new { name = "no spaces", value = 1 } } });
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.True((await TrainingClient.ProblemAsync(bad)).GetProperty("errors").TryGetProperty("metrics[1].name", out _));
        var forged = token[..^4] + (token[^4..] == "0000" ? "1111" : "0000");
        Assert.Equal(HttpStatusCode.Unauthorized, (await app.BearerClient(forged).PostAsJsonAsync("/api/training/tracking/metrics", report)).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await client.Http.PostAsJsonAsync("/api/training/tracking/metrics", report)).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await job.GetAsync($"{client.Base}/jobs/{submitted.Id}")).StatusCode);

        var series = await client.Http.GetFromJsonAsync<List<MetricSeriesDto>>($"{client.Base}/jobs/{submitted.Id}/metrics", TrainingClient.Json);
        Assert.Equal([(1L, 0.5), (2L, 0.25)], series!.Single(s => s.Name == "loss").Points.Select(p => (p.Step, p.Value)));
        Assert.Equal(0, series!.Single(s => s.Name == "val/acc").Points.Single().Step);

        await File.WriteAllTextAsync(Path.Combine(workDirectory, "stop"), "");
        Assert.Equal("succeeded", (await client.WaitAsync(submitted.Id)).Job.State);
        Assert.Equal(HttpStatusCode.Unauthorized, (await job.PostAsJsonAsync("/api/training/tracking/metrics", report)).StatusCode);
    }

    [Fact]
    public async Task FailedJob_RecordsItsExitCode_AndCannotBeRegistered()
    {
        var (client, _) = await ManagerAsync();
        var submitted = await client.SubmitAsync(new { name = "broken", distribution = "local", command = new[] { "/bin/sh", "-c", "echo metric loss=1 step=0; echo oops >&2; exit 3" } });
        var job = await client.WaitAsync(submitted.Id);
        Assert.Equal("failed", job.Job.State);
        Assert.Equal(3, job.Job.ExitCode);
        Assert.Contains("code 3", job.Job.Error);
        var run = await client.Http.GetFromJsonAsync<JsonElement>($"/api/runs/{job.Job.RunId}");
        Assert.Equal("failed", run.GetProperty("state").GetString());

        var register = await client.Http.PostAsJsonAsync($"{client.Base}/models/m/versions", new RegisterVersionRequest(submitted.Id, "x", "other", null));
        Assert.Equal(HttpStatusCode.BadRequest, register.StatusCode);
        Assert.Contains("has not succeeded", (await TrainingClient.ProblemAsync(register)).GetProperty("errors").GetProperty("jobId")[0].GetString());
    }

    [Fact]
    public async Task Cancel_StopsARunningJob()
    {
        var (client, _) = await ManagerAsync();
        var submitted = await client.SubmitAsync(new { name = "sleeper", distribution = "local", command = new[] { "/bin/sh", "-c", "echo started; sleep 120" } });
        await client.WaitAsync(submitted.Id, j => j.State == "running" && j.LogLines > 0);
        var cancel = await client.Http.PostAsync($"{client.Base}/jobs/{submitted.Id}/cancel", null);
        Assert.Equal(HttpStatusCode.OK, cancel.StatusCode);
        var job = await client.WaitAsync(submitted.Id);
        Assert.Equal("cancelled", job.Job.State);
        var again = await client.Http.PostAsync($"{client.Base}/jobs/{submitted.Id}/cancel", null);
        Assert.Equal(HttpStatusCode.Conflict, again.StatusCode);
    }

    [Fact]
    public async Task Submit_AnswersWithFieldErrors_WhenTheSpecIsInvalid()
    {
        var (client, _) = await ManagerAsync();
        var bad = await client.SubmitRawAsync(new
        {
            name = "Bad Name",
            distribution = "volcano",
            command = Array.Empty<string>(),
            resources = new { gpus = 99, memory = "lots" },
            workers = 0,
        });
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        var errors = (await TrainingClient.ProblemAsync(bad)).GetProperty("errors");
        foreach (var field in new[] { "name", "image", "command", "resources.gpus", "resources.memory", "workers" })
            Assert.True(errors.TryGetProperty(field, out _), $"no error for {field}: {errors}");

        var unknownKind = await client.Http.PostAsync($"{client.Base}/jobs",
            new StringContent("{\"name\":\"x\",\"command\":[\"true\"],\"distribution\":\"slurm\"}", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, unknownKind.StatusCode);

        var missingData = await client.SubmitRawAsync(new { name = "nodata", command = new[] { "true" }, inputs = new[] { new { dataset = "nope" } } });
        Assert.Equal(HttpStatusCode.BadRequest, missingData.StatusCode);
        Assert.Contains("nope", (await TrainingClient.ProblemAsync(missingData)).GetProperty("errors").GetProperty("inputs[0]")[0].GetString());

        // No cluster is configured on this server: cluster jobs are refused up front, naming the setting.
        var cluster = await client.SubmitRawAsync(new { name = "ddp", distribution = "pytorchjob", framework = "pytorch", image = "pytorch/pytorch:2.5.1", command = new[] { "python", "train.py" } });
        Assert.Equal(HttpStatusCode.BadRequest, cluster.StatusCode);
        Assert.Contains("Cube:Training:Kubernetes", (await TrainingClient.ProblemAsync(cluster)).GetProperty("errors").GetProperty("distribution")[0].GetString());
    }

    [Fact]
    public async Task Endpoints_EnforceProjectRoles()
    {
        var (manager, project) = await ManagerAsync();
        var (viewerHttp, viewerName) = await app.CreateUserClientAsync("viewer");
        using var admin = await app.AdminAsync();
        (await admin.PutAsJsonAsync($"/api/projects/{project}/members/{viewerName}", new Cube.Core.Apis.SetMemberRequest("viewer"))).EnsureSuccessStatusCode();
        var (stranger, _) = await app.CreateUserClientAsync("stranger");

        var submitted = await manager.SubmitAsync(new { name = "quick", distribution = "local", command = new[] { "true" } });
        await manager.WaitAsync(submitted.Id);

        var viewer = new TrainingClient(viewerHttp, project);
        Assert.Equal(HttpStatusCode.OK, (await viewerHttp.GetAsync($"{viewer.Base}/jobs/{submitted.Id}")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await viewer.SubmitRawAsync(new { name = "x", command = new[] { "true" } })).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await viewerHttp.PostAsync($"{viewer.Base}/jobs/{submitted.Id}/cancel", null)).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await stranger.GetAsync($"{viewer.Base}/jobs")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await app.Anonymous().GetAsync($"{viewer.Base}/jobs")).StatusCode);

        // A job id from another project is not found through this one.
        var (other, _) = await ManagerAsync();
        Assert.Equal(HttpStatusCode.NotFound, (await other.Http.GetAsync($"{other.Base}/jobs/{submitted.Id}")).StatusCode);
    }

    [Fact]
    public async Task GpuQuota_QueuesJobsBeyondIt_AndRefusesJobsThatCouldNeverStart()
    {
        var (client, project) = await ManagerAsync();
        using var admin = await app.AdminAsync();
        Assert.Equal(HttpStatusCode.Forbidden, (await client.Http.PutAsJsonAsync($"{client.Base}/quota", new SetQuotaRequest(2))).StatusCode);
        await TrainingClient.EnsureAsync(await admin.PutAsJsonAsync($"/api/projects/{project}/training/quota", new SetQuotaRequest(2)));

        var marker = Path.Combine(Path.GetTempPath(), "cube-quota-" + Guid.NewGuid().ToString("N"));
        object GpuJob(string name, int gpus, string script) => new { name, distribution = "local", command = new[] { "/bin/sh", "-c", script }, resources = new { gpus } };
        var first = await client.SubmitAsync(GpuJob("holder", 2, $"echo holding; while [ ! -f {marker} ]; do sleep 0.1; done"));
        await client.WaitAsync(first.Id, j => j.State == "running");
        var second = await client.SubmitAsync(GpuJob("waiter", 1, "echo got a gpu"));
        var waiting = await client.WaitAsync(second.Id, j => j.Message?.StartsWith("Waiting for GPUs", StringComparison.Ordinal) == true);
        Assert.Equal("queued", waiting.Job.State);
        Assert.Contains("position 1", waiting.Job.Message);
        Assert.Contains("2 of 2 GPUs in use", waiting.Job.Message);
        Assert.Equal((1, 1), (waiting.Job.Gpus, waiting.Job.QueuePosition));
        var quota = (await client.Http.GetFromJsonAsync<QuotaDto>($"{client.Base}/quota", TrainingClient.Json))!;
        Assert.Equal(new QuotaDto(2, 2, 1), quota);
        var third = await client.SubmitAsync(GpuJob("waiter-2", 2, "echo got two"));
        var listed = (await client.Http.GetFromJsonAsync<Cube.Core.Apis.Page<JobDto>>($"{client.Base}/jobs", TrainingClient.Json))!.Items.ToDictionary(j => j.Id);
        Assert.Equal((2, (int?)null), (listed[first.Id].Gpus, listed[first.Id].QueuePosition));
        Assert.Equal(1, listed[second.Id].QueuePosition);
        Assert.Equal(2, listed[third.Id].QueuePosition);

        var tooBig = await client.SubmitRawAsync(GpuJob("huge", 3, "true"));
        Assert.Equal(HttpStatusCode.BadRequest, tooBig.StatusCode);
        Assert.Contains("quota of 2", (await TrainingClient.ProblemAsync(tooBig)).GetProperty("errors").GetProperty("resources.gpus")[0].GetString());

        await File.WriteAllTextAsync(marker, "go");
        try
        {
            Assert.Equal("succeeded", (await client.WaitAsync(first.Id)).Job.State);
            Assert.Equal("succeeded", (await client.WaitAsync(second.Id)).Job.State);
            var done = await client.WaitAsync(third.Id);
            Assert.Equal(("succeeded", (int?)null), (done.Job.State, done.Job.QueuePosition));
        }
        finally
        {
            File.Delete(marker);
        }
        await TrainingClient.EnsureAsync(await admin.PutAsJsonAsync($"/api/projects/{project}/training/quota", new SetQuotaRequest(null)));
        Assert.Null((await client.Http.GetFromJsonAsync<QuotaDto>($"{client.Base}/quota", TrainingClient.Json))!.MaxGpus);
    }

    [Fact]
    public async Task Experiments_CompareRunsByParamsAndFinalMetrics()
    {
        var (client, _) = await ManagerAsync();
        var ids = new List<Guid>();
        foreach (var lr in new[] { "0.1", "0.01" })
        {
            var job = await client.SubmitAsync(new
            {
                name = "sweep",
                experiment = "lr-sweep",
                distribution = "local",
                command = new[] { "/bin/sh", "-c", "echo metric loss=$CUBE_HP_LR step=1; echo metric loss=0.$CUBE_HP_SEED step=2", "x" },
                hyperparameters = new Dictionary<string, string> { ["lr"] = lr, ["seed"] = lr == "0.1" ? "5" : "4" },
            });
            ids.Add(job.Id);
        }
        foreach (var id in ids) Assert.Equal("succeeded", (await client.WaitAsync(id)).Job.State);
        var runs = (await client.Http.GetFromJsonAsync<List<RunComparisonDto>>($"{client.Base}/experiments/lr-sweep/runs", TrainingClient.Json))!;
        Assert.Equal(2, runs.Count);
        Assert.Equal(0.5, runs.Single(r => r.Params["lr"] == "0.1").Metrics["loss"]);
        Assert.Equal(0.4, runs.Single(r => r.Params["lr"] == "0.01").Metrics["loss"]);
        var experiments = (await client.Http.GetFromJsonAsync<List<ExperimentDto>>($"{client.Base}/experiments", TrainingClient.Json))!;
        Assert.Equal(2, Assert.Single(experiments).Runs);
        var page = (await client.Http.GetFromJsonAsync<Cube.Core.Apis.Page<JobDto>>($"{client.Base}/jobs?experiment=lr-sweep&limit=1", TrainingClient.Json))!;
        Assert.Single(page.Items);
        Assert.NotNull(page.NextCursor);
    }
}

public sealed class SqliteTrainingApiTests(SqliteCubeApp app) : TrainingApiTests(app), IClassFixture<SqliteCubeApp>;

public sealed class PostgresTrainingApiTests(PostgresCubeApp app) : TrainingApiTests(app), IClassFixture<PostgresCubeApp>;
