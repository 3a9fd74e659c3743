using System.Collections.Concurrent;
using System.Text.Json;
using Cube.Core.Errors;
using Cube.Labeling.Annotations;
using Cube.Labeling.Configs;
using Cube.Labeling.Data;
using Cube.Labeling.Projects;
using Cube.Testing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Cube.Labeling.Tests.Distribution;

/// <summary>
/// Many annotators racing for tasks inside a real server's services, on SQLite and on PostgreSQL. The guarantees are
/// read back from the database afterwards: nothing in memory is trusted.
/// </summary>
public abstract class DistributorConcurrencyTests(CubeAppFixture app, ShiftedTime time)
{
    private const int Overlap = 3;
    private static readonly JsonElement Positive = JsonSerializer.SerializeToElement(new { labels = new[] { "positive" } });

    private async Task<LabelingProject> ProjectAsync(int tasks, int leaseSeconds = 600, TaskOrdering ordering = TaskOrdering.Sequential)
    {
        await using var scope = app.Factory.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<LabelingDbContext>();
        var config = new LabelConfig(LabelingKind.TextClassification, [new("positive"), new("negative")]);
        var project = new LabelingProject
        {
            ProjectId = Guid.NewGuid(), Name = "race", ConfigJson = LabelingProjects.Serialize(config), Overlap = Overlap,
            Ordering = ordering, LeaseSeconds = leaseSeconds, CreatedAt = DateTimeOffset.UtcNow,
        };
        db.Projects.Add(project);
        await db.SaveChangesAsync();
        await scope.ServiceProvider.GetRequiredService<LabelingProjects>().AddTasksAsync(project,
            // Priorities that disagree with insertion order, so priority order is not sequential order in disguise.
            Enumerable.Range(0, tasks).Select(i => new NewTask(JsonSerializer.SerializeToElement(new { text = $"t{i}" }), Priority: ordering == TaskOrdering.Priority ? i % 3 : 0)).ToList(), default);
        if (ordering == TaskOrdering.Uncertainty)
        {
            // Two of every three tasks get scored predictions (some several, some tied), the rest none, so every branch
            // of the order is raced: scored before unscored, ties broken by insertion order.
            var ids = await db.Tasks.Where(t => t.LabelingProjectId == project.Id).OrderBy(t => t.Ordinal).Select(t => t.Id).ToListAsync();
            var predictions = ids.Select((id, i) => (id, i)).Where(x => x.i % 3 != 2).SelectMany(x => Enumerable.Range(0, 1 + x.i % 2).Select(m => new Prediction
            {
                LabelingProjectId = project.Id, TaskId = x.id, Model = $"m{m}", ResultJson = Positive.GetRawText(), Score = (x.i * 7 % 5 + m) / 10.0, CreatedAt = DateTimeOffset.UtcNow,
            }));
            db.Predictions.AddRange(predictions);
            await db.SaveChangesAsync();
        }
        return project;
    }

    private Task<T> WithScopeAsync<T>(Func<IServiceProvider, Task<T>> action) => WithScopeAsync(app.Factory.Services, action);

    private static async Task<T> WithScopeAsync<T>(IServiceProvider services, Func<IServiceProvider, Task<T>> action)
    {
        await using var scope = services.CreateAsyncScope();
        return await action(scope.ServiceProvider);
    }

    [Fact]
    public async Task NextAndSubmit_NeverExceedOverlap_NorRepeatATask_WhenManyAnnotatorsRace()
    {
        var project = await ProjectAsync(30);
        await RaceAsync(project, 24, [app.Factory.Services]);
        await AssertInvariantsAsync(project, expectAllComplete: true);
    }

    [Fact]
    public async Task NextAndSubmit_HoldTheGuarantees_AcrossTwoServersSharingTheDatabase()
    {
        var project = await ProjectAsync(20);
        await using var second = app.WithSettings(new Dictionary<string, string?>());
        await RaceAsync(project, 16, [app.Factory.Services, second.Services]);
        await AssertInvariantsAsync(project, expectAllComplete: true);
    }

    [Theory]
    [InlineData(TaskOrdering.Uncertainty)]
    [InlineData(TaskOrdering.Random)]
    [InlineData(TaskOrdering.Priority)]
    public async Task NextAndSubmit_HoldTheGuarantees_WhenOrderedOtherwiseAcrossTwoServers(TaskOrdering ordering)
    {
        var project = await ProjectAsync(24, ordering: ordering);
        await using var second = app.WithSettings(new Dictionary<string, string?>());
        await RaceAsync(project, 16, [app.Factory.Services, second.Services]);
        await AssertInvariantsAsync(project, expectAllComplete: true);
    }

