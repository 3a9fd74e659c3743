using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Cube.Core.Apis;
using Cube.Labeling.Apis;
using Cube.Labeling.Data;
using Cube.Labeling.Tests.Api;
using Cube.Testing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Cube.Labeling.Tests.Prelabel;

/// <summary>A labeling server whose model endpoints may be on loopback (the test's own fake model server).</summary>
public sealed class SqlitePrelabelApp : SqliteCubeApp
{
    protected override IDictionary<string, string?> FixtureSettings => new Dictionary<string, string?> { ["Cube:Labeling:ModelEndpoints:AllowedNetworks:0"] = "127.0.0.0/8" };
}

public sealed class PostgresPrelabelApp : PostgresCubeApp
{
    protected override IDictionary<string, string?> FixtureSettings => new Dictionary<string, string?> { ["Cube:Labeling:ModelEndpoints:AllowedNetworks:0"] = "127.0.0.0/8" };
}

/// <summary>The built-in text pre-labeler, automatic retraining and external model endpoints, on SQLite and PostgreSQL.</summary>
public abstract class PrelabelApiTests(CubeAppFixture app)
{
    private static readonly string[] Positive = ["a wonderful and lovely film", "great acting, wonderful story", "lovely, great and delightful", "a delightful wonderful evening",
        "great fun and lovely music", "wonderful, simply great", "delightful and great cast"];
    private static readonly string[] Negative = ["an awful and boring film", "terrible acting, boring story", "boring, awful and dreadful", "a dreadful terrible evening",
        "awful noise and boring music", "terrible, simply awful", "dreadful and awful cast"];

    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    private async Task<(LabelingClient Manager, LabelingClient A, string Project)> TeamAsync()
    {
        var (manager, managerName) = await app.CreateUserClientAsync("manager");
        var (a, aName) = await app.CreateUserClientAsync("ann-a");
        var project = await app.CreateProjectAsync((managerName, "manager"), (aName, "annotator"));
        return (new(manager, project), new(a, project), project);
    }

    private static async Task<List<Guid>> AddTextsAsync(LabelingClient manager, Guid lp, IEnumerable<string> texts)
    {
        var response = await manager.Http.PostAsJsonAsync($"{manager.Of(lp)}/tasks",
            new AddTasksRequest([.. texts.Select(t => new NewTaskRequest(LabelingClient.Json(new { text = t }), null, null, null))]), Cancel);
        await LabelingClient.EnsureAsync(response);
        return [.. (await response.Content.ReadFromJsonAsync<AddedTasksDto>(Cancel))!.Ids];
    }

    /// <summary>The annotator labels what "next" hands out, by the text's word, until <paramref name="count"/> are done or the pool is empty.</summary>
    private static async Task<int> LabelAsync(LabelingClient a, Guid lp, int count = int.MaxValue)
    {
        var done = 0;
        while (done < count && await a.NextAsync(lp) is { } lease)
        {
            var text = lease.Task.Data.GetProperty("text").GetString()!;
            await a.SubmitAsync(lp, lease.Task.Id, new { labels = new[] { Negative.Contains(text) ? "negative" : "positive" } });
            done++;
        }
        return done;
    }

