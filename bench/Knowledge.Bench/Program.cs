using System.Diagnostics;
using System.Globalization;
using Cube.Knowledge;
using Cube.Knowledge.Chunking;
using Cube.Knowledge.Embeddings;
using Cube.Knowledge.Extraction;
using Cube.Knowledge.Indexing;
using Microsoft.Extensions.Options;

// Knowledge benchmark: ingestion throughput (chunk + embed, then index) and query latency p50/p95 for BM25, vector
// and hybrid on the embedded engine, the default vector path (int8 + rescoring from 20,000 vectors) against the exact
// one, recall@10 between them, and where hybrid time goes. Usage: Cube.Knowledge.Bench [--chunks 100000] [--queries 300] [--dims 384]
var chunkCount = Arg("--chunks", 100_000);
var queryCount = Arg("--queries", 300);
var dimensions = Arg("--dims", 384);
CultureInfo.DefaultThreadCurrentCulture = CultureInfo.InvariantCulture;

var random = new Random(42);
// A Zipf-like vocabulary: a few very common words and a long tail, like real prose.
var vocabulary = Enumerable.Range(0, 30_000).Select(i => Word(i)).ToArray();
string Draw() => vocabulary[(int)Math.Min(vocabulary.Length - 1, Math.Floor(Math.Pow(random.NextDouble(), 3) * vocabulary.Length))];
string Paragraph(int words) => string.Join(' ', Enumerable.Range(0, words).Select(_ => Draw())) + ".";

var options = new KnowledgeOptions { Embeddings = { Dimensions = dimensions } };
using var ai = new KnowledgeAi(Options.Create(options));
var chunker = new Chunker(options.Chunking);
var root = Path.Combine(Path.GetTempPath(), "cube-knowledge-bench-" + Guid.NewGuid().ToString("N"));
var kb = Guid.NewGuid();
Console.WriteLine($"Knowledge bench: {chunkCount:N0} chunks, {dimensions} dimensions, {Environment.ProcessorCount} cores");

