using System.IO.Compression;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Cube.Core.Apis;
using Cube.DataHub.Apis;
using Cube.DataHub.Data;
using Cube.DataHub.Versions;
using Cube.Testing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Cube.DataHub.Tests.Api;

/// <summary>The DataHub API end to end, on SQLite + local disk and on PostgreSQL + S3.</summary>
public abstract class DataHubApiTests(CubeAppFixture app)
{
    private static byte[] Csv(int rows, int seed = 0)
    {
        var text = new StringBuilder("id,name,score,active,seen_at\n");
        for (var i = 0; i < rows; i++)
            text.Append(CultureInvariant($"{i},name-{(i + seed) % 7},{(i * 1.5) + seed},{(i % 2 == 0 ? "true" : "false")},2026-11-{1 + i % 28:D2}T10:00:00Z\n"));
        return Encoding.UTF8.GetBytes(text.ToString());
    }

    private static string CultureInvariant(FormattableString s) => s.ToString(System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>A real encoded image with a gradient, so decoders and thumbnails have something to work on.</summary>
    internal static byte[] Image(int width, int height, SkiaSharp.SKEncodedImageFormat format = SkiaSharp.SKEncodedImageFormat.Png)
    {
        using var bitmap = new SkiaSharp.SKBitmap(width, height);
        for (var y = 0; y < height; y++)
            for (var x = 0; x < width; x++)
                bitmap.SetPixel(x, y, new SkiaSharp.SKColor((byte)(x * 255 / width), (byte)(y * 255 / height), 128));
        using var image = SkiaSharp.SKImage.FromBitmap(bitmap);
        return image.Encode(format, 90).ToArray();
    }

    private async Task<(DataHubClient Client, string Project)> ManagerAsync()
    {
        var (http, name) = await app.CreateUserClientAsync("manager");
        var project = await app.CreateProjectAsync((name, "manager"));
        return (new DataHubClient(http, project), project);
    }

    [Fact]
    public async Task TextHead_ShowsFirstLines_FlagsBinaryAndTruncation()
    {
        var (hub, _) = await ManagerAsync();
        await hub.CreateDatasetAsync("notes", "text");
        var longText = string.Join("\r\n", Enumerable.Range(1, 5000).Select(i => $"line {i} ünïcode"));
        await hub.PushAsync("notes", "texts", ("a.txt", "first\nsecond\n"u8.ToArray()), ("long.txt", System.Text.Encoding.UTF8.GetBytes(longText)),
            ("blob.bin", [1, 0, 2, 0, 3]), ("empty.txt", []));

        var small = await hub.Http.GetFromJsonAsync<TextHeadDto>($"{hub.Base("notes")}/versions/1/text?path=a.txt");
        Assert.Equal(["first", "second"], small!.Lines);
        Assert.False(small.Truncated);

        var head = await hub.Http.GetFromJsonAsync<TextHeadDto>($"{hub.Base("notes")}/versions/1/text?path=long.txt&lines=3");
        Assert.Equal(["line 1 ünïcode", "line 2 ünïcode", "line 3 ünïcode"], head!.Lines);
        Assert.True(head.Truncated);

        var most = await hub.Http.GetFromJsonAsync<TextHeadDto>($"{hub.Base("notes")}/versions/1/text?path=long.txt&lines=1000");
        Assert.Equal(1000, most!.Lines.Count);

        var binary = await hub.Http.GetFromJsonAsync<TextHeadDto>($"{hub.Base("notes")}/versions/1/text?path=blob.bin");
        Assert.True(binary!.Binary);
        Assert.Empty((await hub.Http.GetFromJsonAsync<TextHeadDto>($"{hub.Base("notes")}/versions/1/text?path=empty.txt"))!.Lines);

        Assert.Equal(HttpStatusCode.BadRequest, (await hub.Http.GetAsync($"{hub.Base("notes")}/versions/1/text?path=a.txt&lines=0")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await hub.Http.GetAsync($"{hub.Base("notes")}/versions/1/text?path=missing.txt")).StatusCode);
    }

    [Fact]
    public async Task PushCsvImagesAndFolders_ThenReadEverythingBack()
    {
        var (hub, _) = await ManagerAsync();
        await hub.CreateDatasetAsync("reviews", "mixed", "nlp", "raw");
        var csv = Csv(500);
        var png = Image(300, 200);
        var number = await hub.PushAsync("reviews", "first import",
            ("tables/reviews.csv", csv), ("images/a/cat.png", png), ("images/b/dog.jpg", Image(90, 120, SkiaSharp.SKEncodedImageFormat.Jpeg)), ("README.md", "# hello"u8.ToArray()));
        Assert.Equal(1, number);

        var version = await hub.Http.GetFromJsonAsync<VersionDto>($"{hub.Base("reviews")}/versions/latest");
        Assert.Equal(4, version!.FileCount);
        Assert.Equal("first import", version.Message);

        // Byte-identical pull of every file.
        Assert.Equal(csv, await hub.Http.GetByteArrayAsync($"{hub.Base("reviews")}/versions/1/files/tables/reviews.csv"));
        Assert.Equal(png, await hub.Http.GetByteArrayAsync($"{hub.Base("reviews")}/versions/v1/files/images/a/cat.png"));

        // Ranged read.
        var ranged = new HttpRequestMessage(HttpMethod.Get, $"{hub.Base("reviews")}/versions/1/files/images/a/cat.png");
        ranged.Headers.Range = new System.Net.Http.Headers.RangeHeaderValue(100, 199);
        var partial = await hub.Http.SendAsync(ranged);
        Assert.Equal(HttpStatusCode.PartialContent, partial.StatusCode);
        Assert.Equal(png[100..200], await partial.Content.ReadAsByteArrayAsync());

        // Manifest listing by prefix.
        var files = await hub.Http.GetFromJsonAsync<FilePageDto>($"{hub.Base("reviews")}/versions/1/files?prefix=images/");
        Assert.Equal(["images/a/cat.png", "images/b/dog.jpg"], files!.Items.Select(f => f.Path));

        // Image statistics and thumbnails.
        var stats = await hub.Http.GetFromJsonAsync<ImageStatsDto>($"{hub.Base("reviews")}/versions/1/images/stats");
        Assert.Equal(2, stats!.Count);
        Assert.Equal(1, stats.Formats["png"]);
        Assert.Equal(1, stats.Formats["jpeg"]);
        Assert.Equal(90, stats.MinWidth);
        Assert.Equal(300, stats.MaxWidth);
        var grid = await hub.Http.GetFromJsonAsync<ImagePageDto>($"{hub.Base("reviews")}/versions/1/images");
        var cat = grid!.Items.First(i => i.Path == "images/a/cat.png");
        Assert.Equal((300, 200), (cat.Width, cat.Height));
        var thumbnail = await hub.Http.GetByteArrayAsync(cat.ThumbnailUrl.Replace("size=256", "size=128"));
        using (var decoded = SkiaSharp.SKBitmap.Decode(thumbnail))
        {
            Assert.Equal(128, decoded.Width);
            Assert.Equal(85, decoded.Height);
        }

        // The CSV became a table with schema and statistics.
        var tables = await hub.Http.GetFromJsonAsync<List<TableSummaryDto>>($"{hub.Base("reviews")}/versions/1/tables");
        var table = Assert.Single(tables!);
        Assert.Equal(500, table.RowCount);
        Assert.Equal(["id", "name", "score", "active", "seen_at"], table.Columns.Select(c => c.Name));
        Assert.Equal("int64", table.Columns[0].Type);
        Assert.StartsWith("timestamp", table.Columns[4].Type);
        var detail = await hub.Http.GetFromJsonAsync<JsonElement>($"{hub.Base("reviews")}/versions/1/table?path=tables/reviews.csv");
        Assert.Equal(JsonValueKind.Array, detail.GetProperty("statistics").ValueKind);

        var preview = await hub.Http.GetFromJsonAsync<JsonElement>($"{hub.Base("reviews")}/versions/1/table/preview?path=tables/reviews.csv&offset=10&limit=5");
        var rows = preview.GetProperty("rows");
        Assert.Equal(5, rows.GetArrayLength());
        Assert.Equal(10, rows[0].GetProperty("id").GetInt64());

        var exported = await hub.Http.GetStringAsync($"{hub.Base("reviews")}/versions/1/table/export?path=tables/reviews.csv&format=csv&columns=id,name");
        var lines = exported.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(501, lines.Length);
        Assert.Equal("id,name", lines[0].Trim());

        var parquet = await hub.Http.GetByteArrayAsync($"{hub.Base("reviews")}/versions/1/table/export?path=tables/reviews.csv&format=parquet");
        Assert.Equal("PAR1"u8.ToArray(), parquet[..4]);

        // The whole version as a zip.
        var archive = await hub.Http.GetByteArrayAsync($"{hub.Base("reviews")}/versions/1/archive");
        using var zip = new ZipArchive(new MemoryStream(archive));
        Assert.Equal(4, zip.Entries.Count);
        using var entry = new MemoryStream();
        await zip.GetEntry("tables/reviews.csv")!.Open().CopyToAsync(entry);
        Assert.Equal(csv, entry.ToArray());

        // Search by tag and kind.
        var byTag = await hub.Http.GetFromJsonAsync<Page<DatasetDto>>($"/api/projects/{hub.Base("x").Split('/')[3]}/datasets?tag=nlp");
        Assert.Equal("reviews", Assert.Single(byTag!.Items).Name);
    }

    [Fact]
    public async Task SecondVersion_DiffsTagsAndResumableUpload()
    {
        var (hub, _) = await ManagerAsync();
        await hub.CreateDatasetAsync("events", "tabular");
        await hub.PushAsync("events", "v1", ("data.csv", Csv(100)), ("old.txt", "bye"u8.ToArray()), ("keep.txt", "same"u8.ToArray()));

        var session = await hub.OpenSessionAsync("events");
        var big = Encoding.UTF8.GetBytes(string.Concat(Enumerable.Range(0, 20_000).Select(i => $"line {i}\n")));
        var cut = big.Length / 3;
        await DataHubClient.EnsureAsync(await hub.PutAsync("events", session, "logs/big.log", big[..cut], $"bytes 0-{cut - 1}/{big.Length}"));
        // A chunk that does not continue where the server is gets 409 and the offset to resume from.
        var wrong = await hub.PutAsync("events", session, "logs/big.log", big[(cut + 5)..], $"bytes {cut + 5}-{big.Length - 1}/{big.Length}");
        Assert.Equal(HttpStatusCode.Conflict, wrong.StatusCode);
        Assert.Equal(cut, (await DataHubClient.ProblemAsync(wrong)).GetProperty("receivedBytes").GetInt64());
        var status = await hub.Http.GetFromJsonAsync<UploadSessionDto>($"{hub.Base("events")}/uploads/{session}");
        Assert.Equal(cut, Assert.Single(status!.Files).ReceivedBytes);
        await DataHubClient.EnsureAsync(await hub.PutAsync("events", session, "logs/big.log", big[cut..], $"bytes {cut}-{big.Length - 1}/{big.Length}"));
        await DataHubClient.EnsureAsync(await hub.PutAsync("events", session, "data.csv", Csv(150, seed: 3)));
        await DataHubClient.EnsureAsync(await hub.Http.PostAsJsonAsync($"{hub.Base("events")}/uploads/{session}/deletions", new DeletePathsRequest(["old.txt"])));
        await DataHubClient.EnsureAsync(await hub.CommitAsync("events", session, "v2"));

        Assert.Equal(big, await hub.Http.GetByteArrayAsync($"{hub.Base("events")}/versions/2/files/logs/big.log"));
        var diff = await hub.Http.GetFromJsonAsync<DiffDto>($"{hub.Base("events")}/diff?from=1&to=2");
        Assert.Equal(["logs/big.log"], diff!.Added.Select(f => f.Path));
        Assert.Equal(["old.txt"], diff.Removed.Select(f => f.Path));
        Assert.Equal(["data.csv"], diff.Changed.Select(f => f.Path));
        var tableChange = Assert.Single(diff.Tables);
        Assert.Equal(100, tableChange.FromRows);
        Assert.Equal(150, tableChange.ToRows);

        await DataHubClient.EnsureAsync(await hub.Http.PutAsJsonAsync($"{hub.Base("events")}/tags/gold", new SetTagRequest("1")));
        var gold = await hub.Http.GetFromJsonAsync<VersionDto>($"{hub.Base("events")}/versions/gold");
        Assert.Equal(1, gold!.Number);
        Assert.Contains("gold", gold.Tags);
        var badTag = await hub.Http.PutAsJsonAsync($"{hub.Base("events")}/tags/Bad%20Tag", new SetTagRequest("1"));
        Assert.Equal(HttpStatusCode.BadRequest, badTag.StatusCode);

        // Versions are immutable: v1 still serves its own bytes.
        Assert.Equal("bye", await hub.Http.GetStringAsync($"{hub.Base("events")}/versions/1/files/old.txt"));
    }

    [Fact]
    public async Task BadCsv_FailsTheCommitNamingFileAndRow_AndCommitsNothing()
    {
        var (hub, _) = await ManagerAsync();
        await hub.CreateDatasetAsync("broken", "tabular");
        var session = await hub.OpenSessionAsync("broken");
        await DataHubClient.EnsureAsync(await hub.PutAsync("broken", session, "good.txt", "fine"u8.ToArray()));
        await DataHubClient.EnsureAsync(await hub.PutAsync("broken", session, "ragged.csv", "a,b,c\n1,2,3\n4,5\n"u8.ToArray()));
        var response = await hub.CommitAsync("broken", session, "should fail");

        Assert.Equal(HttpStatusCode.UnprocessableEntity, response.StatusCode);
        var problem = await DataHubClient.ProblemAsync(response);
        Assert.Equal("ragged.csv", problem.GetProperty("file").GetString());
        Assert.Equal(3, problem.GetProperty("row").GetInt64());
        var dataset = await hub.Http.GetFromJsonAsync<DatasetDto>(hub.Base("broken"));
        Assert.Equal(0, dataset!.LatestVersion);
        Assert.Equal(HttpStatusCode.NotFound, (await hub.Http.GetAsync($"{hub.Base("broken")}/versions/latest")).StatusCode);

        // The session reopens: replace the bad file and commit again.
        await DataHubClient.EnsureAsync(await hub.PutAsync("broken", session, "ragged.csv", "a,b,c\n1,2,3\n4,5,6\n"u8.ToArray()));
        await DataHubClient.EnsureAsync(await hub.CommitAsync("broken", session, "fixed"));
        Assert.Equal(1, (await hub.Http.GetFromJsonAsync<DatasetDto>(hub.Base("broken")))!.LatestVersion);
    }

    [Fact]
    public async Task CorruptImage_FailsTheCommitNamingTheFile()
    {
        var (hub, _) = await ManagerAsync();
        await hub.CreateDatasetAsync("photos", "image");
        var session = await hub.OpenSessionAsync("photos");
        await DataHubClient.EnsureAsync(await hub.PutAsync("photos", session, "ok.png", Image(10, 10)));
        await DataHubClient.EnsureAsync(await hub.PutAsync("photos", session, "broken.png", "not an image at all"u8.ToArray()));
        var response = await hub.CommitAsync("photos", session, "bad image");
        Assert.Equal(HttpStatusCode.UnprocessableEntity, response.StatusCode);
        Assert.Equal("broken.png", (await DataHubClient.ProblemAsync(response)).GetProperty("file").GetString());
        Assert.Equal(0, (await hub.Http.GetFromJsonAsync<DatasetDto>(hub.Base("photos")))!.LatestVersion);
    }

    [Fact]
    public async Task TenThousandFiles_CommitInOneVersion()
    {
        var (hub, _) = await ManagerAsync();
        hub.Http.Timeout = TimeSpan.FromMinutes(5); // 10,000 objects through a Python S3 test server take a while
        await hub.CreateDatasetAsync("many");
        var session = await hub.OpenSessionAsync("many");
        var zip = new MemoryStream();
        using (var archive = new ZipArchive(zip, ZipArchiveMode.Create, leaveOpen: true))
            for (var i = 0; i < 10_000; i++)
            {
                using var entry = archive.CreateEntry($"shard-{i / 1000}/item-{i:D5}.txt", CompressionLevel.Fastest).Open();
                entry.Write(Encoding.UTF8.GetBytes($"item {i}"));
            }
        await DataHubClient.EnsureAsync(await hub.PutAsync("many", session, "items.zip", zip.ToArray(), extract: true));
        await DataHubClient.EnsureAsync(await hub.CommitAsync("many", session, "ten thousand"));
        var version = await hub.Http.GetFromJsonAsync<VersionDto>($"{hub.Base("many")}/versions/latest");
        Assert.Equal(10_000, version!.FileCount);
        Assert.Equal("item 9999", await hub.Http.GetStringAsync($"{hub.Base("many")}/versions/latest/files/shard-9/item-09999.txt"));
    }

    [Theory]
    [InlineData("../escape.txt")]
    [InlineData("a/../../b.txt")]
    [InlineData("with\u0001control.txt")]
    [InlineData("back\\slash.txt")]
    public async Task Upload_RejectsDangerousPaths(string path)
    {
        var (hub, _) = await ManagerAsync();
        await hub.CreateDatasetAsync("paths");
        var session = await hub.OpenSessionAsync("paths");
        var request = new HttpRequestMessage(HttpMethod.Put, $"{hub.Base("paths")}/uploads/{session}/files/{Uri.EscapeDataString(path)}") { Content = new ByteArrayContent([1, 2, 3]) };
        var response = await hub.Http.SendAsync(request);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("Invalid path", (await DataHubClient.ProblemAsync(response)).GetProperty("detail").GetString());
    }

    private static byte[] Zip(params (string Name, byte[] Content)[] entries)
    {
        var buffer = new MemoryStream();
        using (var zip = new ZipArchive(buffer, ZipArchiveMode.Create, leaveOpen: true))
        {
            foreach (var (name, content) in entries)
            {
                using var stream = zip.CreateEntry(name, CompressionLevel.SmallestSize).Open();
                stream.Write(content);
            }
        }
        return buffer.ToArray();
    }

    [Fact]
    public async Task ZipUpload_IsExpandedSafely()
    {
        var (hub, _) = await ManagerAsync();
        await hub.CreateDatasetAsync("archives");
        var session = await hub.OpenSessionAsync("archives");
        await DataHubClient.EnsureAsync(await hub.PutAsync("archives", session, "batch/photos.zip", Zip(("one.txt", "1"u8.ToArray()), ("deep/two.txt", "2"u8.ToArray())), extract: true));
        await DataHubClient.EnsureAsync(await hub.CommitAsync("archives", session, "zip"));
        var files = await hub.Http.GetFromJsonAsync<FilePageDto>($"{hub.Base("archives")}/versions/1/files");
        Assert.Equal(["batch/deep/two.txt", "batch/one.txt"], files!.Items.Select(f => f.Path));

        var slip = await hub.OpenSessionAsync("archives");
        await DataHubClient.EnsureAsync(await hub.PutAsync("archives", slip, "evil.zip", Zip(("../../etc/passwd", "x"u8.ToArray())), extract: true));
        var refused = await hub.CommitAsync("archives", slip, "slip");
        Assert.Equal(HttpStatusCode.UnprocessableEntity, refused.StatusCode);
        Assert.Equal("../../etc/passwd", (await DataHubClient.ProblemAsync(refused)).GetProperty("entry").GetString());

        var bomb = await hub.OpenSessionAsync("archives");
        await DataHubClient.EnsureAsync(await hub.PutAsync("archives", bomb, "bomb.zip", Zip(("zeros.bin", new byte[64 * 1024 * 1024])), extract: true));
        var tooBig = await hub.CommitAsync("archives", bomb, "bomb");
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, tooBig.StatusCode);
        Assert.Contains("zip bomb", (await DataHubClient.ProblemAsync(tooBig)).GetProperty("detail").GetString());
        Assert.Equal(1, (await hub.Http.GetFromJsonAsync<DatasetDto>(hub.Base("archives")))!.LatestVersion);
    }

