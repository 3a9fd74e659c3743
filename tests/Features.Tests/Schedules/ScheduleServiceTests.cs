using System.Net.Http.Json;
using Cube.Core.Runs;
using Cube.Features.Apis;
using Cube.Features.Data;
using Cube.Features.Tests.Api;
using Cube.Testing;
using Microsoft.Extensions.Time.Testing;

namespace Cube.Features.Tests.Schedules;

/// <summary>Fires, skips, limits, retries and backfills through the schedule service on a test clock, with real runs, on SQLite and PostgreSQL.</summary>
public abstract class ScheduleServiceTests(CubeAppFixture app)
{
    [Fact]
    public async Task Fire_SkipsTheSecondFire_WhenInputsAreUnchanged_AndRunsAgainOnANewInputVersion()
    {
        var h = await ScheduleHarness.CreateAsync(app);
        var schedule = await h.CreateScheduleAsync(ScheduleHarness.Request("nightly", "0 3 * * *", "Europe/Paris", skipWhenUnchanged: true));
        // 03:00:30 in Paris on 2030-06-15 (summer time: UTC+2).
        var clock = new FakeTimeProvider(new DateTimeOffset(2030, 6, 15, 1, 0, 30, TimeSpan.Zero));
        var (scope, service) = h.Service(clock);
        await using (scope)
        {
            var first = await service.FireAsync(schedule.Id, CancellationToken.None);
            Assert.NotNull(first);
            Assert.Equal(FireOutcome.Started, first.Outcome);
            Assert.Equal(new DateTimeOffset(2030, 6, 15, 1, 0, 0, TimeSpan.Zero), first.LogicalDate);
            // The queue delivering the same occurrence again fires nothing.
            Assert.Null(await service.FireAsync(schedule.Id, CancellationToken.None));

            var run = await h.ExecuteAsync(first.RunId!.Value);
            Assert.True(run.State == RunState.Succeeded, run.Error);
            Assert.Contains("\"ds\":\"2030-06-15\"", run.ParametersJson, StringComparison.Ordinal);
            Assert.Contains("\"pinnedInputs\":{\"events\":1}", run.ParametersJson, StringComparison.Ordinal);

            clock.Advance(TimeSpan.FromDays(1));
            var second = await service.FireAsync(schedule.Id, CancellationToken.None);
            Assert.Equal(FireOutcome.SkippedUnchanged, second!.Outcome);
            Assert.Null(second.RunId);
            Assert.Equal(new DateTimeOffset(2030, 6, 16, 1, 0, 0, TimeSpan.Zero), second.LogicalDate);

            await h.PushEventsAsync("id,amount\n1,2.5\n2,-1\n3,4\n4,8\n");
            clock.Advance(TimeSpan.FromDays(1));
            var third = await service.FireAsync(schedule.Id, CancellationToken.None);
            Assert.Equal(FireOutcome.Started, third!.Outcome);
            Assert.Equal(2, ScheduleServiceJson.Inputs(third)["events"]);
            var output = await h.ExecuteAsync(third.RunId!.Value);
            Assert.True(output.State == RunState.Succeeded, output.Error);
            Assert.Contains("\"rows\":3", output.ResultJson, StringComparison.Ordinal);
        }

        var fires = (await h.Http.GetFromJsonAsync<List<FireDto>>($"{h.Root}/schedules/nightly/fires"))!;
        Assert.Equal(["started", "skipped_unchanged", "started"], fires!.OrderBy(f => f.LogicalDate).Select(f => f.Outcome));
        Assert.Equal(["2030-06-15", "2030-06-16", "2030-06-17"], fires.OrderBy(f => f.LogicalDate).Select(f => f.Ds));
        var dto = await h.Http.GetFromJsonAsync<ScheduleDto>($"{h.Root}/schedules/nightly");
        Assert.Equal(new DateTimeOffset(2030, 6, 18, 1, 0, 0, TimeSpan.Zero), dto!.NextFireAt);
        Assert.Equal([19, 20, 21, 22], dto.UpcomingFires.Select(f => f.Day));
        Assert.All(dto.UpcomingFires, f => Assert.Equal(new TimeSpan(1, 0, 0), f.TimeOfDay));
    }

