using System.Net;
using System.Net.Http.Json;
using System.Text;
using Cube.Core.Apis;
using Cube.Labeling.Apis;
using Cube.Testing;

namespace Cube.Labeling.Tests.Api;

/// <summary>The labeling service end to end through HTTP, on SQLite and on PostgreSQL.</summary>
public abstract class LabelingApiTests(CubeAppFixture app, ShiftedTime time)
{
    private static readonly object Sentiment = LabelingClient.Classes("positive", "negative", "neutral");

    private async Task<(LabelingClient Manager, LabelingClient Reviewer, LabelingClient A, LabelingClient B, string Project)> TeamAsync()
    {
        var (manager, managerName) = await app.CreateUserClientAsync("manager");
        var (reviewer, reviewerName) = await app.CreateUserClientAsync("reviewer");
        var (a, aName) = await app.CreateUserClientAsync("ann-a");
        var (b, bName) = await app.CreateUserClientAsync("ann-b");
        var project = await app.CreateProjectAsync((managerName, "manager"), (reviewerName, "reviewer"), (aName, "annotator"), (bName, "annotator"));
        return (new(manager, project), new(reviewer, project), new(a, project), new(b, project), project);
    }

    [Fact]
    public async Task Annotate_DraftThenSubmitThenUpdate_GuardedByETags()
    {
        var (manager, _, a, _, _) = await TeamAsync();
        var lp = await manager.CreateAsync("sentiment", Sentiment);
        await manager.AddTextTasksAsync(lp.Id, 2);

        var lease = (await a.NextAsync(lp.Id))!;
        Assert.Equal("item 0", lease.Task.Data.GetProperty("text").GetString());
        Assert.Null(lease.Annotation);
        // Asking again returns the same live lease instead of a second task.
        Assert.Equal(lease.LeaseId, (await a.NextAsync(lp.Id))!.LeaseId);

        // Autosave keeps incomplete work without validating it.
        var draft = await a.SaveAsync(lp.Id, lease.Task.Id, new { labels = Array.Empty<string>() }, draft: true, timeSpentMs: 500);
        Assert.Equal(HttpStatusCode.OK, draft.StatusCode);
        Assert.Equal("W/\"1\"", draft.Headers.ETag!.ToString());

        var invalid = await a.SaveAsync(lp.Id, lease.Task.Id, new { labels = new[] { "happy" } });
        var problem = await LabelingClient.ProblemAsync(invalid, HttpStatusCode.BadRequest);
        Assert.Equal("Unknown label 'happy'.", problem.GetProperty("errors").GetProperty("result.labels[0]").EnumerateArray().Single().GetString());

        var stale = await a.SaveAsync(lp.Id, lease.Task.Id, new { labels = new[] { "positive" } }, ifMatch: "W/\"7\"");
        await LabelingClient.ProblemAsync(stale, HttpStatusCode.PreconditionFailed);

        var submitted = await a.SaveAsync(lp.Id, lease.Task.Id, new { labels = new[] { "positive" } }, ifMatch: "W/\"1\"", timeSpentMs: 1500);
        await LabelingClient.EnsureAsync(submitted);
        var annotation = (await submitted.Content.ReadFromJsonAsync<AnnotationDto>())!;
        Assert.Equal(("submitted", 2L, 2000L), (annotation.Status, annotation.Version, annotation.TimeSpentMs));

        // A second submit with the old ETag loses; with the current one it updates.
        await LabelingClient.ProblemAsync(await a.SaveAsync(lp.Id, lease.Task.Id, new { labels = new[] { "neutral" } }, ifMatch: "W/\"1\""), HttpStatusCode.PreconditionFailed);
        var updated = await a.SaveAsync(lp.Id, lease.Task.Id, new { labels = new[] { "neutral" } }, ifMatch: "W/\"2\"");
        await LabelingClient.EnsureAsync(updated);
        Assert.Equal("W/\"3\"", updated.Headers.ETag!.ToString());
        var read = await a.Http.GetAsync($"{a.Of(lp.Id)}/tasks/{lease.Task.Id}/annotation");
        Assert.Equal("neutral", (await read.Content.ReadFromJsonAsync<AnnotationDto>())!.Result!.Value.GetProperty("labels")[0].GetString());
        // Drafts cannot overwrite submitted work.
        await LabelingClient.ProblemAsync(await a.SaveAsync(lp.Id, lease.Task.Id, new { labels = Array.Empty<string>() }, draft: true), HttpStatusCode.Conflict);

        var next = (await a.NextAsync(lp.Id))!;
        Assert.Equal("item 1", next.Task.Data.GetProperty("text").GetString());
        var progress = (await manager.GetAsync(lp.Id)).Progress!;
        Assert.Equal((2, 1, 1), (progress.Tasks, progress.CompletedTasks, progress.Annotations));
    }

