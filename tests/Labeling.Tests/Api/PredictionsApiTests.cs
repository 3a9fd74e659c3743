using System.IO.Compression;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using Cube.Labeling.Apis;
using Cube.Testing;

namespace Cube.Labeling.Tests.Api;

/// <summary>Imports with predictions, attaching predictions, and predictions served with the task, on SQLite and PostgreSQL.</summary>
public abstract class PredictionsApiTests(CubeAppFixture app)
{
    private async Task<(LabelingClient Manager, LabelingClient A)> TeamAsync()
    {
        var (manager, managerName) = await app.CreateUserClientAsync("manager");
        var (a, aName) = await app.CreateUserClientAsync("ann-a");
        var project = await app.CreateProjectAsync((managerName, "manager"), (aName, "annotator"));
        return (new(manager, project), new(a, project));
    }

    private static Task<HttpResponseMessage> ImportAsync(LabelingClient client, Guid lp, string format, byte[] body) =>
        client.Http.PostAsync($"{client.Of(lp)}/import?format={format}", new ByteArrayContent(body));

    [Fact]
    public async Task Import_AddsTasksWithPredictionsAtomically_AndTheAnnotatorSeesThemMarked()
    {
        var (manager, a) = await TeamAsync();
        var lp = await manager.CreateAsync("imported", LabelingClient.Classes("positive", "negative"));
        const string studio = """
            [{"id": 1, "data": {"text": "lovely"}, "predictions": [{"model_version": "sent-v2", "score": 0.55, "result": [{"type": "choices", "value": {"choices": ["positive"]}}]}]},
             {"id": 2, "data": {"text": "awful"}, "annotations": [{"completed_by": 7, "result": [{"type": "choices", "value": {"choices": ["negative"]}}]}]}]
            """;
        var bad = studio.Replace("[\"negative\"]", "[\"angry\"]");
        var refused = await LabelingClient.ProblemAsync(await ImportAsync(manager, lp.Id, "labelstudio", Encoding.UTF8.GetBytes(bad)), HttpStatusCode.UnprocessableEntity);
        Assert.Equal("Unknown label 'angry'.", refused.GetProperty("errors").GetProperty("tasks[1].annotations[0].result[0].value.choices[0]")[0].GetString());
        Assert.Equal(0, (await manager.GetAsync(lp.Id)).Progress!.Tasks); // nothing of a bad file is added

        var imported = await ImportAsync(manager, lp.Id, "labelstudio", Encoding.UTF8.GetBytes(studio));
        await LabelingClient.EnsureAsync(imported);
        Assert.Equal(new ImportedDto("labelstudio", 2, 2), await imported.Content.ReadFromJsonAsync<ImportedDto>(TestContext.Current.CancellationToken));

        var lease = (await a.NextAsync(lp.Id))!;
        var prediction = Assert.Single(lease.Task.Predictions!);
        Assert.Equal(("prediction", "sent-v2", 0.55, "positive"), (prediction.Kind, prediction.Model, prediction.Score, prediction.Result.GetProperty("labels")[0].GetString()));
        var task = await a.Http.GetFromJsonAsync<AnnotatorTaskDto>($"{a.Of(lp.Id)}/tasks/{lease.Task.Id}", TestContext.Current.CancellationToken);
        Assert.Equal(prediction.Id, Assert.Single(task!.Predictions!).Id);
        Assert.Null(lease.Annotation);

        // A file's annotations become predictions of the import "model", the annotator kept as its version.
        await a.SubmitAsync(lp.Id, lease.Task.Id, new { labels = new[] { "positive" } });
        var second = (await a.NextAsync(lp.Id))!;
        Assert.Equal(("import", "7"), (second.Task.Predictions![0].Model, second.Task.Predictions[0].ModelVersion));
        Assert.Equal(HttpStatusCode.Forbidden, (await ImportAsync(a, lp.Id, "labelstudio", Encoding.UTF8.GetBytes(studio))).StatusCode);
    }