    [Fact]
    public async Task Fire_SkipsWithConcurrencyLimit_WhenTheLimitIsReached()
    {
        var h = await ScheduleHarness.CreateAsync(app);
        var schedule = await h.CreateScheduleAsync(ScheduleHarness.Request("hourly", "0 * * * *", maxConcurrentRuns: 2));
        var clock = new FakeTimeProvider(new DateTimeOffset(2030, 1, 1, 0, 0, 5, TimeSpan.Zero));
        var (scope, service) = h.Service(clock);
        await using (scope)
        {
            var a = await service.FireAsync(schedule.Id, CancellationToken.None);
            clock.Advance(TimeSpan.FromHours(1));
            var b = await service.RunNowAsync(schedule.Id, CancellationToken.None);
            clock.Advance(TimeSpan.FromHours(1));
            var c = await service.FireAsync(schedule.Id, CancellationToken.None);
            Assert.Equal([FireOutcome.Started, FireOutcome.Started, FireOutcome.SkippedConcurrency], [a!.Outcome, b.Outcome, c!.Outcome]);
            Assert.Contains("2 of 2", c.Detail, StringComparison.Ordinal);

            // A finished run frees its slot.
            Assert.Equal(RunState.Succeeded, (await h.ExecuteAsync(a.RunId!.Value)).State);
            clock.Advance(TimeSpan.FromHours(1));
            var d = await service.FireAsync(schedule.Id, CancellationToken.None);
            Assert.Equal(FireOutcome.Started, d!.Outcome);
            Assert.Equal(RunState.Queued, (await h.RunAsync(d.RunId!.Value)).State);
        }
    }

    [Fact]
    public async Task FailedRun_IsRetriedWithDoublingBackoff_UpToTheLimit()
    {
        var h = await ScheduleHarness.CreateAsync(app);
        var schedule = await h.CreateScheduleAsync(ScheduleHarness.Request("retried", maxRetries: 2, retryDelaySeconds: 60));
        // The output dataset disappears: runs fail until it is back.
        await ScheduleHarness.Ensure(await h.Http.DeleteAsync($"/api/projects/{h.Project}/datasets/out"));
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var (scope, service) = h.Service(clock);
        await using (scope)
        {
            var first = await service.RunNowAsync(schedule.Id, CancellationToken.None);
            var failed = await h.ExecuteAsync(first.RunId!.Value);
            Assert.Equal(RunState.Failed, failed.State);

            clock.SetUtcNow(failed.FinishedAt!.Value + TimeSpan.FromSeconds(59));
            await service.SuperviseAsync(schedule.Id, CancellationToken.None);
            Assert.Single(await h.FiresAsync(schedule.Id));

            clock.SetUtcNow(failed.FinishedAt.Value + TimeSpan.FromSeconds(61));
            await service.SuperviseAsync(schedule.Id, CancellationToken.None);
            var second = Assert.Single(await h.FiresAsync(schedule.Id), f => f.Attempt == 2);
            Assert.Equal((FireTrigger.Retry, FireOutcome.Started, first.LogicalDate, (Guid?)first.Id), (second.Trigger, second.Outcome, second.LogicalDate, second.RetryOfId));
            var failedAgain = await h.ExecuteAsync(second.RunId!.Value);
            Assert.Equal(RunState.Failed, failedAgain.State);

            // The second retry waits twice as long.
            clock.SetUtcNow(failedAgain.FinishedAt!.Value + TimeSpan.FromSeconds(119));
            await service.SuperviseAsync(schedule.Id, CancellationToken.None);
            Assert.Equal(2, (await h.FiresAsync(schedule.Id)).Count);
            clock.SetUtcNow(failedAgain.FinishedAt.Value + TimeSpan.FromSeconds(121));
            await service.SuperviseAsync(schedule.Id, CancellationToken.None);
            var third = Assert.Single(await h.FiresAsync(schedule.Id), f => f.Attempt == 3);

            await h.CreateDatasetAsync("out");
            Assert.Equal(RunState.Succeeded, (await h.ExecuteAsync(third.RunId!.Value)).State);
            clock.Advance(TimeSpan.FromHours(1));
            await service.SuperviseAsync(schedule.Id, CancellationToken.None);
            Assert.Equal(3, (await h.FiresAsync(schedule.Id)).Count);
        }
        var dto = await h.Http.GetFromJsonAsync<ScheduleDto>($"{h.Root}/schedules/retried");
        Assert.Equal("succeeded", dto!.LastOutcome);
    }

