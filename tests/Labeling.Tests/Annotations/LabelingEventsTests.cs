using System.Text.Json;
using Cube.Core.Webhooks;
using Cube.Labeling.Annotations;
using Cube.Labeling.Configs;
using Cube.Labeling.Data;
using Cube.Labeling.Distribution;
using Cube.Labeling.Projects;
using Cube.Testing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Cube.Labeling.Tests.Annotations;

/// <summary>The project-completed event: durable with the last submit, and single when the last tasks finish together, on SQLite and PostgreSQL.</summary>
public abstract class LabelingEventsTests(CubeAppFixture app, DatabaseProbe probe)
{
    private static readonly JsonElement Positive = JsonSerializer.SerializeToElement(new { labels = new[] { "positive" } });

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private async Task<LabelingProject> ProjectAsync(int tasks)
    {
        await using var scope = app.Factory.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<LabelingDbContext>();
        var project = new LabelingProject
        {
            ProjectId = Guid.NewGuid(), Name = "events", CreatedAt = DateTimeOffset.UtcNow,
            ConfigJson = LabelingProjects.Serialize(new LabelConfig(LabelingKind.TextClassification, [new("positive"), new("negative")])),
        };
        db.Projects.Add(project);
        await db.SaveChangesAsync(Ct);
        await scope.ServiceProvider.GetRequiredService<LabelingProjects>().AddTasksAsync(project,
            [.. Enumerable.Range(0, tasks).Select(i => new NewTask(JsonSerializer.SerializeToElement(new { text = $"text {i}" })))], Ct);
        return project;
    }

    private static async Task<T> InScopeAsync<T>(IServiceProvider services, Func<IServiceProvider, Task<T>> action)
    {
        await using var scope = services.CreateAsyncScope();
        return await action(scope.ServiceProvider);
    }

    private Task<Lease?> NextAsync(LabelingProject project, Guid annotator) =>
        InScopeAsync(app.Factory.Services, sp => sp.GetRequiredService<Distributor>().NextAsync(project, annotator, Ct));

    private static Task<Annotation> SubmitAsync(IServiceProvider services, LabelingProject project, Lease lease) =>
        InScopeAsync(services, sp => sp.GetRequiredService<AnnotationService>().SaveAsync(project, lease.Task.Id, lease.Assignment.AnnotatorId,
            new AnnotationInput(Positive, false, 10), null, Ct));

    private Task<List<WebhookEvent>> CompletedEventsAsync(LabelingProject project) =>
        InScopeAsync(app.Factory.Services, sp => sp.GetRequiredService<LabelingDbContext>().Set<WebhookEvent>().AsNoTracking()
            .Where(e => e.ProjectId == project.ProjectId && e.Type == LabelingEvents.ProjectCompleted.Name).ToListAsync(Ct));

    [Fact]
    public async Task ProjectCompleted_IsRecorded_WhenTheProcessDiesRightAfterTheLastSubmitCommits()
    {
        var project = await ProjectAsync(2);
        await SubmitAsync(app.Factory.Services, project, (await NextAsync(project, Guid.NewGuid()))!);
        var last = (await NextAsync(project, Guid.NewGuid()))!;
        Assert.Empty(await CompletedEventsAsync(project));

        using (probe.Start(dieAfterCommit: true))
        {
            await Assert.ThrowsAsync<DatabaseProbe.ProcessDiedException>(() => SubmitAsync(app.Factory.Services, project, last));
        }

        // The submit is committed, and with it the event: nothing that would have run after the commit was needed.
        var completed = await InScopeAsync(app.Factory.Services, sp => sp.GetRequiredService<LabelingDbContext>().Tasks.AsNoTracking()
            .Where(t => t.LabelingProjectId == project.Id).Select(t => t.Completed).ToListAsync(Ct));
        Assert.Equal([1, 1], completed);
        var e = Assert.Single(await CompletedEventsAsync(project));
        Assert.Equal($"project.completed:{project.Id}", e.DedupKey);
        using var payload = JsonDocument.Parse(e.PayloadJson);
        Assert.Equal(2, payload.RootElement.GetProperty("tasks").GetInt32());
    }

    [Fact]
    public async Task ProjectCompleted_IsRecordedOnce_WhenTheLastTasksCompleteTogetherOnTwoServers()
    {
        const int tasks = 12;
        await using var second = app.WithSettings(new Dictionary<string, string?>());
        for (var round = 0; round < 3; round++)
        {
            var project = await ProjectAsync(tasks);
            var leases = new List<Lease>();
            for (var i = 0; i < tasks; i++) leases.Add((await NextAsync(project, Guid.NewGuid()))!);
            // Every task is the last one but for the others: they all complete at once, half on each server.
            await Task.WhenAll(leases.Select((lease, i) => Task.Run(() => SubmitAsync(i % 2 == 0 ? app.Factory.Services : second.Services, project, lease), Ct)));
            Assert.Single(await CompletedEventsAsync(project));
        }
    }
}

public sealed class SqliteLabelingEventsTests(SqliteLabelingApp app) : LabelingEventsTests(app, app.Probe), IClassFixture<SqliteLabelingApp>;

public sealed class PostgresLabelingEventsTests(PostgresLabelingApp app) : LabelingEventsTests(app, app.Probe), IClassFixture<PostgresLabelingApp>;
