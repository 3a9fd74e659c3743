using Cube.Core.Errors;
using Cube.Knowledge.Data;
using Cube.Knowledge.Embeddings;
using Cube.Knowledge.Indexing;
using Microsoft.EntityFrameworkCore;

namespace Cube.Knowledge.Retrieval;

/// <summary>A search result as the API returns it: the chunk, where it comes from, its score and ranks, a snippet.</summary>
public sealed record RetrievedChunk(
    Guid ChunkId, Guid DocumentId, string Document, string? Title, string HeadingPath, int? Page, int Ordinal, double Score,
    int? Bm25Rank, int? VectorRank, string Snippet, string Text);

/// <summary>How a hybrid search fuses (null weight: reciprocal rank) and whether the reranker rescores (null: the configured default).</summary>
public sealed record SearchTuning(double? VectorWeight = null, bool? Rerank = null);

/// <summary>
/// Turns a query into ranked chunks of one knowledge base: embeds it when the mode needs a vector, applies pre-filters,
/// and, when asked and configured, lets the reranker rescore a wider candidate set before cutting to k.
/// </summary>
public sealed class Retriever(IKnowledgeIndex index, KnowledgeAi ai, KnowledgeDbContext db, RerankerProvider rerankers)
{
    public const int MaxK = 100;

    public static SearchMode ParseMode(string? mode) => mode?.ToLowerInvariant() switch
    {
        null or "" or "hybrid" => SearchMode.Hybrid,
        "bm25" => SearchMode.Bm25,
        "vector" => SearchMode.Vector,
        _ => throw new ValidationException("mode", $"Unknown search mode '{mode}'; use bm25, vector or hybrid."),
    };

    public async Task<IReadOnlyList<RetrievedChunk>> SearchAsync(KnowledgeBase knowledgeBase, string text, SearchMode mode, int k,
        IReadOnlyCollection<Guid>? documentIds, IReadOnlyCollection<string>? tags, CancellationToken cancellationToken, SearchTuning? tuning = null)
    {
        if (string.IsNullOrWhiteSpace(text)) throw new ValidationException("query", "The query is empty.");
        if (k is < 1 or > MaxK) throw new ValidationException("k", $"k must be between 1 and {MaxK}.");
        if (tuning?.VectorWeight is { } weight)
        {
            if (mode != SearchMode.Hybrid) throw new ValidationException("vectorWeight", "A vector weight applies to hybrid search only.");
            if (weight is < 0 or > 1 || double.IsNaN(weight)) throw new ValidationException("vectorWeight", "The vector weight is between 0 and 1.");
        }
        var reranker = rerankers.Current;
        var rerank = tuning?.Rerank ?? (reranker is not null && rerankers.Options.ByDefault);
        if (rerank && reranker is null) throw new ConflictException("No reranker is configured (Cube:Knowledge:Rerank:Endpoint).");
        if (mode != SearchMode.Bm25 && knowledgeBase.EmbeddingModel != ai.EmbeddingModel)
            throw new ConflictException($"Knowledge base '{knowledgeBase.Name}' was embedded with '{knowledgeBase.EmbeddingModel}', but the configured embedder is '{ai.EmbeddingModel}'; re-ingest it or search with mode bm25.");
        var vector = mode == SearchMode.Bm25 ? null : (await ai.EmbedAsync([text], cancellationToken))[0];
        var candidates = rerank ? Math.Min(MaxK, Math.Max(k, rerankers.Options.Candidates)) : k;
        var hits = await index.SearchAsync(knowledgeBase.Id, new SearchQuery(text, vector, mode, candidates, documentIds, tags, tuning?.VectorWeight,
            knowledgeBase.HiddenTags.Count > 0 ? knowledgeBase.HiddenTags.ToList() : null), cancellationToken);
        if (rerank && hits.Count > 0)
        {
            var scores = await reranker!.ScoreAsync(text, hits.Select(h => h.Text).ToList(), cancellationToken);
            hits = hits.Select((h, i) => (Hit: h, Score: scores[i], At: i))
                .OrderByDescending(x => x.Score).ThenBy(x => x.At)
                .Take(k)
                .Select(x => x.Hit with { Score = x.Score })
                .ToList();
        }
        var ids = hits.Select(h => h.DocumentId).Distinct().ToList();
        var names = await db.Documents.AsNoTracking().Where(d => ids.Contains(d.Id)).ToDictionaryAsync(d => d.Id, d => d.Name, cancellationToken);
        return hits
            // A chunk whose document was deleted a moment ago may still be in a replica's view of the index; never cite it.
            .Where(h => names.ContainsKey(h.DocumentId))
            .Select(h => new RetrievedChunk(h.ChunkId, h.DocumentId, names[h.DocumentId], h.Title, h.HeadingPath, h.Page, h.Ordinal, h.Score,
                h.Bm25Rank, h.VectorRank, Snippets.Make(h.Text, text), h.Text))
            .ToList();
    }
}

/// <summary>A short window of a chunk around the query's words, with matches marked by « ».</summary>
public static class Snippets
{
    public static string Make(string text, string query, int length = 240)
    {
        var words = query.Split((char[])[' ', ',', '.', '?', '!', ';', ':', '"', '\'', '(', ')'], StringSplitOptions.RemoveEmptyEntries)
            .Where(w => w.Length > 2).Select(w => w.ToLowerInvariant()).Distinct().ToList();
        var lower = text.ToLowerInvariant();
        var first = words.Select(w => lower.IndexOf(w, StringComparison.Ordinal)).Where(i => i >= 0).DefaultIfEmpty(0).Min();
        var start = Math.Max(0, first - length / 4);
        while (start > 0 && !char.IsWhiteSpace(text[start - 1])) start--;
        var end = Math.Min(text.Length, start + length);
        var window = text[start..end];
        if (words.Count > 0)
        {
            var pattern = $@"\b(?:{string.Join('|', words.OrderByDescending(w => w.Length).Select(System.Text.RegularExpressions.Regex.Escape))})\w*";
            window = System.Text.RegularExpressions.Regex.Replace(window, pattern, m => $"«{m.Value}»",
                System.Text.RegularExpressions.RegexOptions.IgnoreCase, TimeSpan.FromMilliseconds(100));
        }
        return (start > 0 ? "…" : "") + window + (end < text.Length ? "…" : "");
    }
}
