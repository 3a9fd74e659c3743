namespace Cube.Features.Engine;

/// <summary>The value kinds the feature engine computes with. Every Arrow input type maps onto one of them.</summary>
/// <remarks>Written by name in JSON (schemas in the API and in fitted states); states stored by number still read.</remarks>
[System.Text.Json.Serialization.JsonConverter(typeof(System.Text.Json.Serialization.JsonStringEnumConverter<DataKind>))]
public enum DataKind
{
    Int64,
    Float64,
    Boolean,
    String,
    /// <summary>Microseconds since the Unix epoch, UTC.</summary>
    Timestamp,
    /// <summary>A list of strings per row (tokens).</summary>
    StringList,
    /// <summary>A sparse vector per row (<see cref="SparseVector"/>); Arrow <c>list&lt;struct&lt;index: int32, value: float&gt;&gt;</c>.</summary>
    SparseVector,
}

/// <summary>
/// One row of a sparse column: the positions of its non-zero entries, ascending, and their values. Kept as two arrays so
/// a model reads it without a per-entry object.
/// </summary>
public sealed class SparseVector(int[] indices, float[] values)
{
    public int[] Indices { get; } = indices.Length == values.Length ? indices : throw new ArgumentException("A sparse vector needs as many values as indices.", nameof(values));
    public float[] Values { get; } = values;

    public static readonly SparseVector Empty = new([], []);
}

/// <summary>
/// Dictionary codes of a text column: <see cref="Codes"/> holds each row's index into <see cref="Entries"/>, −1 for null.
/// Entries are distinct within one column's dictionary, though not every entry need occur in the rows.
/// </summary>
public sealed record TextCodes(int[] Codes, string[] Entries);

/// <summary>A named, typed column of a <see cref="FrameSchema"/>.</summary>
public sealed record FieldDef(string Name, DataKind Kind);

/// <summary>
/// One column of a <see cref="Frame"/>: a dense value array of the column's kind plus an optional validity array
/// (null when every row is valid). Kernels loop over these arrays directly; no value is boxed per row.
/// </summary>
public sealed class Column
{
    private Column(DataKind kind, int length, Array values, bool[]? valid, TextCodes? codes = null)
    {
        Kind = kind;
        Length = length;
        Values = values;
        Valid = valid;
        Codes = codes;
    }

    /// <summary>
    /// For a text column read from a dictionary (Parquet keeps text in dictionary pages), each row's position in the
    /// dictionary, beside the strings: kernels that group, count or encode categories work on these codes and look each
    /// distinct value up once per batch instead of once per row. Null for other columns; <see cref="String"/> always holds
    /// the values.
    /// </summary>
    public TextCodes? Codes { get; }

    public DataKind Kind { get; }
    public int Length { get; }
    public Array Values { get; }
    /// <summary>Validity per row; null means no nulls.</summary>
    public bool[]? Valid { get; }

    public long[] Int64 => (long[])Values;
    public double[] Float64 => (double[])Values;
    public bool[] Boolean => (bool[])Values;
    public string?[] String => (string?[])Values;
    public long[] Timestamp => (long[])Values;
    public string[]?[] StringList => (string[]?[])Values;
    public SparseVector?[] Sparse => (SparseVector?[])Values;

    public bool IsValid(int row) => Valid is null || Valid[row];

    public int NullCount
    {
        get
        {
            if (Valid is null) return 0;
            var count = 0;
            foreach (var v in Valid) if (!v) count++;
            return count;
        }
    }

    public static Column OfInt64(long[] values, bool[]? valid = null) => new(DataKind.Int64, values.Length, values, Normalize(valid));
    public static Column OfFloat64(double[] values, bool[]? valid = null) => new(DataKind.Float64, values.Length, values, Normalize(valid));
    public static Column OfBoolean(bool[] values, bool[]? valid = null) => new(DataKind.Boolean, values.Length, values, Normalize(valid));
    public static Column OfTimestamp(long[] values, bool[]? valid = null) => new(DataKind.Timestamp, values.Length, values, Normalize(valid));

    /// <summary>Strings carry their nulls in the value array; the validity array is derived from it.</summary>
    public static Column OfString(string?[] values) => new(DataKind.String, values.Length, values, ValidityOf(values));

    /// <summary>A text column from dictionary codes (−1 for null); rows share one string instance per entry.</summary>
    public static Column OfCodes(int[] codes, string[] entries)
    {
        var values = new string?[codes.Length];
        for (var i = 0; i < codes.Length; i++) values[i] = codes[i] < 0 ? null : entries[codes[i]];
        return new(DataKind.String, codes.Length, values, ValidityOf(values), new TextCodes(codes, entries));
    }
    public static Column OfStringList(string[]?[] values) => new(DataKind.StringList, values.Length, values, ValidityOf(values));
    public static Column OfSparse(SparseVector?[] values) => new(DataKind.SparseVector, values.Length, values, ValidityOf(values));

    public static Column Of(DataKind kind, Array values, bool[]? valid) => kind switch
    {
        DataKind.Int64 => OfInt64((long[])values, valid),
        DataKind.Float64 => OfFloat64((double[])values, valid),
        DataKind.Boolean => OfBoolean((bool[])values, valid),
        DataKind.Timestamp => OfTimestamp((long[])values, valid),
        DataKind.String => OfString(Masked((string?[])values, valid)),
        DataKind.StringList => OfStringList(Masked((string[]?[])values, valid)),
        DataKind.SparseVector => OfSparse(Masked((SparseVector?[])values, valid)),
        _ => throw new ArgumentOutOfRangeException(nameof(kind)),
    };

    /// <summary>A column of <paramref name="length"/> nulls.</summary>
    public static Column Nulls(DataKind kind, int length) => Of(kind, NewValues(kind, length), new bool[length]);

