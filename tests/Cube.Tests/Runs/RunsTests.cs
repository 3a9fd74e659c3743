using System.Text.Json;
using Cube.Core.Apis;
using Cube.Core.Data;
using Cube.Core.Runs;
using Microsoft.AspNetCore.Mvc.Testing;

namespace Cube.Tests.Runs;

/// <summary>A run kind for exercising the run machinery: waits on a gate the test controls, reporting progress.</summary>
public sealed class GatedHandler(string kind, bool idempotent) : IRunHandler
{
    public string Kind => kind;
    public bool Idempotent => idempotent;
    public TaskCompletionSource Gate { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    public TaskCompletionSource Started { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    public int Executions;

    public async Task<object?> ExecuteAsync(RunContext context, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref Executions);
        var parameters = context.GetParameters<GateParameters>();
        await context.ReportAsync(10, "started");
        Started.TrySetResult();
        await Gate.Task.WaitAsync(cancellationToken);
        if (parameters.Fail) throw new InvalidOperationException("asked to fail");
        await context.ReportAsync(100, "done");
        return new { echoed = parameters.Value };
    }
}

public sealed record GateParameters(string Value, bool Fail = false);

public abstract class RunsTests(CubeAppFixture app)
{
    private static async Task<RunDto> WaitForAsync(HttpClient client, Guid id, Func<RunDto, bool> condition)
    {
        var deadline = DateTime.UtcNow.AddSeconds(90);
        while (true)
        {
            var run = (await client.GetFromJsonAsync<RunDto>($"/api/runs/{id}"))!;
            if (condition(run)) return run;
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"Run {id} stayed {run.State} ({run.Message})");
            await Task.Delay(50);
        }
    }

    private (WebApplicationFactory<Program> Factory, GatedHandler Handler) Server(string kind, bool idempotent = true, IDictionary<string, string?>? settings = null)
    {
        var handler = new GatedHandler(kind, idempotent);
        var factory = app.WithSettings(settings ?? new Dictionary<string, string?>(), s => s.AddSingleton<IRunHandler>(handler));
        return (factory, handler);
    }

    private static async Task<Run> EnqueueAsync(WebApplicationFactory<Program> factory, string kind, GateParameters parameters, Guid? projectId = null, Guid? owner = null)
    {
        using var scope = factory.Services.CreateScope();
        return await scope.ServiceProvider.GetRequiredService<RunService>().EnqueueAsync(kind, parameters, owner, projectId);
    }

    private static HttpClient AdminClient(WebApplicationFactory<Program> factory)
    {
        var client = factory.CreateClient(new WebApplicationFactoryClientOptions { HandleCookies = true });
        client.PostAsJsonAsync("/api/auth/sign-in", new SignInRequest(CubeAppFixture.AdminUser, CubeAppFixture.AdminPassword)).Result.EnsureSuccessStatusCode();
        return client;
    }

    [Fact]
    public async Task Run_ReportsProgressAndResult_WhenHandlerSucceeds()
    {
        var (factory, handler) = Server("test.success");
        await using var _ = factory;
        using var client = AdminClient(factory);
        var run = await EnqueueAsync(factory, "test.success", new GateParameters("hello"));

        await handler.Started.Task.WaitAsync(TimeSpan.FromSeconds(90));
        var running = await WaitForAsync(client, run.Id, r => r.State == "running" && r.Progress >= 10);
        Assert.Equal("started", running.Message);

        handler.Gate.SetResult();
        var done = await WaitForAsync(client, run.Id, r => r.State == "succeeded");
        Assert.Equal(100, done.Progress);
        Assert.Equal("hello", done.Result!.Value.GetProperty("echoed").GetString());
        Assert.NotNull(done.FinishedAt);
        Assert.Equal(1, done.Attempt);
    }

    [Fact]
    public async Task Run_FailsWithReason_WhenHandlerThrows()
    {
        var (factory, handler) = Server("test.fail");
        await using var _ = factory;
        using var client = AdminClient(factory);
        var run = await EnqueueAsync(factory, "test.fail", new GateParameters("x", Fail: true));
        handler.Gate.SetResult();
        var failed = await WaitForAsync(client, run.Id, r => r.State == "failed");
        Assert.Contains("asked to fail", failed.Error);
    }

