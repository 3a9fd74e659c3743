using System.Net;
using System.Net.Http.Json;
using Cube.Labeling.Apis;
using Cube.Labeling.Quality;
using Cube.Testing;

namespace Cube.Labeling.Tests.Api;

/// <summary>Agreement, gold accuracy with verdicts, and consensus over a real project's annotations, on both databases.</summary>
public abstract class QualityApiTests(CubeAppFixture app, ShiftedTime time)
{
    private static readonly Dictionary<string, string> Truth = new()
    {
        ["r0"] = "positive", ["r1"] = "negative", ["r2"] = "positive", ["r3"] = "negative",
        ["g0"] = "positive", ["g1"] = "negative", ["g2"] = "positive", ["g3"] = "negative",
    };

    [Fact]
    public async Task Quality_ScoresGoldAndAgreement_AndConsensusFollowsTheMajority()
    {
        var (manager, managerName) = await app.CreateUserClientAsync("manager");
        var names = new List<string>();
        var clients = new List<HttpClient>();
        foreach (var who in new[] { "careful", "mostly", "sloppy" })
        {
            var (client, name) = await app.CreateUserClientAsync(who);
            clients.Add(client);
            names.Add(name);
        }
        var (idle, idleName) = await app.CreateUserClientAsync("idle");
        var project = await app.CreateProjectAsync([(managerName, "manager"), (idleName, "annotator"), .. names.Select(n => (n, "annotator"))]);
        var lead = new LabelingClient(manager, project);
        var lp = await lead.CreateAsync("sentiment", LabelingClient.Classes("positive", "negative", "neutral"), overlap: 3, goldRate: 0.5);
        var tasks = Truth.Select(t => new NewTaskRequest(LabelingClient.Json(new { text = t.Key }), 0, t.Key.StartsWith('g'),
            t.Key.StartsWith('g') ? LabelingClient.Json(new { labels = new[] { t.Value } }) : null)).ToList();
        await LabelingClient.EnsureAsync(await manager.PostAsJsonAsync($"{lead.Of(lp.Id)}/tasks", new AddTasksRequest(tasks)));

        // idle takes the first task and skips it; the task goes back to the pool for the others.
        var idler = new LabelingClient(idle, project);
        var skipped = (await idler.NextAsync(lp.Id))!;
        await LabelingClient.EnsureAsync(await idle.PostAsJsonAsync($"{lead.Of(lp.Id)}/tasks/{skipped.Task.Id}/skip", new SkipRequest("not sure", 700),
            TestContext.Current.CancellationToken));

        // careful: always right. mostly: wrong once on an ordinary task. sloppy: right on ordinary tasks, wrong on every gold one.
        for (var who = 0; who < 3; who++)
        {
            var annotator = new LabelingClient(clients[who], project);
            var done = 0;
            while (await annotator.NextAsync(lp.Id) is { } lease)
            {
                var text = lease.Task.Data.GetProperty("text").GetString()!;
                var answer = (who, text) switch
                {
                    (1, "r3") => "neutral",
                    (2, _) when text.StartsWith('g') => "neutral",
                    _ => Truth[text],
                };
                // Time per task: careful 1 s each, mostly 3 s each, sloppy 0.5 s, 1 s, … 4 s (median 2.25 s).
                var ms = who switch { 0 => 1000, 1 => 3000, _ => 500L * (done + 1) };
                await LabelingClient.EnsureAsync(await annotator.SaveAsync(lp.Id, lease.Task.Id, new { labels = new[] { answer } }, timeSpentMs: ms));
                done++;
            }
            Assert.Equal(8, done);
            // Each annotator works on a later day: careful two days ago, mostly yesterday, sloppy today.
            if (who < 2) time.Advance(TimeSpan.FromDays(1));
        }

        var report = (await manager.GetFromJsonAsync<QualityReportDto>($"{lead.Of(lp.Id)}/quality?minGold=2", TestContext.Current.CancellationToken))!;
        Assert.Equal((8, 24), (report.Tasks, report.Annotations));
        var gold = report.Gold.ToDictionary(g => g.Annotator);
        var ids = await Task.WhenAll(clients.Select(async c => (await c.GetFromJsonAsync<System.Text.Json.JsonElement>("/api/me")).GetProperty("user").GetProperty("id").GetString()!));
        Assert.Equal((4, 1.0, "ok"), (gold[ids[0]].GoldTasks, gold[ids[0]].Accuracy, gold[ids[0]].Verdict));
        Assert.Equal(1.0, gold[ids[1]].Accuracy);
        Assert.Equal((0.0, "pause"), (gold[ids[2]].Accuracy, gold[ids[2]].Verdict));
        Assert.Equal(3, report.Agreement!.Pairs.Count);

        // Throughput: the three who annotated submitted 8 each, idle submitted none and skipped one.
        var idleId = (await idle.GetFromJsonAsync<System.Text.Json.JsonElement>("/api/me", TestContext.Current.CancellationToken)).GetProperty("user").GetProperty("id").GetString()!;
        var throughput = report.Annotators.ToDictionary(a => a.Annotator);
        // Most submitted first, ties by id.
        Assert.Equal([.. ids.Order(StringComparer.Ordinal), idleId], report.Annotators.Select(a => a.Annotator));
        Assert.Equal((0, 1, (long?)null, (DateTimeOffset?)null, 0), (throughput[idleId].Submitted, throughput[idleId].Skipped, throughput[idleId].MedianMsPerTask,
            throughput[idleId].LastSubmittedAt, throughput[idleId].PerDay.Sum(d => d.Submitted)));
        Assert.Equal([1000L, 3000L, 2250L], ids.Select(i => throughput[i].MedianMsPerTask!.Value));
        var today = DateOnly.FromDateTime(time.GetUtcNow().UtcDateTime);
        for (var who = 0; who < 3; who++)
        {
            var line = throughput[ids[who]];
            Assert.Equal((8, 0), (line.Submitted, line.Skipped));
            Assert.Equal(14, line.PerDay.Count);
            Assert.Equal(today.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture), line.PerDay[^1].Day);
            // All eight on the day the annotator worked (the clock moved a day between annotators), none on the others.
            var day = DateOnly.FromDateTime(line.LastSubmittedAt!.Value.UtcDateTime);
            Assert.Equal(today.AddDays(who - 2), day);
            Assert.Equal([8], line.PerDay.Where(d => d.Submitted > 0).Select(d => d.Submitted));
            Assert.Equal(day.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture), line.PerDay.Single(d => d.Submitted > 0).Day);
        }
        Assert.InRange(report.Agreement.FleissKappa!.Value, 0, 0.999);
        Assert.Equal(7.0 / 8, report.Agreement.Pairs.Single(p => new[] { p.A, p.B }.Order().SequenceEqual(new[] { ids[0], ids[1] }.Order())).ObservedAgreement!.Value, 9);

        var consensus = (await manager.GetFromJsonAsync<List<TaskConsensusDto>>($"{lead.Of(lp.Id)}/consensus?method=mv", TestContext.Current.CancellationToken))!;
        Assert.Equal(8, consensus.Count);
        Assert.All(consensus, c => Assert.Equal(3, c.Annotations));
        // r3 and the four gold tasks have one dissenting vote; the other three are unanimous. Every label is the truth.
        Assert.Equal(5, consensus.Count(c => Math.Abs(c.Confidence - 2.0 / 3) < 1e-9));
        Assert.Equal(3, consensus.Count(c => c.Confidence == 1));
        Assert.All(consensus, c => Assert.NotEqual("neutral", c.Label));
        var ds = (await manager.GetFromJsonAsync<List<TaskConsensusDto>>($"{lead.Of(lp.Id)}/consensus?method=ds", TestContext.Current.CancellationToken))!;
        Assert.Equal(8, ds.Count);

        // Annotators do not see quality reports; unknown methods are a 400 naming the parameter.
        Assert.Equal(HttpStatusCode.Forbidden, (await clients[0].GetAsync($"{lead.Of(lp.Id)}/quality", TestContext.Current.CancellationToken)).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await manager.GetAsync($"{lead.Of(lp.Id)}/consensus?method=vote", TestContext.Current.CancellationToken)).StatusCode);
    }
}

public sealed class SqliteQualityApiTests(SqliteLabelingApp app) : QualityApiTests(app, app.Time), IClassFixture<SqliteLabelingApp>;

public sealed class PostgresQualityApiTests(PostgresLabelingApp app) : QualityApiTests(app, app.Time), IClassFixture<PostgresLabelingApp>;
