namespace Cube.DataHub.Tables.Statistics;

/// <summary>
/// Statistics of one table column, shaped for JSON and charts. <see cref="Count"/> is the number of rows and
/// <see cref="Nulls"/> how many are null. Numeric fields are set for integer and float columns; <see cref="Min"/> /
/// <see cref="Max"/> also for dates and timestamps (ISO 8601 text); <see cref="TopValues"/> for strings and booleans.
/// </summary>
public sealed record ColumnStatistics(
    string Name,
    string Type,
    long Count,
    long Nulls,
    long Distinct,
    object? Min,
    object? Max,
    double? Mean,
    double? StdDev,
    IReadOnlyList<QuantileValue>? Quantiles,
    IReadOnlyList<ValueCount>? TopValues,
    IReadOnlyList<HistogramBin>? Histogram);

public sealed record QuantileValue(double Probability, double Value);

/// <summary>A frequent value. Counts are exact while a column has under 20,000 distinct values (and, for plain
/// string columns, under 1,000 per batch); beyond that they are lower bounds.</summary>
public sealed record ValueCount(string Value, long Count);

/// <summary>An equal-width bin [<see cref="Lower"/>, <see cref="Upper"/>); the last bin includes its upper bound.</summary>
public sealed record HistogramBin(double Lower, double Upper, long Count);
