using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Cube.Core.Errors;
using Cube.Core.Net;
using Cube.Labeling.Data;

namespace Cube.Labeling.Prelabel;

/// <summary>One prediction as an endpoint returned it, before validation; <see cref="Problem"/> says why it cannot be used.</summary>
public sealed record EndpointPrediction(Guid? TaskId, double? Score, JsonElement? Result, string? Problem);

public sealed record EndpointAnswer(string? Model, string? Version, IReadOnlyList<EndpointPrediction> Predictions);

/// <summary>
/// Posts batches of tasks to a registered model endpoint (docs/labeling-prelabel-endpoint.md) through the network guard,
/// so every connection, the first and any later one, goes only to an address the allow-list permits. A timeout, a
/// connection failure, a non-2xx answer or a body that is not the documented JSON fails the whole run; single bad
/// predictions in a good body are the caller's to count.
/// </summary>
/// <param name="endpoint">The registration.</param>
/// <param name="guard">Keeps the calls off internal networks.</param>
/// <param name="token">The bearer token in clear (the registration holds it encrypted; see <see cref="TokenPurpose"/>).</param>
public sealed class ModelEndpointClient(ModelEndpoint endpoint, NetworkGuard guard, string? token) : IDisposable
{
    /// <summary>The data-protection purpose the endpoint's token is encrypted under at rest.</summary>
    public const string TokenPurpose = "Cube.Labeling.ModelEndpointToken";

    /// <summary>Largest response body read; a model answering more for one batch is misbehaving.</summary>
    public const int MaxResponseBytes = 64 * 1024 * 1024;

    // The request's own timeout is per call (below); redirects are not followed (the guard's handler turns them off).
    private readonly HttpClient _http = new(guard.CreateHandler()) { Timeout = Timeout.InfiniteTimeSpan };

    private string Where => NetworkGuard.Display(new Uri(endpoint.Url));

    public async Task<EndpointAnswer> PredictAsync(IReadOnlyList<LabelingTask> tasks, CancellationToken cancellationToken)
    {
        await guard.CheckAsync(new Uri(endpoint.Url), cancellationToken);
        var body = new JsonObject
        {
            ["model"] = endpoint.Model,
            ["tasks"] = new JsonArray([.. tasks.Select(t => (JsonNode)new JsonObject { ["id"] = t.Id.ToString(), ["data"] = JsonNode.Parse(t.DataJson) })]),
        };
        using var request = new HttpRequestMessage(HttpMethod.Post, endpoint.Url) { Content = new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json") };
        if (token is not null) request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(endpoint.TimeoutSeconds));
        byte[] content;
        try
        {
            using var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeout.Token);
            content = await ReadAsync(response, timeout.Token);
            if (!response.IsSuccessStatusCode)
            {
                var excerpt = Encoding.UTF8.GetString(content, 0, Math.Min(content.Length, 300)).ReplaceLineEndings(" ");
                throw Failed($"answered {(int)response.StatusCode} {response.StatusCode}{(excerpt.Length > 0 ? $": {excerpt}" : "")}");
            }
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new CubeException(504, "Model endpoint timed out", $"The model endpoint '{Where}' did not answer a batch of {tasks.Count} tasks within {endpoint.TimeoutSeconds} s.");
        }
        catch (HttpRequestException e)
        {
            throw Failed($"could not be reached: {e.Message}");
        }
        return Parse(content);
    }

    private async Task<byte[]> ReadAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        if (response.Content.Headers.ContentLength > MaxResponseBytes) throw Failed($"answered {response.Content.Headers.ContentLength:N0} bytes; at most {MaxResponseBytes:N0} are read");
        await using var stream = await response.Content.ReadAsStreamAsync(cancellationToken);
        using var buffer = new MemoryStream();
        var chunk = new byte[1 << 16];
        int read;
        while ((read = await stream.ReadAsync(chunk, cancellationToken)) > 0)
        {
            if (buffer.Length + read > MaxResponseBytes) throw Failed($"answered more than {MaxResponseBytes:N0} bytes");
            buffer.Write(chunk, 0, read);
        }
        return buffer.ToArray();
    }

    private EndpointAnswer Parse(byte[] content)
    {
        JsonElement root;
        try
        {
            using var document = JsonDocument.Parse(content);
            root = document.RootElement.Clone();
        }
        catch (JsonException e)
        {
            throw Failed($"answered something that is not JSON ({e.Message})");
        }
        if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("predictions", out var items) || items.ValueKind != JsonValueKind.Array)
            throw Failed("answered JSON without a 'predictions' array");
        string? Text(JsonElement owner, string name) => owner.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
        var predictions = new List<EndpointPrediction>();
        foreach (var item in items.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.Object)
            {
                predictions.Add(new(null, null, null, "A prediction must be a JSON object."));
                continue;
            }
            Guid? taskId = Guid.TryParse(Text(item, "taskId"), out var id) ? id : null;
            double? score = null;
            string? problem = taskId is null ? "'taskId' must be the id of a task that was sent." : null;
            if (item.TryGetProperty("score", out var s) && s.ValueKind != JsonValueKind.Null)
            {
                if (s.ValueKind == JsonValueKind.Number && s.GetDouble() is var value and >= 0 and <= 1) score = value;
                else problem ??= "'score' must be a number between 0 and 1.";
            }
            JsonElement? result = item.TryGetProperty("result", out var r) ? r.Clone() : null;
            if (result is null) problem ??= "'result' is missing.";
            predictions.Add(new(taskId, score, result, problem));
        }
        return new EndpointAnswer(Clip(Text(root, "model")), Clip(Text(root, "version")), predictions);
    }

    private static string? Clip(string? value) => string.IsNullOrWhiteSpace(value) ? null : value.Trim().Length <= 200 ? value.Trim() : value.Trim()[..200];

    private CubeException Failed(string what) => new(502, "Model endpoint failed", $"The model endpoint '{Where}' {what}.");

    public void Dispose() => _http.Dispose();
}
