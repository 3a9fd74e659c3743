using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using Cube.Core.Errors;
using Microsoft.Extensions.Options;

namespace Cube.Knowledge.Retrieval;

/// <summary>The rerank hook: rescores retrieved passages against the query (higher is better), one score per passage in order.</summary>
public interface IReranker
{
    Task<IReadOnlyList<double>> ScoreAsync(string query, IReadOnlyList<string> passages, CancellationToken cancellationToken = default);
}

/// <summary>
/// A reranker behind an HTTP <c>/rerank</c> endpoint. Reads both common answer shapes: <c>{results: [{index,
/// relevance_score}]}</c> (vLLM, llama.cpp server, Jina, Cohere) and a bare array of <c>{index, score}</c> (Hugging Face TEI).
/// </summary>
public sealed class HttpReranker(HttpClient http, string? model) : IReranker
{
    public async Task<IReadOnlyList<double>> ScoreAsync(string query, IReadOnlyList<string> passages, CancellationToken cancellationToken = default)
    {
        if (passages.Count == 0) return [];
        var body = new JsonObject
        {
            ["query"] = query,
            ["documents"] = new JsonArray(passages.Select(p => (JsonNode)JsonValue.Create(p)).ToArray()),
            ["top_n"] = passages.Count,
            ["return_documents"] = false,
        };
        if (model is not null) body["model"] = model;
        using var response = await http.PostAsJsonAsync("rerank", body, cancellationToken);
        var text = await response.Content.ReadAsStringAsync(cancellationToken);
        if (!response.IsSuccessStatusCode)
            throw new CubeException(502, "Bad gateway", $"The reranker answered {(int)response.StatusCode}: {Truncate(text)}");
        var scores = new double[passages.Count];
        Array.Fill(scores, double.NegativeInfinity);
        try
        {
            var root = JsonNode.Parse(text);
            var items = root is JsonArray array ? array : root?["results"]?.AsArray()
                ?? throw new JsonException("no results array");
            foreach (var item in items)
            {
                var index = item!["index"]!.GetValue<int>();
                var score = (item["relevance_score"] ?? item["score"])!.GetValue<double>();
                if (index < 0 || index >= scores.Length) throw new JsonException($"index {index} is out of range");
                scores[index] = score;
            }
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or NullReferenceException or FormatException)
        {
            throw new CubeException(502, "Bad gateway", $"The reranker's answer is not a rerank result ({e.Message}).");
        }
        return scores;
    }

    private static string Truncate(string text) => text.Length <= 300 ? text : text[..300] + "…";

    public static HttpClient CreateClient(RerankOptions options)
    {
        var client = new HttpClient { BaseAddress = new Uri(options.Endpoint!.TrimEnd('/') + "/"), Timeout = TimeSpan.FromSeconds(30) };
        if (!string.IsNullOrEmpty(options.ApiKey)) client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", options.ApiKey);
        return client;
    }
}

/// <summary>The configured reranker, built on first use from <see cref="KnowledgeOptions.Rerank"/>; null when none is configured.</summary>
public sealed class RerankerProvider(IOptions<KnowledgeOptions> options) : IDisposable
{
    private readonly Lazy<(HttpClient? Client, IReranker? Reranker)> _current = new(() =>
    {
        var rerank = options.Value.Rerank;
        if (!rerank.IsConfigured) return (null, null);
        var client = HttpReranker.CreateClient(rerank);
        return (client, new HttpReranker(client, rerank.Model));
    });

    public IReranker? Current => _current.Value.Reranker;

    public RerankOptions Options => options.Value.Rerank;

    public void Dispose()
    {
        if (_current.IsValueCreated) _current.Value.Client?.Dispose();
    }
}
