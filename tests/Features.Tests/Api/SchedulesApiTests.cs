using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Cube.Features.Apis;
using Cube.Features.Schedules;
using Cube.Features.Tests.Schedules;
using Cube.Testing;
using Hangfire;
using Hangfire.Storage;
using Microsoft.Extensions.DependencyInjection;

namespace Cube.Features.Tests.Api;

/// <summary>The schedules API: CRUD, validation, recurring jobs, run now, fires and authorisation, on SQLite and PostgreSQL.</summary>
public abstract class SchedulesApiTests(CubeAppFixture app)
{
    private static async Task<JsonElement> ProblemAsync(HttpResponseMessage response, HttpStatusCode status)
    {
        Assert.Equal(status, response.StatusCode);
        return await response.Content.ReadFromJsonAsync<JsonElement>();
    }

    private RecurringJobDto? RecurringJob(Guid scheduleId)
    {
        using var connection = app.Factory.Services.GetRequiredService<JobStorage>().GetConnection();
        return connection.GetRecurringJobs().SingleOrDefault(j => j.Id == ScheduleRegistrar.JobId(scheduleId));
    }

    [Fact]
    public async Task Schedules_AreCreatedChangedPausedAndDeleted_WithTheirRecurringJobs()
    {
        var h = await ScheduleHarness.CreateAsync(app);
        var root = $"{h.Root}/schedules";
        var created = await h.Http.PostAsJsonAsync(root, ScheduleHarness.Request("nightly", "30 2 * * *", "Europe/Paris") with
        {
            Inputs = new() { ["events"] = new ScheduleInput(null, "prod") },
        });
        var schedule = (await ProblemlessAsync<ScheduleDto>(created, HttpStatusCode.Created))!;
        Assert.Equal(("daily", "30 2 * * *", "Europe/Paris", 1, true, "prod"), (schedule.Pipeline, schedule.Cron, schedule.TimeZone, schedule.MaxConcurrentRuns, schedule.Enabled, schedule.Inputs["events"].Tag));
        Assert.NotNull(schedule.NextFireAt);
        var job = RecurringJob(schedule.Id);
        Assert.NotNull(job);
        Assert.Equal(("30 2 * * *", "Europe/Paris"), (job.Cron, job.TimeZoneId));

        await ProblemAsync(await h.Http.PostAsJsonAsync(root, ScheduleHarness.Request("nightly")), HttpStatusCode.Conflict);
        Assert.Equal(["nightly"], (await h.Http.GetFromJsonAsync<List<ScheduleDto>>(root))!.Select(s => s.Name));

        var updated = await h.Http.PutAsJsonAsync($"{root}/nightly", ScheduleHarness.Request("nightly", "0 4 * * 1-5", "UTC", maxConcurrentRuns: 3, maxRetries: 2));
        Assert.Equal(("0 4 * * 1-5", 3, 2), await updated.Content.ReadFromJsonAsync<ScheduleDto>() is { } u ? (u.Cron, u.MaxConcurrentRuns, u.MaxRetries) : default);
        Assert.Equal(("0 4 * * 1-5", "UTC"), (RecurringJob(schedule.Id)!.Cron, RecurringJob(schedule.Id)!.TimeZoneId));

        var paused = await (await h.Http.PostAsync($"{root}/nightly/pause", null)).Content.ReadFromJsonAsync<ScheduleDto>();
        Assert.Equal((false, (DateTimeOffset?)null), (paused!.Enabled, paused.NextFireAt));
        Assert.Null(RecurringJob(schedule.Id));
        var resumed = await (await h.Http.PostAsync($"{root}/nightly/resume", null)).Content.ReadFromJsonAsync<ScheduleDto>();
        Assert.True(resumed!.Enabled);
        Assert.NotNull(RecurringJob(schedule.Id));

        Assert.Equal(HttpStatusCode.NoContent, (await h.Http.DeleteAsync($"{root}/nightly")).StatusCode);
        Assert.Null(RecurringJob(schedule.Id));
        Assert.Equal(HttpStatusCode.NotFound, (await h.Http.GetAsync($"{root}/nightly")).StatusCode);
    }

