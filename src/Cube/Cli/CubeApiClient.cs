using System.Net.Http.Headers;
using System.Text.Json;
using Cube.Core.Apis;

namespace Cube.Cli;

/// <summary>An error answer of the Cube API, with its RFC 9457 problem details when the server sent them.</summary>
internal sealed class ApiProblemException(int status, string title, string? detail, JsonElement? body)
    : Exception(detail is null ? title : $"{title}: {detail}")
{
    public int Status => status;
    public string Title => title;
    public string? Detail => detail;

    /// <summary>The whole problem body: extensions such as <c>file</c>, <c>row</c>, <c>column</c> or <c>receivedBytes</c> live here.</summary>
    public JsonElement? Body => body;

    public long? Number(string name) => body is { ValueKind: JsonValueKind.Object } b && b.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number ? v.GetInt64() : null;

    public string? Text(string name) => body is { ValueKind: JsonValueKind.Object } b && b.TryGetProperty(name, out var v)
        ? v.ValueKind == JsonValueKind.String ? v.GetString() : v.ValueKind is JsonValueKind.Null or JsonValueKind.Undefined ? null : v.GetRawText()
        : null;
}

/// <summary>
/// The Cube HTTP API as the CLI uses it: bearer token, project-scoped paths, problem details turned into
/// <see cref="ApiProblemException"/>, cursor paging.
/// </summary>
internal sealed class CubeApiClient : IDisposable
{
    private readonly HttpClient _http;

    public CubeApiClient(Uri server, string? token, string project, HttpMessageHandler? handler)
    {
        // Uploads of big chunks and waits for commits can take long; the per-request limit is the server's business.
        _http = handler is null ? new HttpClient() : new HttpClient(handler, disposeHandler: false);
        _http.BaseAddress = server;
        _http.Timeout = Timeout.InfiniteTimeSpan;
        if (!string.IsNullOrEmpty(token)) _http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        Project = project;
    }

    public string Project { get; }
    public Uri Server => _http.BaseAddress!;
    public HttpClient Http => _http;

    public string Datasets => $"api/projects/{Escape(Project)}/datasets";
    public string Dataset(string name) => $"{Datasets}/{Escape(name)}";

    public static string Escape(string segment) => Uri.EscapeDataString(segment);

    /// <summary>A dataset path in a URL: each segment escaped, the slashes kept (the server's catch-all routes expect them).</summary>
    public static string EscapePath(string path) => string.Join('/', path.Split('/').Select(Uri.EscapeDataString));

    public async Task<T> GetAsync<T>(string url, CancellationToken cancellationToken)
    {
        using var response = await _http.GetAsync(url, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
        return await ReadAsync<T>(response, cancellationToken);
    }

    public async Task<T> SendJsonAsync<T>(HttpMethod method, string url, object body, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(method, url) { Content = JsonContent.Create(body) };
        using var response = await _http.SendAsync(request, cancellationToken);
        return await ReadAsync<T>(response, cancellationToken);
    }

    /// <summary>Every item of a cursor-paged list.</summary>
    public async Task<List<T>> AllPagesAsync<T>(string url, CancellationToken cancellationToken)
    {
        var items = new List<T>();
        string? cursor = null;
        do
        {
            var separator = url.Contains('?', StringComparison.Ordinal) ? '&' : '?';
            var page = await GetAsync<Page<T>>(cursor is null ? url : $"{url}{separator}cursor={Escape(cursor)}", cancellationToken);
            items.AddRange(page.Items);
            cursor = page.NextCursor;
        }
        while (cursor is not null);
        return items;
    }

    public static async Task<T> ReadAsync<T>(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        await EnsureAsync(response, cancellationToken);
        return await response.Content.ReadFromJsonAsync<T>(cancellationToken)
            ?? throw new ApiProblemException((int)response.StatusCode, "Empty response", $"{response.RequestMessage?.RequestUri} returned no body.", null);
    }

    /// <summary>Throws <see cref="ApiProblemException"/> for an error status, with the problem body when there is one.</summary>
    public static async Task EnsureAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        if (response.IsSuccessStatusCode) return;
        var status = (int)response.StatusCode;
        var text = await response.Content.ReadAsStringAsync(cancellationToken);
        JsonElement? body = null;
        try
        {
            if (text.Length > 0) body = JsonDocument.Parse(text).RootElement.Clone();
        }
        catch (JsonException)
        {
            // Not JSON (a proxy's HTML page, say): the status line and the text are all there is to tell.
        }
        var title = body is { ValueKind: JsonValueKind.Object } b && b.TryGetProperty("title", out var t) && t.ValueKind == JsonValueKind.String
            ? t.GetString()! : $"{status} {response.ReasonPhrase}";
        var detail = body is { ValueKind: JsonValueKind.Object } d && d.TryGetProperty("detail", out var x) && x.ValueKind == JsonValueKind.String
            ? x.GetString() : body is null && text.Length > 0 ? text[..Math.Min(text.Length, 500)] : null;
        if (status == 401 && detail is null) detail = "pass a valid API token with --token or CUBE_TOKEN (create one with 'cube token create').";
        throw new ApiProblemException(status, title, detail, body);
    }

    public void Dispose() => _http.Dispose();
}
