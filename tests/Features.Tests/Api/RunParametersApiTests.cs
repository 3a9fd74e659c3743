using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Cube.Core.Apis;
using Cube.Core.Runs;
using Cube.DataHub.Apis;
using Cube.Features.Apis;
using Cube.Features.Tests.Schedules;
using Cube.Testing;

namespace Cube.Features.Tests.Api;

/// <summary>Run parameters ({{ds}}, {{ts}}, {{params.NAME}}) through the API: validation, manual runs, previews and a backfill, on SQLite and PostgreSQL.</summary>
public abstract class RunParametersApiTests(CubeAppFixture app)
{
    private const string PerDay = """
        name: perday
        params:
          min_amount: 0
        inputs:
          events: {dataset: events, table: events.csv}
        steps:
          - {name: today, op: filter, expr: "seen_at >= '{{ds}}' and seen_at <= '{{ds}}T23:59:59Z' and amount > {{params.min_amount}}"}
        output: today
        publish: {tag: "ds-{{ds}}", message: "Events of {{ds}} above {{params.min_amount}}"}
        """;

    // Three days of events: 2 rows with a positive amount on the 1st, 3 on the 2nd, 1 on the 3rd.
    private const string Events = """
        id,amount,seen_at
        1,2.5,2030-01-01T08:00:00Z
        2,-1,2030-01-01T09:00:00Z
        3,4,2030-01-01T23:30:00Z
        4,1,2030-01-02T00:10:00Z
        5,6,2030-01-02T12:00:00Z
        6,7.5,2030-01-02T18:00:00Z
        7,3,2030-01-03T06:00:00Z

        """;

    private static async Task<ScheduleHarness> SetUpAsync(CubeAppFixture app)
    {
        var h = await ScheduleHarness.CreateAsync(app);
        await h.PushEventsAsync(Events);
        return h;
    }

