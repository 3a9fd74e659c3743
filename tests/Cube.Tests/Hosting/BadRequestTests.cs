using System.Text;
using System.Text.Json;

namespace Cube.Tests.Hosting;

/// <summary>A body that does not bind is a 400 problem that says what did not bind, and where in the document.</summary>
public sealed class BadRequestTests(SqliteCubeApp app) : IClassFixture<SqliteCubeApp>
{
    [Fact]
    public async Task ABodyOfTheWrongShape_NamesTheJsonPath_AndMalformedJsonSaysSo()
    {
        var (client, userName) = await app.CreateUserClientAsync("binding");
        var project = await app.CreateProjectAsync((userName, "manager"));
        var jobs = $"/api/projects/{project}/training/jobs";

        // hyperparameters is a map of strings; a number there does not bind.
        var wrongType = await client.PostAsync(jobs, new StringContent("""{"name":"x","command":["true"],"hyperparameters":{"lr":0.1}}""", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, wrongType.StatusCode);
        Assert.Equal("application/problem+json", wrongType.Content.Headers.ContentType?.MediaType);
        var problem = await wrongType.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("$.hyperparameters.lr", problem.GetProperty("path").GetString());
        Assert.Contains("$.hyperparameters.lr", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.DoesNotContain("BytePosition", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);

        var malformed = await client.PostAsync(jobs, new StringContent("""{"name": "x", """, Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, malformed.StatusCode);
        Assert.Contains("as JSON", (await malformed.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("detail").GetString(), StringComparison.Ordinal);
    }
}