    [Fact]
    public async Task Predictions_AttachByIdOrKey_AllOrNone()
    {
        var (manager, _) = await TeamAsync();
        var lp = await manager.CreateAsync("boxes", new { kind = "BoundingBoxes", labels = new[] { new { name = "cat" } } });
        var tasks = new[] { "a.png", "b.png" }.Select(i => new NewTaskRequest(LabelingClient.Json(new { image = i, width = 100, height = 50 }), null, null, null)).ToList();
        var added = await manager.Http.PostAsJsonAsync($"{manager.Of(lp.Id)}/tasks", new AddTasksRequest(tasks));
        var ids = (await added.Content.ReadFromJsonAsync<AddedTasksDto>(TestContext.Current.CancellationToken))!.Ids;
        var box = LabelingClient.Json(new { boxes = new[] { new { label = "cat", x = 10, y = 10, width = 20, height = 20 } } });
        var outside = LabelingClient.Json(new { boxes = new[] { new { label = "cat", x = 90, y = 10, width = 20, height = 20 } } });
        var url = $"{manager.Of(lp.Id)}/predictions";

        var refused = await manager.Http.PostAsJsonAsync(url, new AddPredictionsRequest([
            new(ids[0], null, "det", "1", box, 0.9), new(null, "b.png", "det", "1", outside, 0.2), new(null, "c.png", "det", null, box, null), new(ids[0], null, "det", null, box, 1.5)]));
        var errors = (await LabelingClient.ProblemAsync(refused, HttpStatusCode.BadRequest)).GetProperty("errors");
        Assert.Contains("outside the image width 100", errors.GetProperty("predictions[1].result.boxes[0]")[0].GetString());
        Assert.Contains("No task has the key 'c.png'", errors.GetProperty("predictions[2].key")[0].GetString());
        Assert.True(errors.TryGetProperty("predictions[3].score", out _));
        Assert.Empty((await manager.Http.GetFromJsonAsync<List<PredictionDto>>($"{manager.Of(lp.Id)}/tasks/{ids[0]}/predictions", TestContext.Current.CancellationToken))!);

        await LabelingClient.EnsureAsync(await manager.Http.PostAsJsonAsync(url, new AddPredictionsRequest([new(ids[0], null, "det", "1", box, 0.9), new(null, "b.png", "det", "2", box, 0.3)])));
        var onB = await manager.Http.GetFromJsonAsync<List<PredictionDto>>($"{manager.Of(lp.Id)}/tasks/{ids[1]}/predictions", TestContext.Current.CancellationToken);
        Assert.Equal(("det", "2", 0.3), (onB![0].Model, onB[0].ModelVersion, onB[0].Score));
    }

    [Fact]
    public async Task Next_ServesTheLeastCertainTaskFirst_WhenOrderedByUncertainty()
    {
        var (manager, a) = await TeamAsync();
        await LabelingClient.ProblemAsync(await manager.Http.PostAsJsonAsync(manager.Root, new CreateLabelingProjectRequest("bad", null,
            LabelingClient.Json(LabelingClient.Classes("positive", "negative")), 1, "margin", null, null, null, null)), HttpStatusCode.BadRequest);
        var lp = await manager.CreateAsync("active", LabelingClient.Classes("positive", "negative"), ordering: "uncertainty");
        Assert.Equal("uncertainty", lp.Ordering);
        var ids = await manager.AddTextTasksAsync(lp.Id, 7);
        var positive = LabelingClient.Json(new { labels = new[] { "positive" } });
        // Top scores: item 0 0.9, item 1 0.6 (its other model said 0.2), item 3 and item 5 0.3 (a tie), item 4 a prediction
        // without a score, items 2 and 6 none.
        await LabelingClient.EnsureAsync(await manager.Http.PostAsJsonAsync($"{manager.Of(lp.Id)}/predictions", new AddPredictionsRequest([
            new(ids[0], null, "m", null, positive, 0.9), new(ids[1], null, "m", null, positive, 0.2), new(ids[1], null, "n", null, positive, 0.6),
            new(ids[3], null, "m", null, positive, 0.3), new(ids[4], null, "m", null, positive, null), new(ids[5], null, "m", null, positive, 0.3)])));

        var seen = new List<string>();
        while (await a.NextAsync(lp.Id) is { } lease)
        {
            seen.Add(lease.Task.Data.GetProperty("text").GetString()!);
            await a.SubmitAsync(lp.Id, lease.Task.Id, new { labels = new[] { "positive" } });
            // The order is read from the predictions at each request: a new, uncertain prediction moves item 6 forward.
            if (seen.Count == 2)
                await LabelingClient.EnsureAsync(await manager.Http.PostAsJsonAsync($"{manager.Of(lp.Id)}/predictions", new AddPredictionsRequest([new(ids[6], null, "m", null, positive, 0.1)])));
        }
        Assert.Equal(["item 3", "item 5", "item 6", "item 1", "item 0", "item 2", "item 4"], seen);
    }

