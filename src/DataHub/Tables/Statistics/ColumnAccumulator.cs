using System.Buffers;
using System.Buffers.Binary;
using System.Numerics;
using System.IO.Hashing;
using System.Text;
using Apache.Arrow;
using Apache.Arrow.Types;

namespace Cube.DataHub.Tables.Statistics;

/// <summary>
/// Accumulates one column's statistics batch by batch, whatever Arrow type the column has. A <em>partial</em>
/// accumulator summarises a single batch on any thread (moments, extremes, distinct hashes, frequent values, and the
/// values the quantile sample needs, or exact counts for integers that span few values); <see cref="Merge"/> folds it into the column's accumulator in batch order, so the
/// result does not depend on which thread summarised which batch.
/// </summary>
internal sealed class ColumnAccumulator(Field field, bool partial = false, bool exactDistinct = true)
{
    private const int TopTracked = 1_000;
    private static readonly double[] Probabilities = [0.25, 0.5, 0.75];
    private readonly HyperLogLog _distinct = new(exactDistinct);
    private readonly Dictionary<string, long> _top = new(StringComparer.Ordinal);
    private QuantileSketch? _sketch;
    private long _count;
    private long _nulls;
    private long _values;
    private double _mean;
    private double _m2;
    private double _min = double.PositiveInfinity;
    private double _max = double.NegativeInfinity;
    private long _minLong = long.MaxValue;
    private long _maxLong = long.MinValue;
    private double[]? _batchValues;
    private int _batchValueCount;
    // Integer columns are counted exactly while their values span few integers; once they do not, the column is
    // "wide" for good and its values go to the distinct sketch and the quantile sample.
    private IntegerCounts? _counted;
    private bool _wide;

    public Field Field { get; } = field;
    public bool IsNumeric => Field.DataType.TypeId is ArrowTypeId.Int8 or ArrowTypeId.Int16 or ArrowTypeId.Int32 or ArrowTypeId.Int64
        or ArrowTypeId.UInt8 or ArrowTypeId.UInt16 or ArrowTypeId.UInt32 or ArrowTypeId.UInt64 or ArrowTypeId.Float or ArrowTypeId.Double;
    private bool IsTemporal => Field.DataType.TypeId is ArrowTypeId.Timestamp or ArrowTypeId.Date32 or ArrowTypeId.Date64;
    public double Min => _min;
    public double Max => _max;
    /// <summary>Whether distinct values are still counted exactly; partial accumulators skip the exact set once this is false.</summary>
    public bool DistinctIsExact => _distinct.IsExact;

    public void Add(IArrowArray array)
    {
        _count += array.Length;
        _nulls += array.NullCount;
        switch (array)
        {
            case Int64Array a when a.Data.DataType.TypeId == ArrowTypeId.Int64: AddIntegers(a); break;
            case TimestampArray t: AddTemporal(t.Values, t); break;
            case Date32Array d: AddDates(d); break;
            case BooleanArray b: AddBooleans(b); break;
            case DictionaryArray { Dictionary: StringArray dict } d: AddDictionary(d, dict); break;
            case StringArray s: AddStrings(s); break;
            default:
                if (IsNumeric) AddNumbers(array);
                break;
        }
    }

    /// <summary>Folds a partial accumulator of the next batch into this one (returns its pooled buffer).</summary>
    public void Merge(ColumnAccumulator other)
    {
        _count += other._count;
        _nulls += other._nulls;
        if (other._values > 0)
        {
            // Chan et al.'s pairwise update of the mean and the sum of squared deviations.
            var n = _values + other._values;
            var delta = other._mean - _mean;
            _mean += delta * other._values / n;
            _m2 += other._m2 + delta * delta * ((double)_values * other._values / n);
            _values = n;
        }
        _min = Math.Min(_min, other._min);
        _max = Math.Max(_max, other._max);
        _minLong = Math.Min(_minLong, other._minLong);
        _maxLong = Math.Max(_maxLong, other._maxLong);
        _distinct.Merge(other._distinct);
        foreach (var (value, count) in other._top) Count(value, count);
        if (other._counted is { } counted)
        {
            if (!_wide && _counted is null)
            {
                _counted = counted;
                return;
            }
            if (!_wide && _counted!.TryMerge(counted)) return;
            Widen();
            var sketch = _sketch ??= new QuantileSketch();
            foreach (var (v, c) in counted.Values())
            {
                _distinct.Add(HyperLogLog.Mix((ulong)v));
                sketch.AddRepeated(v, c);
            }
        }
        else if (other._wide) Widen();
        if (other._batchValues is { } values)
        {
            if (other._batchValueCount > 0) (_sketch ??= new QuantileSketch()).AddRange(values.AsSpan(0, other._batchValueCount));
            ArrayPool<double>.Shared.Return(values);
            other._batchValues = null;
        }
    }