    [Fact]
    public async Task Skip_ReturnsTheSlot_AndTheAnnotatorNeverGetsTheTaskAgain()
    {
        var (manager, _, a, b, _) = await TeamAsync();
        var lp = await manager.CreateAsync("skips", Sentiment);
        var task = Assert.Single(await manager.AddTextTasksAsync(lp.Id, 1));

        var lease = (await a.NextAsync(lp.Id))!;
        Assert.Null(await b.NextAsync(lp.Id)); // k = 1 and the only slot is leased
        await LabelingClient.ProblemAsync(await a.Http.PostAsJsonAsync($"{a.Of(lp.Id)}/tasks/{task}/skip", new SkipRequest(" ", null)), HttpStatusCode.BadRequest);
        var skipped = await a.Http.PostAsJsonAsync($"{a.Of(lp.Id)}/tasks/{task}/skip", new SkipRequest("text is not in English", 800));
        await LabelingClient.EnsureAsync(skipped);
        Assert.Equal(("skipped", "text is not in English"), ((await skipped.Content.ReadFromJsonAsync<AnnotationDto>())!.Status, (await a.Http.GetFromJsonAsync<AnnotationDto>($"{a.Of(lp.Id)}/tasks/{task}/annotation"))!.SkipReason));
        Assert.Equal(lease.Task.Id, task);

        Assert.Null(await a.NextAsync(lp.Id));
        Assert.Equal(task, (await b.NextAsync(lp.Id))!.Task.Id);
        Assert.Equal(1, (await manager.GetAsync(lp.Id)).Progress!.Skipped);
    }

    [Fact]
    public async Task Lease_ExpiresWithoutHeartbeat_AndTheTaskGoesBackToThePool()
    {
        var (manager, _, a, b, _) = await TeamAsync();
        var lp = await manager.CreateAsync("leases", Sentiment, leaseSeconds: 30);
        var task = Assert.Single(await manager.AddTextTasksAsync(lp.Id, 1));
        var lease = (await a.NextAsync(lp.Id))!;

        time.Advance(TimeSpan.FromSeconds(20));
        var beat = await a.Http.PostAsync($"{a.Of(lp.Id)}/leases/{lease.LeaseId}/heartbeat", null);
        await LabelingClient.EnsureAsync(beat);
        Assert.True((await beat.Content.ReadFromJsonAsync<HeartbeatDto>())!.ExpiresAt > lease.ExpiresAt);
        time.Advance(TimeSpan.FromSeconds(20));
        Assert.Null(await b.NextAsync(lp.Id)); // the heartbeat kept it

        time.Advance(TimeSpan.FromSeconds(31));
        Assert.Equal(task, (await b.NextAsync(lp.Id))!.Task.Id);
        var late = await LabelingClient.ProblemAsync(await a.SaveAsync(lp.Id, task, new { labels = new[] { "positive" } }), HttpStatusCode.Conflict);
        Assert.Equal("expired", late.GetProperty("leaseStatus").GetString());
        await LabelingClient.ProblemAsync(await a.Http.PostAsync($"{a.Of(lp.Id)}/leases/{lease.LeaseId}/heartbeat", null), HttpStatusCode.Conflict);
        await b.SubmitAsync(lp.Id, task, new { labels = new[] { "negative" } });
        Assert.Equal(1, (await manager.GetAsync(lp.Id)).Progress!.CompletedTasks);
    }

