using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Cube.Testing;
using Cube.Training.Apis;
using Cube.Training.Data;
using Microsoft.Extensions.DependencyInjection;

namespace Cube.Training.Tests.Api;

/// <summary>Hyperparameter studies end to end on a real host: trials are real local processes that print their metric.</summary>
public abstract class StudyApiTests(CubeAppFixture app)
{
    private async Task<(TrainingClient Client, string Project)> ManagerAsync()
    {
        var (http, name) = await app.CreateUserClientAsync("tuner");
        var project = await app.CreateProjectAsync((name, "manager"));
        return (new TrainingClient(http, project), project);
    }

    private static async Task<StudyDetailDto> CreateAsync(TrainingClient client, object spec)
    {
        var response = await TrainingClient.EnsureAsync(await client.Http.PostAsJsonAsync($"{client.Base}/studies", spec, TrainingClient.Json));
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var study = (await response.Content.ReadFromJsonAsync<StudyDto>(TrainingClient.Json))!;
        Assert.EndsWith($"/training/studies/{study.Id}", response.Headers.Location?.ToString());
        return await GetAsync(client, study.Id);
    }

    private static async Task<StudyDetailDto> GetAsync(TrainingClient client, Guid id) =>
        (await client.Http.GetFromJsonAsync<StudyDetailDto>($"{client.Base}/studies/{id}", TrainingClient.Json))!;