    /// <summary>
    /// From now on this column's values go to the distinct sketch and the quantile sample; the ones counted so far go
    /// there first (a partial keeps them for its merge).
    /// </summary>
    private void Widen()
    {
        _wide = true;
        if (_counted is not { } counted) return;
        _counted = null;
        foreach (var (v, _) in counted.Values()) _distinct.Add(HyperLogLog.Mix((ulong)v));
        if (partial)
        {
            var buffer = BatchBuffer((int)counted.Total);
            var n = _batchValueCount;
            foreach (var (v, c) in counted.Values())
            {
                buffer.AsSpan(n, (int)c).Fill(v);
                n += (int)c;
            }
            _batchValueCount = n;
            return;
        }
        var sketch = _sketch ??= new QuantileSketch();
        foreach (var (v, c) in counted.Values()) sketch.AddRepeated(v, c);
    }

    /// <summary>The column's statistics, with a histogram of <paramref name="bins"/> equal-width bins for numbers.</summary>
    public ColumnStatistics Finish(int bins)
    {
        var histogram = IsNumeric && (_sketch is not null || _counted is not null) && _min <= _max ? Histogram(bins) : null;
        var type = Field.DataType is DictionaryType dt ? dt.ValueType.Name : Field.DataType.Name;
        if (Field.DataType is TimestampType ts) type = ts.Timezone is null ? "timestamp" : $"timestamp[{ts.Timezone}]";
        var numeric = IsNumeric && _values > 0;
        object? min = null, max = null;
        if (numeric && Field.DataType.TypeId == ArrowTypeId.Int64) (min, max) = (_minLong, _maxLong);
        else if (numeric) (min, max) = (_min, _max);
        else if (IsTemporal && _values > 0) (min, max) = (FormatTemporal(_minLong), FormatTemporal(_maxLong));
        var quantiles = numeric && (_counted?.Quantiles(Probabilities) ?? _sketch?.Quantiles(Probabilities)) is { } qs
            ? qs.Select((v, i) => new QuantileValue(Probabilities[i], v)).ToList()
            : null;
        var top = _top.Count == 0 ? null
            : _top.OrderByDescending(kv => kv.Value).ThenBy(kv => kv.Key, StringComparer.Ordinal).Take(20).Select(kv => new ValueCount(kv.Key, kv.Value)).ToList();
        return new ColumnStatistics(Field.Name, type, _count, _nulls, Field.DataType.TypeId == ArrowTypeId.Boolean ? _top.Count : _counted?.Distinct ?? _distinct.Estimate(), min, max,
            numeric ? _mean : null, numeric && _values > 1 ? Math.Sqrt(_m2 / (_values - 1)) : null, quantiles, top, histogram);
    }

    /// <summary>
    /// Equal-width bins over [min, max], exact for counted integers, else counted on the sample. While the sample holds
    /// every value the counts are exact;
    /// past that each bin's count is its share of the sample scaled to the value count (rank error about 1/√capacity,
    /// ≈0.3% of the values), rounded so the bins still add up to the value count.
    /// </summary>
    private List<HistogramBin> Histogram(int bins)
    {
        var width = (_max - _min) / bins;
        var counts = _counted?.Histogram(bins) ?? new long[bins];
        var sampled = _counted is null ? _sketch!.Sample.Length : _values;
        if (_counted is null)
            foreach (var v in _sketch!.Sample) counts[width > 0 ? Math.Clamp((int)((v - _min) / width), 0, bins - 1) : 0]++;
        if (sampled < _values && sampled > 0)
        {
            // Largest remainders get the rounding, so the total is exact.
            var shares = counts.Select(c => (double)c * _values / sampled).ToArray();
            for (var i = 0; i < bins; i++) counts[i] = (long)Math.Floor(shares[i]);
            var left = _values - counts.Sum();
            foreach (var i in Enumerable.Range(0, bins).OrderByDescending(i => shares[i] - Math.Floor(shares[i])).ThenBy(i => i).Take((int)left)) counts[i]++;
        }
        return [.. counts.Select((n, i) => new HistogramBin(_min + i * width, i == bins - 1 ? _max : _min + (i + 1) * width, n))];
    }