    [Theory]
    [InlineData(TaskOrdering.Sequential)]
    [InlineData(TaskOrdering.Random)]
    [InlineData(TaskOrdering.Priority)]
    public async Task Next_HandsOutTheFirstOpenTaskInProjectOrder_WhenTasksAheadAreFullOrFinished(TaskOrdering ordering)
    {
        var project = await ProjectAsync(10, ordering: ordering);
        var inOrder = await WithScopeAsync(async sp =>
        {
            var tasks = sp.GetRequiredService<LabelingDbContext>().Tasks.Where(t => t.LabelingProjectId == project.Id);
            var ordered = ordering switch
            {
                TaskOrdering.Random => tasks.OrderBy(t => t.RandomKey).ThenBy(t => t.Ordinal),
                TaskOrdering.Priority => tasks.OrderByDescending(t => t.Priority).ThenBy(t => t.Ordinal),
                _ => tasks.OrderBy(t => t.Ordinal),
            };
            return await ordered.Select(t => t.Id).ToListAsync();
        });
        Task<Cube.Labeling.Distribution.Lease?> NextAsync(Guid annotator) =>
            WithScopeAsync(sp => sp.GetRequiredService<Cube.Labeling.Distribution.Distributor>().NextAsync(project, annotator, default));

        // Overlap annotators finish the first four tasks, each walking the same order past the tasks they have done.
        foreach (var annotator in Enumerable.Range(0, Overlap).Select(_ => Guid.NewGuid()))
        {
            for (var i = 0; i < 4; i++)
            {
                var lease = await NextAsync(annotator);
                Assert.Equal(inOrder[i], lease!.Task.Id);
                await WithScopeAsync(sp => sp.GetRequiredService<AnnotationService>().SaveAsync(project, lease.Task.Id, annotator, new AnnotationInput(Positive, false, 100), null, default));
            }
        }
        // Leased but not yet submitted slots count too: the fifth task fills up, and the next annotator gets the sixth.
        for (var i = 0; i < Overlap; i++) Assert.Equal(inOrder[4], (await NextAsync(Guid.NewGuid()))!.Task.Id);
        Assert.Equal(inOrder[5], (await NextAsync(Guid.NewGuid()))!.Task.Id);
        await AssertInvariantsAsync(project, expectAllComplete: false);
    }

    /// <summary>Annotators spread over the given servers, each asking twice at once, skipping some tasks and double-submitting the rest.</summary>
    private static async Task RaceAsync(LabelingProject project, int annotators, IReadOnlyList<IServiceProvider> servers)
    {
        var leasedTwice = 0;
        var doubleSubmits = new ConcurrentBag<int>();
        var workers = Enumerable.Range(0, annotators).Select(n => Task.Run(async () =>
        {
            var me = Guid.NewGuid();
            var one = servers[n % servers.Count];
            var other = servers[(n + 1) % servers.Count];
            Task<T> WithScopeAsync<T>(Func<IServiceProvider, Task<T>> action) => DistributorConcurrencyTests.WithScopeAsync(one, action);
            Task<T> OnOtherAsync<T>(Func<IServiceProvider, Task<T>> action) => DistributorConcurrencyTests.WithScopeAsync(other, action);
            var random = new Random(n);
            while (true)
            {
                // The same annotator asking twice at once gets one lease, never two tasks.
                var both = await Task.WhenAll(
                    WithScopeAsync(sp => sp.GetRequiredService<Cube.Labeling.Distribution.Distributor>().NextAsync(project, me, default)),
                    OnOtherAsync(sp => sp.GetRequiredService<Cube.Labeling.Distribution.Distributor>().NextAsync(project, me, default)));
                // Both empty: nothing is free for this annotator now. It is done only if no other annotator still holds
                // a lease, since a lease that ends in a skip frees its slot again. One empty is legitimate too: a slot
                // another annotator skipped can come free between the two calls.
                if (both[0] is null && both[1] is null)
                {
                    var held = await WithScopeAsync(sp => sp.GetRequiredService<LabelingDbContext>().Assignments
                        .AnyAsync(a => a.LabelingProjectId == project.Id && a.Status == AssignmentStatus.Active && a.AnnotatorId != me));
                    if (!held) return;
                    await Task.Delay(20);
                    continue;
                }
                if (both[0] is not null && both[1] is not null && both[0]!.Assignment.Id != both[1]!.Assignment.Id) Interlocked.Increment(ref leasedTwice);
                var lease = (both[0] ?? both[1])!;
                var task = lease.Task.Id;
                if (random.Next(8) == 0)
                {
                    await WithScopeAsync(sp => sp.GetRequiredService<AnnotationService>().SkipAsync(project, task, me, "unsure", 10, default));
                    continue;
                }
                // Two submits of the same work at once: exactly one is counted.
                var outcomes = await Task.WhenAll(Enumerable.Range(0, 2).Select(i => DistributorConcurrencyTests.WithScopeAsync(i == 0 ? one : other, async sp =>
                {
                    try
                    {
                        await sp.GetRequiredService<AnnotationService>().SaveAsync(project, task, me, new AnnotationInput(Positive, false, 100), null, default);
                        return 1;
                    }
                    catch (CubeException e) when (e.StatusCode is 409 or 412)
                    {
                        return 0;
                    }
                })));
                doubleSubmits.Add(outcomes.Sum());
            }
        })).ToList();
        await Task.WhenAll(workers);

        Assert.Equal(0, leasedTwice);
        Assert.All(doubleSubmits, count => Assert.True(count >= 1, "a submit was lost"));
    }