    [Fact]
    public async Task Roles_AreEnforced()
    {
        var (hub, project) = await ManagerAsync();
        await hub.CreateDatasetAsync("guarded");
        var (annotator, annotatorName) = await app.CreateUserClientAsync("annotator");
        var (outsider, _) = await app.CreateUserClientAsync("outsider");
        using var admin = await app.AdminAsync();
        await DataHubClient.EnsureAsync(await admin.PutAsJsonAsync($"/api/projects/{project}/members/{annotatorName}", new SetMemberRequest("annotator")));

        Assert.Equal(HttpStatusCode.OK, (await annotator.GetAsync($"/api/projects/{project}/datasets/guarded")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await annotator.PostAsJsonAsync($"/api/projects/{project}/datasets", new CreateDatasetRequest("nope", null, null, null))).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await annotator.PostAsync($"/api/projects/{project}/datasets/guarded/uploads", null)).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await outsider.GetAsync($"/api/projects/{project}/datasets/guarded")).StatusCode);
    }

    [Fact]
    public async Task CreateDataset_RejectsBadAndDuplicateNames()
    {
        var (hub, project) = await ManagerAsync();
        await hub.CreateDatasetAsync("unique");
        var duplicate = await hub.Http.PostAsJsonAsync($"/api/projects/{project}/datasets", new CreateDatasetRequest("unique", null, null, null));
        Assert.Equal(HttpStatusCode.Conflict, duplicate.StatusCode);
        var control = await hub.Http.PostAsJsonAsync($"/api/projects/{project}/datasets", new CreateDatasetRequest("bad\u0007name", null, null, null));
        Assert.Equal(HttpStatusCode.BadRequest, control.StatusCode);
        Assert.True((await DataHubClient.ProblemAsync(control)).GetProperty("errors").TryGetProperty("name", out _));
    }

    [Fact]
    public async Task Lineage_ShowsUpstreamAndDownstream()
    {
        var (hub, project) = await ManagerAsync();
        await hub.CreateDatasetAsync("raw");
        await hub.CreateDatasetAsync("features");
        await hub.PushAsync("raw", "raw", ("a.csv", Csv(10)));
        await hub.PushAsync("features", "placeholder", ("f.txt", "x"u8.ToArray()));

        using (var scope = app.Factory.Services.CreateScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<DataHubDbContext>();
            // Only this test creates datasets named raw and features in its fixture's database.
            var rawDataset = await db.Datasets.SingleAsync(d => d.Name == "raw");
            var features = await db.Datasets.FirstAsync(d => d.Name == "features" && d.ProjectId == rawDataset.ProjectId);
            var raw = await db.Versions.FirstAsync(v => v.DatasetId == rawDataset.Id && v.Number == 1);
            var file = await db.VersionFiles.FirstAsync(f => f.VersionId == raw.Id);
            await scope.ServiceProvider.GetRequiredService<VersionWriter>().CreateAsync(new NewVersion(
                features.Id,
                [new ManifestEntry("derived.csv", file.Sha256, file.Size)], [], "from pipeline", Guid.NewGuid(), "pipeline",
                Upstream: [raw.Id], LineageKind: "pipeline"));
        }

        var up = await hub.Http.GetFromJsonAsync<LineageGraphDto>($"{hub.Base("features")}/versions/2/lineage");
        Assert.Equal(2, up!.Nodes.Count);
        var edge = Assert.Single(up.Edges);
        Assert.Equal("pipeline", edge.Kind);
        var down = await hub.Http.GetFromJsonAsync<LineageGraphDto>($"{hub.Base("raw")}/versions/1/lineage");
        Assert.Contains(down!.Nodes, n => n.Dataset == "features" && n.Number == 2);
        _ = project;
    }
}

public sealed class SqliteLocalDataHubApiTests(SqliteCubeApp app) : DataHubApiTests(app), IClassFixture<SqliteCubeApp>;

public sealed class PostgresS3DataHubApiTests(PostgresS3CubeApp app) : DataHubApiTests(app), IClassFixture<PostgresS3CubeApp>;
