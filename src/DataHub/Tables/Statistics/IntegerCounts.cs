using System.Numerics;
using System.Runtime.InteropServices;
using Apache.Arrow;

namespace Cube.DataHub.Tables.Statistics;

/// <summary>
/// Exact counts of an integer column whose values span at most <see cref="MaxRange"/> consecutive integers: flags,
/// one-hot columns, codes, small counts. Counting replaces the distinct set and the quantile sample for such columns,
/// so their distinct count, quantiles and histogram are exact at any row count, and cost one pass of increments
/// (a vector sum for 0/1 columns) instead of a hash and a sample draw per value.
/// </summary>
internal sealed class IntegerCounts
{
    /// <summary>The widest span counted: 32 KiB of counters per column and batch.</summary>
    public const int MaxRange = 4096;

    private long[] _counts;

    private IntegerCounts(long first, long[] counts) => (First, _counts) = (first, counts);

    /// <summary>The smallest value the counters cover.</summary>
    public long First { get; private set; }

    /// <summary>How many values were counted.</summary>
    public long Total { get; private set; }

    /// <summary>
    /// Counts the valid values of <paramref name="array"/>, or returns null when they span more than
    /// <see cref="MaxRange"/> integers (or there are none).
    /// </summary>
    public static IntegerCounts? TryCount(Int64Array array)
    {
        var values = array.Values;
        var nulls = array.NullCount > 0;
        long min = long.MaxValue, max = long.MinValue;
        if (!nulls) (min, max) = MinMax(values);
        else
        {
            for (var i = 0; i < values.Length; i++)
            {
                if (!array.IsValid(i)) continue;
                var v = values[i];
                if (v < min) min = v;
                if (v > max) max = v;
            }
        }
        if (min > max || (ulong)(max - min) >= MaxRange) return null;
        var counts = new long[max - min + 1];
        var result = new IntegerCounts(min, counts) { Total = values.Length - array.NullCount };
        if (!nulls && counts.Length == 2)
        {
            // 0/1 style columns: how many are the larger value is the sum of the offsets, a vector pass.
            var high = Sum(values) - min * values.Length;
            counts[1] = high;
            counts[0] = values.Length - high;
            return result;
        }
        if (counts.Length == 1)
        {
            counts[0] = result.Total;
            return result;
        }
        for (var i = 0; i < values.Length; i++)
        {
            if (nulls && !array.IsValid(i)) continue;
            counts[values[i] - min]++;
        }
        return result;
    }

    /// <summary>Adds <paramref name="other"/>'s counts; false (and nothing changed) when the two together span too many integers.</summary>
    public bool TryMerge(IntegerCounts other)
    {
        var first = Math.Min(First, other.First);
        var last = Math.Max(First + _counts.Length - 1, other.First + other._counts.Length - 1);
        if ((ulong)(last - first) >= MaxRange) return false;
        if (first != First || last - first + 1 != _counts.Length)
        {
            var wider = new long[last - first + 1];
            _counts.CopyTo(wider.AsSpan((int)(First - first)));
            (_counts, First) = (wider, first);
        }
        var target = _counts.AsSpan((int)(other.First - First), other._counts.Length);
        for (var i = 0; i < target.Length; i++) target[i] += other._counts[i];
        Total += other.Total;
        return true;
    }

    /// <summary>Every counted value with its count, smallest first.</summary>
    public IEnumerable<(long Value, long Count)> Values()
    {
        for (var i = 0; i < _counts.Length; i++)
            if (_counts[i] > 0) yield return (First + i, _counts[i]);
    }

    public long Distinct => _counts.Count(c => c > 0);

    /// <summary>Moments of the counted values: their mean and sum of squared deviations.</summary>
    public (double Mean, double M2) Moments()
    {
        double sum = 0;
        foreach (var (v, c) in Values()) sum += (double)v * c;
        var mean = sum / Total;
        double m2 = 0;
        foreach (var (v, c) in Values()) m2 += c * ((v - mean) * (v - mean));
        return (mean, m2);
    }

    /// <summary>Exact quantiles, interpolated linearly between closest ranks as DuckDB's quantile_cont does.</summary>
    public double[] Quantiles(ReadOnlySpan<double> probabilities)
    {
        var result = new double[probabilities.Length];
        for (var i = 0; i < probabilities.Length; i++)
        {
            var pos = probabilities[i] * (Total - 1);
            var lo = (long)Math.Floor(pos);
            var (a, b) = (ValueAtRank(lo), ValueAtRank(Math.Min(lo + 1, Total - 1)));
            result[i] = a + (b - a) * (pos - lo);
        }
        return result;
    }

    /// <summary>Exact counts per equal-width bin over [min, max] (the last bin closed), as a sample would be binned.</summary>
    public long[] Histogram(int bins)
    {
        var (min, max) = ((double)First, (double)(First + _counts.Length - 1));
        var width = (max - min) / bins;
        var counts = new long[bins];
        foreach (var (v, c) in Values()) counts[width > 0 ? Math.Clamp((int)((v - min) / width), 0, bins - 1) : 0] += c;
        return counts;
    }

    private double ValueAtRank(long rank)
    {
        long seen = 0;
        for (var i = 0; i < _counts.Length; i++)
        {
            seen += _counts[i];
            if (rank < seen) return First + i;
        }
        return First + _counts.Length - 1;
    }

    private static (long Min, long Max) MinMax(ReadOnlySpan<long> values)
    {
        long min = long.MaxValue, max = long.MinValue;
        var i = 0;
        if (Vector.IsHardwareAccelerated && values.Length >= 2 * Vector<long>.Count)
        {
            var lo = new Vector<long>(long.MaxValue);
            var hi = new Vector<long>(long.MinValue);
            foreach (var v in MemoryMarshal.Cast<long, Vector<long>>(values))
            {
                lo = Vector.Min(lo, v);
                hi = Vector.Max(hi, v);
            }
            for (var k = 0; k < Vector<long>.Count; k++)
            {
                min = Math.Min(min, lo[k]);
                max = Math.Max(max, hi[k]);
            }
            i = values.Length / Vector<long>.Count * Vector<long>.Count;
        }
        for (; i < values.Length; i++)
        {
            if (values[i] < min) min = values[i];
            if (values[i] > max) max = values[i];
        }
        return (min, max);
    }

    private static long Sum(ReadOnlySpan<long> values)
    {
        var i = 0;
        long sum = 0;
        if (Vector.IsHardwareAccelerated && values.Length >= 2 * Vector<long>.Count)
        {
            var acc = Vector<long>.Zero;
            foreach (var v in MemoryMarshal.Cast<long, Vector<long>>(values)) acc += v;
            sum = Vector.Sum(acc);
            i = values.Length / Vector<long>.Count * Vector<long>.Count;
        }
        for (; i < values.Length; i++) sum += values[i];
        return sum;
    }
}
