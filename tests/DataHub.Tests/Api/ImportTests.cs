using System.Net;
using System.Net.Http.Json;
using Cube.Core.Storage;
using Cube.DataHub.Apis;
using Cube.DataHub.Ingest;
using Cube.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc.Testing;

namespace Cube.DataHub.Tests.Api;

/// <summary>URL and S3 imports through the API, with the network guard on and allow-listed.</summary>
public sealed class ImportTests(SqliteCubeApp app, MotoServer moto) : IClassFixture<SqliteCubeApp>
{
    private async Task<DataHubClient> ManagerAsync(WebApplicationFactory<Program>? factory = null)
    {
        var (http, name) = await app.CreateUserClientAsync("importer");
        var project = await app.CreateProjectAsync((name, "manager"));
        if (factory is not null)
        {
            var token = http.DefaultRequestHeaders.Authorization!;
            http = factory.CreateClient();
            http.DefaultRequestHeaders.Authorization = token;
        }
        var client = new DataHubClient(http, project);
        await client.CreateDatasetAsync("imported");
        return client;
    }

    [Fact]
    public async Task UrlImport_IsRefusedForInternalAddresses()
    {
        var hub = await ManagerAsync();
        var response = await hub.Http.PostAsJsonAsync($"{hub.Base("imported")}/imports", new ImportRequest("http://127.0.0.1:9/data.csv", null, null, null, true));
        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Contains("internal address", (await DataHubClient.ProblemAsync(response)).GetProperty("detail").GetString());
        var metadata = await hub.Http.PostAsJsonAsync($"{hub.Base("imported")}/imports", new ImportRequest("http://169.254.169.254/latest/meta-data/", null, null, null, true));
        Assert.Equal(HttpStatusCode.Forbidden, metadata.StatusCode);
    }

    [Fact]
    public async Task UrlImport_DownloadsIntoANewVersion_WhenAllowListed()
    {
        var csv = "city,population\nOslo,709000\nBergen,291000\n"u8.ToArray();
        var web = WebApplication.Create();
        web.Urls.Add("http://127.0.0.1:0");
        web.MapGet("/files/cities.csv", () => Results.Bytes(csv, "text/csv"));
        web.MapGet("/redirect", () => Results.Redirect("/files/cities.csv"));
        await web.StartAsync(TestContext.Current.CancellationToken);
        try
        {
            await using var factory = app.WithSettings(new Dictionary<string, string?> { ["Cube:DataHub:Import:AllowedNetworks:0"] = "127.0.0.0/8" });
            var hub = await ManagerAsync(factory);
            var response = await hub.Http.PostAsJsonAsync($"{hub.Base("imported")}/imports", new ImportRequest($"{web.Urls.First()}/redirect", null, "web", "from the web", true));
            await DataHubClient.EnsureAsync(response);

            var version = await hub.Http.GetFromJsonAsync<VersionDto>($"{hub.Base("imported")}/versions/latest");
            Assert.Equal("url", version!.SourceKind);
            Assert.Equal(csv, await hub.Http.GetByteArrayAsync($"{hub.Base("imported")}/versions/latest/files/web/cities.csv"));
            var table = Assert.Single((await hub.Http.GetFromJsonAsync<List<TableSummaryDto>>($"{hub.Base("imported")}/versions/latest/tables"))!);
            Assert.Equal(2, table.RowCount);
        }
        finally
        {
            await web.StopAsync(TestContext.Current.CancellationToken);
        }
    }

    [Fact]
    public async Task S3Import_CopiesEveryObjectUnderThePrefix()
    {
        var options = await moto.CreateOptionsAsync();
        using (var source = new S3ObjectStore(options))
        {
            await source.CheckHealthAsync(TestContext.Current.CancellationToken);
            await source.PutAsync("exports/2026/a.txt", new MemoryStream("alpha"u8.ToArray()), TestContext.Current.CancellationToken);
            await source.PutAsync("exports/2026/sub/b.txt", new MemoryStream("beta"u8.ToArray()), TestContext.Current.CancellationToken);
            await source.PutAsync("other/c.txt", new MemoryStream("gamma"u8.ToArray()), TestContext.Current.CancellationToken);
        }
        await using var factory = app.WithSettings(new Dictionary<string, string?> { ["Cube:DataHub:Import:AllowedNetworks:0"] = "127.0.0.0/8" });
        var hub = await ManagerAsync(factory);
        var request = new ImportRequest(null, new S3Source(options.Endpoint, options.Bucket, "exports/2026/", options.AccessKey, options.SecretKey, null), null, "bucket", true);
        await DataHubClient.EnsureAsync(await hub.Http.PostAsJsonAsync($"{hub.Base("imported")}/imports", request));

        var files = await hub.Http.GetFromJsonAsync<FilePageDto>($"{hub.Base("imported")}/versions/latest/files");
        Assert.Equal(["a.txt", "sub/b.txt"], files!.Items.Select(f => f.Path));
        Assert.Equal("beta", await hub.Http.GetStringAsync($"{hub.Base("imported")}/versions/latest/files/sub/b.txt"));
        var version = await hub.Http.GetFromJsonAsync<VersionDto>($"{hub.Base("imported")}/versions/latest");
        Assert.DoesNotContain(options.SecretKey, version!.Source!.Value.GetRawText());
    }
}
