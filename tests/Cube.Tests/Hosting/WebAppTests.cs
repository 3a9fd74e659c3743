using Microsoft.AspNetCore.Mvc.Testing;

namespace Cube.Tests.Hosting;

/// <summary>The browser app served by the Cube host: static files and client routes anonymously, the API unchanged.</summary>
public sealed class WebAppTests(SqliteCubeApp app) : IClassFixture<SqliteCubeApp>, IDisposable
{
    private readonly TempDirectory _root = new();

    [Fact]
    public async Task WebApp_ServesShellAssetsAndClientRoutes_WhenBuilt()
    {
        await File.WriteAllTextAsync(Path.Combine(_root.Path, "index.html"), "<!doctype html><title>Cube test shell</title>");
        Directory.CreateDirectory(Path.Combine(_root.Path, "assets"));
        await File.WriteAllTextAsync(Path.Combine(_root.Path, "assets", "index-abc.js"), "console.log('cube')");
        await using var factory = app.WithSettings(new Dictionary<string, string?> { ["Cube:Web:Root"] = _root.Path });
        using var client = factory.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false });

        var shell = await client.GetAsync("/");
        Assert.Equal(HttpStatusCode.OK, shell.StatusCode);
        Assert.Contains("Cube test shell", await shell.Content.ReadAsStringAsync());
        Assert.Equal("no-cache", shell.Headers.CacheControl?.ToString());

        var route = await client.GetAsync("/p/demo/labeling/6f1c/work");
        Assert.Equal(HttpStatusCode.OK, route.StatusCode);
        Assert.Equal("text/html", route.Content.Headers.ContentType?.MediaType);

        var asset = await client.GetAsync("/assets/index-abc.js");
        Assert.Equal(HttpStatusCode.OK, asset.StatusCode);
        Assert.Contains("immutable", asset.Headers.CacheControl?.ToString());

        // The API keeps its own answers: 401 when signed out, 404 problem details for unknown routes, never the shell.
        Assert.Equal(HttpStatusCode.Unauthorized, (await client.GetAsync("/api/me")).StatusCode);
        var unknown = await client.GetAsync("/api/no-such-thing");
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        Assert.Equal("application/problem+json", unknown.Content.Headers.ContentType?.MediaType);
        var missing = await client.GetAsync("/assets/missing.js");
        Assert.NotEqual(HttpStatusCode.OK, missing.StatusCode);
        Assert.NotEqual("text/html", missing.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task WebApp_IsAbsent_WhenNotBuilt()
    {
        await using var factory = app.WithSettings(new Dictionary<string, string?> { ["Cube:Web:Root"] = _root.Path });
        using var client = factory.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false });
        Assert.Equal(HttpStatusCode.Unauthorized, (await client.GetAsync("/p/demo")).StatusCode);
    }

    public void Dispose() => _root.Dispose();
}