    [Fact]
    public async Task Review_RejectReturnsWorkToItsAnnotator_ThenAcceptAndCorrect_WithHistory()
    {
        var (manager, reviewer, a, _, _) = await TeamAsync();
        var lp = await manager.CreateAsync("reviewed", Sentiment, reviewRate: 1);
        var tasks = await manager.AddTextTasksAsync(lp.Id, 2);
        var first = (await a.NextAsync(lp.Id))!.Task.Id;
        var annotation = await a.SubmitAsync(lp.Id, first, new { labels = new[] { "positive" } });
        Assert.Equal("pending", annotation.ReviewState);

        var pending = await reviewer.Http.GetFromJsonAsync<Page<AnnotationDto>>($"{reviewer.Of(lp.Id)}/annotations?reviewState=pending");
        Assert.Equal(annotation.Id, Assert.Single(pending!.Items).Id);
        var review = $"{reviewer.Of(lp.Id)}/annotations/{annotation.Id}/review";
        await LabelingClient.ProblemAsync(await reviewer.Http.PostAsJsonAsync(review, new ReviewRequest("reject", null, null)), HttpStatusCode.BadRequest);
        await LabelingClient.ProblemAsync(await a.Http.PostAsJsonAsync($"{a.Of(lp.Id)}/annotations/{annotation.Id}/review", new ReviewRequest("accept", null, null)), HttpStatusCode.Forbidden);
        await LabelingClient.EnsureAsync(await reviewer.Http.PostAsJsonAsync(review, new ReviewRequest("reject", "The review is sarcastic: negative.", null)));

        var returned = await a.Http.GetFromJsonAsync<List<ReturnedWorkDto>>($"{a.Of(lp.Id)}/returned");
        Assert.Equal("The review is sarcastic: negative.", Assert.Single(returned!).Comment);
        var again = (await a.NextAsync(lp.Id))!;
        Assert.Equal((first, "The review is sarcastic: negative."), (again.Task.Id, again.ReviewComment));
        var resubmitted = await a.SubmitAsync(lp.Id, first, new { labels = new[] { "negative" } });
        Assert.Equal(("submitted", "pending"), (resubmitted.Status, resubmitted.ReviewState));

        var stale = new HttpRequestMessage(HttpMethod.Post, review) { Content = JsonContent.Create(new ReviewRequest("accept", null, null)) };
        stale.Headers.TryAddWithoutValidation("If-Match", "W/\"1\"");
        await LabelingClient.ProblemAsync(await reviewer.Http.SendAsync(stale), HttpStatusCode.PreconditionFailed);
        var accept = new HttpRequestMessage(HttpMethod.Post, review) { Content = JsonContent.Create(new ReviewRequest("accept", "ok", null)) };
        accept.Headers.TryAddWithoutValidation("If-Match", $"W/\"{resubmitted.Version}\"");
        await LabelingClient.EnsureAsync(await reviewer.Http.SendAsync(accept));
        await LabelingClient.ProblemAsync(await a.SaveAsync(lp.Id, first, new { labels = new[] { "neutral" } }), HttpStatusCode.Conflict);

        var second = (await a.NextAsync(lp.Id))!.Task.Id;
        Assert.Equal(tasks[1], second);
        var other = await a.SubmitAsync(lp.Id, second, new { labels = new[] { "positive" } });
        var corrected = await reviewer.Http.PostAsJsonAsync($"{reviewer.Of(lp.Id)}/annotations/{other.Id}/review",
            new ReviewRequest("correct", "neutral really", LabelingClient.Json(new { labels = new[] { "neutral" } })));
        await LabelingClient.EnsureAsync(corrected);
        var result = (await corrected.Content.ReadFromJsonAsync<ReviewResultDto>())!;
        Assert.Equal(("accepted", "corrected", "neutral"), (result.Annotation.Status, result.Annotation.ReviewState, result.Annotation.Result!.Value.GetProperty("labels")[0].GetString()));

        var history = await reviewer.Http.GetFromJsonAsync<List<HistoryDto>>($"{reviewer.Of(lp.Id)}/tasks/{first}/history");
        Assert.Equal(["leased", "submitted", "rejected", "submitted", "accepted"], history!.Select(h => h.Action));
        Assert.Equal(history![2].ActorId, history[4].ActorId);
        Assert.NotEqual(history[1].ActorId, history[2].ActorId);
    }

