using System.Text.Json.Nodes;
using Cube.Knowledge.Indexing;
using Cube.Testing;

namespace Cube.Knowledge.Tests.Indexing;

/// <summary>
/// The Elasticsearch adapter against the documented REST shapes: a fake cluster checks each request body and replays
/// responses shaped like the cluster's (create index, _bulk with per-item errors, _search, rrf licence refusal, _msearch).
/// </summary>
public sealed class ElasticsearchIndexTests
{
    private static readonly Guid Kb = Guid.Parse("0b0e6f1c-5d1a-4a39-9f55-1f7b3f1e2a10");
    private static readonly Guid Doc = Guid.Parse("5a4c1a2e-0000-4000-8000-000000000001");
    private static readonly Guid Chunk1 = Guid.Parse("c0000000-0000-4000-8000-000000000001");
    private static readonly Guid Chunk2 = Guid.Parse("c0000000-0000-4000-8000-000000000002");
    private const string Index = "cube-kb-0b0e6f1c5d1a4a399f551f7b3f1e2a10";

    private static IndexedChunk Chunk(Guid id, int ordinal, string text) =>
        new(id, Doc, ordinal, text, "Manual", "Intro > Setup", 3, ["public"], [0.6f, 0.8f, 0f]);

    private static ElasticsearchIndex Adapter(FakeHttpServer server) =>
        new(ElasticsearchIndex.CreateClient(new ElasticsearchOptions { Url = server.Url, ApiKey = "secret-key" }), "cube-kb");

    private static string Hit(Guid chunk, double? score, string text) => $$$$"""
        {"_index":"{{{{Index}}}}","_id":"{{{{chunk:N}}}}","_score":{{{{(score is null ? "null" : score.Value.ToString(System.Globalization.CultureInfo.InvariantCulture))}}}},
         "_source":{"chunk_id":"{{{{chunk:N}}}}","document_id":"{{{{Doc:N}}}}","ordinal":0,"text":"{{{{text}}}}","title":"Manual","heading_path":"Intro","page":4,"tags":["public"]}}
        """;

    private static string SearchResponse(params string[] hits) =>
        $$$$"""{"took":3,"timed_out":false,"_shards":{"total":1,"successful":1,"skipped":0,"failed":0},"hits":{"total":{"value":{{{{hits.Length}}}},"relation":"eq"},"max_score":1.2,"hits":[{{{{string.Join(',', hits)}}}}]}}""";

