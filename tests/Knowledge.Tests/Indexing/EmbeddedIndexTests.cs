using Cube.Knowledge.Embeddings;
using Cube.Knowledge.Indexing;

namespace Cube.Knowledge.Tests.Indexing;

public sealed class EmbeddedIndexTests : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "cube-kb-tests-" + Guid.NewGuid().ToString("N"));
    private readonly HashingEmbeddingGenerator _embedder = new(256);
    private readonly Guid _kb = Guid.NewGuid();

    private IndexedChunk Chunk(Guid document, int ordinal, string text, params string[] tags) =>
        new(Guid.CreateVersion7(), document, ordinal, text, "Title", "Section", ordinal + 1, tags, _embedder.Embed(text));

    private SearchQuery Query(string text, SearchMode mode, int k, IReadOnlyCollection<Guid>? documents = null, IReadOnlyCollection<string>? tags = null) =>
        new(text, _embedder.Embed(text), mode, k, documents, tags);

    [Theory]
    [InlineData(SearchMode.Bm25)]
    [InlineData(SearchMode.Vector)]
    [InlineData(SearchMode.Hybrid)]
    public async Task SearchAsync_RanksTheMatchingChunkFirst_InEveryMode(SearchMode mode)
    {
        using var index = new EmbeddedIndex(_root);
        var a = Guid.NewGuid();
        var b = Guid.NewGuid();
        await index.ReplaceDocumentAsync(_kb, a, [Chunk(a, 0, "Backups run nightly and are copied to another region."), Chunk(a, 1, "Restores are tested every quarter.")]);
        await index.ReplaceDocumentAsync(_kb, b, [Chunk(b, 0, "Rate limiting rejects requests over the quota with status 429.")]);

        var hits = await index.SearchAsync(_kb, Query("how often are restores tested", mode, 3));

        Assert.Equal("Restores are tested every quarter.", hits[0].Text);
        Assert.Equal(a, hits[0].DocumentId);
        Assert.Equal(2, hits[0].Page);
        Assert.Equal("Section", hits[0].HeadingPath);
        if (mode == SearchMode.Hybrid) Assert.Equal((1, 1), (hits[0].Bm25Rank, hits[0].VectorRank));
    }

    [Theory]
    [InlineData(SearchMode.Bm25)]
    [InlineData(SearchMode.Vector)]
    [InlineData(SearchMode.Hybrid)]
    public async Task SearchAsync_AppliesFiltersBeforeTopK(SearchMode mode)
    {
        using var index = new EmbeddedIndex(_root);
        var strong = Guid.NewGuid();
        var weak = Guid.NewGuid();
        // 30 strongly matching chunks in one document would fill any top-k that was filtered after ranking.
        await index.ReplaceDocumentAsync(_kb, strong, Enumerable.Range(0, 30).Select(i => Chunk(strong, i, $"invoice export failed export invoice {i}", "finance")).ToList());
        await index.ReplaceDocumentAsync(_kb, weak, Enumerable.Range(0, 5).Select(i => Chunk(weak, i, $"the export of logs number {i}", "ops")).ToList());

        var byDocument = await index.SearchAsync(_kb, Query("invoice export failed", mode, 3, documents: [weak]));
        var byTag = await index.SearchAsync(_kb, Query("invoice export failed", mode, 3, tags: ["ops"]));

        Assert.Equal(3, byDocument.Count);
        Assert.All(byDocument, h => Assert.Equal(weak, h.DocumentId));
        Assert.Equal(3, byTag.Count);
        Assert.All(byTag, h => Assert.Equal(weak, h.DocumentId));
    }

    [Theory]
    [InlineData(SearchMode.Bm25)]
    [InlineData(SearchMode.Vector)]
    [InlineData(SearchMode.Hybrid)]
    public async Task SearchAsync_ExcludedTags_AreAPreFilter_AloneOrWithOtherFilters(SearchMode mode)
    {
        using var index = new EmbeddedIndex(_root);
        var secret = Guid.NewGuid();
        var open = Guid.NewGuid();
        await index.ReplaceDocumentAsync(_kb, secret, Enumerable.Range(0, 30).Select(i => Chunk(secret, i, $"invoice export failed export invoice {i}", "finance", "confidential")).ToList());
        await index.ReplaceDocumentAsync(_kb, open, Enumerable.Range(0, 5).Select(i => Chunk(open, i, $"the export of logs number {i}", "finance")).ToList());

        var alone = await index.SearchAsync(_kb, Query("invoice export failed", mode, 3) with { ExcludedTags = ["confidential"] });
        var withTags = await index.SearchAsync(_kb, Query("invoice export failed", mode, 3, tags: ["finance"]) with { ExcludedTags = ["confidential"] });
        var unrelated = await index.SearchAsync(_kb, Query("invoice export failed", mode, 3) with { ExcludedTags = ["no-such-tag"] });

        Assert.Equal(3, alone.Count);
        Assert.All(alone, h => Assert.Equal(open, h.DocumentId));
        Assert.Equal(3, withTags.Count);
        Assert.All(withTags, h => Assert.Equal(open, h.DocumentId));
        Assert.Equal(secret, unrelated[0].DocumentId);
    }

    [Fact]
    public async Task ReplaceDocumentAsync_RemovesOldChunks_AndIndexSurvivesReopen()
    {
        var document = Guid.NewGuid();
        using (var index = new EmbeddedIndex(_root))
        {
            await index.ReplaceDocumentAsync(_kb, document, [Chunk(document, 0, "the old content about zebras")]);
            await index.ReplaceDocumentAsync(_kb, document, [Chunk(document, 0, "the new content about giraffes")]);
            Assert.Empty(await index.SearchAsync(_kb, Query("zebras", SearchMode.Bm25, 5)));
        }
        using (var reopened = new EmbeddedIndex(_root))
        {
            var vector = await reopened.SearchAsync(_kb, Query("giraffes", SearchMode.Vector, 5));
            Assert.Equal("the new content about giraffes", Assert.Single(vector).Text);
            await reopened.DeleteDocumentAsync(_kb, document);
            Assert.Empty(await reopened.SearchAsync(_kb, Query("giraffes", SearchMode.Hybrid, 5)));
            await reopened.DropAsync(_kb);
            Assert.False(Directory.Exists(Path.Combine(_root, _kb.ToString("N"))));
        }
    }

    private static readonly VectorSearchOptions Int8 = new() { Quantization = VectorQuantization.Int8 };

    private List<IndexedChunk> Topic(Guid document, string topic, int count, params string[] tags) =>
        Enumerable.Range(0, count).Select(i => Chunk(document, i, $"{topic} note {i} about {topic} {(i % 2 == 0 ? "alpha" : "beta")} part {i * 7}", tags)).ToList();

    [Fact]
    public async Task SearchAsync_Int8Results_AreTheSame_AfterReopen()
    {
        var documents = Enumerable.Range(0, 12).Select(_ => Guid.NewGuid()).ToList();
        var topics = new[] { "backups", "invoices", "latency", "kubernetes" };
        IReadOnlyList<SearchHit> before;
        using (var index = new EmbeddedIndex(_root, Int8))
        {
            for (var d = 0; d < documents.Count; d++) await index.ReplaceDocumentAsync(_kb, documents[d], Topic(documents[d], topics[d % 4], 20));
            Assert.True(index.IsQuantized(_kb));
            before = await index.SearchAsync(_kb, Query("invoices note about beta", SearchMode.Vector, 10));
        }
        using var reopened = new EmbeddedIndex(_root, Int8);

        var after = await reopened.SearchAsync(_kb, Query("invoices note about beta", SearchMode.Vector, 10));

        Assert.Equal(10, after.Count);
        Assert.Equal(before.Select(h => (h.ChunkId, h.Score)), after.Select(h => (h.ChunkId, h.Score)));
    }

    [Theory]
    [InlineData(SearchMode.Vector)]
    [InlineData(SearchMode.Hybrid)]
    public async Task SearchAsync_Int8_NeverReturnsDeletedOrReplacedChunks(SearchMode mode)
    {
        using var index = new EmbeddedIndex(_root, Int8);
        var kept = Guid.NewGuid();
        var deleted = Guid.NewGuid();
        var replaced = Guid.NewGuid();
        await index.ReplaceDocumentAsync(_kb, kept, Topic(kept, "restores", 10));
        await index.ReplaceDocumentAsync(_kb, deleted, Topic(deleted, "invoices", 30));
        var old = Topic(replaced, "invoices", 30);
        await index.ReplaceDocumentAsync(_kb, replaced, old);
        await index.DeleteDocumentAsync(_kb, deleted);
        await index.ReplaceDocumentAsync(_kb, replaced, Topic(replaced, "giraffes", 2));

        var hits = await index.SearchAsync(_kb, Query("invoices note about alpha", mode, 10));

        Assert.Equal(10, hits.Count);
        Assert.DoesNotContain(hits, h => h.DocumentId == deleted);
        Assert.DoesNotContain(hits, h => old.Any(o => o.ChunkId == h.ChunkId));
    }

    [Theory]
    [InlineData(SearchMode.Vector)]
    [InlineData(SearchMode.Hybrid)]
    public async Task SearchAsync_Int8_HiddenTagsArePreFiltered_AndKAllowedChunksComeBack(SearchMode mode)
    {
        using var index = new EmbeddedIndex(_root, Int8);
        var secret = Guid.NewGuid();
        var open = Guid.NewGuid();
        await index.ReplaceDocumentAsync(_kb, secret, Topic(secret, "invoices", 60, "confidential"));
        await index.ReplaceDocumentAsync(_kb, open, Topic(open, "latency", 10, "public"));

        var hits = await index.SearchAsync(_kb, Query("invoices note about alpha", mode, 10) with { ExcludedTags = ["confidential"] });
        var again = await index.SearchAsync(_kb, Query("invoices note about beta", mode, 10) with { ExcludedTags = ["confidential"] });

        Assert.Equal(10, hits.Count);
        Assert.All(hits.Concat(again), h => Assert.Equal(open, h.DocumentId));
        Assert.Equal(10, again.Count);
    }

    [Fact]
    public async Task SearchAsync_WhileDocumentsAreInserted_AlwaysAnswersWithIndexedChunks()
    {
        using var index = new EmbeddedIndex(_root, new VectorSearchOptions { ExactBelow = 100 });
        var first = Guid.NewGuid();
        await index.ReplaceDocumentAsync(_kb, first, Topic(first, "backups", 20));
        var written = new System.Collections.Concurrent.ConcurrentDictionary<Guid, bool>();
        written[first] = true;
        using var done = new CancellationTokenSource();
        var writer = Task.Run(async () =>
        {
            try
            {
                // Crosses ExactBelow while readers run, so both paths and the switch between them are exercised.
                for (var d = 0; d < 15; d++)
                {
                    var id = Guid.NewGuid();
                    written[id] = true;
                    await index.ReplaceDocumentAsync(_kb, id, Topic(id, d % 2 == 0 ? "invoices" : "latency", 20));
                }
            }
            finally
            {
                await done.CancelAsync();
            }
        });
        var readers = Enumerable.Range(0, 3).Select(r => Task.Run(async () =>
        {
            var searches = 0;
            while (!done.IsCancellationRequested || searches == 0)
            {
                var hits = await index.SearchAsync(_kb, Query("invoices note about beta", r == 0 ? SearchMode.Hybrid : SearchMode.Vector, 10));
                Assert.Equal(10, hits.Count);
                Assert.All(hits, h => Assert.True(written.ContainsKey(h.DocumentId)));
                searches++;
            }
        })).ToList();

        await writer;
        await Task.WhenAll(readers);
        Assert.True(index.IsQuantized(_kb));
    }

    [Fact]
    public void VectorIndex_ExactTopK_MatchesBruteForce()
    {
        var random = new Random(7);
        var vectors = Enumerable.Range(0, 25_000).Select(_ => KnowledgeAi.Normalize(Enumerable.Range(0, 32).Select(_ => (float)random.NextDouble() - 0.5f).ToArray())).ToList();
        var index = new VectorIndex();
        var ids = vectors.Select(v => (Id: Guid.NewGuid(), Vector: v)).ToList();
        foreach (var (id, vector) in ids) index.Add(id, Guid.Empty, [], vector);
        var query = vectors[123];

        var found = index.Search(query, 10, null);

        var expected = ids.OrderByDescending(x => System.Numerics.Tensors.TensorPrimitives.Dot(x.Vector, query)).Take(10).Select(x => x.Id);
        Assert.Equal(expected, found.Select(f => f.Row.ChunkId));
        Assert.Equal(ids[123].Id, found[0].Row.ChunkId);
    }

    public void Dispose()
    {
        if (Directory.Exists(_root)) Directory.Delete(_root, recursive: true);
    }
}