try
{
    var index = new EmbeddedIndex(root, options.Index.Vectors);
    // Documents of ~100 paragraphs of 60 words: chunking packs about five paragraphs into each 350-token chunk.
    var prepare = Stopwatch.StartNew();
    var documents = new List<(Guid Id, List<IndexedChunk> Chunks)>();
    var produced = 0;
    var tokens = 0L;
    while (produced < chunkCount)
    {
        var text = string.Join("\n\n", Enumerable.Range(0, 100).Select(_ => Paragraph(60)));
        var chunks = chunker.Split(DocumentExtractor.ExtractText(text)).Take(chunkCount - produced).ToList();
        var vectors = await ai.EmbedAsync(chunks.Select(c => c.Text).ToList(), CancellationToken.None);
        var id = Guid.NewGuid();
        documents.Add((id, chunks.Select((c, i) => new IndexedChunk(Guid.NewGuid(), id, c.Ordinal, c.Text, "Bench", c.HeadingPath, null, [$"team-{documents.Count % 10}"], vectors[i])).ToList()));
        produced += chunks.Count;
        tokens += chunks.Sum(c => (long)c.TokenCount);
    }
    prepare.Stop();
    var indexing = Stopwatch.StartNew();
    foreach (var (id, chunks) in documents) await index.ReplaceDocumentAsync(kb, id, chunks);
    indexing.Stop();
    var total = prepare.Elapsed + indexing.Elapsed;
    Console.WriteLine($"ingest: chunk+embed {produced / prepare.Elapsed.TotalSeconds:N0} chunks/s ({tokens / prepare.Elapsed.TotalSeconds:N0} tokens/s), " +
        $"index {produced / indexing.Elapsed.TotalSeconds:N0} chunks/s, end to end {produced / total.TotalSeconds:N0} chunks/s ({documents.Count} documents, {total.TotalSeconds:F1} s)");

    var queries = Enumerable.Range(0, queryCount).Select(_ => string.Join(' ', Enumerable.Range(0, 4).Select(_ => Draw()))).ToList();
    var queryVectors = queries.ToDictionary(q => q, q => ai.Embed(q));
    // Every document carries one of ten team tags; "hidden" queries exclude one team, the way a knowledge base's hidden tags do.
    SearchQuery Query(string q, SearchMode mode, int k, bool hidden = false) =>
        new(q, mode == SearchMode.Bm25 ? null : queryVectors[q], mode, k, ExcludedTags: hidden ? ["team-0"] : null);

    async Task<(double P50, double P95)> Measure(EmbeddedIndex on, string label, Func<string, SearchQuery> make, bool embed = true)
    {
        // Warm-up: first-use costs (searcher, field caches, JIT of the remaining paths) are not query latency.
        foreach (var q in queries.Take(20)) await on.SearchAsync(kb, make(q));
        var latencies = new List<double>(queries.Count);
        foreach (var q in queries)
        {
            var query = make(q);
            var watch = Stopwatch.StartNew();
            // Query embedding is part of the latency a user sees, so it is inside the timer.
            if (embed && query.Vector is not null) query = query with { Vector = (await ai.EmbedAsync([q], CancellationToken.None))[0] };
            var hits = await on.SearchAsync(kb, query);
            latencies.Add(watch.Elapsed.TotalMilliseconds);
            if (hits.Count == 0 && query.Mode != SearchMode.Bm25) throw new InvalidOperationException($"{query.Mode} returned nothing for '{q}'.");
        }
        latencies.Sort();
        var result = (Percentile(latencies, 0.50), Percentile(latencies, 0.95));
        Console.WriteLine($"{label,-34}: p50 {result.Item1,7:F2} ms, p95 {result.Item2,7:F2} ms");
        return result;
    }

    async Task<Dictionary<string, List<Guid>>> VectorTop10(EmbeddedIndex on) =>
        (await Task.WhenAll(queries.Select(async q => (q, (await on.SearchAsync(kb, Query(q, SearchMode.Vector, 10))).Select(h => h.ChunkId).ToList()))))
            .ToDictionary(x => x.q, x => x.Item2);

    Console.WriteLine($"-- vector search {(index.IsQuantized(kb) ? "int8 + float rescoring" : "exact")} (Auto: int8 from {options.Index.Vectors.ExactBelow:N0} vectors) --");
    var bm25 = await Measure(index, "query bm25 (k 10)", q => Query(q, SearchMode.Bm25, 10));
    var vector = await Measure(index, "query vector (k 10)", q => Query(q, SearchMode.Vector, 10));
    var hybrid = await Measure(index, "query hybrid (k 10, RRF 50 + 50)", q => Query(q, SearchMode.Hybrid, 10));
    Console.WriteLine("-- where hybrid time goes --");
    await Measure(index, "  bm25 top 50", q => Query(q, SearchMode.Bm25, 50));
    await Measure(index, "  vector top 50 (no embedding)", q => Query(q, SearchMode.Vector, 50), embed: false);
    await Measure(index, "  hybrid, hidden-tag pre-filter", q => Query(q, SearchMode.Hybrid, 10, hidden: true));
    var snippetHits = await index.SearchAsync(kb, Query(queries[0], SearchMode.Hybrid, 10));
    var snippets = Stopwatch.StartNew();
    foreach (var q in queries) foreach (var hit in snippetHits) _ = Cube.Knowledge.Retrieval.Snippets.Make(hit.Text, q);
    Console.WriteLine($"  snippets for 10 hits: {snippets.Elapsed.TotalMilliseconds / queries.Count:F2} ms per query");
    var fusionInput = (await index.SearchAsync(kb, Query(queries[0], SearchMode.Bm25, 50)), await index.SearchAsync(kb, Query(queries[0], SearchMode.Vector, 50)));
    var fusion = Stopwatch.StartNew();
    for (var i = 0; i < 1000; i++) _ = Cube.Knowledge.Retrieval.Fusion.ReciprocalRank(fusionInput.Item1, fusionInput.Item2, 10);
    Console.WriteLine($"  RRF of 50 + 50: {fusion.Elapsed.TotalMilliseconds / 1000:F3} ms");
    var fast = await VectorTop10(index);

    // The vector index alone, exact and int8 timed alternately per query so both see the same machine load.
    var alone = new Dictionary<VectorQuantization, VectorIndex>
    {
        [VectorQuantization.Exact] = new(new VectorSearchOptions { Quantization = VectorQuantization.Exact }),
        [VectorQuantization.Int8] = new(new VectorSearchOptions { Quantization = VectorQuantization.Int8 }),
    };
    foreach (var chunk in documents.SelectMany(d => d.Chunks))
        foreach (var vectors in alone.Values) vectors.Add(chunk.ChunkId, chunk.DocumentId, chunk.Tags, chunk.Vector);
    Console.WriteLine("-- vector index alone, exact and int8 alternating (no embedding, no stored fields) --");
    foreach (var k in new[] { 10, 50 })
    {
        var times = alone.Keys.ToDictionary(x => x, _ => new List<double>());
        var hitsInExact = 0.0;
        foreach (var q in queries.Take(20)) foreach (var vectors in alone.Values) vectors.Search(queryVectors[q], k, null);
        foreach (var q in queries)
        {
            var found = new Dictionary<VectorQuantization, HashSet<Guid>>();
            foreach (var (quantization, vectors) in alone)
            {
                var watch = Stopwatch.StartNew();
                var top = vectors.Search(queryVectors[q], k, null);
                times[quantization].Add(watch.Elapsed.TotalMilliseconds);
                found[quantization] = top.Select(t => t.Row.ChunkId).ToHashSet();
            }
            hitsInExact += found[VectorQuantization.Int8].Count(found[VectorQuantization.Exact].Contains) / (double)k;
        }
        foreach (var (quantization, list) in times)
        {
            list.Sort();
            Console.WriteLine($"  {quantization.ToString().ToLowerInvariant(),-5} top {k,2}: p50 {Percentile(list, 0.5),7:F2} ms, p95 {Percentile(list, 0.95),7:F2} ms");
        }
        Console.WriteLine($"  recall@{k} int8 against exact: {hitsInExact / queries.Count:F4}");
    }
    alone.Clear();
    index.Dispose();

    // The same index reopened with the exact path: the oracle for recall and the latency the quantised path replaces.
    var reopen = Stopwatch.StartNew();
    using var exactIndex = new EmbeddedIndex(root, new VectorSearchOptions { Quantization = VectorQuantization.Exact });
    await exactIndex.SearchAsync(kb, Query(queries[0], SearchMode.Vector, 10));
    Console.WriteLine($"-- vector search exact (index reopened in {reopen.Elapsed.TotalSeconds:F1} s) --");
    var exactVector = await Measure(exactIndex, "query vector (k 10)", q => Query(q, SearchMode.Vector, 10));
    var exactHybrid = await Measure(exactIndex, "query hybrid (k 10, RRF 50 + 50)", q => Query(q, SearchMode.Hybrid, 10));
    var exact = await VectorTop10(exactIndex);
    var recall = queries.Average(q => exact[q].Intersect(fast[q]).Count() / (double)Math.Max(1, exact[q].Count));
    Console.WriteLine($"recall@10 of the default path against exact: {recall:F4}");
    Console.WriteLine($"hybrid p95 {hybrid.P95:F2} ms (exact {exactHybrid.P95:F2} ms) against the 50 ms goal: {(hybrid.P95 < 50 ? "met" : "missed")}");
    Console.WriteLine($"summary: bm25 {bm25.P50:F1}/{bm25.P95:F1} ms; vector {vector.P50:F1}/{vector.P95:F1} ms (exact {exactVector.P50:F1}/{exactVector.P95:F1}); " +
        $"hybrid {hybrid.P50:F1}/{hybrid.P95:F1} ms (exact {exactHybrid.P50:F1}/{exactHybrid.P95:F1}); p50/p95; recall@10 {recall:F3}");
}
finally
{
    if (Directory.Exists(root)) Directory.Delete(root, recursive: true);
}

static double Percentile(List<double> sorted, double p) => sorted[Math.Min(sorted.Count - 1, (int)Math.Ceiling(p * sorted.Count) - 1)];

static string Word(int i)
{
    const string letters = "abcdefghijklmnopqrstuvwxyz";
    var length = 3 + i % 8;
    var chars = new char[length];
    var x = (uint)(i * 2654435761u + 12345);
    for (var j = 0; j < length; j++)
    {
        chars[j] = letters[(int)(x % 26)];
        x = x * 1103515245 + 12345;
    }
    return new string(chars);
}

int Arg(string name, int fallback)
{
    var i = Array.IndexOf(args, name);
    return i >= 0 && i + 1 < args.Length ? int.Parse(args[i + 1], CultureInfo.InvariantCulture) : fallback;
}

internal static class BenchExtensions
{
    public static float[] Embed(this KnowledgeAi ai, string text) => ((HashingEmbeddingGenerator)ai.Embedder).Embed(text);
}
