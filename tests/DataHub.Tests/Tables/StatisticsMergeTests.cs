using Apache.Arrow;
using Apache.Arrow.Types;
using Cube.DataHub.Tables.Statistics;

namespace Cube.DataHub.Tests.Tables;

/// <summary>Batches summarised apart and merged in order give what one accumulator fed batch by batch gives.</summary>
public sealed class StatisticsMergeTests
{
    [Fact]
    public void QuantileSketch_AddRange_KeepsTheSameSampleAsOneByOne()
    {
        var values = Enumerable.Range(0, 600_000).Select(i => Math.Sin(i) * 1000).ToArray();
        var one = new QuantileSketch();
        foreach (var v in values) one.Add(v);
        var ranged = new QuantileSketch();
        for (var at = 0; at < values.Length; at += 70_001) ranged.AddRange(values.AsSpan(at, Math.Min(70_001, values.Length - at)));
        double[] p = [0.01, 0.25, 0.5, 0.75, 0.99];
        Assert.Equal(one.Quantiles(p), ranged.Quantiles(p));
    }

    [Fact]
    public void ColumnAccumulator_PartialsMergedInOrder_MatchTheExactFigures()
    {
        var xField = new Field("x", DoubleType.Default, true);
        var idField = new Field("id", Int64Type.Default, true);
        var x = new ColumnAccumulator(xField);
        var id = new ColumnAccumulator(idField);
        var direct = new ColumnAccumulator(xField);
        var all = new List<double>();
        var random = new Random(3);
        for (var b = 0; b < 12; b++)
        {
            var xs = new DoubleArray.Builder();
            var ids = new Int64Array.Builder();
            for (var i = 0; i < 50_000; i++)
            {
                var v = random.NextDouble() * 100 + b;
                if (i % 10 == 0) xs.AppendNull(); else { xs.Append(v); all.Add(v); }
                ids.Append(b * 50_000L + i);
            }
            var built = xs.Build();
            var xPart = new ColumnAccumulator(xField, partial: true, exactDistinct: x.DistinctIsExact);
            xPart.Add(built);
            direct.Add(built);
            var idPart = new ColumnAccumulator(idField, partial: true, exactDistinct: id.DistinctIsExact);
            idPart.Add(ids.Build());
            x.Merge(xPart);
            id.Merge(idPart);
        }
        var xs_ = x.Finish(20);
        var mean = all.Average();
        var std = Math.Sqrt(all.Sum(v => (v - mean) * (v - mean)) / (all.Count - 1));
        Assert.Equal(600_000, xs_.Count);
        Assert.Equal(60_000, xs_.Nulls);
        Assert.Equal(mean, xs_.Mean!.Value, 1e-9);
        Assert.Equal(std, xs_.StdDev!.Value, 1e-9);
        Assert.Equal(all.Min(), (double)xs_.Min!);
        Assert.Equal(all.Max(), (double)xs_.Max!);
        var sorted = all.Order().ToArray();
        Assert.Equal(sorted[sorted.Length / 2], xs_.Quantiles![1].Value, 0.5);
        // The histogram is estimated from the sample past 131,072 values, and still adds up to every value.
        var histogram = xs_.Histogram!;
        Assert.Equal(all.Count, histogram.Sum(b => b.Count));
        var (lowest, width) = (all.Min(), (all.Max() - all.Min()) / 20);
        var exact = new long[20];
        foreach (var v in all) exact[Math.Min(19, (int)((v - lowest) / width))]++;
        for (var b = 0; b < 20; b++) Assert.InRange(histogram[b].Count, exact[b] - 0.005 * all.Count, exact[b] + 0.005 * all.Count);
        // Fed whole batches, one accumulator gives the same figures as the merged partials.
        var whole = direct.Finish(20);
        Assert.Equal(xs_.Mean!.Value, whole.Mean!.Value, 1e-9);
        Assert.Equal(xs_.StdDev!.Value, whole.StdDev!.Value, 1e-9);
        Assert.Equal(xs_.Quantiles!.Select(q => q.Value), whole.Quantiles!.Select(q => q.Value));
        Assert.Equal(histogram.Select(b => b.Count), whole.Histogram!.Select(b => b.Count));
        var ids_ = id.Finish(20);
        Assert.InRange(ids_.Distinct, 600_000 * 0.98, 600_000 * 1.02);
        Assert.Equal(0L, ids_.Min);
        Assert.Equal(599_999L, ids_.Max);
    }

    [Fact]
    public void ColumnAccumulator_CountsBooleans_WithNullsAndOffsets()
    {
        var builder = new BooleanArray.Builder();
        var random = new Random(9);
        var expected = new List<bool?>();
        for (var i = 0; i < 1_000; i++)
        {
            bool? v = random.Next(5) == 0 ? null : random.Next(3) == 0;
            expected.Add(v);
            if (v is { } b) builder.Append(b); else builder.AppendNull();
        }
        var array = builder.Build();
        foreach (var (offset, length) in new[] { (0, 1_000), (8, 900), (3, 997), (64, 70), (5, 0) })
        {
            var slice = (BooleanArray)array.Slice(offset, length);
            var accumulator = new ColumnAccumulator(new Field("b", BooleanType.Default, true));
            accumulator.Add(slice);
            var part = expected.Skip(offset).Take(length).ToList();
            var top = accumulator.Finish(20).TopValues ?? [];
            Assert.Equal(part.Count(v => v == true), top.SingleOrDefault(v => v.Value == "true")?.Count ?? 0);
            Assert.Equal(part.Count(v => v == false), top.SingleOrDefault(v => v.Value == "false")?.Count ?? 0);
        }
    }

    [Fact]
    public void QuantileSketch_AddRepeated_KeepsTheSameSampleAsOneByOne()
    {
        var one = new QuantileSketch();
        var repeated = new QuantileSketch();
        var random = new Random(4);
        for (var run = 0; run < 200; run++)
        {
            var (value, count) = (random.NextDouble(), random.Next(1, 5_000));
            for (var i = 0; i < count; i++) one.Add(value);
            repeated.AddRepeated(value, count);
        }
        double[] p = [0.01, 0.25, 0.5, 0.75, 0.99];
        Assert.Equal(one.Quantiles(p), repeated.Quantiles(p));
    }
}
