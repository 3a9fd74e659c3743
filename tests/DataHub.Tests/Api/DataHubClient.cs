using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Cube.Core.Apis;
using Cube.DataHub.Apis;

namespace Cube.DataHub.Tests.Api;

/// <summary>Small helpers over the DataHub HTTP API, as a script or the CLI would call it.</summary>
internal sealed class DataHubClient(HttpClient http, string project)
{
    public HttpClient Http => http;
    public string Base(string dataset) => $"/api/projects/{project}/datasets/{dataset}";

    public async Task<DatasetDto> CreateDatasetAsync(string name, string kind = "mixed", params string[] tags)
    {
        var response = await http.PostAsJsonAsync($"/api/projects/{project}/datasets", new CreateDatasetRequest(name, "test data", kind, tags));
        await EnsureAsync(response);
        return (await response.Content.ReadFromJsonAsync<DatasetDto>())!;
    }

    public async Task<Guid> OpenSessionAsync(string dataset)
    {
        var response = await http.PostAsync($"{Base(dataset)}/uploads", null);
        await EnsureAsync(response);
        return (await response.Content.ReadFromJsonAsync<UploadSessionDto>())!.Id;
    }

    public Task<HttpResponseMessage> PutAsync(string dataset, Guid session, string path, byte[] content, string? contentRange = null, bool extract = false)
    {
        var request = new HttpRequestMessage(HttpMethod.Put, $"{Base(dataset)}/uploads/{session}/files/{Uri.EscapeDataString(path).Replace("%2F", "/")}{(extract ? "?extract=true" : "")}")
        {
            Content = new ByteArrayContent(content),
        };
        if (contentRange is not null) request.Content.Headers.ContentRange = ContentRangeHeaderValue.Parse(contentRange);
        return http.SendAsync(request);
    }

    public async Task<HttpResponseMessage> CommitAsync(string dataset, Guid session, string message, string mode = "merge") =>
        await http.PostAsJsonAsync($"{Base(dataset)}/uploads/{session}/commit", new CommitRequest(message, mode, true));

    /// <summary>Uploads files in one session and commits with wait; returns the new version number.</summary>
    public async Task<int> PushAsync(string dataset, string message, params (string Path, byte[] Content)[] files)
    {
        var session = await OpenSessionAsync(dataset);
        foreach (var (path, content) in files) await EnsureAsync(await PutAsync(dataset, session, path, content));
        var response = await CommitAsync(dataset, session, message);
        await EnsureAsync(response);
        var run = (await response.Content.ReadFromJsonAsync<RunDto>())!;
        return run.Result!.Value.GetProperty("number").GetInt32();
    }

    public static async Task EnsureAsync(HttpResponseMessage response)
    {
        if (!response.IsSuccessStatusCode)
            throw new HttpRequestException($"{(int)response.StatusCode} {response.RequestMessage?.Method} {response.RequestMessage?.RequestUri}: {await response.Content.ReadAsStringAsync()}");
    }

    public static async Task<JsonElement> ProblemAsync(HttpResponseMessage response)
    {
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        return await response.Content.ReadFromJsonAsync<JsonElement>();
    }
}