    [Fact]
    public async Task Next_FollowsManualPriority_AndMixesGoldAtTheConfiguredRate()
    {
        var (manager, _, a, _, _) = await TeamAsync();
        var lp = await manager.CreateAsync("priority", Sentiment, ordering: "priority", goldRate: 0.25);
        var ordinary = await manager.AddTextTasksAsync(lp.Id, 9, priorityEvery: 4); // items 0, 4, 8 have priority 10
        var gold = await manager.Http.PostAsJsonAsync($"{manager.Of(lp.Id)}/tasks", new AddTasksRequest(
            Enumerable.Range(0, 3).Select(i => new NewTaskRequest(LabelingClient.Json(new { text = $"gold {i}" }), null, true, LabelingClient.Json(new { labels = new[] { "positive" } }))).ToList()));
        await LabelingClient.EnsureAsync(gold);
        var badGold = await manager.Http.PostAsJsonAsync($"{manager.Of(lp.Id)}/tasks", new AddTasksRequest(
            [new NewTaskRequest(LabelingClient.Json(new { text = "x" }), null, true, LabelingClient.Json(new { labels = new[] { "meh" } }))]));
        Assert.Contains("Unknown label 'meh'", (await LabelingClient.ProblemAsync(badGold, HttpStatusCode.BadRequest)).GetProperty("errors").GetProperty("tasks[0].goldAnswer.labels[0]")[0].GetString());

        var seen = new List<string>();
        while (await a.NextAsync(lp.Id) is { } lease)
        {
            Assert.False(lease.Task.Data.TryGetProperty("isGold", out _));
            seen.Add(lease.Task.Data.GetProperty("text").GetString()!);
            await a.SubmitAsync(lp.Id, lease.Task.Id, new { labels = new[] { "positive" } });
        }
        // Every fourth task is gold while gold lasts; ordinary tasks come by priority, then in order.
        Assert.Equal(["item 0", "item 4", "item 8", "gold 0", "item 1", "item 2", "item 3", "gold 1", "item 5", "item 6", "item 7", "gold 2"], seen);
        Assert.Equal(9, ordinary.Count);
    }

    [Fact]
    public async Task Create_MakesTasksFromATableColumnOrImages_AndChecksBoxesAgainstImageSize()
    {
        var (manager, _, a, _, _) = await TeamAsync();
        var csv = new StringBuilder("id,review\n");
        for (var i = 0; i < 25; i++) csv.Append(System.Globalization.CultureInfo.InvariantCulture, $"{i},\"review number {i}\"\n");
        await manager.PushDatasetAsync("reviews", ("reviews.csv", Encoding.UTF8.GetBytes(csv.ToString())), ("photos/a.png", Png(64, 48)), ("photos/b.png", Png(32, 32)));

        var text = await manager.CreateAsync("from-table", Sentiment, source: new TaskSourceRequest("reviews", "1", null, "reviews.csv", "review"));
        Assert.Equal(25, text.Progress!.Tasks);
        Assert.Equal("review number 0", (await a.NextAsync(text.Id))!.Task.Data.GetProperty("text").GetString());
        var missing = await manager.Http.PostAsJsonAsync(manager.Root, new CreateLabelingProjectRequest("bad", null, LabelingClient.Json(Sentiment), 1, null, null, null, null,
            new TaskSourceRequest("reviews", null, null, "reviews.csv", "body")));
        Assert.Contains("has no column 'body'", (await LabelingClient.ProblemAsync(missing, HttpStatusCode.BadRequest)).GetProperty("detail").GetString());

        var boxes = await manager.CreateAsync("boxes", new { kind = "BoundingBoxes", labels = new[] { new { name = "cat", color = "#ff8800", hotkey = "c" } } },
            source: new TaskSourceRequest("reviews", "latest", "photos/", null, null));
        Assert.Equal(2, boxes.Progress!.Tasks);
        var lease = (await a.NextAsync(boxes.Id))!;
        Assert.Equal(("photos/a.png", 64, 48), (lease.Task.Data.GetProperty("image").GetString(), lease.Task.Data.GetProperty("width").GetInt32(), lease.Task.Data.GetProperty("height").GetInt32()));
        Assert.Equal(Png(64, 48), await a.Http.GetByteArrayAsync(lease.Task.Data.GetProperty("url").GetString()));
        var outside = await a.SaveAsync(boxes.Id, lease.Task.Id, new { boxes = new[] { new { label = "cat", x = 40, y = 10, width = 30, height = 10 } } });
        Assert.Contains("outside the image width 64", (await LabelingClient.ProblemAsync(outside, HttpStatusCode.BadRequest)).GetProperty("errors").GetProperty("result.boxes[0]")[0].GetString());
        await a.SubmitAsync(boxes.Id, lease.Task.Id, new { boxes = new[] { new { label = "cat", x = 30, y = 10, width = 30, height = 10 } } });
    }

