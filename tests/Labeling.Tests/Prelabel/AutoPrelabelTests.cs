using System.Text.Json;
using Cube.Core.Data;
using Cube.Labeling.Annotations;
using Cube.Labeling.Configs;
using Cube.Labeling.Data;
using Cube.Labeling.Distribution;
using Cube.Labeling.Prelabel;
using Cube.Labeling.Projects;
using Cube.Labeling.Reviews;
using Cube.Testing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Cube.Labeling.Tests.Prelabel;

/// <summary>
/// What automatic pre-labeling costs a label and how its count stays true, inside a real server's services on SQLite
/// and PostgreSQL. The end-to-end behaviour (runs every N labels) is in <see cref="PrelabelApiTests"/>.
/// </summary>
public abstract class AutoPrelabelTests(CubeAppFixture app, DatabaseProbe probe)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private async Task<LabelingProject> ProjectAsync(int every, int tasks)
    {
        await using var scope = app.Factory.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<LabelingDbContext>();
        var project = new LabelingProject
        {
            ProjectId = Guid.NewGuid(), Name = "auto", AutoPrelabelEvery = every, CreatedAt = DateTimeOffset.UtcNow,
            ConfigJson = LabelingProjects.Serialize(new LabelConfig(LabelingKind.TextClassification, [new("positive"), new("negative")])),
        };
        db.Projects.Add(project);
        await db.SaveChangesAsync(Ct);
        await scope.ServiceProvider.GetRequiredService<LabelingProjects>().AddTasksAsync(project,
            [.. Enumerable.Range(0, tasks).Select(i => new NewTask(JsonSerializer.SerializeToElement(new { text = $"text {i}" })))], Ct);
        return project;
    }

    private static JsonElement Label(string label) => JsonSerializer.SerializeToElement(new { labels = new[] { label } });

    private async Task<T> InScopeAsync<T>(Func<IServiceProvider, Task<T>> action)
    {
        await using var scope = app.Factory.Services.CreateAsyncScope();
        return await action(scope.ServiceProvider);
    }

    /// <summary>A new annotator takes the next task and submits the label.</summary>
    private async Task<Annotation> SubmitAsync(LabelingProject project, string label)
    {
        var annotator = Guid.NewGuid();
        var lease = await InScopeAsync(sp => sp.GetRequiredService<Distributor>().NextAsync(project, annotator, Ct));
        return await SaveAsync(project, lease!.Task.Id, annotator, label);
    }

    private Task<Annotation> SaveAsync(LabelingProject project, Guid task, Guid annotator, string label) =>
        InScopeAsync(sp => sp.GetRequiredService<AnnotationService>().SaveAsync(project, task, annotator, new AnnotationInput(Label(label), false, 10), null, Ct));

    private Task<Annotation> ReviewAsync(LabelingProject project, Annotation annotation, ReviewDecision decision, string? corrected = null) =>
        InScopeAsync(async sp => (await sp.GetRequiredService<ReviewService>().ReviewAsync(project, annotation.Id, Guid.NewGuid(),
            new ReviewInput(decision, "checked", corrected is null ? null : Label(corrected)), null, Ct)).Annotation);

    private Task<bool> AfterAsync(LabelingProject project, Annotation annotation) =>
        InScopeAsync(async sp =>
        {
            await sp.GetRequiredService<AutoPrelabel>().AfterLabelAsync(project, annotation);
            return true;
        });

    private Task<LabelingProject> ReadAsync(LabelingProject project) =>
        InScopeAsync(sp => sp.GetRequiredService<LabelingDbContext>().Projects.AsNoTracking().SingleAsync(p => p.Id == project.Id, Ct));

    private Task<int> StandingAsync(LabelingProject project) =>
        InScopeAsync(sp => TrainingLabels.Standing(sp.GetRequiredService<LabelingDbContext>(), project.Id).CountAsync(Ct));

    private Task<int> RunsAsync(LabelingProject project) =>
        InScopeAsync(sp => sp.GetRequiredService<CoreDbContext>().Runs.CountAsync(r => r.ProjectId == project.ProjectId && r.Kind == PrelabelHandler.RunKind, Ct));

    [Fact]
    public async Task AfterLabelAsync_ReadsOnlyTheProjectRow_WhenTheMarkIsNotReached()
    {
        var project = await ProjectAsync(every: 1000, tasks: 8);
        Annotation last = null!;
        for (var i = 0; i < 8; i++) last = await SubmitAsync(project, i % 2 == 0 ? "positive" : "negative");

        using var watch = probe.Start();
        await AfterAsync(project, last);
        // One read by primary key, however many labels the project has: no count over its annotations.
        var command = Assert.Single(watch.Commands);
        Assert.Contains("labeling_projects", command);
        Assert.DoesNotContain("labeling_annotations", command);
    }

    [Fact]
    public async Task TrainingLabelCount_FollowsSubmitsReviewsAndResubmits()
    {
        var project = await ProjectAsync(every: 1000, tasks: 4);
        async Task AssertCountedAsync(int expected)
        {
            Assert.Equal(expected, await StandingAsync(project));
            Assert.Equal(expected, (await ReadAsync(project)).TrainingLabelCount);
        }

        // The review rate is 0: every submit stands at once.
        var annotations = new List<Annotation>();
        for (var i = 0; i < 4; i++) annotations.Add(await SubmitAsync(project, "positive"));
        await AssertCountedAsync(4);
        var rejected = await ReviewAsync(project, annotations[0], ReviewDecision.Reject);
        await AssertCountedAsync(3);
        // Resubmitted work after a rejection always waits for review: it does not stand yet.
        var resubmitted = await SaveAsync(project, rejected.TaskId, rejected.AnnotatorId, "negative");
        Assert.Equal(ReviewState.Pending, resubmitted.ReviewState);
        await AssertCountedAsync(3);
        await ReviewAsync(project, resubmitted, ReviewDecision.Accept);
        await AssertCountedAsync(4);
        // Accepting, correcting or editing a label that already stands changes nothing.
        await ReviewAsync(project, annotations[1], ReviewDecision.Accept);
        await ReviewAsync(project, annotations[2], ReviewDecision.Correct, "negative");
        var edited = await SaveAsync(project, annotations[3].TaskId, annotations[3].AnnotatorId, "negative");
        await AssertCountedAsync(4);
        await ReviewAsync(project, edited, ReviewDecision.Reject);
        await AssertCountedAsync(3);
    }

    [Fact]
    public async Task AfterLabelAsync_LoadsLabelsAgainOnlyForANewClass_AndStartsTheRunWhenTheSecondArrives()
    {
        var project = await ProjectAsync(every: 2, tasks: 6);
        for (var i = 0; i < 3; i++) await AfterAsync(project, await SubmitAsync(project, "positive"));
        // Past the mark with one class: no run, and the class is remembered.
        Assert.Equal(0, await RunsAsync(project));
        Assert.Equal(("positive", 0), ((await ReadAsync(project)).PrelabelSoleClass, (await ReadAsync(project)).PrelabelMark));

        var same = await SubmitAsync(project, "positive");
        using (var watch = probe.Start())
        {
            await AfterAsync(project, same);
            Assert.Single(watch.Commands);
        }
        Assert.Equal(0, await RunsAsync(project));

        await AfterAsync(project, await SubmitAsync(project, "negative"));
        Assert.Equal(1, await RunsAsync(project));
        var moved = await ReadAsync(project);
        Assert.Equal((5, null), (moved.PrelabelMark, moved.PrelabelSoleClass));
    }

    [Fact]
    public async Task AfterLabelAsync_StartsTheRun_WhenAGoldAnswerBroughtTheSecondClass()
    {
        var project = await ProjectAsync(every: 2, tasks: 4);
        for (var i = 0; i < 3; i++) await AfterAsync(project, await SubmitAsync(project, "positive"));
        Assert.Equal("positive", (await ReadAsync(project)).PrelabelSoleClass);

        await InScopeAsync(sp => sp.GetRequiredService<LabelingProjects>().AddTasksAsync(project,
            [new NewTask(JsonSerializer.SerializeToElement(new { text = "gold" }), IsGold: true, GoldAnswer: Label("negative"))], Ct));
        Assert.Null((await ReadAsync(project)).PrelabelSoleClass);
        await AfterAsync(project, await SubmitAsync(project, "positive"));
        Assert.Equal(1, await RunsAsync(project));
    }
}

public sealed class SqliteAutoPrelabelTests(SqliteLabelingApp app) : AutoPrelabelTests(app, app.Probe), IClassFixture<SqliteLabelingApp>;

public sealed class PostgresAutoPrelabelTests(PostgresLabelingApp app) : AutoPrelabelTests(app, app.Probe), IClassFixture<PostgresLabelingApp>;
