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

    /// <summary>
    /// Makes this batch a copy of <paramref name="source"/> that owns its bytes (only the range its fields use), so it
    /// stays valid after the source reads on and can be converted on another thread.
    /// </summary>
    public void CopyFrom(RawBatch source)
    {
        var n = source.Rows * source.Columns;
        var starts = source.Starts.AsSpan(0, n);
        var lengths = source.Lengths.AsSpan(0, n);
        int low = int.MaxValue, high = 0;
        for (var i = 0; i < n; i++)
        {
            if (lengths[i] == 0) continue;
            low = Math.Min(low, starts[i]);
            high = Math.Max(high, starts[i] + lengths[i]);
        }
        if (low > high) low = high = 0;
        if (Data.Length < high - low) Data = new byte[Math.Max(high - low, Data.Length * 3 / 2)];
        source.Data.AsSpan(low, high - low).CopyTo(Data);
        for (var i = 0; i < n; i++) Starts[i] = lengths[i] == 0 ? 0 : starts[i] - low;
        lengths.CopyTo(Lengths);
        source.Kinds.AsSpan(0, n).CopyTo(Kinds);
        Rows = source.Rows;
    }

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
