using Apache.Arrow;

namespace Cube.DataHub.Tables.Statistics;

/// <summary>
/// Per-column statistics over the batches of one ingest, in one pass: histograms and quantiles come from each numeric
/// column's uniform sample (exact while a column has at most <see cref="QuantileSketch.Capacity"/> values).
/// </summary>
internal sealed class TableStatisticsBuilder(Schema schema)
{
    public const int HistogramBins = 20;
    private readonly ColumnAccumulator[] _columns = [.. schema.FieldsList.Select(f => new ColumnAccumulator(f))];

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

    /// <summary>The statistics of every column, from what the batches left; no data is read again.</summary>
    public IReadOnlyList<ColumnStatistics> Finish() => [.. _columns.Select(col => col.Finish(HistogramBins))];
}