    private void AddIntegers(Int64Array a)
    {
        if (a.Length == a.NullCount) return;
        if (!_wide)
        {
            if (IntegerCounts.TryCount(a) is { } counts && (_counted is null || _counted.TryMerge(counts)))
            {
                _counted ??= counts;
                AddMoments(counts);
                return;
            }
            Widen();
        }
        var values = a.Values;
        var nulls = a.NullCount > 0;
        var batch = BatchBuffer(values.Length);
        var n = Start(batch);
        for (var i = 0; i < values.Length; i++)
        {
            if (nulls && !a.IsValid(i)) continue;
            var v = values[i];
            if (v < _minLong) _minLong = v;
            if (v > _maxLong) _maxLong = v;
            batch[n++] = v;
            _distinct.Add(HyperLogLog.Mix((ulong)v));
        }
        AddBatch(batch, n);
    }

    private void AddNumbers(IArrowArray array)
    {
        var batch = BatchBuffer(array.Length);
        var n = Start(batch);
        if (array is DoubleArray doubles && doubles.NullCount == 0)
        {
            foreach (var v in doubles.Values)
            {
                // NaN is a value of a float column, but it has no place in an order or a mean.
                if (double.IsNaN(v)) continue;
                batch[n++] = v;
                _distinct.Add(HyperLogLog.Mix(BitConverter.DoubleToUInt64Bits(v == 0 ? 0 : v)));
            }
            AddBatch(batch, n);
            return;
        }
        for (var i = 0; i < array.Length; i++)
        {
            if (!array.IsValid(i)) continue;
            double v = array switch
            {
                DoubleArray d => d.Values[i],
                FloatArray f => f.Values[i],
                Int32Array x => x.Values[i],
                Int16Array x => x.Values[i],
                Int8Array x => x.Values[i],
                UInt8Array x => x.Values[i],
                UInt16Array x => x.Values[i],
                UInt32Array x => x.Values[i],
                UInt64Array x => x.Values[i],
                Int64Array x => x.Values[i],
                _ => double.NaN,
            };
            if (double.IsNaN(v)) continue;
            batch[n++] = v;
            _distinct.Add(HyperLogLog.Mix(BitConverter.DoubleToUInt64Bits(v == 0 ? 0 : v)));
        }
        AddBatch(batch, n);
    }

    /// <summary>Where a batch's numbers are gathered: the partial summary's sample buffer, or a scratch buffer.</summary>
    private double[] BatchBuffer(int length)
    {
        if (!partial) return ArrayPool<double>.Shared.Rent(Math.Max(1, length));
        if (_batchValues is null)
        {
            _batchValues = ArrayPool<double>.Shared.Rent(Math.Max(1, length));
            _batchValueCount = 0;
        }
        else if (_batchValues.Length - _batchValueCount < length)
        {
            var larger = ArrayPool<double>.Shared.Rent(_batchValueCount + length);
            _batchValues.AsSpan(0, _batchValueCount).CopyTo(larger);
            ArrayPool<double>.Shared.Return(_batchValues);
            _batchValues = larger;
        }
        return _batchValues;
    }

    /// <summary>
    /// Folds a batch's numbers in: its moments in two vector passes (sum, extremes; then squared deviations from its own
    /// mean), combined with the running ones as in <see cref="Merge"/>; its values go to the sample.
    /// </summary>
    private int Start(double[] buffer) => ReferenceEquals(buffer, _batchValues) ? _batchValueCount : 0;

