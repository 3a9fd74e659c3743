using System.Net;
using System.Net.Http.Json;
using Cube.Core.Apis;
using Cube.Labeling.Apis;
using Cube.Testing;

namespace Cube.Labeling.Tests.Api;

/// <summary>
/// An acknowledged submit survives the server being killed with SIGKILL right after the response: a real
/// <c>cube</c> process is killed the moment the last submit is answered, started again on the same data directory,
/// and every acknowledged annotation is there with the result and version it was acknowledged with.
/// </summary>
public sealed class KillAfterSubmitTests
{
    private const int Tasks = 30;

    [Fact]
    public async Task AcknowledgedSubmits_SurviveSigkill()
    {
        using var data = new TempDirectory();
        var acknowledged = new Dictionary<Guid, (string Label, long Version)>();
        Guid labeling;
        await using (var first = await CubeProcess.StartAsync(data.Path))
        {
            using var admin = await first.SignInAsync();
            (await admin.PostAsJsonAsync("/api/projects", new CreateProjectRequest("crash", "Crash test", null))).EnsureSuccessStatusCode();
            (await admin.PostAsJsonAsync("/api/users", new CreateUserRequest("ann", "annotator-password", null, false))).EnsureSuccessStatusCode();
            (await admin.PutAsJsonAsync("/api/projects/crash/members/ann", new SetMemberRequest("annotator"))).EnsureSuccessStatusCode();
            var created = await admin.PostAsJsonAsync("/api/projects/crash/labeling", new CreateLabelingProjectRequest("sentiment", null,
                LabelingClient.Json(LabelingClient.Classes("positive", "negative")), 1, "sequential", 0, 0, 600, null));
            created.EnsureSuccessStatusCode();
            labeling = (await created.Content.ReadFromJsonAsync<LabelingProjectDto>())!.Id;
            var tasks = Enumerable.Range(0, Tasks).Select(i => new NewTaskRequest(LabelingClient.Json(new { text = $"item {i}" }), null, null, null)).ToList();
            (await admin.PostAsJsonAsync($"/api/projects/crash/labeling/{labeling}/tasks", new AddTasksRequest(tasks))).EnsureSuccessStatusCode();

            using var annotator = await first.SignInAsync("ann", "annotator-password");
            for (var i = 0; i < Tasks; i++)
            {
                var next = await annotator.PostAsync($"/api/projects/crash/labeling/{labeling}/next", null);
                var lease = (await next.Content.ReadFromJsonAsync<LeaseDto>())!;
                var label = i % 3 == 0 ? "negative" : "positive";
                var saved = await annotator.PutAsJsonAsync($"/api/projects/crash/labeling/{labeling}/tasks/{lease.Task.Id}/annotation",
                    new SaveAnnotationRequest(LabelingClient.Json(new { labels = new[] { label } }), false, 100));
                Assert.Equal(HttpStatusCode.OK, saved.StatusCode);
                acknowledged[lease.Task.Id] = (label, (await saved.Content.ReadFromJsonAsync<AnnotationDto>())!.Version);
            }
            // Killed the instant the last acknowledgement arrived: nothing gets a chance to flush.
            await first.KillAsync();
        }

        await using var second = await CubeProcess.StartAsync(data.Path);
        using var reader = await second.SignInAsync();
        var stored = (await reader.GetFromJsonAsync<Page<AnnotationDto>>($"/api/projects/crash/labeling/{labeling}/annotations?status=submitted&limit=500"))!.Items;
        Assert.Equal(Tasks, stored.Count);
        foreach (var annotation in stored)
        {
            var (label, version) = acknowledged[annotation.TaskId];
            Assert.Equal(label, annotation.Result!.Value.GetProperty("labels")[0].GetString());
            Assert.Equal(version, annotation.Version);
        }
    }
}