    /// <summary>Polls the study until <paramref name="until"/> holds (default: it ended); 180 s is a ceiling for loaded machines, not a timing check.</summary>
    private static async Task<StudyDetailDto> WaitAsync(TrainingClient client, Guid id, Func<StudyDetailDto, bool>? until = null)
    {
        until ??= s => s.Study.State is "succeeded" or "failed" or "cancelled";
        var deadline = DateTime.UtcNow.AddSeconds(180);
        while (true)
        {
            var study = await GetAsync(client, id);
            if (until(study)) return study;
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"Study {id} is still {study.Study.State}: {study.Study.Message}");
            await Task.Delay(100);
        }
    }

    private static double D(string text) => double.Parse(text, CultureInfo.InvariantCulture);

    [Fact]
    public async Task GridStudy_RunsEveryCombination_NeverMoreThanParallelismAtOnce()
    {
        var (client, _) = await ManagerAsync();
        var created = await CreateAsync(client, new
        {
            name = "grid",
            distribution = "local",
            command = new[] { "/bin/sh", "-c", "sleep 0.2; echo metric loss=$(($CUBE_HP_A * 10 + $CUBE_HP_B)) step=1; echo metric loss=$(($CUBE_HP_A + $CUBE_HP_B)) step=2", "trial" },
            hyperparameters = new Dictionary<string, string> { ["fixed"] = "yes" },
            search = new
            {
                strategy = "grid",
                metric = "loss",
                goal = "maximize",
                parallelism = 2,
                space = new { a = new { type = "choice", values = new object[] { 1, 2, 3 } }, b = new { type = "int", low = 0, high = 1 } },
            },
        });
        Assert.Equal(6, created.Study.TrialsTotal);
        Assert.Equal(6, created.Trials.Count);
        // Usually the first two are submitted by the create call itself; if the scheduler's pass held the study, by that pass.
        Assert.InRange(created.Study.TrialsActive, 0, 2);

        var study = await WaitAsync(client, created.Study.Id);
        Assert.True(study.Study.State == "succeeded", $"{study.Study.State}: {study.Study.Message}");
        Assert.Equal((6, 0), (study.Study.TrialsDone, study.Study.TrialsActive));
        // The cartesian product, each combination once, each trial ranked by its last reported value.
        Assert.Equal(["1/0", "1/1", "2/0", "2/1", "3/0", "3/1"], study.Trials.Select(t => $"{t.Params["a"]}/{t.Params["b"]}"));
        foreach (var trial in study.Trials)
        {
            Assert.Equal("succeeded", trial.State);
            Assert.Equal(D(trial.Params["a"]) + D(trial.Params["b"]), trial.Metric);
            Assert.Contains("Completed", trial.StopReason);
        }
        Assert.Equal(("3", "1", 4.0), (study.Best!.Params["a"], study.Best.Params["b"], study.Best.Metric!.Value));
        Assert.Equal(4.0, study.Study.BestValue);

        // Each trial is a normal job of the study's experiment, with its values filled in next to the fixed ones.
        var jobs = new List<JobDetailDto>();
        foreach (var trial in study.Trials) jobs.Add(await client.GetAsync(trial.JobId!.Value));
        Assert.All(jobs, j => Assert.Equal((study.Study.Id, "grid", "yes"), (j.Job.StudyId!.Value, j.Job.Experiment, j.Params["fixed"])));
        Assert.Equal(study.Trials.Select(t => $"grid-{t.Number}"), jobs.Select(j => j.Job.Name));
        // From submission to end, never more than two trial jobs at once.
        var events = jobs.SelectMany(j => new[] { (At: j.Job.CreatedAt, Delta: 1), (At: j.Job.FinishedAt!.Value, Delta: -1) })
            .OrderBy(e => e.At).ThenBy(e => e.Delta).ToList();
        var open = 0;
        foreach (var e in events) Assert.InRange(open += e.Delta, 0, 2);

        // Comparison data for charts: the metric over steps per trial.
        var series = (await client.Http.GetFromJsonAsync<List<TrialSeriesDto>>($"{client.Base}/studies/{study.Study.Id}/metrics", TrainingClient.Json))!;
        Assert.Equal(6, series.Count);
        var last = series.Single(s => s.Params["a"] == "3" && s.Params["b"] == "1");
        Assert.Equal([(1L, 31.0), (2L, 4.0)], last.Points.Select(p => (p.Step, p.Value)));
        Assert.Equal(4.0, last.Final);

        var list = (await client.Http.GetFromJsonAsync<Cube.Core.Apis.Page<StudyDto>>($"{client.Base}/studies", TrainingClient.Json))!;
        Assert.Equal(study.Study.Id, Assert.Single(list.Items).Id);
    }

    [Fact]
    public async Task HalvingStudy_PromotesTheTopThirdOfEachRung_WithEtaTimesTheResource()
    {
        var (client, _) = await ManagerAsync();
        var created = await CreateAsync(client, new
        {
            name = "halving",
            distribution = "local",
            // The loss depends on the configuration only; the step is the resource the trial got.
            command = new[] { "/bin/sh", "-c", "echo metric loss=$CUBE_HP_X step=$CUBE_HP_EPOCHS", "trial" },
            search = new
            {
                strategy = "halving",
                metric = "loss",
                trials = 9,
                seed = 7,
                parallelism = 3,
                space = new { x = new { type = "int", low = 1, high = 1000 } },
                resource = "epochs",
                minResource = 1,
                maxResource = 9,
                eta = 3,
            },
        });
        Assert.Equal((9 + 3 + 1, 3), (created.Study.TrialsTotal, created.Study.Rungs));

        var study = await WaitAsync(client, created.Study.Id);
        Assert.True(study.Study.State == "succeeded", $"{study.Study.State}: {study.Study.Message}");
        Assert.Equal(13, study.Trials.Count);
        var rungs = study.Trials.GroupBy(t => t.Rung).OrderBy(g => g.Key).Select(g => g.ToList()).ToList();
        Assert.Equal([9, 3, 1], rungs.Select(r => r.Count));
        Assert.Equal(["1", "3", "9"], rungs.Select(r => r.Select(t => t.Params["epochs"]).Distinct().Single()));
        for (var r = 0; r < 2; r++)
        {
            // The best third by the metric reported at this rung goes on, as a new trial of the same configuration.
            var expected = rungs[r].OrderBy(t => t.Metric).ThenBy(t => t.Number).Take(rungs[r + 1].Count).Select(t => t.Id).ToHashSet();
            Assert.Equal(expected, rungs[r + 1].Select(t => t.PromotedFrom!.Value).ToHashSet());
            foreach (var child in rungs[r + 1])
            {
                var parent = rungs[r].Single(t => t.Id == child.PromotedFrom);
                Assert.Equal((parent.Configuration, parent.Params["x"]), (child.Configuration, child.Params["x"]));
                Assert.StartsWith("Promoted", parent.StopReason);
            }
            Assert.All(rungs[r].Where(t => !expected.Contains(t.Id)), t => Assert.StartsWith("Not promoted", t.StopReason));
        }
        var best = Assert.Single(rungs[2]);
        Assert.Equal(rungs[0].Min(t => t.Metric), best.Metric);
        Assert.Equal(best.Id, study.Best!.Id);

        // Seeded: the same spec draws the same configurations.
        var again = await CreateAsync(client, JsonSerializer.Deserialize<JsonElement>(study.Spec.GetRawText()));
        Assert.Equal(rungs[0].Select(t => t.Params["x"]), again.Trials.Where(t => t.Rung == 0).Select(t => t.Params["x"]));
        await WaitAsync(client, again.Study.Id);
    }

    [Fact]
    public async Task Cancel_StopsRunningTrialsAndPendingOnes()
    {
        var (client, project) = await ManagerAsync();
        var created = await CreateAsync(client, new
        {
            name = "sleepy",
            distribution = "local",
            command = new[] { "/bin/sh", "-c", "echo started; sleep 120" },
            search = new { strategy = "random", metric = "loss", trials = 4, parallelism = 2, space = new { lr = new { type = "loguniform", low = 0.001, high = 0.1 } } },
        });
        var running = await WaitAsync(client, created.Study.Id, s => s.Trials.Count(t => t.State == "running") == 2);
        Assert.Equal(2, running.Trials.Count(t => t.State == "pending"));

        var (viewerHttp, viewerName) = await app.CreateUserClientAsync("watcher");
        using (var admin = await app.AdminAsync())
            (await admin.PutAsJsonAsync($"/api/projects/{project}/members/{viewerName}", new Cube.Core.Apis.SetMemberRequest("viewer"))).EnsureSuccessStatusCode();
        Assert.Equal(HttpStatusCode.OK, (await viewerHttp.GetAsync($"{client.Base}/studies/{created.Study.Id}")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await viewerHttp.PostAsync($"{client.Base}/studies/{created.Study.Id}/cancel", null)).StatusCode);

        var cancel = await client.Http.PostAsync($"{client.Base}/studies/{created.Study.Id}/cancel", null);
        Assert.Equal(HttpStatusCode.OK, cancel.StatusCode);
        var study = await WaitAsync(client, created.Study.Id);
        Assert.Equal("cancelled", study.Study.State);
        Assert.All(study.Trials, t => Assert.Equal("cancelled", t.State));
        Assert.Equal(2, study.Trials.Count(t => t.JobId is null && t.StopReason!.Contains("before it started")));
        foreach (var trial in study.Trials.Where(t => t.JobId is not null))
            Assert.Equal("cancelled", (await client.GetAsync(trial.JobId!.Value)).Job.State);
        Assert.Equal(HttpStatusCode.Conflict, (await client.Http.PostAsync($"{client.Base}/studies/{created.Study.Id}/cancel", null)).StatusCode);
    }

    [Fact]
    public async Task Create_AnswersWithSearchFieldErrors_WhenTheSearchIsInvalid()
    {
        var (client, _) = await ManagerAsync();
        var bad = await client.Http.PostAsJsonAsync($"{client.Base}/studies", new
        {
            name = "bad",
            command = new[] { "true" },
            search = new
            {
                strategy = "grid", metric = "", parallelism = 0, trials = 3,
                space = new { lr = new { type = "loguniform", low = 0, high = 1 }, n = new { type = "int", low = 1, high = 2.5 } },
            },
        }, TrainingClient.Json);
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        var errors = (await TrainingClient.ProblemAsync(bad)).GetProperty("errors");
        foreach (var field in new[] { "search.metric", "search.parallelism", "search.trials", "search.space.lr.low", "search.space.lr.type", "search.space.n.high" })
            Assert.True(errors.TryGetProperty(field, out _), $"no error for {field}: {errors}");

        // A plain job submission with a search block points to the study endpoint.
        var asJob = await client.SubmitRawAsync(new { name = "x", command = new[] { "true" }, search = new { strategy = "random", metric = "loss", trials = 1, space = new { a = new { type = "int", low = 1, high = 2 } } } });
        Assert.Equal(HttpStatusCode.BadRequest, asJob.StatusCode);
        Assert.Contains("/studies", (await TrainingClient.ProblemAsync(asJob)).GetProperty("errors").GetProperty("search")[0].GetString());

        // A sampled value the trainer refuses is reported on the search field, before any trial runs.
        await client.PushDatasetAsync("table", ("data.csv", Encoding.UTF8.GetBytes("x,y\n1,true\n")));
        var mlnet = await client.Http.PostAsJsonAsync($"{client.Base}/studies", new
        {
            name = "fasttree",
            framework = "mlnet",
            inputs = new[] { new { dataset = "table" } },
            hyperparameters = new Dictionary<string, string> { ["task"] = "binary", ["label"] = "y" },
            search = new { strategy = "grid", metric = "auc", goal = "maximize", space = new { learningRate = new { type = "choice", values = new object[] { 0.1, "fast" } } } },
        }, TrainingClient.Json);
        Assert.Equal(HttpStatusCode.BadRequest, mlnet.StatusCode);
        Assert.Contains("'fast'", (await TrainingClient.ProblemAsync(mlnet)).GetProperty("errors").GetProperty("search.space.learningRate")[0].GetString());

        Assert.Equal(HttpStatusCode.NotFound, (await client.Http.GetAsync($"{client.Base}/studies/{Guid.CreateVersion7()}")).StatusCode);
    }

    [Fact]
    public async Task Study_IsCarriedOnFromTheDatabase_WhenTheProcessThatCreatedItIsGone()
    {
        var (client, project) = await ManagerAsync();
        // What a process leaves when it stops right after choosing a trial's job id, before submitting the job: the
        // study and its trials in the database, nothing else. The scheduler of this (other) process carries it on.
        var projectId = (await client.Http.GetFromJsonAsync<JsonElement>($"/api/projects/{project}")).GetProperty("id").GetGuid();
        var spec = new
        {
            name = "resumed",
            distribution = "local",
            command = new[] { "/bin/sh", "-c", "echo metric score=$CUBE_HP_K step=1" },
            search = new { strategy = "grid", metric = "score", goal = "maximize", parallelism = 1, seed = 1, space = new { k = new { type = "int", low = 1, high = 3 } } },
        };
        var study = new Study
        {
            ProjectId = projectId, Name = "resumed", Experiment = "resumed", Strategy = "grid", Metric = "score", Goal = "maximize",
            SpecJson = JsonSerializer.Serialize(spec, TrainingClient.Json), Parallelism = 1, Seed = 1, TotalTrials = 3, CreatedAt = DateTimeOffset.UtcNow,
        };
        var chosen = Guid.CreateVersion7();
        await using (var scope = app.Factory.Services.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<TrainingDbContext>();
            db.Studies.Add(study);
            for (var k = 1; k <= 3; k++)
            {
                db.Trials.Add(new StudyTrial
                {
                    StudyId = study.Id, Number = k, Configuration = k - 1, ParamsJson = $"{{\"k\":\"{k}\"}}", CreatedAt = study.CreatedAt,
                    State = k == 1 ? TrialState.Queued : TrialState.Pending, JobId = k == 1 ? chosen : null,
                });
            }
            await db.SaveChangesAsync();
        }
        var done = await WaitAsync(client, study.Id);
        Assert.Equal("succeeded", done.Study.State);
        Assert.Equal(chosen, done.Trials[0].JobId);
        Assert.Equal("succeeded", (await client.GetAsync(chosen)).Job.State);
        Assert.Equal(("3", 3.0), (done.Best!.Params["k"], done.Best.Metric!.Value));
    }
}

public sealed class SqliteStudyApiTests(SqliteCubeApp app) : StudyApiTests(app), IClassFixture<SqliteCubeApp>;

public sealed class PostgresStudyApiTests(PostgresCubeApp app) : StudyApiTests(app), IClassFixture<PostgresCubeApp>;
