using System.Text.Json.Nodes;

namespace Cube.Tests.Hosting;

/// <summary>
/// The web app's API types are generated from web/openapi.json; when the server's document gains, loses or renames an
/// operation, that file is stale and this test says which operations differ and how to refresh it.
/// </summary>
public sealed class OpenApiDriftTests(SqliteCubeApp app) : IClassFixture<SqliteCubeApp>
{
    [Fact]
    public async Task WebOpenApiDocument_MatchesServerOperations_WhenComparedByPathAndMethod()
    {
        using var client = app.Anonymous();
        var server = Operations(JsonNode.Parse(await client.GetStringAsync("/openapi/v1.json"))!);
        var committed = Operations(JsonNode.Parse(await File.ReadAllTextAsync(Path.Combine(RepositoryRoot(), "web", "openapi.json")))!);

        var missing = server.Keys.Except(committed.Keys).Order().Select(k => $"  new on the server: {k}");
        var stale = committed.Keys.Except(server.Keys).Order().Select(k => $"  gone from the server: {k}");
        var renamed = server.Keys.Intersect(committed.Keys).Where(k => server[k] != committed[k]).Order()
            .Select(k => $"  {k}: operationId {committed[k]} is now {server[k]}");
        var differences = missing.Concat(stale).Concat(renamed).ToList();
        Assert.True(differences.Count == 0,
            "web/openapi.json is out of date; run `cd web && npm run gen:api -- http://127.0.0.1:5080` against a running cube and commit both files:"
            + Environment.NewLine + string.Join(Environment.NewLine, differences));
    }

    private static Dictionary<string, string> Operations(JsonNode document)
    {
        var operations = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (path, item) in document["paths"]!.AsObject())
            foreach (var (method, operation) in item!.AsObject())
                if (operation is JsonObject o && o.ContainsKey("responses"))
                    operations[$"{method.ToUpperInvariant()} {path}"] = o["operationId"]?.GetValue<string>() ?? "";
        return operations;
    }

    private static string RepositoryRoot()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "cube.sln"))) directory = directory.Parent;
        return directory?.FullName ?? throw new DirectoryNotFoundException("cube.sln not found above " + AppContext.BaseDirectory);
    }
}
