using System.IO.Compression;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Cube.Labeling.Apis;
using Cube.Testing;

namespace Cube.Labeling.Tests.Api;

/// <summary>Exports in the interchange formats through HTTP, on SQLite and PostgreSQL.</summary>
public abstract class ExportFormatsApiTests(CubeAppFixture app)
{
    private async Task<(LabelingClient Manager, LabelingClient A, LabelingClient B)> TeamAsync()
    {
        var (manager, managerName) = await app.CreateUserClientAsync("manager");
        var (a, aName) = await app.CreateUserClientAsync("ann-a");
        var (b, bName) = await app.CreateUserClientAsync("ann-b");
        var project = await app.CreateProjectAsync((managerName, "manager"), (aName, "annotator"), (bName, "annotator"));
        return (new(manager, project), new(a, project), new(b, project));
    }

    [Fact]
    public async Task Export_WritesCocoYoloVocAndLabelStudio_WithTheConsensusBoxPerImage()
    {
        var (manager, a, b) = await TeamAsync();
        var lp = await manager.CreateAsync("boxes", new { kind = "BoundingBoxes", labels = new[] { new { name = "cat" }, new { name = "dog" } } }, overlap: 2);
        var tasks = Enumerable.Range(0, 2).Select(i => new NewTaskRequest(LabelingClient.Json(new { image = $"photos/img{i}.png", width = 200, height = 100 }), null, null, null)).ToList();
        await LabelingClient.EnsureAsync(await manager.Http.PostAsJsonAsync($"{manager.Of(lp.Id)}/tasks", new AddTasksRequest(tasks)));
        foreach (var (annotator, dx) in new[] { (a, 0), (b, 2) })
            while (await annotator.NextAsync(lp.Id) is { } lease)
                await annotator.SubmitAsync(lp.Id, lease.Task.Id, new { boxes = new[] { new { label = "dog", x = 20 + dx, y = 10, width = 100, height = 50 } } });

        var coco = await manager.Http.GetAsync($"{manager.Of(lp.Id)}/export?format=coco", TestContext.Current.CancellationToken);
        await LabelingClient.EnsureAsync(coco);
        Assert.Equal("application/json", coco.Content.Headers.ContentType!.MediaType);
        var document = JsonDocument.Parse(await coco.Content.ReadAsStringAsync(TestContext.Current.CancellationToken)).RootElement;
        Assert.Equal(["cat", "dog"], document.GetProperty("categories").EnumerateArray().Select(c => c.GetProperty("name").GetString()));
        Assert.Equal(2, document.GetProperty("images").GetArrayLength());
        Assert.Equal(200, document.GetProperty("images")[0].GetProperty("width").GetInt32());
        // Two annotators agree (IoU > 0.5): one consensus box per image, between their two boxes.
        var annotations = document.GetProperty("annotations").EnumerateArray().ToList();
        Assert.Equal(2, annotations.Count);
        Assert.Equal((2, 21.0), (annotations[0].GetProperty("category_id").GetInt32(), annotations[0].GetProperty("bbox")[0].GetDouble()));

        var yolo = await manager.Http.GetAsync($"{manager.Of(lp.Id)}/export?format=yolo", TestContext.Current.CancellationToken);
        await LabelingClient.EnsureAsync(yolo);
        Assert.Equal("application/zip", yolo.Content.Headers.ContentType!.MediaType);
        using (var zip = new ZipArchive(await yolo.Content.ReadAsStreamAsync(TestContext.Current.CancellationToken)))
        {
            Assert.Equal(["classes.txt", "data.yaml", "labels/img0.txt", "labels/img1.txt"], zip.Entries.Select(e => e.FullName).Order());
            Assert.Equal("1 0.355 0.35 0.5 0.5\n", new StreamReader(zip.GetEntry("labels/img0.txt")!.Open()).ReadToEnd());
        }
        var voc = await manager.Http.GetByteArrayAsync($"{manager.Of(lp.Id)}/export?format=voc", TestContext.Current.CancellationToken);
        using (var zip = new ZipArchive(new MemoryStream(voc)))
            Assert.Contains("<xmin>21</xmin>", new StreamReader(zip.GetEntry("Annotations/img1.xml")!.Open()).ReadToEnd());

        var studio = JsonDocument.Parse(await manager.Http.GetStringAsync($"{manager.Of(lp.Id)}/export?format=labelstudio", TestContext.Current.CancellationToken)).RootElement;
        Assert.Equal(2, studio.GetArrayLength());
        Assert.Equal(2, studio[0].GetProperty("annotations").GetArrayLength()); // every annotation, not only the consensus
        Assert.Equal(10.0, studio[0].GetProperty("annotations")[0].GetProperty("result")[0].GetProperty("value").GetProperty("x").GetDouble());

        var conll = await manager.Http.GetAsync($"{manager.Of(lp.Id)}/export?format=conll", TestContext.Current.CancellationToken);
        Assert.Contains("named-entity", (await LabelingClient.ProblemAsync(conll, HttpStatusCode.UnprocessableEntity)).GetProperty("detail").GetString());
        Assert.Equal(HttpStatusCode.Forbidden, (await a.Http.GetAsync($"{a.Of(lp.Id)}/export?format=coco", TestContext.Current.CancellationToken)).StatusCode);
    }