    [Fact]
    public async Task Backfill_StartsOneRunPerDateInOrder_WithinTheConcurrencyLimit()
    {
        var h = await ScheduleHarness.CreateAsync(app);
        var schedule = await h.CreateScheduleAsync(ScheduleHarness.Request("backfilled", "0 0 * * *", maxConcurrentRuns: 2, skipWhenUnchanged: true));
        var started = await h.Http.PostAsJsonAsync($"{h.Root}/schedules/backfilled/backfills",
            new BackfillRequest(new DateTimeOffset(2026, 11, 1, 0, 0, 0, TimeSpan.Zero), new DateTimeOffset(2026, 11, 5, 12, 0, 0, TimeSpan.Zero)));
        await ScheduleHarness.Ensure(started);
        var backfill = (await started.Content.ReadFromJsonAsync<BackfillDto>())!;
        Assert.Equal((5, 0, 2, 3, "0 of 5"), (backfill.Total, backfill.Completed, backfill.Running, backfill.Pending, backfill.Progress));

        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var (scope, service) = h.Service(clock);
        var order = new List<DateTimeOffset>();
        await using (scope)
        {
            for (var round = 0; round < 5; round++)
            {
                var fires = await h.FiresAsync(schedule.Id);
                var inFlight = fires.Where(f => f.Outcome == FireOutcome.Started && f.RunState is RunState.Queued).OrderBy(f => f.LogicalDate).ToList();
                Assert.InRange(inFlight.Count, 0, 2);
                if (inFlight.Count == 0) break;
                foreach (var fire in inFlight)
                {
                    order.Add(fire.LogicalDate);
                    Assert.Equal(RunState.Succeeded, (await h.ExecuteAsync(fire.RunId!.Value)).State);
                }
                clock.Advance(TimeSpan.FromSeconds(10));
                await service.SuperviseAsync(schedule.Id, CancellationToken.None);
            }
        }
        // Backfill dates all run (skip-when-unchanged is for cron fires), oldest first.
        Assert.Equal(Enumerable.Range(1, 5).Select(d => new DateTimeOffset(2026, 11, d, 0, 0, 0, TimeSpan.Zero)), order);
        var done = await h.Http.GetFromJsonAsync<BackfillDto>($"{h.Root}/schedules/backfilled/backfills/{backfill.Id}");
        Assert.Equal((5, 5, true, "5 of 5"), (done!.Completed, done.Succeeded, done.Done, done.Progress));
    }
}

internal static class ScheduleServiceJson
{
    public static IReadOnlyDictionary<string, int> Inputs(ScheduleFire fire) =>
        System.Text.Json.JsonSerializer.Deserialize<Dictionary<string, int>>(fire.InputsJson!)!;
}

[Collection(nameof(ApiCollection))]
public sealed class SqliteScheduleServiceTests(SqliteSchedulesApp app) : ScheduleServiceTests(app), IClassFixture<SqliteSchedulesApp>;

[Collection(nameof(ApiCollection))]
public sealed class PostgresScheduleServiceTests(PostgresSchedulesApp app) : ScheduleServiceTests(app), IClassFixture<PostgresSchedulesApp>;
