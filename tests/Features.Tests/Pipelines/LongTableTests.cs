using Cube.Features.Engine;

namespace Cube.Features.Tests.Pipelines;

public sealed class LongTableTests
{
    [Fact]
    public void GetOrAdd_AndFind_AgreeWithADictionary_ThroughGrowth()
    {
        var table = new LongTable();
        var reference = new Dictionary<long, int>();
        var random = new Random(9);
        long[] edges = [0, -1, 1, long.MinValue, long.MaxValue, 1L << 32, -(1L << 32)];
        var keys = edges.Concat(Enumerable.Range(0, 200_000).Select(i => i % 3 == 0 ? i * 1_000_003L : random.NextInt64(-50_000, 50_000))).ToList();
        foreach (var key in keys)
        {
            var number = table.GetOrAdd(key, reference.Count, out var added);
            Assert.Equal(!reference.ContainsKey(key), added);
            if (added) reference[key] = reference.Count;
            Assert.Equal(reference[key], number);
        }
        Assert.Equal(reference.Count, table.Count);
        foreach (var (key, number) in reference) Assert.Equal(number, table.Find(key));
        Assert.Equal(-1, table.Find(987_654_321_987));
        Assert.Equal(-1, new LongTable().Find(0));
    }
}