    [Fact]
    public async Task Export_StreamsJsonlAndCsv_AndWritesADatasetVersionWithLineage()
    {
        var (manager, reviewer, a, b, project) = await TeamAsync();
        var csv = "id,review\n1,\"great, really\"\n2,awful\n3,fine\n";
        await manager.PushDatasetAsync("source", ("reviews.csv", Encoding.UTF8.GetBytes(csv)));
        var lp = await manager.CreateAsync("export", Sentiment, overlap: 2, source: new TaskSourceRequest("source", null, null, "reviews.csv", "review"));
        foreach (var annotator in new[] { a, b })
            while (await annotator.NextAsync(lp.Id) is { } lease)
                await annotator.SubmitAsync(lp.Id, lease.Task.Id, new { labels = new[] { annotator == a ? "positive" : "negative" } });
        Assert.Equal(3, (await manager.GetAsync(lp.Id)).Progress!.CompletedTasks);

        var jsonl = (await reviewer.Http.GetStringAsync($"{reviewer.Of(lp.Id)}/export?format=jsonl")).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(3, jsonl.Length);
        var first = System.Text.Json.JsonDocument.Parse(jsonl[0]).RootElement;
        Assert.Equal("great, really", first.GetProperty("data").GetProperty("text").GetString());
        Assert.Equal(["positive", "negative"], first.GetProperty("annotations").EnumerateArray().Select(x => x.GetProperty("result").GetProperty("labels")[0].GetString()));
        var rows = (await reviewer.Http.GetStringAsync($"{reviewer.Of(lp.Id)}/export?format=csv")).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal("task,item,annotator,labels", rows[0]);
        Assert.Equal(7, rows.Length);
        Assert.Contains(",\"great, really\",", rows[1]);
        await LabelingClient.ProblemAsync(await reviewer.Http.GetAsync($"{reviewer.Of(lp.Id)}/export?format=xml"), HttpStatusCode.BadRequest);

        var exported = await manager.Http.PostAsJsonAsync($"{manager.Of(lp.Id)}/export/dataset", new ExportToDatasetRequest("sentiment-labels", "round one"));
        await LabelingClient.EnsureAsync(exported);
        var version = (await exported.Content.ReadFromJsonAsync<ExportedVersionDto>())!;
        Assert.Equal((1, 2), (version.Number, version.FileCount));
        var datasets = $"/api/projects/{project}/datasets";
        var table = await manager.Http.GetFromJsonAsync<List<Cube.DataHub.Apis.TableSummaryDto>>($"{datasets}/sentiment-labels/versions/1/tables");
        Assert.Equal(6, Assert.Single(table!).RowCount);
        var lineage = await manager.Http.GetFromJsonAsync<Cube.DataHub.Apis.LineageGraphDto>($"{datasets}/sentiment-labels/versions/1/lineage");
        var edge = Assert.Single(lineage!.Edges);
        Assert.Equal("labeling", edge.Kind);
        Assert.Contains(lineage.Nodes, n => n.Dataset == "source" && n.Number == 1 && n.VersionId == edge.From);
        Assert.Equal(jsonl, (await manager.Http.GetStringAsync($"{datasets}/sentiment-labels/versions/1/files/labels.jsonl")).Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }

    [Fact]
    public async Task Create_RefusesBadSettings_WithProblemDetails()
    {
        var (manager, _, _, _, _) = await TeamAsync();
        var bad = await manager.Http.PostAsJsonAsync(manager.Root, new CreateLabelingProjectRequest("x", null,
            LabelingClient.Json(new { kind = "TextClassification", labels = new[] { new { name = "a", color = "blue" } } }), 0, "alphabetical", 2, null, 5, null));
        var errors = (await LabelingClient.ProblemAsync(bad, HttpStatusCode.BadRequest)).GetProperty("errors");
        Assert.True(errors.TryGetProperty("config.labels[0].color", out _));
        await manager.CreateAsync("dup", Sentiment);
        await LabelingClient.ProblemAsync(await manager.Http.PostAsJsonAsync(manager.Root, new CreateLabelingProjectRequest("dup", null, LabelingClient.Json(Sentiment), null, null, null, null, null, null)), HttpStatusCode.Conflict);
    }

    private static byte[] Png(int width, int height)
    {
        using var bitmap = new SkiaSharp.SKBitmap(width, height);
        bitmap.Erase(new SkiaSharp.SKColor(10, 200, 30));
        using var image = SkiaSharp.SKImage.FromBitmap(bitmap);
        return image.Encode(SkiaSharp.SKEncodedImageFormat.Png, 100).ToArray();
    }
}

public sealed class SqliteLabelingApiTests(SqliteLabelingApp app) : LabelingApiTests(app, app.Time), IClassFixture<SqliteLabelingApp>;

public sealed class PostgresLabelingApiTests(PostgresLabelingApp app) : LabelingApiTests(app, app.Time), IClassFixture<PostgresLabelingApp>;
