using Apache.Arrow;

namespace Cube.DataHub.Tables.Statistics;

/// <summary>
/// Per-column statistics over the batches of one ingest. Histograms need the range first, so they come from a
/// second, cheap pass that reads only the numeric columns back from the written Parquet file.
/// </summary>
internal sealed class TableStatisticsBuilder(Schema schema)
{
    public const int HistogramBins = 20;
    private readonly ColumnAccumulator[] _columns = [.. schema.FieldsList.Select(f => new ColumnAccumulator(f))];

    public void Add(RecordBatch batch) => Merge(Summarize(batch));

    /// <summary>Summarises one batch; safe on any thread, while other batches are merged.</summary>
    public ColumnAccumulator[] Summarize(RecordBatch batch)
    {
        var parts = new ColumnAccumulator[_columns.Length];
        for (var c = 0; c < parts.Length; c++)
        {
            parts[c] = new ColumnAccumulator(_columns[c].Field, partial: true, exactDistinct: _columns[c].DistinctIsExact);
            parts[c].Add(batch.Column(c));
        }
        return parts;
    }

    /// <summary>Merges the summary of the next batch; call in batch order, from one thread.</summary>
    public void Merge(ColumnAccumulator[] parts)
    {
        for (var c = 0; c < _columns.Length; c++) _columns[c].Merge(parts[c]);
    }

    public async Task<IReadOnlyList<ColumnStatistics>> FinishAsync(string parquetPath, CancellationToken cancellationToken)
    {
        var numeric = Enumerable.Range(0, _columns.Length).Where(c => _columns[c].IsNumeric && _columns[c].Min <= _columns[c].Max).ToArray();
        var bins = numeric.ToDictionary(c => c, _ => new long[HistogramBins]);
        if (numeric.Length > 0)
        {
            using var reader = TableReader.Open(parquetPath);
            await foreach (var batch in reader.ReadAsync([.. numeric.Select(c => _columns[c].Field.Name)], cancellationToken: cancellationToken))
            {
                using (batch)
                {
                    for (var k = 0; k < numeric.Length; k++)
                        Bin(batch.Column(k), _columns[numeric[k]].Min, _columns[numeric[k]].Max, bins[numeric[k]]);
                }
            }
        }
        return [.. _columns.Select((col, c) => col.Finish(bins.TryGetValue(c, out var counts) ? ToBins(counts, col.Min, col.Max) : null))];
    }

    private static void Bin(IArrowArray array, double min, double max, long[] counts)
    {
        switch (array)
        {
            case DoubleArray a: Bin(a.Values, a, min, max, counts); break;
            case Int64Array a: Bin(a.Values, a, min, max, counts); break;
            case FloatArray a: Bin(a.Values, a, min, max, counts); break;
            case Int32Array a: Bin(a.Values, a, min, max, counts); break;
            case Int16Array a: Bin(a.Values, a, min, max, counts); break;
            case Int8Array a: Bin(a.Values, a, min, max, counts); break;
            case UInt8Array a: Bin(a.Values, a, min, max, counts); break;
            case UInt16Array a: Bin(a.Values, a, min, max, counts); break;
            case UInt32Array a: Bin(a.Values, a, min, max, counts); break;
            case UInt64Array a: Bin(a.Values, a, min, max, counts); break;
        }
    }

    /// <summary>One typed loop per column (no per-value type test); NaN falls in no bin.</summary>
    private static void Bin<T>(ReadOnlySpan<T> values, IArrowArray array, double min, double max, long[] counts) where T : struct, System.Numerics.INumberBase<T>
    {
        var width = (max - min) / HistogramBins;
        var nulls = array.NullCount > 0;
        for (var i = 0; i < values.Length; i++)
        {
            if (nulls && !array.IsValid(i)) continue;
            var v = double.CreateTruncating(values[i]);
            if (double.IsNaN(v)) continue;
            var bin = width > 0 ? (int)((v - min) / width) : 0;
            counts[Math.Clamp(bin, 0, HistogramBins - 1)]++;
        }
    }

    private static List<HistogramBin> ToBins(long[] counts, double min, double max)
    {
        var width = (max - min) / HistogramBins;
        return [.. counts.Select((n, i) => new HistogramBin(min + i * width, i == HistogramBins - 1 ? max : min + (i + 1) * width, n))];
    }
}
