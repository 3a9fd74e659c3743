using System.Numerics.Tensors;
using Cube.Knowledge.Embeddings;
using Cube.Knowledge.Indexing;

namespace Cube.Knowledge.Tests.Indexing;

public sealed class VectorIndexTests
{
    private static readonly VectorSearchOptions Int8 = new() { Quantization = VectorQuantization.Int8 };

    /// <summary>Uniform random unit vectors: near neighbours are barely closer than the rest, the hardest case for quantisation.</summary>
    private static List<float[]> RandomVectors(int count, int dimensions, int seed)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, count).Select(_ => KnowledgeAi.Normalize(Enumerable.Range(0, dimensions).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray())).ToList();
    }

    /// <summary>Vectors around a few centres, like embeddings of documents on a handful of topics.</summary>
    private static List<float[]> ClusteredVectors(int count, int dimensions, int clusters, int seed)
    {
        var random = new Random(seed);
        var centres = RandomVectors(clusters, dimensions, seed + 1);
        return Enumerable.Range(0, count).Select(i =>
        {
            var centre = centres[i % clusters];
            return KnowledgeAi.Normalize(centre.Select(c => c + (float)(random.NextDouble() - 0.5) * 0.15f).ToArray());
        }).ToList();
    }

    private static (VectorIndex Index, List<Guid> Ids) Build(IReadOnlyList<float[]> vectors, VectorSearchOptions options, Func<int, string[]>? tags = null)
    {
        var index = new VectorIndex(options);
        var ids = new List<Guid>();
        for (var i = 0; i < vectors.Count; i++)
        {
            var id = Guid.NewGuid();
            ids.Add(id);
            index.Add(id, id, tags?.Invoke(i) ?? [], vectors[i]);
        }
        return (index, ids);
    }

    public static TheoryData<string> Sets => ["random", "clustered"];

    [Theory]
    [MemberData(nameof(Sets))]
    public void SearchInt8_RecallAt10AgainstExact_IsAtLeast095_WhenSetIsSeeded(string set)
    {
        var vectors = set == "random" ? RandomVectors(20_000, 96, 11) : ClusteredVectors(20_000, 96, 40, 12);
        var (index, _) = Build(vectors, Int8);
        var queries = set == "random" ? RandomVectors(100, 96, 13) : ClusteredVectors(100, 96, 40, 14);

        var recall = queries.Average(q =>
        {
            var exact = index.SearchExact(q, 10, null).Select(f => f.Row.ChunkId).ToHashSet();
            return index.SearchInt8(q, 10, null).Count(f => exact.Contains(f.Row.ChunkId)) / 10.0;
        });

        Assert.True(recall >= 0.95, $"recall@10 {recall:F3}");
    }

    [Fact]
    public void SearchInt8_ReturnsExactFloatScores_InDescendingOrder()
    {
        var vectors = RandomVectors(3_000, 64, 21);
        var (index, ids) = Build(vectors, Int8);
        var query = vectors[42];

        var found = index.Search(query, 10, null);

        Assert.True(index.Quantized);
        Assert.Equal(ids[42], found[0].Row.ChunkId);
        foreach (var (row, score) in found) Assert.Equal(TensorPrimitives.Dot(vectors[ids.IndexOf(row.ChunkId)], query), score, 5);
        Assert.Equal(found.OrderByDescending(f => f.Score).Select(f => f.Row.ChunkId), found.Select(f => f.Row.ChunkId));
    }

    [Theory]
    [InlineData(VectorQuantization.Exact)]
    [InlineData(VectorQuantization.Int8)]
    public void Search_NeverReturnsDeletedRows_AndKeepsTheRestFindable(VectorQuantization quantization)
    {
        var vectors = ClusteredVectors(4_000, 64, 8, 31);
        var (index, ids) = Build(vectors, new VectorSearchOptions { Quantization = quantization });
        var deleted = ids.Where((_, i) => i % 3 == 0).ToHashSet();
        foreach (var id in deleted) index.RemoveDocument(id);

        Assert.Equal(ids.Count - deleted.Count, index.Count);
        for (var i = 0; i < 60; i++)
        {
            var found = index.Search(vectors[i], 10, null);
            Assert.Equal(10, found.Count);
            Assert.DoesNotContain(found, f => deleted.Contains(f.Row.ChunkId));
            // A surviving row is its own nearest neighbour; the compaction kept its vector and codes together.
            if (!deleted.Contains(ids[i])) Assert.Equal(ids[i], found[0].Row.ChunkId);
        }
    }

    [Theory]
    [InlineData(VectorQuantization.Exact)]
    [InlineData(VectorQuantization.Int8)]
    public void Search_WithSelectiveFilter_ReturnsOnlyAllowedRows_AndStillK(VectorQuantization quantization)
    {
        var vectors = ClusteredVectors(30_000, 64, 10, 41);
        // Rows tagged "rare" (0.1 %) lie in one cluster only; the query sits in another, so a post-filter of the top-k would find none.
        var (index, _) = Build(vectors, new VectorSearchOptions { Quantization = quantization }, i => i % 1000 == 3 ? ["rare"] : ["common"]);
        var query = vectors[0];

        var found = index.Search(query, 10, row => row.Tags.Contains("rare"));

        Assert.Equal(10, found.Count);
        Assert.All(found, f => Assert.Contains("rare", f.Row.Tags));
        var oracle = index.SearchExact(query, 10, row => row.Tags.Contains("rare"));
        Assert.Equal(oracle.Select(o => o.Row.ChunkId), found.Select(f => f.Row.ChunkId));
    }

    [Fact]
    public void Quantized_FollowsTheIndexSize_UnderAuto()
    {
        var index = new VectorIndex(new VectorSearchOptions { ExactBelow = 100 });
        foreach (var vector in RandomVectors(99, 16, 51)) index.Add(Guid.NewGuid(), Guid.NewGuid(), [], vector);
        Assert.False(index.Quantized);
        index.Add(Guid.NewGuid(), Guid.NewGuid(), [], RandomVectors(1, 16, 52)[0]);
        Assert.True(index.Quantized);
        Assert.False(new VectorIndex(new VectorSearchOptions { Quantization = VectorQuantization.Exact, ExactBelow = 0 }).Quantized);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(15)]
    [InlineData(16)]
    [InlineData(33)]
    [InlineData(384)]
    [InlineData(4096)]
    public void Dot_EqualsTheScalarSum_ForAnyLengthAndExtremeCodes(int length)
    {
        var random = new Random(length);
        var a = Enumerable.Range(0, length).Select(i => (sbyte)(i % 7 == 0 ? -127 : random.Next(-127, 128))).ToArray();
        var b = Enumerable.Range(0, length).Select(i => (sbyte)(i % 7 == 0 ? -127 : random.Next(-127, 128))).ToArray();

        Assert.Equal(a.Zip(b).Sum(p => p.First * p.Second), Int8Vectors.Dot(a, b));
    }

    [Fact]
    public void Quantize_MapsTheLargestMagnitudeTo127_AndTheZeroVectorToZeroScale()
    {
        var codes = new sbyte[4];
        var scale = Int8Vectors.Quantize([0.5f, -1f, 0.25f, 0f], codes);

        Assert.Equal([64, -127, 32, 0], codes.Select(c => (int)c));
        Assert.Equal(1f / 127, scale, 6);
        Assert.Equal(0f, Int8Vectors.Quantize([0f, 0f, 0f, 0f], codes));
        Assert.All(codes, c => Assert.Equal(0, c));
    }
}