    private static async Task<RunDto> WaitAsync(HttpClient client, Guid run)
    {
        var deadline = DateTime.UtcNow.AddSeconds(120);
        while (true)
        {
            var current = (await client.GetFromJsonAsync<RunDto>($"/api/runs/{run}", Cancel))!;
            if (current.State is "succeeded" or "failed" or "cancelled") return current;
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"Run {run} stayed {current.State} ({current.Message})");
            await Task.Delay(50, Cancel);
        }
    }

    private static async Task<RunDto> StartAsync(LabelingClient manager, string url)
    {
        var response = await manager.Http.PostAsync(url, null, Cancel);
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var run = (await response.Content.ReadFromJsonAsync<RunDto>(Cancel))!;
        Assert.Equal("labeling.prelabel", run.Kind);
        return await WaitAsync(manager.Http, run.Id);
    }

    private static async Task<List<PredictionDto>> PredictionsAsync(LabelingClient manager, Guid lp, Guid task) =>
        (await manager.Http.GetFromJsonAsync<List<PredictionDto>>($"{manager.Of(lp)}/tasks/{task}/predictions", Cancel))!;

    [Fact]
    public async Task Train_PrelabelsTheUnlabeledTasks_AndUncertaintyServesTheLeastCertainFirst()
    {
        var (manager, a, _) = await TeamAsync();
        var lp = await manager.CreateAsync("sentiment", LabelingClient.Classes("positive", "negative"), ordering: "uncertainty");
        var train = $"{manager.Of(lp.Id)}/prelabel/train";
        await AddTextsAsync(manager, lp.Id, Positive[..6].Interleave(Negative[..6]));

        // No labels yet, then labels of one class only: nothing to learn a boundary from.
        var refused = await LabelingClient.ProblemAsync(await manager.Http.PostAsync(train, null, Cancel), HttpStatusCode.UnprocessableEntity);
        Assert.Contains("at least 2 classes", refused.GetProperty("detail").GetString());
        Assert.Equal(1, await LabelAsync(a, lp.Id, 1));
        await LabelingClient.ProblemAsync(await manager.Http.PostAsync(train, null, Cancel), HttpStatusCode.UnprocessableEntity);
        Assert.Equal(11, await LabelAsync(a, lp.Id));
        Assert.Equal(HttpStatusCode.Forbidden, (await a.Http.PostAsync(train, null, Cancel)).StatusCode);

        var unlabeled = await AddTextsAsync(manager, lp.Id, [Positive[6], Negative[6], "wonderful music", "dreadful music", "a great but awful film", "the film"]);
        var run = await StartAsync(manager, train);
        Assert.True(run.State == "succeeded", $"{run.State}: {run.Error}");
        var result = run.Result!.Value;
        Assert.Equal(12, result.GetProperty("trainingLabels").GetInt32());
        Assert.Equal(["negative", "positive"], result.GetProperty("classes").EnumerateArray().Select(c => c.GetString()).Order());
        Assert.Equal(2, result.GetProperty("heldOut").GetInt32());
        Assert.InRange(result.GetProperty("heldOutAccuracy").GetDouble(), 0, 1);
        Assert.Equal(6, result.GetProperty("tasks").GetInt32());

        var scores = new Dictionary<Guid, double>();
        foreach (var (task, expected) in unlabeled.Zip(new[] { "positive", "negative", "positive", "negative", null, null }))
        {
            var prediction = Assert.Single(await PredictionsAsync(manager, lp.Id, task));
            Assert.Equal(("prediction", "cube-text"), (prediction.Kind, prediction.Model));
            Assert.InRange(prediction.Score!.Value, 0.5, 1);
            if (expected is not null) Assert.Equal(expected, prediction.Result.GetProperty("labels")[0].GetString());
            scores[task] = prediction.Score.Value;
        }
        // Clear texts are more certain than the mixed one.
        Assert.True(scores[unlabeled[0]] > scores[unlabeled[4]] && scores[unlabeled[1]] > scores[unlabeled[4]], string.Join(", ", scores.Values));

        // A second run replaces the model's predictions instead of adding to them.
        Assert.Equal("succeeded", (await StartAsync(manager, train)).State);
        Assert.Single(await PredictionsAsync(manager, lp.Id, unlabeled[0]));

        var served = new List<Guid>();
        while (await a.NextAsync(lp.Id) is { } lease)
        {
            served.Add(lease.Task.Id);
            Assert.Equal("cube-text", Assert.Single(lease.Task.Predictions!).Model);
            await a.SubmitAsync(lp.Id, lease.Task.Id, new { labels = new[] { "positive" } });
        }
        Assert.Equal(unlabeled.OrderBy(t => scores[t]), served);
    }

    [Fact]
    public async Task AutoPrelabel_StartsARun_AfterEveryNNewLabels()
    {
        var (manager, a, project) = await TeamAsync();
        var lp = await manager.CreateAsync("auto", LabelingClient.Classes("positive", "negative"));
        await LabelingClient.ProblemAsync(await manager.Http.PatchAsJsonAsync(manager.Of(lp.Id), new UpdateLabelingProjectRequest(null, null, null, null, null, null, -1), Cancel),
            HttpStatusCode.BadRequest);
        var boxes = await manager.CreateAsync("auto-boxes", new { kind = "BoundingBoxes", labels = new[] { new { name = "cat" } } });
        await LabelingClient.ProblemAsync(await manager.Http.PatchAsJsonAsync(manager.Of(boxes.Id), new UpdateLabelingProjectRequest(null, null, null, null, null, null, 3), Cancel),
            HttpStatusCode.BadRequest);
        var patched = await manager.Http.PatchAsJsonAsync(manager.Of(lp.Id), new UpdateLabelingProjectRequest(null, null, null, null, null, null, 4), Cancel);
        await LabelingClient.EnsureAsync(patched);
        Assert.Equal(4, (await patched.Content.ReadFromJsonAsync<LabelingProjectDto>(Cancel))!.AutoPrelabelEvery);
        var ids = await AddTextsAsync(manager, lp.Id, Positive.Interleave(Negative));

        async Task<List<RunDto>> RunsAsync() =>
            [.. (await manager.Http.GetFromJsonAsync<Page<RunDto>>($"/api/projects/{project}/runs?kind=labeling.prelabel", Cancel))!.Items];

        Assert.Equal(3, await LabelAsync(a, lp.Id, 3));
        Assert.Empty(await RunsAsync());
        Assert.Equal(1, await LabelAsync(a, lp.Id, 1));
        var first = Assert.Single(await RunsAsync());
        Assert.Null(first.OwnerId);
        var finished = await WaitAsync(manager.Http, first.Id);
        Assert.True(finished.State == "succeeded", $"{finished.State}: {finished.Error}");
        Assert.Equal(4, finished.Result!.Value.GetProperty("trainingLabels").GetInt32());
        Assert.Equal("cube-text", Assert.Single(await PredictionsAsync(manager, lp.Id, ids[^1])).Model);

        Assert.Equal(3, await LabelAsync(a, lp.Id, 3));
        Assert.Single(await RunsAsync());
        Assert.Equal(1, await LabelAsync(a, lp.Id, 1));
        var runs = await RunsAsync();
        Assert.Equal(2, runs.Count);
        var second = await WaitAsync(manager.Http, runs.Single(r => r.Id != first.Id).Id);
        Assert.Equal((8, "succeeded"), (second.Result!.Value.GetProperty("trainingLabels").GetInt32(), second.State));

        // Turned off, labels start nothing more.
        await LabelingClient.EnsureAsync(await manager.Http.PatchAsJsonAsync(manager.Of(lp.Id), new UpdateLabelingProjectRequest(null, null, null, null, null, null, 0), Cancel));
        Assert.Equal(4, await LabelAsync(a, lp.Id, 4));
        Assert.Equal(2, (await RunsAsync()).Count);

        // Turned on again, counting starts from the labels the project has now (12), not from where it stopped.
        await LabelingClient.EnsureAsync(await manager.Http.PatchAsJsonAsync(manager.Of(lp.Id), new UpdateLabelingProjectRequest(null, null, null, null, null, null, 2), Cancel));
        Assert.Equal(1, await LabelAsync(a, lp.Id, 1));
        Assert.Equal(2, (await RunsAsync()).Count);
        Assert.Equal(1, await LabelAsync(a, lp.Id, 1));
        runs = await RunsAsync();
        Assert.Equal(3, runs.Count);
        var third = await WaitAsync(manager.Http, runs.Single(r => r.Id != first.Id && r.Id != second.Id).Id);
        Assert.Equal((14, "succeeded"), (third.Result!.Value.GetProperty("trainingLabels").GetInt32(), third.State));
    }

    [Fact]
    public async Task Endpoint_StoresValidPredictions_CountsInvalidOnes_AndFailsOnBadAnswersAndTimeouts()
    {
        var (manager, a, _) = await TeamAsync();
        var lp = await manager.CreateAsync("external", LabelingClient.Classes("positive", "negative"));
        var endpoint = $"{manager.Of(lp.Id)}/prelabel/endpoint";
        using var server = new FakeModelServer();
        const string token = "s3cret-model-token";

        await LabelingClient.ProblemAsync(await manager.Http.PostAsync($"{endpoint}/run", null, Cancel), HttpStatusCode.UnprocessableEntity);
        await LabelingClient.ProblemAsync(await manager.Http.GetAsync(endpoint, Cancel), HttpStatusCode.NotFound);
        // Internal addresses are refused unless allow-listed (this server allows 127.0.0.0/8 only).
        foreach (var refusedUrl in new[] { "http://169.254.169.254/latest/meta-data", "http://10.1.2.3:8080/predict", "http://[::1]:9/predict", "ftp://127.0.0.1/predict" })
        {
            var refused = await LabelingClient.ProblemAsync(await manager.Http.PutAsJsonAsync(endpoint, new ModelEndpointRequest(refusedUrl, null, null, null, null), Cancel), HttpStatusCode.Forbidden);
            Assert.Contains("Cube:Labeling:ModelEndpoints", refused.GetProperty("detail").GetString());
        }
        var invalid = await LabelingClient.ProblemAsync(await manager.Http.PutAsJsonAsync(endpoint, new ModelEndpointRequest("not a url", null, null, 0, 601), Cancel), HttpStatusCode.BadRequest);
        Assert.Equal(["batchSize", "timeoutSeconds", "url"], invalid.GetProperty("errors").EnumerateObject().Select(e => e.Name).Order());
        Assert.Equal(HttpStatusCode.Forbidden, (await a.Http.PutAsJsonAsync(endpoint, new ModelEndpointRequest(server.Url, token, "ext", 2, 5), Cancel)).StatusCode);

        var put = await manager.Http.PutAsJsonAsync(endpoint, new ModelEndpointRequest(server.Url, token, "ext", 2, 5), Cancel);
        await LabelingClient.EnsureAsync(put);
        var putBody = await put.Content.ReadAsStringAsync(Cancel);
        Assert.DoesNotContain(token, putBody);
        var registered = JsonSerializer.Deserialize<ModelEndpointDto>(putBody, new JsonSerializerOptions(JsonSerializerDefaults.Web))!;
        Assert.Equal((server.Url, "ext", 2, 5, true), (registered.Url, registered.Model, registered.BatchSize, registered.TimeoutSeconds, registered.HasToken));
        Assert.DoesNotContain(token, await manager.Http.GetStringAsync(endpoint, Cancel));
        using (var scope = app.Factory.Services.CreateScope())
        {
            // At rest the token is encrypted with the deployment's keys.
            var stored = await scope.ServiceProvider.GetRequiredService<LabelingDbContext>().ModelEndpoints.AsNoTracking().SingleAsync(e => e.LabelingProjectId == lp.Id, Cancel);
            Assert.False(string.IsNullOrEmpty(stored.Token));
            Assert.DoesNotContain(token, stored.Token);
        }
        Assert.Equal(HttpStatusCode.Forbidden, (await a.Http.GetAsync(endpoint, Cancel)).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await a.Http.PostAsync($"{endpoint}/run", null, Cancel)).StatusCode);

        var ids = await AddTextsAsync(manager, lp.Id, ["good one", "angry one", "bad one", "fine one", "plain one"]);
        // One task is labelled already: it is not sent.
        var lease = (await a.NextAsync(lp.Id))!;
        await a.SubmitAsync(lp.Id, lease.Task.Id, new { labels = new[] { "positive" } });
        var stranger = Guid.NewGuid();
        server.Answer = body =>
        {
            var tasks = body["tasks"]!.AsArray().Select(t => (Id: t!["id"]!.GetValue<string>(), Text: t["data"]!["text"]!.GetValue<string>())).ToList();
            var predictions = tasks.Select(t => (object)new
            {
                taskId = t.Id, score = t.Text.StartsWith("plain", StringComparison.Ordinal) ? 0.2 : 0.8,
                result = new { labels = new[] { t.Text.StartsWith("angry", StringComparison.Ordinal) ? "angry" : t.Text.StartsWith("bad", StringComparison.Ordinal) ? "negative" : "positive" } },
            }).ToList();
            if (tasks.Any(t => t.Text.StartsWith("angry", StringComparison.Ordinal))) predictions.Add(new { taskId = stranger, score = 0.5, result = new { labels = new[] { "positive" } } });
            return (200, FakeModelServer.Json(new { model = "ext-model", version = "v7", predictions }), TimeSpan.Zero);
        };
        var run = await StartAsync(manager, $"{endpoint}/run");
        Assert.True(run.State == "succeeded", $"{run.State}: {run.Error}");
        var result = run.Result!.Value;
        Assert.Equal((4, 3, 2), (result.GetProperty("tasks").GetInt32(), result.GetProperty("stored").GetInt32(), result.GetProperty("invalid").GetInt32()));
        var reasons = result.GetProperty("invalidSamples").EnumerateArray().Select(r => r.GetString()!).ToList();
        Assert.Contains(reasons, r => r.Contains("Unknown label 'angry'", StringComparison.Ordinal));
        Assert.Contains(reasons, r => r.Contains(stranger.ToString(), StringComparison.Ordinal) && r.Contains("not in the batch", StringComparison.Ordinal));
        Assert.DoesNotContain(token, JsonSerializer.Serialize(run));

        Assert.Equal(2, server.Requests.Count); // 4 unlabelled tasks in batches of 2
        Assert.All(server.Requests, r => Assert.Equal($"Bearer {token}", r.Authorization));
        Assert.Equal("ext", server.Requests[0].Body["model"]!.GetValue<string>());
        Assert.DoesNotContain(server.Requests.SelectMany(r => r.Body["tasks"]!.AsArray()), t => t!["id"]!.GetValue<string>() == lease.Task.Id.ToString());
        var bad = Assert.Single(await PredictionsAsync(manager, lp.Id, ids[2]));
        Assert.Equal(("ext-model", "v7", 0.8, "negative"), (bad.Model, bad.ModelVersion, bad.Score, bad.Result.GetProperty("labels")[0].GetString()));
        Assert.Empty(await PredictionsAsync(manager, lp.Id, ids[1]));

        // Run again: replaced, not piled up.
        Assert.Equal("succeeded", (await StartAsync(manager, $"{endpoint}/run")).State);
        Assert.Single(await PredictionsAsync(manager, lp.Id, ids[2]));

        server.Answer = _ => (500, """{"error":"model crashed"}""", TimeSpan.Zero);
        var crashed = await StartAsync(manager, $"{endpoint}/run");
        Assert.Equal("failed", crashed.State);
        Assert.Contains("answered 500", crashed.Error);
        Assert.Contains("model crashed", crashed.Error);

        server.Answer = _ => (200, "<html>not json</html>", TimeSpan.Zero);
        var garbage = await StartAsync(manager, $"{endpoint}/run");
        Assert.Equal("failed", garbage.State);
        Assert.Contains("not JSON", garbage.Error);

        await LabelingClient.EnsureAsync(await manager.Http.PutAsJsonAsync(endpoint, new ModelEndpointRequest(server.Url, null, "ext", 10, 1), Cancel));
        Assert.False((await manager.Http.GetFromJsonAsync<ModelEndpointDto>(endpoint, Cancel))!.HasToken);
        server.Answer = _ => (200, """{"predictions":[]}""", TimeSpan.FromSeconds(4));
        var slow = await StartAsync(manager, $"{endpoint}/run");
        Assert.Equal("failed", slow.State);
        Assert.Contains("did not answer", slow.Error);
        Assert.Null(server.Requests[^1].Authorization);
        // What the earlier runs stored is still there.
        Assert.Single(await PredictionsAsync(manager, lp.Id, ids[2]));

        Assert.Equal(HttpStatusCode.NoContent, (await manager.Http.DeleteAsync(endpoint, Cancel)).StatusCode);
        await LabelingClient.ProblemAsync(await manager.Http.GetAsync(endpoint, Cancel), HttpStatusCode.NotFound);
    }
}

internal static class Sequences
{
    public static IEnumerable<T> Interleave<T>(this IEnumerable<T> first, IEnumerable<T> second) => first.Zip(second).SelectMany(p => new[] { p.First, p.Second });
}

public sealed class SqlitePrelabelApiTests(SqlitePrelabelApp app) : PrelabelApiTests(app), IClassFixture<SqlitePrelabelApp>;

public sealed class PostgresPrelabelApiTests(PostgresPrelabelApp app) : PrelabelApiTests(app), IClassFixture<PostgresPrelabelApp>;
