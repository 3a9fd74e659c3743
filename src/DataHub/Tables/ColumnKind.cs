using Apache.Arrow.Types;

namespace Cube.DataHub.Tables;

/// <summary>The logical types text inputs are inferred into, from narrowest to widest.</summary>
public enum ColumnKind
{
    Boolean,
    Int64,
    Double,
    Date,
    /// <summary>Naive timestamp (no offset in the text): timestamp[us] without a time zone.</summary>
    Timestamp,
    /// <summary>Instant (offset or Z in the text): timestamp[us, UTC].</summary>
    TimestampTz,
    String,
}

internal static class ColumnKinds
{
    public static readonly TimestampType NaiveMicros = new(TimeUnit.Microsecond, (string?)null);
    public static readonly TimestampType UtcMicros = new(TimeUnit.Microsecond, "UTC");
    public static readonly DictionaryType DictionaryString = new(Int32Type.Default, StringType.Default, false);

    public static IArrowType ToArrow(ColumnKind kind, bool dictionary) => kind switch
    {
        ColumnKind.Boolean => BooleanType.Default,
        ColumnKind.Int64 => Int64Type.Default,
        ColumnKind.Double => DoubleType.Default,
        ColumnKind.Date => Date32Type.Default,
        ColumnKind.Timestamp => NaiveMicros,
        ColumnKind.TimestampTz => UtcMicros,
        _ => dictionary ? DictionaryString : StringType.Default,
    };

    /// <summary>The kind a value must widen to when it does not fit <paramref name="current"/>.</summary>
    public static ColumnKind Widen(ColumnKind current, ColumnKind valueFits) =>
        (current, valueFits) switch
        {
            _ when current == valueFits => current,
            (ColumnKind.Int64, ColumnKind.Double) or (ColumnKind.Double, ColumnKind.Int64) => ColumnKind.Double,
            (ColumnKind.Date, ColumnKind.Timestamp) or (ColumnKind.Timestamp, ColumnKind.Date) => ColumnKind.Timestamp,
            _ => ColumnKind.String,
        };
}
