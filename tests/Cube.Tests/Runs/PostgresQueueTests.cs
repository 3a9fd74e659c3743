using Cube.Core.Apis;
using Cube.Core.Hosting;
using Cube.DataHub.Apis;
using Cube.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;

namespace Cube.Tests.Runs;

/// <summary>
/// The scale-out shape: a server that only queues work and a separate worker host that executes it, sharing one
/// PostgreSQL database for metadata and the job queue.
/// </summary>
public sealed class PostgresQueueTests(PostgresCubeApp app) : IClassFixture<PostgresCubeApp>
{
    [Fact]
    public async Task Worker_ExecutesRunsQueuedByAServerThatDoesNotExecute()
    {
        _ = app.Factory; // skips (or fails under CUBE_TEST_REQUIRE_SERVICES) without PostgreSQL
        var shared = new Dictionary<string, string?>
        {
            ["Cube:Runs:Queue"] = "PostgreSQL",
            ["Cube:Runs:QueueConnectionString"] = app.PostgresConnectionString,
        };
        var serverSettings = new Dictionary<string, string?>(shared) { ["Cube:Runs:ExecuteInServer"] = "false" };
        await using var server = app.WithSettings(serverSettings);
        var client = server.CreateClient(new WebApplicationFactoryClientOptions { HandleCookies = true });
        (await client.PostAsJsonAsync("/api/auth/sign-in", new SignInRequest(CubeAppFixture.AdminUser, CubeAppFixture.AdminPassword))).EnsureSuccessStatusCode();
        (await client.PostAsJsonAsync("/api/projects", new CreateProjectRequest("queue", "Queue", null))).EnsureSuccessStatusCode();
        (await client.PostAsJsonAsync("/api/projects/queue/datasets", new CreateDatasetRequest("data", null, null, null))).EnsureSuccessStatusCode();
        var session = (await (await client.PostAsync("/api/projects/queue/datasets/data/uploads", null)).Content.ReadFromJsonAsync<UploadSessionDto>())!.Id;
        (await client.PutAsync($"/api/projects/queue/datasets/data/uploads/{session}/files/a.csv", new ByteArrayContent("x,y\n1,2\n"u8.ToArray()))).EnsureSuccessStatusCode();
        var accepted = await client.PostAsJsonAsync($"/api/projects/queue/datasets/data/uploads/{session}/commit", new CommitRequest("via worker", null, false));
        var run = (await accepted.Content.ReadFromJsonAsync<RunDto>())!;

        // Nothing executes it yet: the server does not run work.
        await Task.Delay(1500);
        Assert.Equal("queued", (await client.GetFromJsonAsync<RunDto>($"/api/runs/{run.Id}"))!.State);

        var workerArgs = app.Settings().Concat(shared).Where(kv => kv.Value is not null)
            .SelectMany(kv => new[] { $"--{kv.Key}", kv.Value! }).ToArray();
        using var worker = CubeApp.BuildBackground(workerArgs, HostRole.Worker);
        await worker.StartAsync(TestContext.Current.CancellationToken);
        try
        {
            var deadline = DateTime.UtcNow.AddSeconds(60);
            RunDto current;
            do
            {
                await Task.Delay(200);
                current = (await client.GetFromJsonAsync<RunDto>($"/api/runs/{run.Id}"))!;
                Assert.True(DateTime.UtcNow < deadline, $"the worker never finished the run ({current.State})");
            }
            while (current.State is "queued" or "running");
            Assert.Equal("succeeded", current.State);
            var version = await client.GetFromJsonAsync<VersionDto>("/api/projects/queue/datasets/data/versions/latest");
            Assert.Equal(1, version!.Number);
        }
        finally
        {
            await worker.StopAsync(TestContext.Current.CancellationToken);
        }
    }
}
