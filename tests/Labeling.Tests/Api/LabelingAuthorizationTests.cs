using System.Net;
using System.Net.Http.Json;
using Cube.Labeling.Apis;
using Cube.Testing;

namespace Cube.Labeling.Tests.Api;

/// <summary>
/// Every labeling endpoint against every role: non-members and members below the endpoint's role get 403 from the
/// project policy, annotators 404 for tasks not given to them, and ids of another project's labeling work 404.
/// </summary>
public abstract class LabelingAuthorizationTests(CubeAppFixture app)
{
    private enum Role { Outsider, Viewer, Annotator, Reviewer, Manager }

    private sealed record Case(string Name, HttpMethod Method, string Url, object? Body, Func<Role, HttpStatusCode> Expected);

    private static Func<Role, HttpStatusCode> AtLeast(Role minimum, HttpStatusCode ok) =>
        role => role < minimum ? HttpStatusCode.Forbidden : ok;

    [Fact]
    public async Task EveryEndpoint_AnswersEachRoleAsItsPolicySays()
    {
        var users = new Dictionary<Role, (HttpClient Client, string Name)>();
        foreach (var role in Enum.GetValues<Role>()) users[role] = await app.CreateUserClientAsync(role.ToString().ToLowerInvariant());
        var project = await app.CreateProjectAsync(
            (users[Role.Viewer].Name, "viewer"), (users[Role.Annotator].Name, "annotator"), (users[Role.Reviewer].Name, "reviewer"), (users[Role.Manager].Name, "manager"));
        // The outsider manages a project of their own, with labeling work of its own.
        var other = await app.CreateProjectAsync((users[Role.Outsider].Name, "manager"));

        var manager = new LabelingClient(users[Role.Manager].Client, project);
        var annotator = new LabelingClient(users[Role.Annotator].Client, project);
        var config = LabelingClient.Classes("yes", "no");
        var lp = await manager.CreateAsync("matrix", config);
        var tasks = await manager.AddTextTasksAsync(lp.Id, 4);
        var done = (await annotator.NextAsync(lp.Id))!;
        var annotation = await annotator.SubmitAsync(lp.Id, done.Task.Id, new { labels = new[] { "yes" } });
        var lease = (await annotator.NextAsync(lp.Id))!;
        var notMine = tasks.Except([done.Task.Id, lease.Task.Id]).First();

        var outsider = new LabelingClient(users[Role.Outsider].Client, other);
        var foreign = await outsider.CreateAsync("theirs", config);
        var foreignTask = (await outsider.AddTextTasksAsync(foreign.Id, 1))[0];

        var root = manager.Root;
        var of = manager.Of(lp.Id);
        var yes = LabelingClient.Json(new { labels = new[] { "yes" } });
        var cases = new List<Case>
        {
            new("list", HttpMethod.Get, root, null, AtLeast(Role.Annotator, HttpStatusCode.OK)),
            new("create", HttpMethod.Post, root, new CreateLabelingProjectRequest("x-" + Guid.NewGuid().ToString("N")[..6], null, LabelingClient.Json(config), null, null, null, null, null, null), AtLeast(Role.Manager, HttpStatusCode.Created)),
            new("get", HttpMethod.Get, of, null, AtLeast(Role.Annotator, HttpStatusCode.OK)),
            new("update", HttpMethod.Patch, of, new UpdateLabelingProjectRequest("new instructions", null, null, null, null, null), AtLeast(Role.Manager, HttpStatusCode.OK)),
            new("add tasks", HttpMethod.Post, $"{of}/tasks", new AddTasksRequest([new NewTaskRequest(LabelingClient.Json(new { text = "more" }), null, null, null)]), AtLeast(Role.Manager, HttpStatusCode.Created)),
            new("list tasks", HttpMethod.Get, $"{of}/tasks", null, AtLeast(Role.Reviewer, HttpStatusCode.OK)),
            new("update task", HttpMethod.Patch, $"{of}/tasks/{notMine}", new UpdateTaskRequest(5, null, null), AtLeast(Role.Manager, HttpStatusCode.OK)),
            new("own task", HttpMethod.Get, $"{of}/tasks/{done.Task.Id}", null, AtLeast(Role.Annotator, HttpStatusCode.OK)),
            // Annotators only see tasks given to them.
            new("someone else's task", HttpMethod.Get, $"{of}/tasks/{notMine}", null, role => role == Role.Annotator ? HttpStatusCode.NotFound : AtLeast(Role.Reviewer, HttpStatusCode.OK)(role)),
            new("annotation of a task not given", HttpMethod.Get, $"{of}/tasks/{notMine}/annotation", null, AtLeast(Role.Annotator, HttpStatusCode.NotFound)),
            new("save on a task not given", HttpMethod.Put, $"{of}/tasks/{notMine}/annotation", new SaveAnnotationRequest(yes, false, null), AtLeast(Role.Annotator, HttpStatusCode.NotFound)),
            new("skip a task not given", HttpMethod.Post, $"{of}/tasks/{notMine}/skip", new SkipRequest("no", null), AtLeast(Role.Annotator, HttpStatusCode.NotFound)),
            new("someone else's lease", HttpMethod.Post, $"{of}/leases/{lease.LeaseId}/heartbeat", null, role => role == Role.Annotator ? HttpStatusCode.OK : AtLeast(Role.Annotator, HttpStatusCode.NotFound)(role)),
            new("returned", HttpMethod.Get, $"{of}/returned", null, AtLeast(Role.Annotator, HttpStatusCode.OK)),
            new("annotations", HttpMethod.Get, $"{of}/annotations", null, AtLeast(Role.Reviewer, HttpStatusCode.OK)),
            new("annotation", HttpMethod.Get, $"{of}/annotations/{annotation.Id}", null, AtLeast(Role.Reviewer, HttpStatusCode.OK)),
            new("history", HttpMethod.Get, $"{of}/tasks/{done.Task.Id}/history", null, AtLeast(Role.Reviewer, HttpStatusCode.OK)),
            new("review", HttpMethod.Post, $"{of}/annotations/{annotation.Id}/review", new ReviewRequest("reject", "again", null), AtLeast(Role.Reviewer, HttpStatusCode.OK)),
            new("next", HttpMethod.Post, $"{of}/next", null, AtLeast(Role.Annotator, HttpStatusCode.OK)),
            new("quality", HttpMethod.Get, $"{of}/quality", null, AtLeast(Role.Reviewer, HttpStatusCode.OK)),
            new("consensus", HttpMethod.Get, $"{of}/consensus?method=mv", null, AtLeast(Role.Reviewer, HttpStatusCode.OK)),
            new("export", HttpMethod.Get, $"{of}/export?format=labelstudio", null, AtLeast(Role.Reviewer, HttpStatusCode.OK)),
            new("add predictions", HttpMethod.Post, $"{of}/predictions",
                new AddPredictionsRequest([new NewPredictionRequest(notMine, null, "matrix-model", "1", yes, 0.6)]), AtLeast(Role.Manager, HttpStatusCode.Created)),
            new("task predictions", HttpMethod.Get, $"{of}/tasks/{notMine}/predictions", null, AtLeast(Role.Reviewer, HttpStatusCode.OK)),
            // One class labelled so far: training is refused with 422 after the role check; no endpoint is registered.
            new("train pre-labeler", HttpMethod.Post, $"{of}/prelabel/train", null, AtLeast(Role.Manager, HttpStatusCode.UnprocessableEntity)),
            new("model endpoint", HttpMethod.Get, $"{of}/prelabel/endpoint", null, AtLeast(Role.Manager, HttpStatusCode.NotFound)),
            new("register model endpoint", HttpMethod.Put, $"{of}/prelabel/endpoint", new ModelEndpointRequest("not a url", null, null, null, null), AtLeast(Role.Manager, HttpStatusCode.BadRequest)),
            new("remove model endpoint", HttpMethod.Delete, $"{of}/prelabel/endpoint", null, AtLeast(Role.Manager, HttpStatusCode.NotFound)),
            new("run model endpoint", HttpMethod.Post, $"{of}/prelabel/endpoint/run", null, AtLeast(Role.Manager, HttpStatusCode.UnprocessableEntity)),
        };

        var failures = new List<string>();
        foreach (var role in Enum.GetValues<Role>())
        {
            foreach (var c in cases)
            {
                // The review case changes state; run it only once per role that may pass, on a fresh submission.
                if (c.Name == "review" && c.Expected(role) == HttpStatusCode.OK) continue;
                var status = await SendAsync(users[role].Client, c);
                if (status != c.Expected(role)) failures.Add($"{role} {c.Name} {c.Method} {c.Url}: expected {(int)c.Expected(role)}, got {(int)status}");
            }
        }

        // Another project's ids through this project's routes, and this project's ids through the other's: all 404,
        // even for a caller who manages the project in the route.
        var crossed = new List<(HttpClient Client, Case Case)>
        {
            (users[Role.Manager].Client, new("foreign labeling project", HttpMethod.Get, manager.Of(foreign.Id), null, _ => HttpStatusCode.NotFound)),
            (users[Role.Manager].Client, new("foreign task", HttpMethod.Get, $"{of}/tasks/{foreignTask}", null, _ => HttpStatusCode.NotFound)),
            (users[Role.Manager].Client, new("foreign task history", HttpMethod.Get, $"{of}/tasks/{foreignTask}/history", null, _ => HttpStatusCode.NotFound)),
            (users[Role.Manager].Client, new("foreign task update", HttpMethod.Patch, $"{of}/tasks/{foreignTask}", new UpdateTaskRequest(1, null, null), _ => HttpStatusCode.NotFound)),
            (users[Role.Manager].Client, new("foreign task predictions", HttpMethod.Get, $"{of}/tasks/{foreignTask}/predictions", null, _ => HttpStatusCode.NotFound)),
            (users[Role.Manager].Client, new("foreign pre-label training", HttpMethod.Post, $"{manager.Of(foreign.Id)}/prelabel/train", null, _ => HttpStatusCode.NotFound)),
            (users[Role.Manager].Client, new("foreign model endpoint", HttpMethod.Get, $"{manager.Of(foreign.Id)}/prelabel/endpoint", null, _ => HttpStatusCode.NotFound)),
            (users[Role.Outsider].Client, new("our project via theirs", HttpMethod.Get, outsider.Of(lp.Id), null, _ => HttpStatusCode.NotFound)),
            (users[Role.Outsider].Client, new("our task via theirs", HttpMethod.Get, $"{outsider.Of(foreign.Id)}/tasks/{done.Task.Id}", null, _ => HttpStatusCode.NotFound)),
            (users[Role.Outsider].Client, new("our annotation via theirs", HttpMethod.Get, $"{outsider.Of(foreign.Id)}/annotations/{annotation.Id}", null, _ => HttpStatusCode.NotFound)),
            (users[Role.Outsider].Client, new("review ours via theirs", HttpMethod.Post, $"{outsider.Of(foreign.Id)}/annotations/{annotation.Id}/review", new ReviewRequest("accept", null, null), _ => HttpStatusCode.NotFound)),
        };
        foreach (var (client, c) in crossed)
        {
            var status = await SendAsync(client, c);
            if (status != HttpStatusCode.NotFound) failures.Add($"{c.Name} {c.Method} {c.Url}: expected 404, got {(int)status}");
        }

        // Finally the reviewer's decision, which passes.
        var review = cases.Single(c => c.Name == "review");
        Assert.Equal(HttpStatusCode.OK, await SendAsync(users[Role.Reviewer].Client, review));
        Assert.True(failures.Count == 0, string.Join("\n", failures));
        // Anonymous callers are turned away everywhere.
        using var anonymous = app.Anonymous();
        foreach (var c in cases) Assert.Equal(HttpStatusCode.Unauthorized, await SendAsync(anonymous, c));
    }

    private static async Task<HttpStatusCode> SendAsync(HttpClient client, Case c)
    {
        using var request = new HttpRequestMessage(c.Method, c.Url);
        if (c.Body is not null) request.Content = JsonContent.Create(c.Body, c.Body.GetType());
        using var response = await client.SendAsync(request);
        return response.StatusCode == HttpStatusCode.NoContent ? HttpStatusCode.OK : response.StatusCode;
    }
}

public sealed class SqliteLabelingAuthorizationTests(SqliteCubeApp app) : LabelingAuthorizationTests(app), IClassFixture<SqliteCubeApp>;

public sealed class PostgresLabelingAuthorizationTests(PostgresCubeApp app) : LabelingAuthorizationTests(app), IClassFixture<PostgresCubeApp>;