    [Fact]
    public async Task ExpiredLeases_ReturnToThePool_WhenSubmitsAndReclaimsRace()
    {
        const int tasks = 12;
        var project = await ProjectAsync(tasks, leaseSeconds: 60);
        var first = Enumerable.Range(0, 20).Select(_ => Guid.NewGuid()).ToList();
        var leases = await Task.WhenAll(first.Select(me => WithScopeAsync(sp => sp.GetRequiredService<Cube.Labeling.Distribution.Distributor>().NextAsync(project, me, default))));
        Assert.All(leases, l => Assert.NotNull(l));

        time.Advance(TimeSpan.FromSeconds(61));
        // The first annotators submit late while fresh annotators ask for work (which reclaims the expired leases).
        var late = first.Zip(leases).Select(pair => WithScopeAsync(async sp =>
        {
            try
            {
                await sp.GetRequiredService<AnnotationService>().SaveAsync(project, pair.Second!.Task.Id, pair.First, new AnnotationInput(Positive, false, 100), null, default);
                return 1;
            }
            catch (CubeException e) when (e.StatusCode == 409)
            {
                return 0;
            }
        }));
        var fresh = Enumerable.Range(0, 30).Select(_ => Guid.NewGuid()).Select(me => WithScopeAsync(async sp =>
        {
            var distributor = sp.GetRequiredService<Cube.Labeling.Distribution.Distributor>();
            var done = 0;
            while (await distributor.NextAsync(project, me, default) is { } lease)
            {
                await sp.GetRequiredService<AnnotationService>().SaveAsync(project, lease.Task.Id, me, new AnnotationInput(Positive, false, 100), null, default);
                done++;
            }
            return done;
        }));
        var lateAccepted = (await Task.WhenAll(late)).Sum();
        await Task.WhenAll(fresh);
        Assert.Equal(0, lateAccepted); // every lease had expired before its submit
        await AssertInvariantsAsync(project, expectAllComplete: true);
    }

    private async Task AssertInvariantsAsync(LabelingProject project, bool expectAllComplete)
    {
        await using var scope = app.Factory.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<LabelingDbContext>();
        var tasks = await db.Tasks.AsNoTracking().Where(t => t.LabelingProjectId == project.Id).ToListAsync();
        var annotations = await db.Annotations.AsNoTracking().Where(a => a.LabelingProjectId == project.Id).ToListAsync();
        var assignments = await db.Assignments.AsNoTracking().Where(a => a.LabelingProjectId == project.Id).ToListAsync();
        foreach (var task in tasks)
        {
            var submitted = annotations.Count(a => a.TaskId == task.Id && a.Status == AnnotationStatus.Submitted);
            Assert.True(submitted <= Overlap, $"task {task.Ordinal} has {submitted} completed annotations");
            Assert.Equal(submitted, task.Completed);
            var holding = assignments.Count(a => a.TaskId == task.Id && a.Status is AssignmentStatus.Active or AssignmentStatus.Submitted or AssignmentStatus.Returned);
            Assert.Equal(holding, task.Reserved);
            if (expectAllComplete) Assert.Equal(Overlap, task.Completed);
        }
        Assert.DoesNotContain(assignments.GroupBy(a => (a.TaskId, a.AnnotatorId)), g => g.Count() > 1);
        Assert.DoesNotContain(annotations.GroupBy(a => (a.TaskId, a.AnnotatorId)), g => g.Count() > 1);
        Assert.DoesNotContain(assignments.Where(a => a.Status == AssignmentStatus.Active).GroupBy(a => a.AnnotatorId), g => g.Count() > 1);
        Assert.All(annotations.Where(a => a.Status == AnnotationStatus.Submitted),
            a => Assert.Contains(assignments, s => s.TaskId == a.TaskId && s.AnnotatorId == a.AnnotatorId && s.Status == AssignmentStatus.Submitted));
    }
}

public sealed class SqliteDistributorConcurrencyTests(SqliteLabelingApp app) : DistributorConcurrencyTests(app, app.Time), IClassFixture<SqliteLabelingApp>;

public sealed class PostgresDistributorConcurrencyTests(PostgresLabelingApp app) : DistributorConcurrencyTests(app, app.Time), IClassFixture<PostgresLabelingApp>;