    [Fact]
    public async Task ReplaceDocumentAsync_CreatesTheMapping_BulkIndexesNdjson_ThenDeletesOldChunks()
    {
        await using var server = await FakeHttpServer.StartAsync((context, request) => request.PathAndQuery switch
        {
            "/" + Index => FakeHttpServer.Json(context, 200, $$$$"""{"acknowledged":true,"shards_acknowledged":true,"index":"{{{{Index}}}}"}"""),
            "/_bulk?refresh=wait_for" => FakeHttpServer.Json(context, 200, $$$$"""{"took":30,"errors":false,"items":[{"index":{"_index":"{{{{Index}}}}","_id":"{{{{Chunk1:N}}}}","_version":1,"result":"created","status":201}},{"index":{"_index":"{{{{Index}}}}","_id":"{{{{Chunk2:N}}}}","_version":1,"result":"created","status":201}}]}"""),
            _ => FakeHttpServer.Json(context, 200, """{"took":5,"timed_out":false,"total":1,"deleted":1,"batches":1,"version_conflicts":0,"noops":0,"failures":[]}"""),
        });

        await Adapter(server).ReplaceDocumentAsync(Kb, Doc, [Chunk(Chunk1, 0, "first"), Chunk(Chunk2, 1, "second")]);

        var requests = server.Requests.ToList();
        Assert.Equal(["PUT /" + Index, "POST /_bulk?refresh=wait_for", $"POST /{Index}/_delete_by_query?refresh=true&conflicts=proceed"],
            requests.Select(r => $"{r.Method} {r.PathAndQuery}"));
        Assert.All(requests, r => Assert.Equal("ApiKey secret-key", r.Authorization));

        var mapping = JsonNode.Parse(requests[0].Body)!;
        Assert.Equal("strict", (string?)mapping["mappings"]!["dynamic"]);
        var vector = mapping["mappings"]!["properties"]!["vector"]!;
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse("""{"type":"dense_vector","dims":3,"index":true,"similarity":"cosine"}"""), vector));
        Assert.Equal("keyword", (string?)mapping["mappings"]!["properties"]!["document_id"]!["type"]);
        Assert.Equal("english", (string?)mapping["mappings"]!["properties"]!["text"]!["analyzer"]);

        Assert.StartsWith("application/x-ndjson", requests[1].ContentType, StringComparison.Ordinal);
        var lines = requests[1].Body.Split('\n');
        Assert.Equal(5, lines.Length);
        Assert.Equal("", lines[4]);
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse($$$$"""{"index":{"_index":"{{{{Index}}}}","_id":"{{{{Chunk1:N}}}}"}}"""), JsonNode.Parse(lines[0])));
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse($$$$"""
            {"chunk_id":"{{{{Chunk1:N}}}}","document_id":"{{{{Doc:N}}}}","ordinal":0,"text":"first","title":"Manual","heading_path":"Intro > Setup","page":3,"tags":["public"],"vector":[0.6,0.8,0]}
            """), JsonNode.Parse(lines[1])));

        var delete = JsonNode.Parse(requests[2].Body)!;
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse($$$$"""
            {"query":{"bool":{"filter":[{"term":{"document_id":"{{{{Doc:N}}}}"}}],"must_not":[{"ids":{"values":["{{{{Chunk1:N}}}}","{{{{Chunk2:N}}}}"]}}]}}}
            """), delete));
    }

    [Fact]
    public async Task ReplaceDocumentAsync_ReportsPerItemBulkErrors()
    {
        await using var server = await FakeHttpServer.StartAsync((context, request) => request.PathAndQuery.StartsWith("/_bulk", StringComparison.Ordinal)
            ? FakeHttpServer.Json(context, 200, $$$$"""
                {"took":30,"errors":true,"items":[
                  {"index":{"_index":"{{{{Index}}}}","_id":"{{{{Chunk1:N}}}}","_version":1,"result":"created","status":201}},
                  {"index":{"_index":"{{{{Index}}}}","_id":"{{{{Chunk2:N}}}}","status":400,"error":{"type":"document_parsing_exception","reason":"[1:200] failed to parse field [vector] of type [dense_vector]"}}}]}
                """)
            : FakeHttpServer.Json(context, 400, $$$$"""{"error":{"root_cause":[{"type":"resource_already_exists_exception","reason":"index [{{{{Index}}}}/abc] already exists"}],"type":"resource_already_exists_exception","reason":"index [{{{{Index}}}}/abc] already exists","index":"{{{{Index}}}}"},"status":400}"""));

        var error = await Assert.ThrowsAsync<ElasticsearchException>(() => Adapter(server).ReplaceDocumentAsync(Kb, Doc, [Chunk(Chunk1, 0, "a"), Chunk(Chunk2, 1, "b")]));

        Assert.Contains("1 chunk(s) were refused", error.Message, StringComparison.Ordinal);
        Assert.Contains($"{Chunk2:N}: document_parsing_exception", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(server.Requests, r => r.PathAndQuery.Contains("_delete_by_query", StringComparison.Ordinal));
    }

    [Fact]
    public async Task SearchAsync_Bm25AndKnn_SendMultiMatchAndKnnWithPreFilters()
    {
        await using var server = await FakeHttpServer.StartAsync((context, _) => FakeHttpServer.Json(context, 200, SearchResponse(Hit(Chunk1, 1.25, "alpha"))));
        var adapter = Adapter(server);

        var bm25 = await adapter.SearchAsync(Kb, new SearchQuery("retention lock", null, SearchMode.Bm25, 5, [Doc], ["public"]));
        var knn = await adapter.SearchAsync(Kb, new SearchQuery("retention lock", [1f, 0f, 0f], SearchMode.Vector, 5, null, ["public"]));

        var requests = server.Requests.ToList();
        Assert.All(requests, r => Assert.Equal($"POST /{Index}/_search", $"{r.Method} {r.PathAndQuery}"));
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse($$$$"""
            {"size":5,"_source":{"excludes":["vector"]},"query":{"bool":{
              "must":[{"multi_match":{"query":"retention lock","fields":["text","heading_path^0.5","title^0.5"]}}],
              "filter":[{"terms":{"document_id":["{{{{Doc:N}}}}"]}},{"terms":{"tags":["public"]}}]}}}
            """), JsonNode.Parse(requests[0].Body)));
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse("""
            {"size":5,"_source":{"excludes":["vector"]},"knn":{"field":"vector","query_vector":[1,0,0],"k":5,"num_candidates":100,
              "filter":[{"terms":{"tags":["public"]}}]}}
            """), JsonNode.Parse(requests[1].Body)));
        var hit = Assert.Single(bm25);
        Assert.Equal((Chunk1, Doc, 4, "alpha", 1.25), (hit.ChunkId, hit.DocumentId, hit.Page ?? 0, hit.Text, hit.Score));
        Assert.Single(knn);
    }

    [Fact]
    public async Task SearchAsync_ExcludedTags_BecomeAMustNotPreFilterOfBothQueries()
    {
        await using var server = await FakeHttpServer.StartAsync((context, _) => FakeHttpServer.Json(context, 200, SearchResponse(Hit(Chunk1, 1.25, "alpha"))));
        var adapter = Adapter(server);

        await adapter.SearchAsync(Kb, new SearchQuery("retention lock", null, SearchMode.Bm25, 5, ExcludedTags: ["confidential", "hr"]));
        await adapter.SearchAsync(Kb, new SearchQuery("retention lock", [1f, 0f, 0f], SearchMode.Vector, 5, null, ["public"], ExcludedTags: ["confidential"]));

        var requests = server.Requests.ToList();
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse("""
            [{"bool":{"must_not":[{"terms":{"tags":["confidential","hr"]}}]}}]
            """), JsonNode.Parse(requests[0].Body)!["query"]!["bool"]!["filter"]));
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse("""
            [{"terms":{"tags":["public"]}},{"bool":{"must_not":[{"terms":{"tags":["confidential"]}}]}}]
            """), JsonNode.Parse(requests[1].Body)!["knn"]!["filter"]));
    }

    [Fact]
    public async Task SearchAsync_Hybrid_UsesTheRrfRetriever()
    {
        await using var server = await FakeHttpServer.StartAsync((context, _) =>
            FakeHttpServer.Json(context, 200, SearchResponse(Hit(Chunk2, 0.032, "second"), Hit(Chunk1, 0.016, "first"))));

        var hits = await Adapter(server).SearchAsync(Kb, new SearchQuery("lock", [0f, 1f, 0f], SearchMode.Hybrid, 2));

        var body = JsonNode.Parse(Assert.Single(server.Requests).Body)!;
        var rrf = body["retriever"]!["rrf"]!;
        Assert.Equal(60, (int)rrf["rank_constant"]!);
        Assert.Equal(50, (int)rrf["rank_window_size"]!);
        Assert.Equal("lock", (string?)rrf["retrievers"]![0]!["standard"]!["query"]!["bool"]!["must"]![0]!["multi_match"]!["query"]);
        Assert.Equal(50, (int)rrf["retrievers"]![1]!["knn"]!["k"]!);
        Assert.Equal([Chunk2, Chunk1], hits.Select(h => h.ChunkId));
    }

    [Fact]
    public async Task SearchAsync_Hybrid_FallsBackToMsearchAndClientSideRrf_WhenTheLicenceRefusesRrf()
    {
        await using var server = await FakeHttpServer.StartAsync((context, request) => request.PathAndQuery switch
        {
            "/_msearch" => FakeHttpServer.Json(context, 200, $$$$"""
                {"took":4,"responses":[
                  {{{{SearchResponse(Hit(Chunk1, 7.5, "first"), Hit(Chunk2, 3.1, "second"))}}}},
                  {{{{SearchResponse(Hit(Chunk2, 0.99, "second"))}}}}]}
                """),
            _ => FakeHttpServer.Json(context, 403, """
                {"error":{"root_cause":[{"type":"security_exception","reason":"current license is non-compliant for [Reciprocal Rank Fusion (RRF)]","license.expired.feature":"Reciprocal Rank Fusion (RRF)"}],
                 "type":"security_exception","reason":"current license is non-compliant for [Reciprocal Rank Fusion (RRF)]","license.expired.feature":"Reciprocal Rank Fusion (RRF)"},"status":403}
                """),
        });
        var adapter = Adapter(server);

        var hits = await adapter.SearchAsync(Kb, new SearchQuery("lock", [0f, 1f, 0f], SearchMode.Hybrid, 2));
        var again = await adapter.SearchAsync(Kb, new SearchQuery("lock", [0f, 1f, 0f], SearchMode.Hybrid, 2));

        // Chunk2 is ranked by both searches (1/62 + 1/61) and overtakes chunk1 (1/61 only).
        Assert.Equal([Chunk2, Chunk1], hits.Select(h => h.ChunkId));
        Assert.Equal((2, 1), (hits[0].Bm25Rank, hits[0].VectorRank));
        Assert.Equal(1.0 / 62 + 1.0 / 61, hits[0].Score, 9);
        Assert.Equal([Chunk2, Chunk1], again.Select(h => h.ChunkId));
        var requests = server.Requests.Select(r => r.PathAndQuery).ToList();
        // The refusal is remembered: the second search goes straight to _msearch.
        Assert.Equal([$"/{Index}/_search", "/_msearch", "/_msearch"], requests);
        var msearch = server.Requests.Last();
        var lines = msearch.Body.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(4, lines.Length);
        Assert.Equal(Index, (string?)JsonNode.Parse(lines[0])!["index"]);
        Assert.NotNull(JsonNode.Parse(lines[1])!["query"]);
        Assert.NotNull(JsonNode.Parse(lines[3])!["knn"]);
    }

    [Fact]
    public async Task SearchAsync_WeightedHybrid_FusesNormalisedScoresOfOneMsearch()
    {
        await using var server = await FakeHttpServer.StartAsync((context, request) => request.PathAndQuery switch
        {
            "/_msearch" => FakeHttpServer.Json(context, 200, $$$$"""
                {"took":4,"responses":[
                  {{{{SearchResponse(Hit(Chunk1, 7.5, "first"), Hit(Chunk2, 3.1, "second"))}}}},
                  {{{{SearchResponse(Hit(Chunk2, 0.99, "second"), Hit(Chunk1, 0.20, "first"))}}}}]}
                """),
            _ => FakeHttpServer.Json(context, 500, """{"error":{"type":"unexpected","reason":"only _msearch is expected"},"status":500}"""),
        });
        var adapter = Adapter(server);

        // BM25 normalised: chunk1 1, chunk2 0; vector normalised: chunk2 1, chunk1 0. The weight decides.
        var vectorHeavy = await adapter.SearchAsync(Kb, new SearchQuery("lock", [0f, 1f, 0f], SearchMode.Hybrid, 2, VectorWeight: 0.7));
        Assert.Equal([Chunk2, Chunk1], vectorHeavy.Select(h => h.ChunkId));
        Assert.Equal([0.7, 0.3], vectorHeavy.Select(h => Math.Round(h.Score, 9)));
        var textHeavy = await adapter.SearchAsync(Kb, new SearchQuery("lock", [0f, 1f, 0f], SearchMode.Hybrid, 2, VectorWeight: 0.2));
        Assert.Equal([Chunk1, Chunk2], textHeavy.Select(h => h.ChunkId));
        Assert.Equal((1, 2), (textHeavy[0].Bm25Rank, textHeavy[0].VectorRank));
        // The rrf retriever is never asked: it cannot weigh.
        Assert.All(server.Requests, r => Assert.Equal("/_msearch", r.PathAndQuery));
    }

    [Fact]
    public async Task SearchAsync_MissingIndex_ReturnsNothing()
    {
        await using var server = await FakeHttpServer.StartAsync((context, _) => FakeHttpServer.Json(context, 404,
            $$$$"""{"error":{"root_cause":[{"type":"index_not_found_exception","reason":"no such index [{{{{Index}}}}]"}],"type":"index_not_found_exception","reason":"no such index [{{{{Index}}}}]"},"status":404}"""));
        Assert.Empty(await Adapter(server).SearchAsync(Kb, new SearchQuery("x", null, SearchMode.Bm25, 3)));
    }

    /// <summary>Against a real cluster when CUBE_TEST_ELASTICSEARCH_URL (or CUBE_ES_URL) is set; skipped otherwise.</summary>
    [Fact]
    public async Task LiveCluster_IndexSearchAndDelete()
    {
        var url = Environment.GetEnvironmentVariable("CUBE_TEST_ELASTICSEARCH_URL") ?? Environment.GetEnvironmentVariable("CUBE_ES_URL");
        if (string.IsNullOrWhiteSpace(url)) Assert.Skip("Set CUBE_TEST_ELASTICSEARCH_URL to run against a live Elasticsearch cluster.");
        var index = new ElasticsearchIndex(ElasticsearchIndex.CreateClient(new ElasticsearchOptions { Url = url }), "cube-kb-test");
        var kb = Guid.NewGuid();
        try
        {
            await index.ReplaceDocumentAsync(kb, Doc, [Chunk(Chunk1, 0, "retention locks block deletion"), Chunk(Chunk2, 1, "rate limits return 429") with { Vector = [0f, 0.6f, 0.8f] }]);
            foreach (var mode in new[] { SearchMode.Bm25, SearchMode.Vector, SearchMode.Hybrid })
            {
                var hits = await index.SearchAsync(kb, new SearchQuery("retention lock", [0.6f, 0.8f, 0f], mode, 2));
                Assert.Equal(Chunk1, hits[0].ChunkId);
            }
            await index.DeleteDocumentAsync(kb, Doc);
            Assert.Empty(await index.SearchAsync(kb, new SearchQuery("retention", null, SearchMode.Bm25, 2)));
        }
        finally
        {
            await index.DropAsync(kb);
        }
    }
}
