using System.Net.Http.Json;
using System.Text.Json;
using Cube.DataHub.Apis;
using Cube.Training.Apis;

namespace Cube.Training.Tests.Api;

/// <summary>Helpers over the HTTP API as a script would call it: DataHub pushes and training calls.</summary>
internal sealed class TrainingClient(HttpClient http, string project)
{
    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);
    public HttpClient Http => http;
    public string Base => $"/api/projects/{project}/training";

    /// <summary>Creates a dataset and commits the files as its first version.</summary>
    public async Task PushDatasetAsync(string name, params (string Path, byte[] Content)[] files)
    {
        await EnsureAsync(await http.PostAsJsonAsync($"/api/projects/{project}/datasets", new CreateDatasetRequest(name, "training data", "mixed", [])));
        var session = (await (await EnsureAsync(await http.PostAsync($"/api/projects/{project}/datasets/{name}/uploads", null))).Content.ReadFromJsonAsync<UploadSessionDto>())!.Id;
        foreach (var (path, content) in files)
            await EnsureAsync(await http.PutAsync($"/api/projects/{project}/datasets/{name}/uploads/{session}/files/{path}", new ByteArrayContent(content)));
        await EnsureAsync(await http.PostAsJsonAsync($"/api/projects/{project}/datasets/{name}/uploads/{session}/commit", new CommitRequest("v1", "merge", true)));
    }

    public Task<HttpResponseMessage> SubmitRawAsync(object spec) => http.PostAsJsonAsync($"{Base}/jobs", spec, Json);

    public async Task<JobDto> SubmitAsync(object spec) =>
        (await (await EnsureAsync(await SubmitRawAsync(spec))).Content.ReadFromJsonAsync<JobDto>(Json))!;

    public async Task<JobDetailDto> GetAsync(Guid id) => (await http.GetFromJsonAsync<JobDetailDto>($"{Base}/jobs/{id}", Json))!;

    /// <summary>Polls the job until <paramref name="until"/> holds (default: it ended); fails after 180 s (a ceiling for loaded CI machines, not a timing check).</summary>
    public async Task<JobDetailDto> WaitAsync(Guid id, Func<JobDto, bool>? until = null)
    {
        until ??= j => j.State is "succeeded" or "failed" or "cancelled";
        var deadline = DateTime.UtcNow.AddSeconds(180);
        while (true)
        {
            var job = await GetAsync(id);
            if (until(job.Job)) return job;
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"Job {id} is still {job.Job.State}: {job.Job.Message}");
            await Task.Delay(100);
        }
    }

    public static async Task<HttpResponseMessage> EnsureAsync(HttpResponseMessage response)
    {
        if (!response.IsSuccessStatusCode)
            throw new HttpRequestException($"{(int)response.StatusCode} {response.RequestMessage?.Method} {response.RequestMessage?.RequestUri}: {await response.Content.ReadAsStringAsync()}");
        return response;
    }

    public static async Task<JsonElement> ProblemAsync(HttpResponseMessage response)
    {
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        return await response.Content.ReadFromJsonAsync<JsonElement>();
    }
}
