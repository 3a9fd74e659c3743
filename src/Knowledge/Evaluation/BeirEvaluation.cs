using System.Text.Json;
using Cube.Core.Errors;
using Cube.Knowledge.Chunking;
using Cube.Knowledge.Embeddings;
using Cube.Knowledge.Extraction;
using Cube.Knowledge.Indexing;
using Cube.Knowledge.Ingestion;

namespace Cube.Knowledge.Evaluation;

/// <summary>A BEIR-format test collection: <c>corpus.jsonl</c> (_id, title, text), <c>queries.jsonl</c> (_id, text), <c>qrels/test.tsv</c>.</summary>
public sealed record BeirDataset(
    IReadOnlyList<(string Id, string Title, string Text)> Corpus,
    IReadOnlyDictionary<string, string> Queries,
    IReadOnlyDictionary<string, Dictionary<string, int>> Qrels)
{
    public static BeirDataset Load(string folder)
    {
        string Required(string relative)
        {
            var path = Path.Combine(folder, relative);
            return File.Exists(path) ? path : throw new BadRequestException($"The BEIR folder has no {relative}.");
        }
        var corpus = new List<(string, string, string)>();
        foreach (var line in File.ReadLines(Required("corpus.jsonl")).Where(l => l.Length > 0))
        {
            using var json = JsonDocument.Parse(line);
            var root = json.RootElement;
            corpus.Add((root.GetProperty("_id").GetString()!, root.TryGetProperty("title", out var t) ? t.GetString() ?? "" : "", root.GetProperty("text").GetString() ?? ""));
        }
        var queries = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var line in File.ReadLines(Required("queries.jsonl")).Where(l => l.Length > 0))
        {
            using var json = JsonDocument.Parse(line);
            queries[json.RootElement.GetProperty("_id").GetString()!] = json.RootElement.GetProperty("text").GetString() ?? "";
        }
        var qrels = new Dictionary<string, Dictionary<string, int>>(StringComparer.Ordinal);
        foreach (var line in File.ReadLines(Required(Path.Combine("qrels", "test.tsv"))).Skip(1).Where(l => l.Length > 0))
        {
            var parts = line.Split('\t');
            if (parts.Length < 3 || !int.TryParse(parts[2], out var grade)) throw new BadRequestException($"Bad qrels line: '{line}'.");
            if (!qrels.TryGetValue(parts[0], out var judgments)) qrels[parts[0]] = judgments = new Dictionary<string, int>(StringComparer.Ordinal);
            judgments[parts[1]] = grade;
        }
        return new BeirDataset(corpus, queries, qrels);
    }
}

/// <summary>
/// Runs a BEIR collection through the real pipeline: each corpus entry is chunked and embedded as a document of a
/// fresh index, every judged query is searched, and the chunk ranking is turned into a document ranking (a document
/// ranks at its best chunk).
/// </summary>
public sealed class BeirEvaluator(IKnowledgeIndex index, KnowledgeAi ai, ChunkingOptions chunking)
{
    private readonly Chunker _chunker = new(chunking);
    private readonly Dictionary<Guid, string> _documentIds = [];

    public async Task IngestAsync(Guid knowledgeBaseId, BeirDataset dataset, CancellationToken cancellationToken = default)
    {
        foreach (var (id, title, text) in dataset.Corpus)
        {
            var documentId = Guid.CreateVersion7();
            _documentIds[documentId] = id;
            var chunks = _chunker.Split(DocumentExtractor.ExtractText(text));
            if (chunks.Count == 0) continue;
            var vectors = await ai.EmbedAsync(chunks.Select(c => IngestionPipeline.EmbeddingText(title, c)).ToList(), cancellationToken);
            await index.ReplaceDocumentAsync(knowledgeBaseId, documentId,
                chunks.Select((c, i) => new IndexedChunk(Guid.CreateVersion7(), documentId, c.Ordinal, c.Text, title, c.HeadingPath, null, [], vectors[i])).ToList(),
                cancellationToken);
        }
    }

    public async Task<EvaluationScores> EvaluateAsync(Guid knowledgeBaseId, BeirDataset dataset, SearchMode mode, int k = 100, CancellationToken cancellationToken = default)
    {
        var runs = new Dictionary<string, IReadOnlyList<string>>(StringComparer.Ordinal);
        foreach (var (queryId, _) in dataset.Qrels)
        {
            if (!dataset.Queries.TryGetValue(queryId, out var text)) continue;
            var vector = mode == SearchMode.Bm25 ? null : (await ai.EmbedAsync([text], cancellationToken))[0];
            var hits = await index.SearchAsync(knowledgeBaseId, new SearchQuery(text, vector, mode, k), cancellationToken);
            runs[queryId] = RetrievalMetrics.Documents(hits.Select(h => _documentIds[h.DocumentId]));
        }
        return RetrievalMetrics.Evaluate(runs, dataset.Qrels, k);
    }
}
