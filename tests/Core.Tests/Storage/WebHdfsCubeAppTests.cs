using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Cube.Core.Data;
using Cube.Testing;

namespace Cube.Core.Tests.Storage;

/// <summary>A whole Cube server on <c>Cube:Storage:Kind=WebHdfs</c>: DataHub stores, converts and serves a version through the fake HDFS.</summary>
public sealed class WebHdfsCubeAppTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task DataHub_CommitsAndServesAVersion_WhenObjectsLiveInHdfs()
    {
        await using var fake = await WebHdfsFake.StartAsync(requiredUser: "cube");
        var app = new SqliteWebHdfsCubeApp(fake);
        await app.InitializeAsync();
        try
        {
            using var http = await app.AdminAsync();
            var project = await app.CreateProjectAsync();
            var dataset = $"/api/projects/{project}/datasets/events";
            var csv = Encoding.UTF8.GetBytes("id,score\n" + string.Concat(Enumerable.Range(0, 500).Select(i => $"{i},{i % 13}\n")));
            var raw = TestData.Bytes(300_000);

            await EnsureAsync(await http.PostAsJsonAsync($"/api/projects/{project}/datasets", new { name = "events", description = "on hdfs", kind = "mixed", tags = Array.Empty<string>() }, Ct));
            var opened = await http.PostAsync($"{dataset}/uploads", null, Ct);
            await EnsureAsync(opened);
            var session = (await opened.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("id").GetGuid();
            await EnsureAsync(await http.PutAsync($"{dataset}/uploads/{session}/files/table.csv", new ByteArrayContent(csv), Ct));
            await EnsureAsync(await http.PutAsync($"{dataset}/uploads/{session}/files/raw/data.bin", new ByteArrayContent(raw), Ct));
            var commit = await http.PostAsJsonAsync($"{dataset}/uploads/{session}/commit", new { message = "first", mode = "merge", wait = true }, Ct);
            await EnsureAsync(commit);
            Assert.Equal("succeeded", (await commit.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("state").GetString());

            Assert.Equal(raw, await http.GetByteArrayAsync($"{dataset}/versions/latest/files/raw/data.bin", Ct));
            using var ranged = new HttpRequestMessage(HttpMethod.Get, $"{dataset}/versions/latest/files/raw/data.bin");
            ranged.Headers.Range = new RangeHeaderValue(1000, 1999);
            using var partial = await http.SendAsync(ranged, Ct);
            Assert.Equal(HttpStatusCode.PartialContent, partial.StatusCode);
            Assert.Equal(raw[1000..2000], await partial.Content.ReadAsByteArrayAsync(Ct));
            var table = await http.GetFromJsonAsync<JsonElement>($"{dataset}/versions/latest/table?path=table.csv", Ct);
            Assert.Contains("500", table.ToString(), StringComparison.Ordinal);
            Assert.Equal(HttpStatusCode.BadRequest, (await http.GetAsync($"{dataset}/versions/latest/files/raw/data.bin?presign=true", Ct)).StatusCode);

            var ready = await http.GetFromJsonAsync<JsonElement>("/readyz", Ct);
            var storage = ready.GetProperty("checks").GetProperty("storage");
            Assert.Equal("healthy", storage.GetProperty("status").GetString());
            Assert.StartsWith("webhdfs", storage.GetProperty("detail").GetString(), StringComparison.Ordinal);
            var blobs = Directory.EnumerateFiles(fake.LocalPath("/cube/objects/blobs/sha256"), "*", SearchOption.AllDirectories).Select(Path.GetFileName).ToList();
            Assert.Contains(TestData.Sha256(raw), blobs);
            Assert.Contains(TestData.Sha256(csv), blobs);
            Assert.Empty(Directory.EnumerateFileSystemEntries(fake.LocalPath("/cube/staging")));
        }
        finally
        {
            await app.DisposeAsync();
        }
    }

    private static async Task EnsureAsync(HttpResponseMessage response)
    {
        if (!response.IsSuccessStatusCode)
            throw new HttpRequestException($"{(int)response.StatusCode} {response.RequestMessage?.Method} {response.RequestMessage?.RequestUri}: {await response.Content.ReadAsStringAsync()}");
    }

    private sealed class SqliteWebHdfsCubeApp(WebHdfsFake fake) : CubeAppFixture
    {
        public override DatabaseProvider Provider => DatabaseProvider.Sqlite;

        protected override Task<IDictionary<string, string?>> StorageSettingsAsync() => Task.FromResult<IDictionary<string, string?>>(new Dictionary<string, string?>
        {
            ["Cube:Storage:Kind"] = "WebHdfs",
            ["Cube:Storage:WebHdfs:Url"] = fake.Url,
            ["Cube:Storage:WebHdfs:Root"] = "/cube",
            ["Cube:Storage:WebHdfs:User"] = "cube",
        });
    }
}
