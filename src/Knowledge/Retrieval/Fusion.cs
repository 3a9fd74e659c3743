using Cube.Knowledge.Indexing;

namespace Cube.Knowledge.Retrieval;

/// <summary>Reciprocal rank fusion: score = Σ 1 / (k + rank) over the rankers that returned the item (rank from 1).</summary>
public static class Fusion
{
    public const int DefaultRankConstant = 60;

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
        return fused.Values
            .OrderByDescending(f => f.Score)
            .ThenBy(f => Math.Min(f.Bm25Rank ?? int.MaxValue, f.VectorRank ?? int.MaxValue))
            .ThenBy(f => f.Hit.ChunkId)
            .Take(k)
            .Select(f => f.Hit with { Score = f.Score, Bm25Rank = f.Bm25Rank, VectorRank = f.VectorRank })
            .ToList();
    }
}