    [Fact]
    public async Task Cancel_StopsARunningRunThroughItsToken()
    {
        var (factory, handler) = Server("test.cancel");
        await using var _ = factory;
        using var client = AdminClient(factory);
        var run = await EnqueueAsync(factory, "test.cancel", new GateParameters("x"));
        await handler.Started.Task.WaitAsync(TimeSpan.FromSeconds(90));

        (await client.PostAsync($"/api/runs/{run.Id}/cancel", null)).EnsureSuccessStatusCode();
        var cancelled = await WaitForAsync(client, run.Id, r => r.State == "cancelled");
        Assert.NotNull(cancelled.FinishedAt);
    }

    [Fact]
    public async Task Events_StreamProgressUntilTheEnd()
    {
        var (factory, handler) = Server("test.sse");
        await using var _ = factory;
        using var client = AdminClient(factory);
        var run = await EnqueueAsync(factory, "test.sse", new GateParameters("x"));
        await handler.Started.Task.WaitAsync(TimeSpan.FromSeconds(90));

        using var response = await client.GetAsync($"/api/runs/{run.Id}/events", HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
        var events = new List<(string Event, JsonElement Data)>();
        string? name = null;
        var released = false;
        while (await reader.ReadLineAsync() is { } line)
        {
            if (line.StartsWith("event: ", StringComparison.Ordinal)) name = line[7..];
            else if (line.StartsWith("data: ", StringComparison.Ordinal)) events.Add((name!, JsonDocument.Parse(line[6..]).RootElement.Clone()));
            if (!released && events.Count > 0)
            {
                released = true;
                handler.Gate.SetResult();
            }
        }
        Assert.Equal("progress", events[0].Event);
        Assert.Equal("running", events[0].Data.GetProperty("state").GetString());
        Assert.Equal("end", events[^1].Event);
        Assert.Equal("succeeded", events[^1].Data.GetProperty("state").GetString());
    }

    [Fact]
    public async Task Runs_AreVisibleOnlyToOwnerProjectMembersAndAdmins()
    {
        var (member, memberName) = await app.CreateUserClientAsync("member");
        var (outsider, _) = await app.CreateUserClientAsync("outsider");
        var slug = await app.CreateProjectAsync((memberName, "viewer"));
        var project = await (await app.AdminAsync()).GetFromJsonAsync<ProjectDto>($"/api/projects/{slug}");

        var (factory, handler) = Server("test.visibility");
        await using var _ = factory;
        handler.Gate.SetResult();
        var run = await EnqueueAsync(factory, "test.visibility", new GateParameters("x"), project!.Id);

        Assert.Equal(HttpStatusCode.OK, (await member.GetAsync($"/api/runs/{run.Id}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await outsider.GetAsync($"/api/runs/{run.Id}")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await member.PostAsync($"/api/runs/{run.Id}/cancel", null)).StatusCode);
        var page = await member.GetFromJsonAsync<Page<RunDto>>($"/api/projects/{slug}/runs");
        Assert.Contains(page!.Items, r => r.Id == run.Id);
    }

    /// <summary>
    /// What a kill -9 leaves behind: rows in Running with the dead worker's id and an old heartbeat, and rows in
    /// Queued whose in-process queue entries died with the process. A restart must re-queue or fail each of them.
    /// </summary>
    [Fact]
    public async Task Restart_RequeuesIdempotentRunsAndFailsOthers_WhenTheirProcessDied()
    {
        var idempotentHandler = new GatedHandler("test.orphan-idempotent", true);
        var unsafeHandler = new GatedHandler("test.orphan-unsafe", false);
        idempotentHandler.Gate.SetResult();
        Guid orphanIdempotent, orphanUnsafe, waiting;
        var stale = DateTimeOffset.UtcNow.AddMinutes(-5);

        await using (var dead = app.WithSettings(new Dictionary<string, string?> { ["Cube:Runs:ExecuteInServer"] = "false" }, s =>
                     {
                         s.AddSingleton<IRunHandler>(idempotentHandler);
                         s.AddSingleton<IRunHandler>(unsafeHandler);
                     }))
        {
            using var scope = dead.Services.CreateScope();
            var db = scope.ServiceProvider.GetRequiredService<CoreDbContext>();
            Run Orphan(string kind, bool idempotent) => new()
            {
                Kind = kind, State = RunState.Running, Idempotent = idempotent, WorkerId = "dead-host/4242/deadbeef",
                Attempt = 1, CreatedAt = stale, StartedAt = stale, HeartbeatAt = stale, Progress = 40,
                ParametersJson = JsonSerializer.Serialize(new GateParameters("again"), new JsonSerializerOptions(JsonSerializerDefaults.Web)),
            };
            var a = Orphan("test.orphan-idempotent", true);
            var b = Orphan("test.orphan-unsafe", false);
            var c = Orphan("test.orphan-idempotent", true);
            c.State = RunState.Queued;
            c.WorkerId = null;
            c.HeartbeatAt = null;
            c.Attempt = 0;
            db.Runs.AddRange(a, b, c);
            await db.SaveChangesAsync();
            (orphanIdempotent, orphanUnsafe, waiting) = (a.Id, b.Id, c.Id);
        }

        await using var restarted = app.WithSettings(new Dictionary<string, string?>(), s =>
        {
            s.AddSingleton<IRunHandler>(idempotentHandler);
            s.AddSingleton<IRunHandler>(unsafeHandler);
        });
        using var client = AdminClient(restarted);

        var requeued = await WaitForAsync(client, orphanIdempotent, r => r.State == "succeeded");
        Assert.Equal(2, requeued.Attempt);
        var failed = await WaitForAsync(client, orphanUnsafe, r => r.State == "failed");
        Assert.Contains("not safe to repeat", failed.Error);
        Assert.Equal(0, unsafeHandler.Executions);
        await WaitForAsync(client, waiting, r => r.State == "succeeded");
    }

    [Fact]
    public async Task ASecondServerStarting_LeavesTheRunningRunsOfALiveOneAlone()
    {
        var (first, handler) = Server("test.two-servers");
        await using var _ = first;
        using var client = AdminClient(first);
        var run = await EnqueueAsync(first, "test.two-servers", new GateParameters("x"));
        await handler.Started.Task.WaitAsync(TimeSpan.FromSeconds(90));

        var (second, secondHandler) = Server("test.two-servers");
        await using var __ = second;
        // The start-up pass of the second server, run here to know it has finished. Other tests of this class share
        // the database and may have left queued runs, which the pass may pick up; what matters is that this run stays
        // with its live worker.
        var recovery = ActivatorUtilities.CreateInstance<RunRecovery>(second.Services);
        await recovery.RecoverAsync(startup: true, CancellationToken.None);
        var after = await client.GetFromJsonAsync<RunDto>($"/api/runs/{run.Id}");
        Assert.Equal(("running", 1), (after!.State, after.Attempt));

        handler.Gate.SetResult();
        var done = await WaitForAsync(client, run.Id, r => r.State == "succeeded");
        Assert.Equal(1, done.Attempt);
        Assert.Equal(0, secondHandler.Executions);
    }

    [Fact]
    public async Task ARunLeftQueuedByAProcessThatDied_IsRunByAServerThatStayedUp()
    {
        var (live, handler) = Server("test.left-queued");
        await using var _ = live;
        handler.Gate.SetResult();
        using var client = AdminClient(live);
        Guid left, fresh;
        using (var scope = live.Services.CreateScope())
        {
            // Two queued rows no queue of this process holds: one from a process gone for minutes, one just queued elsewhere.
            var db = scope.ServiceProvider.GetRequiredService<CoreDbContext>();
            Run Queued(DateTimeOffset at) => new()
            {
                Kind = "test.left-queued", State = RunState.Queued, Idempotent = true, CreatedAt = at, Message = "Queued",
                ParametersJson = JsonSerializer.Serialize(new GateParameters("late"), new JsonSerializerOptions(JsonSerializerDefaults.Web)),
            };
            var a = Queued(DateTimeOffset.UtcNow.AddMinutes(-5));
            var b = Queued(DateTimeOffset.UtcNow);
            db.Runs.AddRange(a, b);
            await db.SaveChangesAsync();
            (left, fresh) = (a.Id, b.Id);
        }

        var recovery = ActivatorUtilities.CreateInstance<RunRecovery>(live.Services);
        Assert.Equal(1, await recovery.RecoverAsync(startup: false, CancellationToken.None));
        Assert.Equal("late", (await WaitForAsync(client, left, r => r.State == "succeeded")).Result!.Value.GetProperty("echoed").GetString());
        Assert.Equal("queued", (await client.GetFromJsonAsync<RunDto>($"/api/runs/{fresh}"))!.State);
        // Queued once per process: the next pass does not queue the same run again.
        Assert.Equal(0, await recovery.RecoverAsync(startup: false, CancellationToken.None));
    }
}

public sealed class SqliteRunsTests(SqliteCubeApp app) : RunsTests(app), IClassFixture<SqliteCubeApp>;

public sealed class PostgresRunsTests(PostgresCubeApp app) : RunsTests(app), IClassFixture<PostgresCubeApp>;
