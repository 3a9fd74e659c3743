namespace Cube.DataHub.Tables.Statistics;

/// <summary>
/// Quantiles from a uniform reservoir sample (Vitter's algorithm L) of <see cref="Capacity"/> values: exact while
/// the column has no more values than that, and beyond it the rank error is about 1/√Capacity (≈0.3%) —
/// the accuracy of a KLL sketch of similar size, with far less code. Seeded, so ingest is reproducible.
/// </summary>
internal sealed class QuantileSketch
{
    public const int Capacity = 1 << 17;
    private readonly double[] _sample = new double[Capacity];
    private readonly Random _random = new(12345);
    private long _seen;
    private long _nextReplace;
    private double _w;

    public void Add(double value)
    {
        if (_seen < Capacity)
        {
            _sample[_seen++] = value;
            if (_seen == Capacity)
            {
                _w = Math.Exp(Math.Log(_random.NextDouble()) / Capacity);
                _nextReplace = _seen + Skip();
            }
            return;
        }
        if (_seen++ == _nextReplace)
        {
            _sample[_random.Next(Capacity)] = value;
            _w *= Math.Exp(Math.Log(_random.NextDouble()) / Capacity);
            _nextReplace = _seen + Skip();
        }
    }

    /// <summary>Adds the values in order, exactly as <see cref="Add"/> one by one would, jumping over the values the
    /// reservoir skips instead of visiting them.</summary>
    public void AddRange(ReadOnlySpan<double> values)
    {
        var i = 0;
        while (i < values.Length && _seen < Capacity) Add(values[i++]);
        while (i < values.Length)
        {
            var skip = _nextReplace - _seen;
            var remaining = values.Length - i;
            if (skip >= remaining)
            {
                _seen += remaining;
                return;
            }
            i += (int)skip;
            _seen += skip;
            Add(values[i++]);
        }
    }

    /// <summary>Adds <paramref name="count"/> copies of a value, as many <see cref="Add"/> calls would, in time proportional to
    /// the copies the reservoir keeps.</summary>
    public void AddRepeated(double value, long count)
    {
        while (count > 0 && _seen < Capacity)
        {
            Add(value);
            count--;
        }
        while (count > 0)
        {
            var skip = _nextReplace - _seen;
            if (skip >= count)
            {
                _seen += count;
                return;
            }
            _seen += skip;
            count -= skip + 1;
            Add(value);
        }
    }

    /// <summary>The sampled values (every value while there are at most <see cref="Capacity"/>), in no set order.</summary>
    public ReadOnlySpan<double> Sample => _sample.AsSpan(0, (int)Math.Min(_seen, Capacity));

    public double[] Quantiles(ReadOnlySpan<double> probabilities)
    {
        var n = (int)Math.Min(_seen, Capacity);
        if (n == 0) return [];
        var sorted = _sample.AsSpan(0, n);
        sorted.Sort();
        var result = new double[probabilities.Length];
        for (var i = 0; i < probabilities.Length; i++)
        {
            // Linear interpolation between closest ranks, as numpy's default and DuckDB's quantile_cont do.
            var pos = probabilities[i] * (n - 1);
            var lo = (int)Math.Floor(pos);
            var hi = Math.Min(lo + 1, n - 1);
            result[i] = sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
        }
        return result;
    }

    private long Skip() => (long)Math.Floor(Math.Log(_random.NextDouble()) / Math.Log(1 - _w));
}
