using Apache.Arrow;
using Cube.DataHub.Tables.Statistics;
using Cube.DataHub.Tables.Text;

namespace Cube.DataHub.Tables;

/// <summary>Input formats a table can be ingested from.</summary>
public enum TableFormat
{
    Csv,
    JsonLines,
    Parquet,
    ArrowIpc,
}

/// <summary>Parquet page compression of ingested tables.</summary>
public enum TableCompression
{
    Zstd,
    Snappy,
}

/// <summary>How to read an input; every null setting is detected from the content.</summary>
public sealed record TableIngestOptions
{
    public TableFormat? Format { get; init; }
    public char? Delimiter { get; init; }
    public char? Quote { get; init; }
    public bool? HasHeader { get; init; }
    public TextEncodingKind? Encoding { get; init; }
    /// <summary>
    /// Records per Arrow batch of a parsed file, and rows per Parquet row group of every write (batches written by a
    /// producer are appended to the open row group up to this many); bounds memory together with the widest record.
    /// </summary>
    public int BatchRows { get; init; } = 128 * 1024;
    /// <summary>Records type inference looks at before conversion; later records that do not fit widen the type.</summary>
    public int InferenceRows { get; init; } = 20_000;
    public TableCompression Compression { get; init; } = TableCompression.Zstd;
    /// <summary>Column statistics (counts, distinct estimates, quantiles, a histogram pass); off, the result lists no columns.</summary>
    public bool Statistics { get; init; } = true;
}

/// <summary>
/// What an ingest wrote: the Arrow schema of the Parquet table, its row count and column statistics.
/// <c>Restarts</c> counts conversions restarted because a late value widened a column type.
/// </summary>
public sealed record TableIngestResult(
    TableFormat Format,
    Schema Schema,
    long RowCount,
    IReadOnlyList<ColumnStatistics> Columns,
    TextEncodingKind? Encoding,
    CsvDialect? Dialect,
    int Restarts);
