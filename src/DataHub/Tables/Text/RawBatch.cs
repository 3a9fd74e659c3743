namespace Cube.DataHub.Tables.Text;

/// <summary>
/// A batch of records from a text input as spans of UTF-8 bytes, field-major per row
/// (<c>row * Columns + column</c>). The spans point into the source's buffer and stay valid until the
/// source's next read, so a batch is converted before the next one is asked for.
/// </summary>
internal sealed class RawBatch(int columns, int capacityRows)
{
    public int Columns { get; } = columns;
    public int Rows { get; set; }
    public byte[] Data { get; set; } = [];
    public int[] Starts { get; } = new int[columns * capacityRows];
    public int[] Lengths { get; } = new int[columns * capacityRows];
    /// <summary>Per field: <see cref="FieldKind"/>.</summary>
    public FieldKind[] Kinds { get; } = new FieldKind[columns * capacityRows];
    public int CapacityRows { get; } = capacityRows;

    public ReadOnlySpan<byte> Field(int row, int column)
    {
        var i = row * Columns + column;
        return Data.AsSpan(Starts[i], Lengths[i]);
    }
}

internal enum FieldKind : byte
{
    /// <summary>Delimited text or a JSON number/literal: every type may apply, null tokens apply.</summary>
    Text,
    /// <summary>A JSON string: only strings and timestamps apply, and no null tokens.</summary>
    JsonString,
    /// <summary>JSON null or a missing key.</summary>
    Null,
}

/// <summary>A record source of a text format, read one batch at a time.</summary>
internal interface IRawSource : IDisposable
{
    IReadOnlyList<string> ColumnNames { get; }
    /// <summary>The next batch, or null at the end; the previous batch's spans become invalid.</summary>
    RawBatch? Next();
}