    [Fact]
    public async Task Quality_ReportsPreLabelAcceptance_PerModel_AndTimeWithAndWithout()
    {
        var (manager, a) = await TeamAsync();
        var lp = await manager.CreateAsync("accept", LabelingClient.Classes("positive", "negative"));
        var ids = await manager.AddTextTasksAsync(lp.Id, 6);
        var positive = LabelingClient.Json(new { labels = new[] { "positive" } });
        var negative = LabelingClient.Json(new { labels = new[] { "negative" } });
        // Tasks 0-2 pre-labelled by model m v1 (task 0 had an older prediction of n, superseded), task 3 by n; 4 and 5 none.
        await LabelingClient.EnsureAsync(await manager.Http.PostAsJsonAsync($"{manager.Of(lp.Id)}/predictions", new AddPredictionsRequest([
            new(ids[0], null, "n", null, negative, 0.5)])));
        await LabelingClient.EnsureAsync(await manager.Http.PostAsJsonAsync($"{manager.Of(lp.Id)}/predictions", new AddPredictionsRequest([
            new(ids[0], null, "m", "1", positive, 0.9), new(ids[1], null, "m", "1", positive, 0.8), new(ids[2], null, "m", "1", negative, 0.7),
            new(ids[3], null, "n", null, negative, 0.6)])));

        // Kept: task 0 (positive), task 3 (negative). Changed: task 1 (to negative), task 2 (to positive).
        var answers = new Dictionary<Guid, (string Label, long Ms)>
        {
            [ids[0]] = ("positive", 2_000), [ids[1]] = ("negative", 6_000), [ids[2]] = ("positive", 8_000), [ids[3]] = ("negative", 1_000),
            [ids[4]] = ("positive", 9_000), [ids[5]] = ("negative", 11_000),
        };
        while (await a.NextAsync(lp.Id) is { } lease)
        {
            var (label, ms) = answers[lease.Task.Id];
            await LabelingClient.EnsureAsync(await a.SaveAsync(lp.Id, lease.Task.Id, new { labels = new[] { label } }, timeSpentMs: ms));
        }

        var report = (await manager.Http.GetFromJsonAsync<Cube.Labeling.Quality.QualityReportDto>($"{manager.Of(lp.Id)}/quality", TestContext.Current.CancellationToken))!;
        var pre = report.PreLabels;
        Assert.Equal((4, 2, 0.5), (pre.Annotations, pre.Accepted, pre.AcceptanceRate));
        Assert.Equal((4_000L, 10_000L, 2), (pre.MedianMsWithPreLabel, pre.MedianMsWithout, pre.AnnotationsWithout));
        Assert.Equal([("m", "1", 3, 1), ("n", null, 1, 1)], pre.Models.Select(m => (m.Model, m.ModelVersion, m.Annotations, m.Accepted)));
    }

    [Fact]
    public async Task Import_ReadsYoloZipsWithImages_AndRefusesUnsafeEntriesAndOversizedBodies()
    {
        var (manager, _) = await TeamAsync();
        var lp = await manager.CreateAsync("yolo", new { kind = "BoundingBoxes", labels = new[] { new { name = "cat" }, new { name = "dog" } } });
        byte[] Zip(params (string Name, byte[] Content)[] entries)
        {
            using var memory = new MemoryStream();
            using (var zip = new ZipArchive(memory, ZipArchiveMode.Create, true))
                foreach (var (name, content) in entries)
                {
                    using var stream = zip.CreateEntry(name).Open();
                    stream.Write(content);
                }
            return memory.ToArray();
        }
        var ok = Zip(("classes.txt", "cat\ndog\n"u8.ToArray()), ("labels/a.txt", "1 0.5 0.5 0.5 0.5 0.8\n"u8.ToArray()), ("images/a.png", Png(40, 20)));
        var imported = await ImportAsync(manager, lp.Id, "yolo", ok);
        await LabelingClient.EnsureAsync(imported);
        Assert.Equal(new ImportedDto("yolo", 1, 1), await imported.Content.ReadFromJsonAsync<ImportedDto>(TestContext.Current.CancellationToken));
        var task = (await manager.Http.GetFromJsonAsync<Cube.Core.Apis.Page<TaskDto>>($"{manager.Of(lp.Id)}/tasks", TestContext.Current.CancellationToken))!.Items.Single();
        Assert.Equal(("images/a.png", 40), (task.Data.GetProperty("image").GetString(), task.Data.GetProperty("width").GetInt32()));
        var prediction = (await manager.Http.GetFromJsonAsync<List<PredictionDto>>($"{manager.Of(lp.Id)}/tasks/{task.Id}/predictions", TestContext.Current.CancellationToken))!.Single();
        Assert.Equal((10.0, 0.8), (prediction.Result.GetProperty("boxes")[0].GetProperty("x").GetDouble(), prediction.Score));

        var evil = Zip(("classes.txt", "cat\n"u8.ToArray()), ("../escape.txt", "0 0.5 0.5 0.1 0.1\n"u8.ToArray()));
        var problem = await LabelingClient.ProblemAsync(await ImportAsync(manager, lp.Id, "yolo", evil), HttpStatusCode.UnprocessableEntity);
        Assert.True(problem.GetProperty("errors").TryGetProperty("../escape.txt", out _));
        await LabelingClient.ProblemAsync(await ImportAsync(manager, lp.Id, "tsv", "x"u8.ToArray()), HttpStatusCode.BadRequest);
    }

    private static byte[] Png(int width, int height)
    {
        using var bitmap = new SkiaSharp.SKBitmap(width, height);
        bitmap.Erase(new SkiaSharp.SKColor(10, 200, 30));
        using var image = SkiaSharp.SKImage.FromBitmap(bitmap);
        return image.Encode(SkiaSharp.SKEncodedImageFormat.Png, 100).ToArray();
    }
}

public sealed class SqlitePredictionsApiTests(SqliteLabelingApp app) : PredictionsApiTests(app), IClassFixture<SqliteLabelingApp>;

public sealed class PostgresPredictionsApiTests(PostgresLabelingApp app) : PredictionsApiTests(app), IClassFixture<PostgresLabelingApp>;
