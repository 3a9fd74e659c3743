using Cube.Knowledge.Indexing;
using Cube.Knowledge.Retrieval;

namespace Cube.Knowledge.Tests.Indexing;

public sealed class FusionTests
{
    private static readonly Guid A = Guid.Parse("a0000000-0000-4000-8000-000000000001");
    private static readonly Guid B = Guid.Parse("b0000000-0000-4000-8000-000000000002");
    private static readonly Guid C = Guid.Parse("c0000000-0000-4000-8000-000000000003");

    private static SearchHit Hit(Guid id, double score) => new(id, Guid.Empty, 0, "", null, "", null, score);

    private static readonly SearchHit[] Bm25 = [Hit(A, 12), Hit(B, 8), Hit(C, 2)];
    private static readonly SearchHit[] Vector = [Hit(C, 0.9), Hit(B, 0.5)];

    [Fact]
    public void Weighted_AtTheEnds_IsOneRankingAlone()
    {
        Assert.Equal([A, B, C], Fusion.Weighted(Bm25, Vector, 3, 0).Select(h => h.ChunkId));
        // All the weight on vectors: C leads; B (the lowest vector score normalises to 0) and A (no vector score) tie at 0,
        // and the tie goes to the better rank in either list (A is BM25's first).
        var vectorOnly = Fusion.Weighted(Bm25, Vector, 3, 1);
        Assert.Equal([C, A, B], vectorOnly.Select(h => h.ChunkId));
        Assert.Equal([1.0, 0, 0], vectorOnly.Select(h => h.Score));
    }

    [Fact]
    public void Weighted_SumsMinMaxNormalisedScores_AndKeepsBothRanks()
    {
        // BM25 normalised: A 1, B 0.6, C 0. Vector normalised: C 1, B 0.
        var fused = Fusion.Weighted(Bm25, Vector, 2, 0.5);
        Assert.Equal([A, C], fused.Select(h => h.ChunkId));
        Assert.Equal([0.5, 0.5], fused.Select(h => Math.Round(h.Score, 9)));
        Assert.Equal((3, 1), (fused[1].Bm25Rank, fused[1].VectorRank));
        Assert.Equal((1, (int?)null), (fused[0].Bm25Rank, fused[0].VectorRank));
        Assert.Equal(0.3, Fusion.Weighted(Bm25, Vector, 3, 0.5).Single(h => h.ChunkId == B).Score, 9);
    }

    [Fact]
    public void Weighted_HandlesEmptyAndFlatRankings_AndRefusesWeightsOutsideZeroToOne()
    {
        Assert.Empty(Fusion.Weighted([], [], 5, 0.5));
        Assert.Equal(1.0, Fusion.Weighted([Hit(A, 3), Hit(B, 3)], [], 5, 0).First().Score, 9);
        Assert.Throws<ArgumentOutOfRangeException>(() => Fusion.Weighted(Bm25, Vector, 3, 1.5));
        Assert.Throws<ArgumentOutOfRangeException>(() => Fusion.Weighted(Bm25, Vector, 3, double.NaN));
    }

    [Fact]
    public void Fuse_UsesReciprocalRankUnlessAWeightIsGiven()
    {
        var rrf = Fusion.Fuse(Bm25, Vector, new SearchQuery("q", null, SearchMode.Hybrid, 3));
        Assert.Equal(Fusion.ReciprocalRank(Bm25, Vector, 3).Select(h => (h.ChunkId, h.Score)), rrf.Select(h => (h.ChunkId, h.Score)));
        var weighted = Fusion.Fuse(Bm25, Vector, new SearchQuery("q", null, SearchMode.Hybrid, 3, VectorWeight: 1));
        Assert.Equal([C, A, B], weighted.Select(h => h.ChunkId));
    }
}