    private void AddBatch(double[] buffer, int end)
    {
        var start = Start(buffer);
        var n = end - start;
        var values = buffer.AsSpan(start, n);
        if (n > 0)
        {
            var (sum, min, max) = SumMinMax(values);
            var mean = sum / n;
            var m2 = SquaredDeviations(values, mean);
            var total = _values + n;
            var delta = mean - _mean;
            _mean += delta * n / total;
            _m2 += m2 + delta * delta * ((double)_values * n / total);
            _values = total;
            _min = Math.Min(_min, min);
            _max = Math.Max(_max, max);
        }
        if (ReferenceEquals(buffer, _batchValues)) _batchValueCount += n;
        else
        {
            (_sketch ??= new QuantileSketch()).AddRange(values);
            ArrayPool<double>.Shared.Return(buffer);
        }
    }

    /// <summary>Folds counted values' moments and extremes in, as <see cref="AddBatch"/> does for listed ones.</summary>
    private void AddMoments(IntegerCounts counts)
    {
        var (mean, m2) = counts.Moments();
        var n = counts.Total;
        var total = _values + n;
        var delta = mean - _mean;
        _mean += delta * n / total;
        _m2 += m2 + delta * delta * ((double)_values * n / total);
        _values = total;
        var (min, max) = (counts.Values().First().Value, counts.Values().Last().Value);
        _minLong = Math.Min(_minLong, min);
        _maxLong = Math.Max(_maxLong, max);
        _min = Math.Min(_min, min);
        _max = Math.Max(_max, max);
    }

    private static (double Sum, double Min, double Max) SumMinMax(ReadOnlySpan<double> values)
    {
        var i = 0;
        double sum = 0, min = double.PositiveInfinity, max = double.NegativeInfinity;
        if (System.Numerics.Vector.IsHardwareAccelerated && values.Length >= 2 * System.Numerics.Vector<double>.Count)
        {
            var vectors = System.Runtime.InteropServices.MemoryMarshal.Cast<double, System.Numerics.Vector<double>>(values);
            var s = System.Numerics.Vector<double>.Zero;
            var lo = new System.Numerics.Vector<double>(double.PositiveInfinity);
            var hi = new System.Numerics.Vector<double>(double.NegativeInfinity);
            foreach (var v in vectors)
            {
                s += v;
                lo = System.Numerics.Vector.Min(lo, v);
                hi = System.Numerics.Vector.Max(hi, v);
            }
            for (var k = 0; k < System.Numerics.Vector<double>.Count; k++)
            {
                sum += s[k];
                min = Math.Min(min, lo[k]);
                max = Math.Max(max, hi[k]);
            }
            i = vectors.Length * System.Numerics.Vector<double>.Count;
        }
        for (; i < values.Length; i++)
        {
            sum += values[i];
            if (values[i] < min) min = values[i];
            if (values[i] > max) max = values[i];
        }
        return (sum, min, max);
    }

    private static double SquaredDeviations(ReadOnlySpan<double> values, double mean)
    {
        var i = 0;
        double m2 = 0;
        if (System.Numerics.Vector.IsHardwareAccelerated && values.Length >= 2 * System.Numerics.Vector<double>.Count)
        {
            var vectors = System.Runtime.InteropServices.MemoryMarshal.Cast<double, System.Numerics.Vector<double>>(values);
            var m = new System.Numerics.Vector<double>(mean);
            var acc = System.Numerics.Vector<double>.Zero;
            foreach (var v in vectors)
            {
                var d = v - m;
                acc += d * d;
            }
            m2 = System.Numerics.Vector.Sum(acc);
            i = vectors.Length * System.Numerics.Vector<double>.Count;
        }
        for (; i < values.Length; i++) m2 += (values[i] - mean) * (values[i] - mean);
        return m2;
    }

    private void AddTemporal(ReadOnlySpan<long> values, IArrowArray array)
    {
        var scale = array.Data.DataType is TimestampType t ? t.Unit switch
        {
            TimeUnit.Second => 1_000_000L,
            TimeUnit.Millisecond => 1_000L,
            _ => 1L,
        } : 1L;
        for (var i = 0; i < values.Length; i++)
        {
            if (array.NullCount > 0 && !array.IsValid(i)) continue;
            // Nanosecond inputs are kept to microseconds for display.
            var v = array.Data.DataType is TimestampType { Unit: TimeUnit.Nanosecond } ? values[i] / 1000 : values[i] * scale;
            _values++;
            if (v < _minLong) _minLong = v;
            if (v > _maxLong) _maxLong = v;
            _distinct.Add(HyperLogLog.Mix((ulong)v));
        }
    }