    [Fact]
    public async Task Export_WritesTheReviewersCorrection_InJsonlCsvCocoAndYolo()
    {
        var (manager, a, _) = await TeamAsync();
        var boxes = await manager.CreateAsync("corrected-boxes", new { kind = "BoundingBoxes", labels = new[] { new { name = "cat" }, new { name = "dog" } } }, reviewRate: 1);
        await LabelingClient.EnsureAsync(await manager.Http.PostAsJsonAsync($"{manager.Of(boxes.Id)}/tasks",
            new AddTasksRequest([new NewTaskRequest(LabelingClient.Json(new { image = "photos/img0.png", width = 200, height = 100 }), null, null, null)])));
        var lease = (await a.NextAsync(boxes.Id))!;
        var submitted = await a.SubmitAsync(boxes.Id, lease.Task.Id, new { boxes = new[] { new { label = "dog", x = 20, y = 10, width = 100, height = 50 } } });
        var review = await manager.Http.PostAsJsonAsync($"{manager.Of(boxes.Id)}/annotations/{submitted.Id}/review", new ReviewRequest("correct", "a cat, further right",
            LabelingClient.Json(new { boxes = new[] { new { label = "cat", x = 50, y = 10, width = 100, height = 50 } } })));
        await LabelingClient.EnsureAsync(review);
        var reviewer = (await review.Content.ReadFromJsonAsync<ReviewResultDto>(TestContext.Current.CancellationToken))!.Review.ReviewerId;

        var line = JsonDocument.Parse(await manager.Http.GetStringAsync($"{manager.Of(boxes.Id)}/export?format=jsonl", TestContext.Current.CancellationToken)).RootElement;
        var annotation = Assert.Single(line.GetProperty("annotations").EnumerateArray());
        Assert.Equal(("cat", 50.0), (annotation.GetProperty("result").GetProperty("boxes")[0].GetProperty("label").GetString(),
            annotation.GetProperty("result").GetProperty("boxes")[0].GetProperty("x").GetDouble()));
        var correction = annotation.GetProperty("correction");
        Assert.Equal((reviewer.ToString(), "a cat, further right"), (correction.GetProperty("reviewer").GetString(), correction.GetProperty("comment").GetString()));
        Assert.Equal(submitted.AnnotatorId.ToString(), annotation.GetProperty("annotator").GetString());

        var coco = JsonDocument.Parse(await manager.Http.GetStringAsync($"{manager.Of(boxes.Id)}/export?format=coco", TestContext.Current.CancellationToken)).RootElement;
        var box = Assert.Single(coco.GetProperty("annotations").EnumerateArray());
        Assert.Equal((1, 50.0), (box.GetProperty("category_id").GetInt32(), box.GetProperty("bbox")[0].GetDouble()));
        using (var zip = new ZipArchive(new MemoryStream(await manager.Http.GetByteArrayAsync($"{manager.Of(boxes.Id)}/export?format=yolo", TestContext.Current.CancellationToken))))
            Assert.Equal("0 0.5 0.35 0.5 0.5\n", new StreamReader(zip.GetEntry("labels/img0.txt")!.Open()).ReadToEnd());

        var classes = await manager.CreateAsync("corrected-classes", LabelingClient.Classes("positive", "negative"), reviewRate: 1);
        await manager.AddTextTasksAsync(classes.Id, 1);
        var item = (await a.NextAsync(classes.Id))!;
        var answer = await a.SubmitAsync(classes.Id, item.Task.Id, new { labels = new[] { "positive" } });
        await LabelingClient.EnsureAsync(await manager.Http.PostAsJsonAsync($"{manager.Of(classes.Id)}/annotations/{answer.Id}/review",
            new ReviewRequest("correct", null, LabelingClient.Json(new { labels = new[] { "negative" } }))));
        var rows = (await manager.Http.GetStringAsync($"{manager.Of(classes.Id)}/export?format=csv", TestContext.Current.CancellationToken)).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal($"{item.Task.Id},item 0,{answer.AnnotatorId},negative", rows[1]);
    }

    [Fact]
    public async Task Export_WritesConllForEntities_FromTheAcceptedAnnotation()
    {
        var (manager, a, _) = await TeamAsync();
        var lp = await manager.CreateAsync("ner", new { kind = "NamedEntities", labels = new[] { new { name = "PER" }, new { name = "LOC" } } });
        await LabelingClient.EnsureAsync(await manager.Http.PostAsJsonAsync($"{manager.Of(lp.Id)}/tasks",
            new AddTasksRequest([new NewTaskRequest(LabelingClient.Json(new { text = "Ada lives in London" }), null, null, null)])));
        var lease = (await a.NextAsync(lp.Id))!;
        await a.SubmitAsync(lp.Id, lease.Task.Id, new { spans = new[] { new { label = "PER", start = 0, end = 3 }, new { label = "LOC", start = 13, end = 19 } } });
        var conll = await manager.Http.GetStringAsync($"{manager.Of(lp.Id)}/export?format=conll", TestContext.Current.CancellationToken);
        Assert.Equal("-DOCSTART- -X- -X- O\n\nAda -X- _ B-PER\nlives -X- _ O\nin -X- _ O\nLondon -X- _ B-LOC\n\n", conll);
        var studio = JsonDocument.Parse(await manager.Http.GetStringAsync($"{manager.Of(lp.Id)}/export?format=labelstudio", TestContext.Current.CancellationToken)).RootElement;
        Assert.Equal("London", studio[0].GetProperty("annotations")[0].GetProperty("result")[1].GetProperty("value").GetProperty("text").GetString());
        Assert.Equal(HttpStatusCode.UnprocessableEntity, (await manager.Http.GetAsync($"{manager.Of(lp.Id)}/export?format=yolo", TestContext.Current.CancellationToken)).StatusCode);
    }
}

public sealed class SqliteExportFormatsApiTests(SqliteLabelingApp app) : ExportFormatsApiTests(app), IClassFixture<SqliteLabelingApp>;

public sealed class PostgresExportFormatsApiTests(PostgresLabelingApp app) : ExportFormatsApiTests(app), IClassFixture<PostgresLabelingApp>;
