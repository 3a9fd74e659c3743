using System.Net.Http.Json;
using System.Text;
using Cube.Core.Apis;
using Cube.Core.Data;
using Cube.Core.Runs;
using Cube.DataHub.Apis;
using Cube.Features.Apis;
using Cube.Features.Data;
using Cube.Features.Schedules;
using Cube.Testing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace Cube.Features.Tests.Schedules;

/// <summary>
/// Servers for schedule tests: they execute no runs by themselves and do not supervise schedules in the background,
/// so a test decides when a queued run executes (<see cref="ScheduleHarness.ExecuteAsync"/>) and when the schedule
/// is looked at, on a clock it controls.
/// </summary>
internal static class SchedulesAppSettings
{
    public static IDictionary<string, string?> Values => new Dictionary<string, string?>
    {
        ["Cube:Runs:ExecuteInServer"] = "false",
        ["Cube:Features:Schedules:Supervise"] = "false",
    };
}

public sealed class SqliteSchedulesApp : SqliteCubeApp
{
    protected override IDictionary<string, string?> FixtureSettings => SchedulesAppSettings.Values;
}

public sealed class PostgresSchedulesApp : PostgresCubeApp
{
    protected override IDictionary<string, string?> FixtureSettings => SchedulesAppSettings.Values;
}

/// <summary>A project with an <c>events</c> dataset, an <c>out</c> dataset and a <c>daily</c> pipeline over events, and helpers to drive schedules.</summary>
public sealed class ScheduleHarness
{
    public const string Pipeline = """
        name: daily
        inputs:
          events: {dataset: events, table: events.csv}
        steps:
          - {name: positive, op: filter, expr: amount > 0}
        output: positive
        """;

    private ScheduleHarness(CubeAppFixture app, HttpClient http, string project)
    {
        App = app;
        Http = http;
        Project = project;
    }

    public CubeAppFixture App { get; }
    public HttpClient Http { get; }
    public string Project { get; }
    public string Root => $"/api/projects/{Project}/features";

    public static async Task<ScheduleHarness> CreateAsync(CubeAppFixture app, params (string UserName, string Role)[] others)
    {
        var (http, name) = await app.CreateUserClientAsync("sched");
        var project = await app.CreateProjectAsync([(name, "manager"), .. others]);
        var harness = new ScheduleHarness(app, http, project);
        foreach (var dataset in new[] { "events", "out" }) await harness.CreateDatasetAsync(dataset);
        await harness.PushEventsAsync("id,amount\n1,2.5\n2,-1\n3,4\n");
        await Ensure(await http.PostAsJsonAsync($"{harness.Root}/pipelines", new PipelineRequest("daily", Pipeline)));
        return harness;
    }

    public async Task CreateDatasetAsync(string name) =>
        await Ensure(await Http.PostAsJsonAsync($"/api/projects/{Project}/datasets", new CreateDatasetRequest(name, "test", "tabular", null)));

    /// <summary>Commits a new version of the events dataset.</summary>
    public async Task PushEventsAsync(string csv)
    {
        var session = (await (await Http.PostAsync($"/api/projects/{Project}/datasets/events/uploads", null)).Content.ReadFromJsonAsync<UploadSessionDto>())!.Id;
        await Ensure(await Http.PutAsync($"/api/projects/{Project}/datasets/events/uploads/{session}/files/events.csv", new ByteArrayContent(Encoding.UTF8.GetBytes(csv))));
        var commit = await Http.PostAsJsonAsync($"/api/projects/{Project}/datasets/events/uploads/{session}/commit", new CommitRequest("events", "merge", false));
        await Ensure(commit);
        // These servers execute no runs themselves: the commit runs here.
        var run = await ExecuteAsync((await commit.Content.ReadFromJsonAsync<RunDto>())!.Id);
        if (run.State != RunState.Succeeded) throw new InvalidOperationException($"Committing events failed: {run.Error}");
    }

    public async Task<ScheduleDto> CreateScheduleAsync(ScheduleRequest request)
    {
        var response = await Http.PostAsJsonAsync($"{Root}/schedules", request);
        await Ensure(response);
        return (await response.Content.ReadFromJsonAsync<ScheduleDto>())!;
    }

    public static ScheduleRequest Request(string name, string cron = "0 3 * * *", string? timeZone = "UTC", int? maxConcurrentRuns = null, int? maxRetries = null,
        int? retryDelaySeconds = null, bool? skipWhenUnchanged = null) =>
        new(name, "daily", cron, timeZone, "out", null, null, maxConcurrentRuns, maxRetries, retryDelaySeconds, skipWhenUnchanged, null);

    /// <summary>The schedule service of a fresh scope, on the given clock.</summary>
    public (AsyncServiceScope Scope, ScheduleService Service) Service(FakeTimeProvider clock)
    {
        var scope = App.Factory.Services.CreateAsyncScope();
        return (scope, ActivatorUtilities.CreateInstance<ScheduleService>(scope.ServiceProvider, clock));
    }

    /// <summary>Executes a queued run here and now, as a worker would, and returns how it ended.</summary>
    public async Task<Run> ExecuteAsync(Guid runId)
    {
        await using (var scope = App.Factory.Services.CreateAsyncScope())
            await scope.ServiceProvider.GetRequiredService<RunExecutor>().ExecuteAsync(runId, CancellationToken.None);
        return await RunAsync(runId);
    }

    public async Task<Run> RunAsync(Guid runId)
    {
        await using var scope = App.Factory.Services.CreateAsyncScope();
        return await scope.ServiceProvider.GetRequiredService<CoreDbContext>().Runs.AsNoTracking().FirstAsync(r => r.Id == runId);
    }

    public async Task<List<ScheduleFire>> FiresAsync(Guid scheduleId)
    {
        await using var scope = App.Factory.Services.CreateAsyncScope();
        return await scope.ServiceProvider.GetRequiredService<FeaturesDbContext>().ScheduleFires.AsNoTracking()
            .Where(f => f.ScheduleId == scheduleId).ToListAsync();
    }

    public static async Task Ensure(HttpResponseMessage response)
    {
        if (!response.IsSuccessStatusCode)
            throw new HttpRequestException($"{(int)response.StatusCode} {response.RequestMessage?.RequestUri}: {await response.Content.ReadAsStringAsync()}");
    }
}