    [Fact]
    public async Task Create_AnswersAProblemNamingTheField_WhenTheRequestIsInvalid()
    {
        var h = await ScheduleHarness.CreateAsync(app);
        var root = $"{h.Root}/schedules";
        var bad = await ProblemAsync(await h.Http.PostAsJsonAsync(root, ScheduleHarness.Request("x", "0 25 * * *", "Moon/Base") with { MaxConcurrentRuns = 0 }), HttpStatusCode.BadRequest);
        var errors = bad.GetProperty("errors");
        Assert.Contains("not a valid cron expression", errors.GetProperty("cron")[0].GetString());
        Assert.Contains("Moon/Base", errors.GetProperty("timeZone")[0].GetString());
        Assert.True(errors.TryGetProperty("maxConcurrentRuns", out _));

        var seconds = await ProblemAsync(await h.Http.PostAsJsonAsync(root, ScheduleHarness.Request("x", "0 0 3 * * *")), HttpStatusCode.BadRequest);
        Assert.Contains("five", seconds.GetProperty("errors").GetProperty("cron")[0].GetString());
        var pipeline = await ProblemAsync(await h.Http.PostAsJsonAsync(root, ScheduleHarness.Request("x") with { Pipeline = "nope" }), HttpStatusCode.BadRequest);
        Assert.True(pipeline.GetProperty("errors").TryGetProperty("pipeline", out _));
        var output = await ProblemAsync(await h.Http.PostAsJsonAsync(root, ScheduleHarness.Request("x") with { OutputDataset = "nope" }), HttpStatusCode.BadRequest);
        Assert.True(output.GetProperty("errors").TryGetProperty("outputDataset", out _));
        var input = await ProblemAsync(await h.Http.PostAsJsonAsync(root, ScheduleHarness.Request("x") with { Inputs = new() { ["clicks"] = new ScheduleInput(2, null) } }), HttpStatusCode.BadRequest);
        Assert.True(input.GetProperty("errors").TryGetProperty("inputs.clicks", out _));
        var version = await ProblemAsync(await h.Http.PostAsJsonAsync(root, ScheduleHarness.Request("x") with { PipelineVersion = 9 }), HttpStatusCode.BadRequest);
        Assert.True(version.GetProperty("errors").TryGetProperty("pipelineVersion", out _));
        await h.CreateScheduleAsync(ScheduleHarness.Request("ok"));
        var backwards = await ProblemAsync(await h.Http.PostAsJsonAsync($"{root}/ok/backfills", new BackfillRequest(DateTimeOffset.UtcNow, DateTimeOffset.UtcNow.AddDays(-2))), HttpStatusCode.BadRequest);
        Assert.True(backwards.GetProperty("errors").TryGetProperty("to", out _));
    }

    [Fact]
    public async Task RunNow_StartsARun_ThenAnswersConflict_WhenTheLimitIsReached()
    {
        var h = await ScheduleHarness.CreateAsync(app);
        await h.CreateScheduleAsync(ScheduleHarness.Request("now"));
        var started = await h.Http.PostAsync($"{h.Root}/schedules/now/run", null);
        Assert.Equal(HttpStatusCode.Accepted, started.StatusCode);
        var fire = (await started.Content.ReadFromJsonAsync<FireDto>())!;
        Assert.Equal(("manual", "started", "queued"), (fire.Trigger, fire.Outcome, fire.RunState));
        Assert.Equal(1, fire.Inputs!["events"]);

        // This server executes no runs: the first is still queued and holds the only slot.
        var refused = await ProblemAsync(await h.Http.PostAsync($"{h.Root}/schedules/now/run", null), HttpStatusCode.Conflict);
        Assert.Contains("concurrency limit", refused.GetProperty("detail").GetString());
        var fires = await h.Http.GetFromJsonAsync<List<FireDto>>($"{h.Root}/schedules/now/fires");
        Assert.Equal(["skipped_concurrency", "started"], fires!.Select(f => f.Outcome));
        var schedule = await h.Http.GetFromJsonAsync<ScheduleDto>($"{h.Root}/schedules/now");
        Assert.Equal("skipped: concurrency limit", schedule!.LastOutcome);
    }

    [Fact]
    public async Task Schedules_AreReadableByMembers_AndChangeableByManagersOnly()
    {
        var (annotator, annotatorName) = await app.CreateUserClientAsync("annotator");
        var (outsider, _) = await app.CreateUserClientAsync("outsider");
        var h = await ScheduleHarness.CreateAsync(app, (annotatorName, "annotator"));
        await h.CreateScheduleAsync(ScheduleHarness.Request("guarded"));
        var root = $"{h.Root}/schedules";

        Assert.Equal(HttpStatusCode.OK, (await annotator.GetAsync($"{root}/guarded")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await annotator.GetAsync($"{root}/guarded/fires")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await annotator.PostAsJsonAsync(root, ScheduleHarness.Request("mine"))).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await annotator.PutAsJsonAsync($"{root}/guarded", ScheduleHarness.Request("guarded"))).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await annotator.PostAsync($"{root}/guarded/pause", null)).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await annotator.PostAsync($"{root}/guarded/run", null)).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await annotator.PostAsJsonAsync($"{root}/guarded/backfills", new BackfillRequest(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow))).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await annotator.DeleteAsync($"{root}/guarded")).StatusCode);

        Assert.Equal(HttpStatusCode.Forbidden, (await outsider.GetAsync(root)).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await outsider.GetAsync($"{root}/guarded")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await outsider.DeleteAsync($"{root}/guarded")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await app.Anonymous().GetAsync(root)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await h.Http.GetAsync($"{root}/guarded")).StatusCode);
    }

    private static async Task<T?> ProblemlessAsync<T>(HttpResponseMessage response, HttpStatusCode status)
    {
        if (response.StatusCode != status) Assert.Fail($"{(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
        return await response.Content.ReadFromJsonAsync<T>();
    }
}

[Collection(nameof(ApiCollection))]
public sealed class SqliteSchedulesApiTests(SqliteSchedulesApp app) : SchedulesApiTests(app), IClassFixture<SqliteSchedulesApp>;

[Collection(nameof(ApiCollection))]
public sealed class PostgresSchedulesApiTests(PostgresSchedulesApp app) : SchedulesApiTests(app), IClassFixture<PostgresSchedulesApp>;
