using System.Net.Http.Json;
using System.Text.Json;
using Cube.Core.Apis;
using Cube.Testing;

namespace Cube.Labeling.Tests.Api;

/// <summary>The events Labeling sends: annotations, completed tasks and the completed project, on SQLite and PostgreSQL.</summary>
public abstract class LabelingWebhooksTests(CubeAppFixture app)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task AnnotatingEveryTask_SendsAnnotationTaskAndProjectEvents()
    {
        var (manager, managerName) = await app.CreateUserClientAsync("manager");
        var (a, aName) = await app.CreateUserClientAsync("ann-a");
        var (reviewer, reviewerName) = await app.CreateUserClientAsync("rev");
        var slug = await app.CreateProjectAsync((managerName, "manager"), (aName, "annotator"), (reviewerName, "reviewer"));
        var (m, ann) = (new LabelingClient(manager, slug), new LabelingClient(a, slug));
        var lp = await m.CreateAsync("hooked", LabelingClient.Classes("positive", "negative"));
        var tasks = await m.AddTextTasksAsync(lp.Id, 2);
        await using var receiver = await FakeHttpServer.StartAsync((context, _) => { context.Response.StatusCode = 200; return Task.CompletedTask; });
        var subscribed = await manager.PostAsJsonAsync($"/api/projects/{slug}/webhooks",
            new CreateWebhookRequest(receiver.Url, ["annotation.created", "annotation.updated", "annotation.reviewed", "task.completed", "project.completed"], null, null), Ct);
        subscribed.EnsureSuccessStatusCode();

        var first = (await ann.NextAsync(lp.Id))!;
        var annotation = await ann.SubmitAsync(lp.Id, first.Task.Id, new { labels = new[] { "positive" } });
        // A draft is not an event; an update of a submitted annotation is.
        var second = (await ann.NextAsync(lp.Id))!;
        await LabelingClient.EnsureAsync(await ann.SaveAsync(lp.Id, second.Task.Id, new { labels = new[] { "negative" } }, draft: true));
        await ann.SubmitAsync(lp.Id, second.Task.Id, new { labels = new[] { "negative" } });
        await LabelingClient.EnsureAsync(await ann.SaveAsync(lp.Id, first.Task.Id, new { labels = new[] { "negative" } }));
        var review = await reviewer.PostAsJsonAsync($"{m.Of(lp.Id)}/annotations/{annotation.Id}/review",
            new { decision = "correct", result = new { labels = new[] { "positive" } } }, Ct);
        await LabelingClient.EnsureAsync(review);

        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (receiver.Requests.Count < 8 && DateTime.UtcNow < deadline) await Task.Delay(100, Ct);
        await Task.Delay(1500, Ct); // nothing more should come
        var events = receiver.Requests.Select(r => JsonDocument.Parse(r.Body).RootElement).ToList();
        var types = events.Select(e => e.GetProperty("type").GetString()).Order(StringComparer.Ordinal).ToList();
        Assert.Equal(["annotation.created", "annotation.created", "annotation.reviewed", "annotation.updated", "annotation.updated",
            "project.completed", "task.completed", "task.completed"], types);
        var created = events.First(e => e.GetProperty("type").GetString() == "annotation.created").GetProperty("data");
        Assert.Equal(lp.Id, created.GetProperty("labelingProjectId").GetGuid());
        Assert.Contains(created.GetProperty("taskId").GetGuid(), tasks);
        Assert.Equal("submitted", created.GetProperty("status").GetString());
        Assert.Equal(JsonValueKind.Array, created.GetProperty("result").GetProperty("labels").ValueKind);
        var completedTasks = events.Where(e => e.GetProperty("type").GetString() == "task.completed").Select(e => e.GetProperty("data").GetProperty("taskId").GetGuid());
        Assert.Equal(tasks.Order(), completedTasks.Order());
        var reviewed = events.Single(e => e.GetProperty("type").GetString() == "annotation.reviewed").GetProperty("data");
        Assert.Equal(("correct", annotation.Id), (reviewed.GetProperty("decision").GetString(), reviewed.GetProperty("annotationId").GetGuid()));
        Assert.Equal(2, events.Single(e => e.GetProperty("type").GetString() == "project.completed").GetProperty("data").GetProperty("tasks").GetInt32());
    }
}

public sealed class SqliteLabelingWebhooksTests(SqliteLabelingApp app) : LabelingWebhooksTests(app), IClassFixture<SqliteLabelingApp>;

public sealed class PostgresLabelingWebhooksTests(PostgresLabelingApp app) : LabelingWebhooksTests(app), IClassFixture<PostgresLabelingApp>;
