using Cube.Knowledge.Indexing;

namespace Cube.Knowledge.Retrieval;

/// <summary>
/// Hybrid fusion of a BM25 and a vector ranking. Reciprocal rank fusion (the default): score = Σ 1 / (k + rank) over
/// the rankers that returned the item (rank from 1). Weighted: each ranking's scores are min-max normalised to [0, 1]
/// and summed as (1 − w)·bm25 + w·vector, a missing score counting 0 — for collections where one signal is known to
/// be better and rank positions alone throw that knowledge away.
/// </summary>
public static class Fusion
{
    public const int DefaultRankConstant = 60;

    /// <summary>The fusion the query asks for.</summary>
    public static IReadOnlyList<SearchHit> Fuse(IReadOnlyList<SearchHit> bm25, IReadOnlyList<SearchHit> vector, SearchQuery query) =>
        query.VectorWeight is { } weight ? Weighted(bm25, vector, query.K, weight) : ReciprocalRank(bm25, vector, query.K);

    public static IReadOnlyList<SearchHit> Weighted(IReadOnlyList<SearchHit> bm25, IReadOnlyList<SearchHit> vector, int k, double vectorWeight)
    {
        if (vectorWeight is < 0 or > 1 || double.IsNaN(vectorWeight)) throw new ArgumentOutOfRangeException(nameof(vectorWeight), "The vector weight is between 0 and 1.");
        var fused = new Dictionary<Guid, (SearchHit Hit, double Score, int? Bm25Rank, int? VectorRank)>();
        var bm25Scores = Normalised(bm25);
        for (var i = 0; i < bm25.Count; i++)
            fused[bm25[i].ChunkId] = (bm25[i], (1 - vectorWeight) * bm25Scores[i], i + 1, null);
        var vectorScores = Normalised(vector);
        for (var i = 0; i < vector.Count; i++)
        {
            var hit = vector[i];
            var score = vectorWeight * vectorScores[i];
            fused[hit.ChunkId] = fused.TryGetValue(hit.ChunkId, out var existing)
                ? (existing.Hit, existing.Score + score, existing.Bm25Rank, i + 1)
                : (hit, score, null, i + 1);
        }
        return Ranked(fused.Values, k);
    }

    /// <summary>Scores mapped to [0, 1] by the list's own minimum and maximum; a list whose scores are all equal maps to 1.</summary>
    private static double[] Normalised(IReadOnlyList<SearchHit> hits)
    {
        if (hits.Count == 0) return [];
        var min = hits.Min(h => h.Score);
        var max = hits.Max(h => h.Score);
        return hits.Select(h => max > min ? (h.Score - min) / (max - min) : 1.0).ToArray();
    }

    private static List<SearchHit> Ranked(IEnumerable<(SearchHit Hit, double Score, int? Bm25Rank, int? VectorRank)> fused, int k) =>
        fused
            .OrderByDescending(f => f.Score)
            .ThenBy(f => Math.Min(f.Bm25Rank ?? int.MaxValue, f.VectorRank ?? int.MaxValue))
            .ThenBy(f => f.Hit.ChunkId)
            .Take(k)
            .Select(f => f.Hit with { Score = f.Score, Bm25Rank = f.Bm25Rank, VectorRank = f.VectorRank })
            .ToList();

    public static IReadOnlyList<SearchHit> ReciprocalRank(IReadOnlyList<SearchHit> bm25, IReadOnlyList<SearchHit> vector, int k, int rankConstant = DefaultRankConstant)
    {
        var fused = new Dictionary<Guid, (SearchHit Hit, double Score, int? Bm25Rank, int? VectorRank)>();
        for (var i = 0; i < bm25.Count; i++)
        {
            var hit = bm25[i];
            fused[hit.ChunkId] = (hit, 1.0 / (rankConstant + i + 1), i + 1, null);
        }
        for (var i = 0; i < vector.Count; i++)
        {
            var hit = vector[i];
            var score = 1.0 / (rankConstant + i + 1);
            fused[hit.ChunkId] = fused.TryGetValue(hit.ChunkId, out var existing)
                ? (existing.Hit, existing.Score + score, existing.Bm25Rank, i + 1)
                : (hit, score, null, i + 1);
        }
        return Ranked(fused.Values, k);
    }
}
