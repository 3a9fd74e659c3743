using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Cube.Labeling.Apis;

namespace Cube.Labeling.Tests.Api;

/// <summary>The labeling API as a script or the workbench calls it.</summary>
internal sealed class LabelingClient(HttpClient http, string project)
{
    public HttpClient Http => http;
    public string Root => $"/api/projects/{project}/labeling";
    public string Of(Guid labeling) => $"{Root}/{labeling}";

    public static JsonElement Json(object value) => JsonSerializer.SerializeToElement(value, new JsonSerializerOptions(JsonSerializerDefaults.Web));

    public static object Classes(params string[] names) => new { kind = "TextClassification", labels = names.Select(n => new { name = n }).ToArray() };

    public async Task<LabelingProjectDto> CreateAsync(string name, object config, int overlap = 1, string ordering = "sequential", double goldRate = 0,
        double reviewRate = 0, int leaseSeconds = 600, TaskSourceRequest? source = null)
    {
        var response = await http.PostAsJsonAsync(Root, new CreateLabelingProjectRequest(name, "Label each item.", Json(config), overlap, ordering, goldRate, reviewRate, leaseSeconds, source));
        await EnsureAsync(response);
        return (await response.Content.ReadFromJsonAsync<LabelingProjectDto>())!;
    }

    public async Task<IReadOnlyList<Guid>> AddTextTasksAsync(Guid labeling, int count, int priorityEvery = 0)
    {
        var tasks = Enumerable.Range(0, count).Select(i => new NewTaskRequest(Json(new { text = $"item {i}" }), priorityEvery > 0 && i % priorityEvery == 0 ? 10 : 0, null, null)).ToList();
        var response = await http.PostAsJsonAsync($"{Of(labeling)}/tasks", new AddTasksRequest(tasks));
        await EnsureAsync(response);
        return (await response.Content.ReadFromJsonAsync<AddedTasksDto>())!.Ids;
    }

    public async Task<LeaseDto?> NextAsync(Guid labeling)
    {
        var response = await http.PostAsync($"{Of(labeling)}/next", null);
        if (response.StatusCode == HttpStatusCode.NoContent) return null;
        await EnsureAsync(response);
        return await response.Content.ReadFromJsonAsync<LeaseDto>();
    }

    public Task<HttpResponseMessage> SaveAsync(Guid labeling, Guid task, object result, bool draft = false, string? ifMatch = null, long timeSpentMs = 1000)
    {
        var request = new HttpRequestMessage(HttpMethod.Put, $"{Of(labeling)}/tasks/{task}/annotation")
        {
            Content = JsonContent.Create(new SaveAnnotationRequest(Json(result), draft, timeSpentMs)),
        };
        if (ifMatch is not null) request.Headers.TryAddWithoutValidation("If-Match", ifMatch);
        return http.SendAsync(request);
    }

    public async Task<AnnotationDto> SubmitAsync(Guid labeling, Guid task, object result)
    {
        var response = await SaveAsync(labeling, task, result);
        await EnsureAsync(response);
        return (await response.Content.ReadFromJsonAsync<AnnotationDto>())!;
    }

    public async Task<LabelingProjectDto> GetAsync(Guid labeling) => (await http.GetFromJsonAsync<LabelingProjectDto>(Of(labeling)))!;

    /// <summary>Creates a dataset and commits the files as its first version through the DataHub API.</summary>
    public async Task PushDatasetAsync(string dataset, params (string Path, byte[] Content)[] files)
    {
        var datasets = $"/api/projects/{project}/datasets";
        await EnsureAsync(await http.PostAsJsonAsync(datasets, new Cube.DataHub.Apis.CreateDatasetRequest(dataset, null, "mixed", null)));
        var opened = await http.PostAsync($"{datasets}/{dataset}/uploads", null);
        await EnsureAsync(opened);
        var session = (await opened.Content.ReadFromJsonAsync<Cube.DataHub.Apis.UploadSessionDto>())!.Id;
        foreach (var (path, content) in files)
            await EnsureAsync(await http.PutAsync($"{datasets}/{dataset}/uploads/{session}/files/{path}", new ByteArrayContent(content)));
        await EnsureAsync(await http.PostAsJsonAsync($"{datasets}/{dataset}/uploads/{session}/commit", new Cube.DataHub.Apis.CommitRequest("for labeling", "merge", true)));
    }

    public static async Task EnsureAsync(HttpResponseMessage response)
    {
        if (!response.IsSuccessStatusCode)
            throw new HttpRequestException($"{(int)response.StatusCode} {response.RequestMessage?.Method} {response.RequestMessage?.RequestUri}: {await response.Content.ReadAsStringAsync()}");
    }

    public static async Task<JsonElement> ProblemAsync(HttpResponseMessage response, HttpStatusCode expected)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(expected == response.StatusCode, $"expected {(int)expected}, got {(int)response.StatusCode}: {body}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        return JsonDocument.Parse(body).RootElement.Clone();
    }
}