    public static Array NewValues(DataKind kind, int length) => kind switch
    {
        DataKind.Int64 or DataKind.Timestamp => new long[length],
        DataKind.Float64 => new double[length],
        DataKind.Boolean => new bool[length],
        DataKind.String => new string?[length],
        DataKind.StringList => new string[]?[length],
        DataKind.SparseVector => new SparseVector?[length],
        _ => throw new ArgumentOutOfRangeException(nameof(kind)),
    };

    /// <summary>The given rows, in the given order.</summary>
    public Column Take(int[] rows)
    {
        var values = NewValues(Kind, rows.Length);
        bool[]? valid = Valid is null ? null : new bool[rows.Length];
        switch (Values)
        {
            case long[] l: GatherAhead(l, (long[])values, rows); break;
            case double[] d: GatherAhead(d, (double[])values, rows); break;
            case bool[] b: { var o = (bool[])values; for (var i = 0; i < rows.Length; i++) o[i] = b[rows[i]]; break; }
            case string?[] s: { var o = (string?[])values; for (var i = 0; i < rows.Length; i++) o[i] = s[rows[i]]; break; }
            case string[]?[] t: { var o = (string[]?[])values; for (var i = 0; i < rows.Length; i++) o[i] = t[rows[i]]; break; }
            case SparseVector?[] v: { var o = (SparseVector?[])values; for (var i = 0; i < rows.Length; i++) o[i] = v[rows[i]]; break; }
        }
        if (valid is not null) for (var i = 0; i < rows.Length; i++) valid[i] = Valid![rows[i]];
        if (Codes is { } coded)
        {
            var codes = new int[rows.Length];
            for (var i = 0; i < rows.Length; i++) codes[i] = coded.Codes[rows[i]];
            return new(Kind, rows.Length, values, ValidityOf((string?[])values), new TextCodes(codes, coded.Entries));
        }
        return Of(Kind, values, valid);
    }

    /// <summary>The given rows, in the given order; a negative row gives null (the unmatched side of an outer join).</summary>
    public Column TakeOrNull(int[] rows)
    {
        var values = NewValues(Kind, rows.Length);
        var valid = new bool[rows.Length];
        switch (Values)
        {
            case long[] l: GatherAhead(l, (long[])values, rows); break;
            case double[] d: GatherAhead(d, (double[])values, rows); break;
            case bool[] b: Gather(b, (bool[])values); break;
            case string?[] s: Gather(s, (string?[])values); break;
            case string[]?[] t: Gather(t, (string[]?[])values); break;
            case SparseVector?[] v: Gather(v, (SparseVector?[])values); break;
        }
        for (var i = 0; i < rows.Length; i++) valid[i] = rows[i] >= 0 && IsValid(rows[i]);
        return Of(Kind, values, valid);

        void Gather<T>(T[] source, T[] target)
        {
            for (var i = 0; i < rows.Length; i++)
                if (rows[i] >= 0) target[i] = source[rows[i]];
        }
    }

    /// <summary>
    /// <c>target[i] = source[rows[i]]</c> for rows ≥ 0 (others stay default), requesting the value sixteen rows ahead as
    /// it goes: rows from a join land anywhere in a large source, and this keeps several memory loads in flight.
    /// </summary>
    private static void GatherAhead<T>(T[] source, T[] target, int[] rows) where T : unmanaged
    {
        const int Ahead = 16;
        var i = 0;
        for (; i < rows.Length - Ahead; i++)
        {
            Memory.Prefetch(source, rows[i + Ahead]);
            if (rows[i] >= 0) target[i] = source[rows[i]];
        }
        for (; i < rows.Length; i++)
            if (rows[i] >= 0) target[i] = source[rows[i]];
    }

    /// <summary>Rows [offset, offset+count).</summary>
    public Column Slice(int offset, int count)
    {
        var values = NewValues(Kind, count);
        Array.Copy(Values, offset, values, 0, count);
        bool[]? valid = null;
        if (Valid is not null)
        {
            valid = new bool[count];
            Array.Copy(Valid, offset, valid, 0, count);
        }
        if (Codes is { } coded) return new(Kind, count, values, ValidityOf((string?[])values), new TextCodes(coded.Codes.AsSpan(offset, count).ToArray(), coded.Entries));
        return Of(Kind, values, valid);
    }

    public static Column Concat(DataKind kind, IReadOnlyList<Column> parts)
    {
        var length = parts.Sum(p => p.Length);
        var values = NewValues(kind, length);
        var anyNull = parts.Any(p => p.Valid is not null);
        var valid = anyNull ? new bool[length] : null;
        var at = 0;
        foreach (var part in parts)
        {
            Array.Copy(part.Values, 0, values, at, part.Length);
            if (valid is not null)
            {
                if (part.Valid is null) Array.Fill(valid, true, at, part.Length);
                else Array.Copy(part.Valid, 0, valid, at, part.Length);
            }
            at += part.Length;
        }
        return Of(kind, values, valid);
    }

    private static bool[]? Normalize(bool[]? valid)
    {
        if (valid is null) return null;
        return Array.IndexOf(valid, false) < 0 ? null : valid;
    }

    private static bool[]? ValidityOf<T>(T?[] values) where T : class
    {
        var index = Array.IndexOf(values, null);
        if (index < 0) return null;
        var valid = new bool[values.Length];
        for (var i = 0; i < values.Length; i++) valid[i] = values[i] is not null;
        return valid;
    }

    private static T?[] Masked<T>(T?[] values, bool[]? valid) where T : class
    {
        if (valid is null) return values;
        for (var i = 0; i < values.Length; i++) if (!valid[i]) values[i] = null;
        return values;
    }
}