    private void AddDates(Date32Array a)
    {
        var values = a.Values;
        for (var i = 0; i < values.Length; i++)
        {
            if (a.NullCount > 0 && !a.IsValid(i)) continue;
            var v = values[i] * 86_400_000_000L;
            _values++;
            if (v < _minLong) _minLong = v;
            if (v > _maxLong) _maxLong = v;
            _distinct.Add(HyperLogLog.Mix((ulong)v));
        }
    }

    private void AddBooleans(BooleanArray a)
    {
        long trues;
        if (a.NullCount == 0) trues = BitUtility.CountBits(a.ValueBuffer.Span, a.Offset, a.Length);
        else
        {
            // Set bits of values AND validity, a word at a time where the array starts on a byte.
            trues = 0;
            var values = a.ValueBuffer.Span;
            var valid = a.NullBitmapBuffer.Span;
            var i = 0;
            if (a.Offset % 8 == 0)
            {
                var start = a.Offset / 8;
                for (; i + 64 <= a.Length; i += 64)
                    trues += BitOperations.PopCount(BinaryPrimitives.ReadUInt64LittleEndian(values[(start + i / 8)..]) & BinaryPrimitives.ReadUInt64LittleEndian(valid[(start + i / 8)..]));
            }
            for (; i < a.Length; i++)
                if (a.GetValue(i) == true) trues++;
        }
        var falses = a.Length - a.NullCount - trues;
        if (trues > 0) _top["true"] = _top.GetValueOrDefault("true") + trues;
        if (falses > 0) _top["false"] = _top.GetValueOrDefault("false") + falses;
    }

    private void AddDictionary(DictionaryArray array, StringArray dictionary)
    {
        var counts = new long[dictionary.Length];
        var indices = array.Indices;
        for (var i = 0; i < array.Length; i++)
        {
            if (!array.IsValid(i)) continue;
            var code = indices switch
            {
                Int32Array x => x.Values[i],
                Int16Array x => x.Values[i],
                Int8Array x => x.Values[i],
                UInt8Array x => x.Values[i],
                UInt16Array x => x.Values[i],
                UInt32Array x => (int)x.Values[i],
                Int64Array x => (int)x.Values[i],
                _ => 0,
            };
            counts[code]++;
        }
        for (var code = 0; code < counts.Length; code++)
        {
            if (counts[code] == 0) continue;
            var bytes = dictionary.GetBytes(code);
            _distinct.Add(XxHash3.HashToUInt64(bytes));
            Count(Encoding.UTF8.GetString(bytes), counts[code]);
        }
        _values += array.Length - array.NullCount;
    }

    private void AddStrings(StringArray array)
    {
        var counts = new Dictionary<ulong, (long Count, int Row)>();
        for (var i = 0; i < array.Length; i++)
        {
            if (array.NullCount > 0 && !array.IsValid(i)) continue;
            var hash = XxHash3.HashToUInt64(array.GetBytes(i));
            _distinct.Add(hash);
            counts[hash] = counts.TryGetValue(hash, out var c) ? (c.Count + 1, c.Row) : (1, i);
        }
        // Only a batch's most frequent values are candidates: a unique id column must not fill the table.
        foreach (var (_, (count, row)) in counts.OrderByDescending(kv => kv.Value.Count).Take(TopTracked))
            Count(array.GetString(row), count);
        _values += array.Length - array.NullCount;
    }

    private void Count(string value, long count)
    {
        _top[value] = _top.GetValueOrDefault(value) + count;
        // Bounded memory: when the candidates grow past 20× the tracked size, keep the heaviest. Counts stay exact
        // for columns with fewer distinct values than that, approximate (lower bounds) beyond.
        if (_top.Count > TopTracked * 20)
        {
            var keep = _top.OrderByDescending(kv => kv.Value).Take(TopTracked).ToList();
            _top.Clear();
            foreach (var kv in keep) _top[kv.Key] = kv.Value;
        }
    }

    private static string FormatTemporal(long micros) =>
        DateTime.UnixEpoch.AddTicks(micros * 10).ToString("yyyy-MM-dd'T'HH:mm:ss.FFFFFF", System.Globalization.CultureInfo.InvariantCulture);
}