    private static async Task<JsonElement> ProblemAsync(HttpResponseMessage response, HttpStatusCode status)
    {
        Assert.True(response.StatusCode == status, $"{(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
        return await response.Content.ReadFromJsonAsync<JsonElement>();
    }

    private static async Task<(int Version, long Rows, string Message, JsonElement Source)> OutputAsync(ScheduleHarness h, string reference)
    {
        var version = (await h.Http.GetFromJsonAsync<VersionDto>($"/api/projects/{h.Project}/datasets/out/versions/{reference}"))!;
        var tables = await h.Http.GetFromJsonAsync<JsonElement>($"/api/projects/{h.Project}/datasets/out/versions/{version.Number}/tables");
        return (version.Number, tables[0].GetProperty("rowCount").GetInt64(), version.Message, version.Source!.Value);
    }

    [Fact]
    public async Task Validate_NamesUnknownParameters_AndRunsRefuseUndeclaredOverrides()
    {
        var h = await SetUpAsync(app);
        var root = $"{h.Root}/pipelines";
        var typo = await ProblemAsync(await h.Http.PostAsJsonAsync($"{root}/validate",
            new PipelineRequest(null, PerDay.Replace("amount > {{params.min_amount}}", "amount > {{params.min_amonut}}", StringComparison.Ordinal))), HttpStatusCode.UnprocessableEntity);
        var error = Assert.Single(typo.GetProperty("errors").EnumerateArray());
        Assert.Equal(("today", "expr"), (error.GetProperty("step").GetString(), error.GetProperty("field").GetString()));
        Assert.Contains("Did you mean '{{params.min_amount}}'?", error.GetProperty("message").GetString(), StringComparison.Ordinal);

        // The spec validates with today's date, and is stored with its placeholders.
        var created = await h.Http.PostAsJsonAsync(root, new PipelineRequest("perday", PerDay));
        await ScheduleHarness.Ensure(created);
        var stored = (await created.Content.ReadFromJsonAsync<PipelineDto>())!;
        Assert.Contains("{{ds}}", stored.Spec["steps"]![0]!["expr"]!.GetValue<string>(), StringComparison.Ordinal);

        var undeclared = await ProblemAsync(await h.Http.PostAsJsonAsync($"{root}/perday/runs",
            new RunRequest("out") { Ds = "2030-01-32", Parameters = new() { ["min_amout"] = "3" } }), HttpStatusCode.BadRequest);
        var errors = undeclared.GetProperty("errors");
        Assert.Contains("Did you mean 'min_amount'?", errors.GetProperty("parameters.min_amout")[0].GetString(), StringComparison.Ordinal);
        Assert.True(errors.TryGetProperty("ds", out _));

        // A preview for a date and an override filters as the run will.
        var preview = await h.Http.PostAsJsonAsync($"{root}/perday/preview", new PreviewRequest(null, 100, 10) { Ds = "2030-01-02", Parameters = new() { ["min_amount"] = "5" } });
        await ScheduleHarness.Ensure(preview);
        var step = (await preview.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("steps")[0];
        Assert.Equal(2, step.GetProperty("rows").GetInt64());

        var started = await h.Http.PostAsJsonAsync($"{root}/perday/runs", new RunRequest("out") { Ds = "2030-01-02", Parameters = new() { ["min_amount"] = "5" } });
        Assert.Equal(HttpStatusCode.Accepted, started.StatusCode);
        var run = await h.ExecuteAsync((await started.Content.ReadFromJsonAsync<RunDto>())!.Id);
        Assert.True(run.State == RunState.Succeeded, run.Error);
        var output = await OutputAsync(h, "ds-2030-01-02");
        Assert.Equal((1, 2L, "Events of 2030-01-02 above 5"), (output.Version, output.Rows, output.Message));
        Assert.Equal("5", output.Source.GetProperty("parameters").GetProperty("min_amount").GetString());

        // The online transform answers with the fitted run's date and parameters.
        var online = await h.Http.PostAsJsonAsync($"{root}/perday/transform", new TransformRequest([
            new() { ["id"] = 1, ["amount"] = 6, ["seen_at"] = "2030-01-02T10:00:00Z" },
            new() { ["id"] = 2, ["amount"] = 4, ["seen_at"] = "2030-01-02T10:00:00Z" },
            new() { ["id"] = 3, ["amount"] = 9, ["seen_at"] = "2030-01-03T10:00:00Z" },
        ]));
        await ScheduleHarness.Ensure(online);
        Assert.Equal([1L], (await online.Content.ReadFromJsonAsync<TransformDto>())!.Rows.Select(r => r["id"]!.GetValue<long>()));
    }

    [Fact]
    public async Task Backfill_WritesOneTaggedVersionPerLogicalDate_WithThatDatesRows()
    {
        var h = await SetUpAsync(app);
        await ScheduleHarness.Ensure(await h.Http.PostAsJsonAsync($"{h.Root}/pipelines", new PipelineRequest("perday", PerDay)));
        await h.CreateScheduleAsync(ScheduleHarness.Request("perday", "0 3 * * *", "UTC", maxConcurrentRuns: 3, skipWhenUnchanged: true) with { Pipeline = "perday" });

        var response = await h.Http.PostAsJsonAsync($"{h.Root}/schedules/perday/backfills",
            new BackfillRequest(new DateTimeOffset(2030, 1, 1, 0, 0, 0, TimeSpan.Zero), new DateTimeOffset(2030, 1, 3, 12, 0, 0, TimeSpan.Zero)));
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var backfill = (await response.Content.ReadFromJsonAsync<BackfillDto>())!;
        Assert.Equal((3, 3), (backfill.Total, backfill.Running));

        // The three dates share one input version, yet each is its own run: the rendered spec differs per date.
        var fires = (await h.Http.GetFromJsonAsync<List<FireDto>>($"{h.Root}/schedules/perday/fires"))!.OrderBy(f => f.LogicalDate).ToList();
        Assert.Equal(["2030-01-01", "2030-01-02", "2030-01-03"], fires.Select(f => f.Ds));
        Assert.All(fires, f => Assert.Equal("started", f.Outcome));
        foreach (var fire in fires.AsEnumerable().Reverse())
        {
            var run = await h.ExecuteAsync(fire.RunId!.Value);
            Assert.True(run.State == RunState.Succeeded, run.Error);
        }

        Assert.Equal((2L, "Events of 2030-01-01 above 0"), await OutputAsync(h, "ds-2030-01-01") is var first ? (first.Rows, first.Message) : default);
        Assert.Equal(3L, (await OutputAsync(h, "ds-2030-01-02")).Rows);
        var third = await OutputAsync(h, "ds-2030-01-03");
        Assert.Equal((1, 1L), (third.Version, third.Rows));
        Assert.Equal(("2030-01-03", "2030-01-03T03:00:00+00:00"), (third.Source.GetProperty("ds").GetString(), third.Source.GetProperty("logicalDate").GetString()));
        var rows = await h.Http.GetFromJsonAsync<JsonElement>($"/api/projects/{h.Project}/datasets/out/versions/ds-2030-01-02/table/preview?path=perday.parquet&limit=10");
        Assert.Equal([4L, 5L, 6L], rows.GetProperty("rows").EnumerateArray().Select(r => r.GetProperty("id").GetInt64()).Order());

        var progress = (await h.Http.GetFromJsonAsync<BackfillDto>($"{h.Root}/schedules/perday/backfills/{backfill.Id}"))!;
        Assert.Equal((3, 3, true), (progress.Completed, progress.Succeeded, progress.Done));
    }

    [Fact]
    public async Task Schedule_GivesItsParameterValuesToEveryFire_AndRefusesUndeclaredOnes()
    {
        var h = await SetUpAsync(app);
        await ScheduleHarness.Ensure(await h.Http.PostAsJsonAsync($"{h.Root}/pipelines", new PipelineRequest("perday", PerDay)));
        var request = ScheduleHarness.Request("perday", "0 3 * * *", "UTC") with { Pipeline = "perday" };

        var typo = await h.Http.PostAsJsonAsync($"{h.Root}/schedules", request with { Parameters = new() { ["min_amont"] = "5" } });
        var problem = await ProblemAsync(typo, HttpStatusCode.BadRequest);
        Assert.Contains("min_amount", problem.GetProperty("errors").GetProperty("parameters.min_amont")[0].GetString());

        await h.CreateScheduleAsync(request with { Parameters = new() { ["min_amount"] = "5" } });
        var schedule = (await h.Http.GetFromJsonAsync<ScheduleDto>($"{h.Root}/schedules/perday"))!;
        Assert.Equal("5", schedule.Parameters["min_amount"]);
        var day = new DateTimeOffset(2030, 1, 2, 0, 0, 0, TimeSpan.Zero);
        await ScheduleHarness.Ensure(await h.Http.PostAsJsonAsync($"{h.Root}/schedules/perday/backfills", new BackfillRequest(day, day.AddHours(12))));
        var fire = Assert.Single((await h.Http.GetFromJsonAsync<List<FireDto>>($"{h.Root}/schedules/perday/fires"))!);
        var run = await h.ExecuteAsync(fire.RunId!.Value);
        Assert.True(run.State == RunState.Succeeded, run.Error);
        var output = await OutputAsync(h, "ds-2030-01-02");
        Assert.Equal((2L, "Events of 2030-01-02 above 5"), (output.Rows, output.Message));
    }
}

[Collection(nameof(ApiCollection))]
public sealed class SqliteRunParametersApiTests(SqliteSchedulesApp app) : RunParametersApiTests(app), IClassFixture<SqliteSchedulesApp>;

[Collection(nameof(ApiCollection))]
public sealed class PostgresRunParametersApiTests(PostgresSchedulesApp app) : RunParametersApiTests(app), IClassFixture<PostgresSchedulesApp>;
