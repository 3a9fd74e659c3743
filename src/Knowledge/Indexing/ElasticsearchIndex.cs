using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Cube.Knowledge.Retrieval;

namespace Cube.Knowledge.Indexing;

/// <summary>An Elasticsearch request that failed; the message carries the cluster's error type and reason.</summary>
public sealed class ElasticsearchException(string message, HttpStatusCode? status = null) : Exception(message)
{
    public HttpStatusCode? Status { get; } = status;
}

/// <summary>
/// Knowledge bases on an Elasticsearch cluster, over its REST API (the official client is not on the package mirror).
/// One index per knowledge base: <c>text</c>/<c>heading_path</c>/<c>title</c> for BM25 (<c>multi_match</c>), a
/// <c>dense_vector</c> with cosine similarity for <c>knn</c>, keywords for pre-filters. Hybrid uses the <c>rrf</c>
/// retriever; when the cluster's licence refuses it, the same two queries go through <c>_msearch</c> and are fused
/// here with the same formula.
/// </summary>
public sealed class ElasticsearchIndex(HttpClient http, string indexPrefix) : IKnowledgeIndex
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);
    private readonly ConcurrentDictionary<string, bool> _created = new();
    private volatile bool _rrfRefused;

    public static HttpClient CreateClient(ElasticsearchOptions options)
    {
        if (string.IsNullOrWhiteSpace(options.Url))
            throw new InvalidOperationException($"{KnowledgeOptions.SectionName}:Index:Elasticsearch:Url is required for the Elasticsearch backend.");
        var client = new HttpClient(new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(5) })
        {
            BaseAddress = new Uri(options.Url.TrimEnd('/') + "/"),
            Timeout = TimeSpan.FromSeconds(100),
        };
        if (!string.IsNullOrWhiteSpace(options.ApiKey))
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("ApiKey", options.ApiKey);
        else if (!string.IsNullOrWhiteSpace(options.UserName))
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Basic",
                Convert.ToBase64String(Encoding.UTF8.GetBytes($"{options.UserName}:{options.Password}")));
        return client;
    }

    public string IndexName(Guid knowledgeBaseId) => $"{indexPrefix}-{knowledgeBaseId:N}";

    /// <summary>The index definition: strict mapping so a stray field is an error, not a silent new mapping.</summary>
    internal static JsonObject Mapping(int dimensions) => new()
    {
        ["settings"] = new JsonObject { ["number_of_shards"] = 1 },
        ["mappings"] = new JsonObject
        {
            ["dynamic"] = "strict",
            ["properties"] = new JsonObject
            {
                ["chunk_id"] = new JsonObject { ["type"] = "keyword" },
                ["document_id"] = new JsonObject { ["type"] = "keyword" },
                ["ordinal"] = new JsonObject { ["type"] = "integer" },
                ["text"] = new JsonObject { ["type"] = "text", ["analyzer"] = "english" },
                ["title"] = new JsonObject { ["type"] = "text", ["analyzer"] = "english" },
                ["heading_path"] = new JsonObject { ["type"] = "text", ["analyzer"] = "english" },
                ["page"] = new JsonObject { ["type"] = "integer" },
                ["tags"] = new JsonObject { ["type"] = "keyword" },
                ["vector"] = new JsonObject { ["type"] = "dense_vector", ["dims"] = dimensions, ["index"] = true, ["similarity"] = "cosine" },
            },
        },
    };

    private async Task EnsureIndexAsync(string index, int dimensions, CancellationToken cancellationToken)
    {
        if (_created.ContainsKey(index)) return;
        using var response = await http.PutAsync(index, JsonBody(Mapping(dimensions)), cancellationToken);
        if (!response.IsSuccessStatusCode)
        {
            var error = await ReadErrorAsync(response, cancellationToken);
            if (error.Type != "resource_already_exists_exception")
                throw new ElasticsearchException($"Creating index '{index}' failed: {error.Type}: {error.Reason}", response.StatusCode);
        }
        _created[index] = true;
    }

    public async Task ReplaceDocumentAsync(Guid knowledgeBaseId, Guid documentId, IReadOnlyList<IndexedChunk> chunks, CancellationToken cancellationToken = default)
    {
        var index = IndexName(knowledgeBaseId);
        if (chunks.Count > 0)
        {
            await EnsureIndexAsync(index, chunks[0].Vector.Length, cancellationToken);
            await BulkAsync(index, chunks, cancellationToken);
        }
        // New chunks first, then the old ones go: a search in between sees duplicates for a moment, never nothing.
        var keep = new JsonArray(chunks.Select(c => (JsonNode)c.ChunkId.ToString("N")).ToArray());
        await DeleteByQueryAsync(index, new JsonObject
        {
            ["bool"] = new JsonObject
            {
                ["filter"] = new JsonArray(new JsonObject { ["term"] = new JsonObject { ["document_id"] = documentId.ToString("N") } }),
                ["must_not"] = new JsonArray(new JsonObject { ["ids"] = new JsonObject { ["values"] = keep } }),
            },
        }, cancellationToken);
    }

    /// <summary>Sends chunks through <c>_bulk</c> as NDJSON and fails with the per-item errors the cluster reports.</summary>
    internal async Task BulkAsync(string index, IReadOnlyList<IndexedChunk> chunks, CancellationToken cancellationToken)
    {
        const int batch = 500;
        for (var start = 0; start < chunks.Count; start += batch)
        {
            var body = new StringBuilder();
            foreach (var chunk in chunks.Skip(start).Take(batch))
            {
                body.Append(new JsonObject { ["index"] = new JsonObject { ["_index"] = index, ["_id"] = chunk.ChunkId.ToString("N") } }.ToJsonString()).Append('\n');
                body.Append(Source(chunk).ToJsonString()).Append('\n');
            }
            using var content = new StringContent(body.ToString(), Encoding.UTF8);
            content.Headers.ContentType = new MediaTypeHeaderValue("application/x-ndjson");
            using var response = await http.PostAsync("_bulk?refresh=wait_for", content, cancellationToken);
            var json = await ReadJsonAsync(response, "_bulk", cancellationToken);
            if (json["errors"]?.GetValue<bool>() != true) continue;
            var failures = json["items"]!.AsArray()
                .Select(item => item!.AsObject().First().Value!)
                .Where(result => result["error"] is not null)
                .Select(result => $"{result["_id"]}: {result["error"]!["type"]}: {result["error"]!["reason"]}")
                .ToList();
            throw new ElasticsearchException($"{failures.Count} chunk(s) were refused by Elasticsearch: {string.Join("; ", failures.Take(5))}");
        }
    }

    internal static JsonObject Source(IndexedChunk chunk) => new()
    {
        ["chunk_id"] = chunk.ChunkId.ToString("N"),
        ["document_id"] = chunk.DocumentId.ToString("N"),
        ["ordinal"] = chunk.Ordinal,
        ["text"] = chunk.Text,
        ["title"] = chunk.Title,
        ["heading_path"] = chunk.HeadingPath,
        ["page"] = chunk.Page,
        ["tags"] = new JsonArray(chunk.Tags.Select(t => (JsonNode)t).ToArray()),
        ["vector"] = new JsonArray(chunk.Vector.Select(v => (JsonNode)v).ToArray()),
    };

    public Task DeleteDocumentAsync(Guid knowledgeBaseId, Guid documentId, CancellationToken cancellationToken = default) =>
        DeleteByQueryAsync(IndexName(knowledgeBaseId), new JsonObject { ["term"] = new JsonObject { ["document_id"] = documentId.ToString("N") } }, cancellationToken);

    private async Task DeleteByQueryAsync(string index, JsonObject query, CancellationToken cancellationToken)
    {
        using var response = await http.PostAsync($"{index}/_delete_by_query?refresh=true&conflicts=proceed",
            JsonBody(new JsonObject { ["query"] = query }), cancellationToken);
        if (response.StatusCode == HttpStatusCode.NotFound) return; // no index yet: nothing to delete
        await ReadJsonAsync(response, "_delete_by_query", cancellationToken);
    }

    public async Task DropAsync(Guid knowledgeBaseId, CancellationToken cancellationToken = default)
    {
        var index = IndexName(knowledgeBaseId);
        using var response = await http.DeleteAsync(index, cancellationToken);
        _created.TryRemove(index, out _);
        if (response.StatusCode != HttpStatusCode.NotFound) await ReadJsonAsync(response, "delete index", cancellationToken);
    }

    public async Task<IReadOnlyList<SearchHit>> SearchAsync(Guid knowledgeBaseId, SearchQuery query, CancellationToken cancellationToken = default)
    {
        var index = IndexName(knowledgeBaseId);
        JsonObject body;
        switch (query.Mode)
        {
            case SearchMode.Bm25:
                body = Envelope(query.K);
                body["query"] = Bm25Query(query);
                break;
            case SearchMode.Vector:
                body = Envelope(query.K);
                body["knn"] = KnnQuery(query, query.K);
                break;
            default:
                // The rrf retriever knows rank fusion only; weighted fusion, like a cluster without the licence, fuses here.
                if (_rrfRefused || query.VectorWeight is not null) return await HybridBySearchesAsync(index, query, cancellationToken);
                body = Envelope(query.K);
                body["retriever"] = new JsonObject
                {
                    ["rrf"] = new JsonObject
                    {
                        ["retrievers"] = new JsonArray(
                            new JsonObject { ["standard"] = new JsonObject { ["query"] = Bm25Query(query) } },
                            new JsonObject { ["knn"] = KnnQuery(query, query.CandidateCount) }),
                        ["rank_window_size"] = query.CandidateCount,
                        ["rank_constant"] = Fusion.DefaultRankConstant,
                    },
                };
                break;
        }
        using var response = await http.PostAsync($"{index}/_search", JsonBody(body), cancellationToken);
        if (response.StatusCode == HttpStatusCode.NotFound) return [];
        if (query.Mode == SearchMode.Hybrid && !response.IsSuccessStatusCode)
        {
            var error = await ReadErrorAsync(response, cancellationToken);
            if (IsLicenceRefusal(error))
            {
                _rrfRefused = true;
                return await HybridBySearchesAsync(index, query, cancellationToken);
            }
            throw new ElasticsearchException($"Search failed: {error.Type}: {error.Reason}", response.StatusCode);
        }
        var json = await ReadJsonAsync(response, "_search", cancellationToken);
        return ParseHits(json, query.Mode == SearchMode.Hybrid);
    }

    /// <summary>Hybrid without the rrf retriever (no licence for it, or weighted fusion): both queries in one <c>_msearch</c>, fused here.</summary>
    private async Task<IReadOnlyList<SearchHit>> HybridBySearchesAsync(string index, SearchQuery query, CancellationToken cancellationToken)
    {
        var bm25 = Envelope(query.CandidateCount);
        bm25["query"] = Bm25Query(query);
        var knn = Envelope(query.CandidateCount);
        knn["knn"] = KnnQuery(query, query.CandidateCount);
        var header = new JsonObject { ["index"] = index }.ToJsonString();
        var ndjson = $"{header}\n{bm25.ToJsonString()}\n{header}\n{knn.ToJsonString()}\n";
        using var content = new StringContent(ndjson, Encoding.UTF8);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/x-ndjson");
        using var response = await http.PostAsync("_msearch", content, cancellationToken);
        var json = await ReadJsonAsync(response, "_msearch", cancellationToken);
        var responses = json["responses"]!.AsArray();
        var results = responses.Select(r =>
        {
            if (r!["error"] is { } error)
            {
                if (error["type"]?.GetValue<string>() == "index_not_found_exception") return [];
                throw new ElasticsearchException($"Search failed: {error["type"]}: {error["reason"]}");
            }
            return ParseHits(r.AsObject(), false);
        }).ToList();
        return Fusion.Fuse(results[0], results[1], query);
    }

    private static bool IsLicenceRefusal((string Type, string Reason) error) =>
        error.Reason.Contains("license", StringComparison.OrdinalIgnoreCase)
        || error.Reason.Contains("licence", StringComparison.OrdinalIgnoreCase)
        || (error.Type == "security_exception" && error.Reason.Contains("rrf", StringComparison.OrdinalIgnoreCase));

    private static JsonObject Envelope(int size) => new()
    {
        ["size"] = size,
        ["_source"] = new JsonObject { ["excludes"] = new JsonArray("vector") },
    };

    internal static JsonObject Bm25Query(SearchQuery query)
    {
        var boolean = new JsonObject
        {
            ["must"] = new JsonArray(new JsonObject
            {
                ["multi_match"] = new JsonObject { ["query"] = query.Text, ["fields"] = new JsonArray("text", "heading_path^0.5", "title^0.5") },
            }),
        };
        if (Filters(query) is { } filters) boolean["filter"] = filters;
        return new JsonObject { ["bool"] = boolean };
    }

    internal static JsonObject KnnQuery(SearchQuery query, int k)
    {
        var vector = query.Vector ?? throw new ArgumentException("A vector search needs a query vector.", nameof(query));
        var knn = new JsonObject
        {
            ["field"] = "vector",
            ["query_vector"] = new JsonArray(vector.Select(v => (JsonNode)v).ToArray()),
            ["k"] = k,
            ["num_candidates"] = Math.Max(100, k * 2),
        };
        // knn.filter is applied during the graph search (a pre-filter), so filtered queries still get k hits.
        if (Filters(query) is { } filters) knn["filter"] = filters;
        return knn;
    }

    private static JsonArray? Filters(SearchQuery query)
    {
        var filters = new JsonArray();
        if (query.DocumentIds is { Count: > 0 } ids)
            filters.Add(new JsonObject { ["terms"] = new JsonObject { ["document_id"] = new JsonArray(ids.Select(i => (JsonNode)i.ToString("N")).ToArray()) } });
        if (query.Tags is { Count: > 0 } tags)
            filters.Add(new JsonObject { ["terms"] = new JsonObject { ["tags"] = new JsonArray(tags.Select(t => (JsonNode)t).ToArray()) } });
        if (query.ExcludedTags is { Count: > 0 } excluded)
            filters.Add(new JsonObject
            {
                ["bool"] = new JsonObject { ["must_not"] = new JsonArray(new JsonObject { ["terms"] = new JsonObject { ["tags"] = new JsonArray(excluded.Select(t => (JsonNode)t).ToArray()) } }) },
            });
        return filters.Count == 0 ? null : filters;
    }

    internal static IReadOnlyList<SearchHit> ParseHits(JsonObject response, bool fused)
    {
        var hits = response["hits"]?["hits"]?.AsArray() ?? [];
        var result = new List<SearchHit>(hits.Count);
        foreach (var hit in hits)
        {
            var source = hit!["_source"]!;
            result.Add(new SearchHit(
                Guid.Parse(source["chunk_id"]!.GetValue<string>()),
                Guid.Parse(source["document_id"]!.GetValue<string>()),
                source["ordinal"]?.GetValue<int>() ?? 0,
                source["text"]?.GetValue<string>() ?? "",
                source["title"]?.GetValue<string>(),
                source["heading_path"]?.GetValue<string>() ?? "",
                source["page"]?.GetValue<int?>(),
                hit["_score"]?.GetValue<double?>() ?? (fused ? 1.0 / (Fusion.DefaultRankConstant + result.Count + 1) : 0)));
        }
        return result;
    }

    private static StringContent JsonBody(JsonObject body) => new(body.ToJsonString(Json), Encoding.UTF8, "application/json");

    private static async Task<JsonObject> ReadJsonAsync(HttpResponseMessage response, string operation, CancellationToken cancellationToken)
    {
        if (!response.IsSuccessStatusCode)
        {
            var (type, reason) = await ReadErrorAsync(response, cancellationToken);
            throw new ElasticsearchException($"Elasticsearch {operation} failed ({(int)response.StatusCode}): {type}: {reason}", response.StatusCode);
        }
        await using var stream = await response.Content.ReadAsStreamAsync(cancellationToken);
        return (await JsonNode.ParseAsync(stream, cancellationToken: cancellationToken))?.AsObject()
            ?? throw new ElasticsearchException($"Elasticsearch {operation} returned an empty body.");
    }

    /// <summary>Reads the documented error shape <c>{"error":{"type","reason"},"status"}</c>, tolerating others.</summary>
    private static async Task<(string Type, string Reason)> ReadErrorAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        var text = await response.Content.ReadAsStringAsync(cancellationToken);
        try
        {
            var error = JsonNode.Parse(text)?["error"];
            if (error is JsonObject o)
            {
                var root = o["root_cause"]?.AsArray().FirstOrDefault();
                return (o["type"]?.GetValue<string>() ?? "error", o["reason"]?.GetValue<string>() ?? root?["reason"]?.GetValue<string>() ?? text);
            }
            if (error is JsonValue v) return ("error", v.ToString());
        }
        catch (JsonException)
        {
        }
        return ("http_" + (int)response.StatusCode, text.Length > 500 ? text[..500] : text);
    }
}
