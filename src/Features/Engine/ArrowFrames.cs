using System.Runtime.InteropServices;
using Apache.Arrow;
using Apache.Arrow.Types;
using Cube.DataHub.Tables;

namespace Cube.Features.Engine;

/// <summary>Conversion between Arrow record batches and <see cref="Frame"/>s, straight over the Arrow buffers.</summary>
public static class ArrowFrames
{
    private static readonly TimestampType UtcMicros = new(TimeUnit.Microsecond, "UTC");

    /// <summary>The engine kind of an Arrow type, or null when the engine cannot compute with it.</summary>
    public static DataKind? KindOf(IArrowType type) => type switch
    {
        Int8Type or Int16Type or Int32Type or Int64Type or UInt8Type or UInt16Type or UInt32Type or UInt64Type => DataKind.Int64,
        FloatType or DoubleType or HalfFloatType or Decimal128Type => DataKind.Float64,
        BooleanType => DataKind.Boolean,
        StringType or LargeStringType => DataKind.String,
        DictionaryType { ValueType: StringType } => DataKind.String,
        TimestampType or Date32Type or Date64Type => DataKind.Timestamp,
        ListType { ValueDataType: StringType } => DataKind.StringList,
        ListType { ValueDataType: StructType entry } when IsSparseEntry(entry) => DataKind.SparseVector,
        _ => null,
    };

    /// <summary>The engine schema of an Arrow schema; unsupported columns are reported in <paramref name="unsupported"/> and left out.</summary>
    public static FrameSchema SchemaOf(Schema schema, List<string>? unsupported = null)
    {
        var fields = new List<FieldDef>();
        foreach (var field in schema.FieldsList)
        {
            if (KindOf(field.DataType) is { } kind) fields.Add(new FieldDef(field.Name, kind));
            else unsupported?.Add($"{field.Name} ({field.DataType.Name})");
        }
        return new FrameSchema(fields);
    }

    private static readonly StructType SparseEntry = new([new Field("index", Int32Type.Default, false), new Field("value", FloatType.Default, false)]);

    private static bool IsSparseEntry(StructType type) =>
        type.Fields is [{ Name: "index", DataType: Int32Type }, { Name: "value", DataType: FloatType }];

    public static Schema ToArrowSchema(FrameSchema schema) =>
        new(schema.Fields.Select(f => new Field(f.Name, ArrowType(f.Kind), true)), null);

    public static IArrowType ArrowType(DataKind kind) => kind switch
    {
        DataKind.Int64 => Int64Type.Default,
        DataKind.Float64 => DoubleType.Default,
        DataKind.Boolean => BooleanType.Default,
        DataKind.String => StringType.Default,
        DataKind.Timestamp => UtcMicros,
        DataKind.StringList => new ListType(new Field("item", StringType.Default, true)),
        DataKind.SparseVector => new ListType(new Field("item", SparseEntry, false)),
        _ => throw new ArgumentOutOfRangeException(nameof(kind)),
    };

    /// <summary>Reads the columns of <paramref name="schema"/> from a batch (columns not in the schema are skipped).</summary>
    public static Frame ToFrame(RecordBatch batch, FrameSchema schema)
    {
        var columns = new List<Column>(schema.Fields.Count);
        foreach (var field in schema.Fields)
        {
            var index = batch.Schema.GetFieldIndex(field.Name);
            if (index < 0) throw new InvalidOperationException($"The batch has no column '{field.Name}'.");
            columns.Add(ReadColumn(batch.Column(index)));
        }
        return new Frame(schema, columns, batch.Length);
    }

    public static Frame ToFrame(RecordBatch batch) => ToFrame(batch, SchemaOf(batch.Schema));

    public static Column ReadColumn(IArrowArray array)
    {
        var length = array.Length;
        var valid = Validity(array);
        switch (array)
        {
            case Int64Array a when a.Data.DataType.TypeId == ArrowTypeId.Int64: return Column.OfInt64(a.Values.ToArray(), valid);
            case Int32Array a: return Column.OfInt64(Widen(a.Values), valid);
            case Int16Array a: return Column.OfInt64(Widen(a.Values), valid);
            case Int8Array a: return Column.OfInt64(Widen(a.Values), valid);
            case UInt8Array a: return Column.OfInt64(Widen(a.Values), valid);
            case UInt16Array a: return Column.OfInt64(Widen(a.Values), valid);
            case UInt32Array a: return Column.OfInt64(Widen(a.Values), valid);
            case UInt64Array a: return Column.OfInt64(MemoryMarshal.Cast<ulong, long>(a.Values).ToArray(), valid);
            case DoubleArray a: return Column.OfFloat64(a.Values.ToArray(), valid);
            case FloatArray a:
            {
                var src = a.Values;
                var values = new double[length];
                for (var i = 0; i < values.Length; i++) values[i] = src[i];
                return Column.OfFloat64(values, valid);
            }
            case HalfFloatArray a:
            {
                var values = new double[length];
                for (var i = 0; i < values.Length; i++) values[i] = (double)(a.GetValue(i) ?? default);
                return Column.OfFloat64(values, valid);
            }
            case Decimal128Array a:
            {
                var values = new double[length];
                for (var i = 0; i < values.Length; i++) values[i] = a.IsValid(i) ? (double)(a.GetValue(i) ?? 0m) : 0;
                return Column.OfFloat64(values, valid);
            }
            case BooleanArray a:
            {
                var values = new bool[length];
                for (var i = 0; i < values.Length; i++) values[i] = a.GetValue(i) ?? false;
                return Column.OfBoolean(values, valid);
            }
            case StringArray a:
            {
                var values = new string?[length];
                for (var i = 0; i < values.Length; i++) values[i] = a.IsValid(i) ? a.GetString(i) : null;
                return Column.OfString(values);
            }
            case LargeStringArray a:
            {
                var values = new string?[length];
                for (var i = 0; i < values.Length; i++) values[i] = a.IsValid(i) ? a.GetString(i) : null;
                return Column.OfString(values);
            }
            case DictionaryArray { Dictionary: StringArray dictionary } d:
            {
                // Each dictionary entry is decoded once; rows share the string instances and keep their codes.
                var entries = new string[dictionary.Length];
                var nullEntry = false;
                for (var i = 0; i < entries.Length; i++)
                {
                    nullEntry |= !dictionary.IsValid(i);
                    entries[i] = dictionary.GetString(i) ?? "";
                }
                var codes = new int[length];
                if (d.Indices is Int32Array int32) int32.Values.CopyTo(codes);
                else for (var i = 0; i < codes.Length; i++) codes[i] = ArrowValues.DictionaryIndex(d, i);
                if (d.NullCount > 0)
                    for (var i = 0; i < codes.Length; i++) if (!d.IsValid(i)) codes[i] = -1;
                if (nullEntry)
                    for (var i = 0; i < codes.Length; i++) if (codes[i] >= 0 && !dictionary.IsValid(codes[i])) codes[i] = -1;
                return Column.OfCodes(codes, entries);
            }
            case TimestampArray a:
            {
                var unit = ((TimestampType)a.Data.DataType).Unit;
                var src = a.Values;
                var values = new long[length];
                for (var i = 0; i < values.Length; i++)
                    values[i] = unit switch
                    {
                        TimeUnit.Second => src[i] * 1_000_000,
                        TimeUnit.Millisecond => src[i] * 1_000,
                        TimeUnit.Microsecond => src[i],
                        _ => Math.DivRem(src[i], 1_000, out var rem) - (rem < 0 ? 1 : 0),
                    };
                return Column.OfTimestamp(values, valid);
            }
            case Date32Array a:
            {
                var src = a.Values;
                var values = new long[length];
                for (var i = 0; i < values.Length; i++) values[i] = src[i] * 86_400_000_000L;
                return Column.OfTimestamp(values, valid);
            }
            case Date64Array a:
            {
                var src = a.Values;
                var values = new long[length];
                for (var i = 0; i < values.Length; i++) values[i] = src[i] * 1_000L;
                return Column.OfTimestamp(values, valid);
            }
            case ListArray { Values: StringArray items } list:
            {
                var values = new string[]?[length];
                for (var i = 0; i < values.Length; i++)
                {
                    if (!list.IsValid(i)) continue;
                    var start = list.ValueOffsets[i];
                    var row = new string[list.ValueOffsets[i + 1] - start];
                    for (var j = 0; j < row.Length; j++) row[j] = items.GetString(start + j) ?? "";
                    values[i] = row;
                }
                return Column.OfStringList(values);
            }
            case ListArray { Values: StructArray entries } list when entries.Data.DataType is StructType entry && IsSparseEntry(entry):
            {
                // Straight over the child buffers: one index and one value span for the whole batch.
                var indices = ((Int32Array)entries.Fields[0]).Values;
                var weights = ((FloatArray)entries.Fields[1]).Values;
                var values = new SparseVector?[length];
                for (var i = 0; i < values.Length; i++)
                {
                    if (!list.IsValid(i)) continue;
                    var start = list.ValueOffsets[i];
                    var count = list.ValueOffsets[i + 1] - start;
                    values[i] = count == 0 ? SparseVector.Empty : new SparseVector(indices.Slice(start, count).ToArray(), weights.Slice(start, count).ToArray());
                }
                return Column.OfSparse(values);
            }
            default:
                throw new NotSupportedException($"Arrow type {array.Data.DataType.Name} is not supported.");
        }
    }

    public static RecordBatch ToRecordBatch(Frame frame) =>
        new(ToArrowSchema(frame.Schema), frame.Columns.Select(ToArrow).ToList(), frame.RowCount);

    public static IArrowArray ToArrow(Column column)
    {
        var length = column.Length;
        var (validity, nulls) = ValidityBuffer(column.Valid);
        switch (column.Kind)
        {
            // Numbers are handed over without a copy: frames are never written to once built.
            case DataKind.Int64:
                return new Int64Array(ArrayMemory<long>.Buffer(column.Int64), validity, length, nulls, 0);
            case DataKind.Float64:
                return new DoubleArray(ArrayMemory<double>.Buffer(column.Float64), validity, length, nulls, 0);
            case DataKind.Timestamp:
                return new TimestampArray(UtcMicros, ArrayMemory<long>.Buffer(column.Timestamp), validity, length, nulls, 0);
            case DataKind.Boolean:
            {
                var bits = new byte[(length + 7) / 8];
                PackBits(column.Boolean, bits);
                return new BooleanArray(new ArrowBuffer(bits), validity, length, nulls, 0);
            }
            case DataKind.String:
                return column.Codes is { } codes ? CodesToArrow(codes, validity, nulls) : StringsToArrow(column.String, validity, nulls);
            case DataKind.StringList:
            {
                var builder = new ListArray.Builder(StringType.Default);
                var items = (StringArray.Builder)builder.ValueBuilder;
                foreach (var row in column.StringList)
                {
                    if (row is null)
                    {
                        builder.AppendNull();
                        continue;
                    }
                    builder.Append();
                    foreach (var item in row) items.Append(item);
                }
                return builder.Build();
            }
            case DataKind.SparseVector:
                return SparseToArrow(column.Sparse, validity, nulls);
            default:
                throw new ArgumentOutOfRangeException(nameof(column));
        }
    }

    /// <summary>
    /// Offsets, then the UTF-8 bytes, each written in one pass; a value repeated by reference (rows of a dictionary-decoded
    /// column share one string per entry) is measured once per run.
    /// </summary>
    private static StringArray StringsToArrow(string?[] values, ArrowBuffer validity, int nulls)
    {
        var offsets = new int[values.Length + 1];
        long total = 0;
        string? last = null;
        var lastBytes = 0;
        for (var i = 0; i < values.Length; i++)
        {
            if (values[i] is { } value)
            {
                if (!ReferenceEquals(value, last))
                {
                    last = value;
                    lastBytes = System.Text.Encoding.UTF8.GetByteCount(value);
                }
                total += lastBytes;
                if (total > int.MaxValue) throw new InvalidOperationException("A batch's text column holds more than 2 GB; use smaller batches.");
            }
            offsets[i + 1] = (int)total;
        }
        var bytes = new byte[total];
        for (var i = 0; i < values.Length; i++)
            if (values[i] is { } value) System.Text.Encoding.UTF8.GetBytes(value, bytes.AsSpan(offsets[i], offsets[i + 1] - offsets[i]));
        return new StringArray(values.Length, ArrayMemory<int>.Buffer(offsets), new ArrowBuffer(bytes), validity, nulls, 0);
    }

    /// <summary>Each dictionary entry is encoded to UTF-8 once; rows copy their entry's bytes.</summary>
    private static StringArray CodesToArrow(TextCodes coded, ArrowBuffer validity, int nulls)
    {
        var encoded = new byte[coded.Entries.Length][];
        var codes = coded.Codes;
        var offsets = new int[codes.Length + 1];
        long total = 0;
        for (var i = 0; i < codes.Length; i++)
        {
            var code = codes[i];
            if (code >= 0) total += (encoded[code] ??= System.Text.Encoding.UTF8.GetBytes(coded.Entries[code])).Length;
            if (total > int.MaxValue) throw new InvalidOperationException("A batch's text column holds more than 2 GB; use smaller batches.");
            offsets[i + 1] = (int)total;
        }
        var bytes = new byte[total];
        for (var i = 0; i < codes.Length; i++)
            if (codes[i] >= 0) encoded[codes[i]].CopyTo(bytes, offsets[i]);
        return new StringArray(codes.Length, ArrayMemory<int>.Buffer(offsets), new ArrowBuffer(bytes), validity, nulls, 0);
    }

    /// <summary>
    /// An Arrow buffer over a managed array of numbers, without a copy. Arrow's exporter pins it (through
    /// <see cref="System.Buffers.MemoryManager{T}.Pin"/>) while native code reads it.
    /// </summary>
    private sealed class ArrayMemory<T>(T[] array) : System.Buffers.MemoryManager<byte> where T : unmanaged
    {
        public static ArrowBuffer Buffer(T[] values) => new(new ArrayMemory<T>(values).Memory);

        public override Span<byte> GetSpan() => MemoryMarshal.AsBytes(array.AsSpan());

        public override unsafe System.Buffers.MemoryHandle Pin(int elementIndex = 0)
        {
            var handle = System.Runtime.InteropServices.GCHandle.Alloc(array, System.Runtime.InteropServices.GCHandleType.Pinned);
            return new System.Buffers.MemoryHandle((byte*)handle.AddrOfPinnedObject() + elementIndex, handle, this);
        }

        public override void Unpin()
        {
        }

        protected override void Dispose(bool disposing)
        {
        }
    }

    /// <summary>Offsets, then the index and value children written in one pass each; a null row is an empty slot.</summary>
    private static ListArray SparseToArrow(SparseVector?[] rows, ArrowBuffer validity, int nulls)
    {
        var offsets = new int[rows.Length + 1];
        for (var i = 0; i < rows.Length; i++) offsets[i + 1] = offsets[i] + (rows[i]?.Indices.Length ?? 0);
        var total = offsets[^1];
        var indices = new int[total];
        var values = new float[total];
        for (var i = 0; i < rows.Length; i++)
        {
            if (rows[i] is not { } row) continue;
            row.Indices.CopyTo(indices, offsets[i]);
            row.Values.CopyTo(values, offsets[i]);
        }
        var entries = new StructArray(SparseEntry, total,
            [new Int32Array(new ArrowBuffer(MemoryMarshal.AsBytes(indices.AsSpan()).ToArray()), ArrowBuffer.Empty, total, 0, 0),
             new FloatArray(new ArrowBuffer(MemoryMarshal.AsBytes(values.AsSpan()).ToArray()), ArrowBuffer.Empty, total, 0, 0)],
            ArrowBuffer.Empty, 0);
        return new ListArray(ArrowType(DataKind.SparseVector), rows.Length, new ArrowBuffer(MemoryMarshal.AsBytes(offsets.AsSpan()).ToArray()), entries, validity, nulls);
    }

    private static long[] Widen<T>(ReadOnlySpan<T> values) where T : struct, System.Numerics.IBinaryInteger<T>
    {
        var result = new long[values.Length];
        for (var i = 0; i < result.Length; i++) result[i] = long.CreateTruncating(values[i]);
        return result;
    }

    private static bool[]? Validity(IArrowArray array)
    {
        if (array.NullCount == 0) return null;
        var valid = new bool[array.Length];
        for (var i = 0; i < valid.Length; i++) valid[i] = array.IsValid(i);
        return valid;
    }

    private static (ArrowBuffer Buffer, int Nulls) ValidityBuffer(bool[]? valid)
    {
        if (valid is null) return (ArrowBuffer.Empty, 0);
        var bits = new byte[(valid.Length + 7) / 8];
        var set = PackBits(valid, bits);
        return (new ArrowBuffer(bits), valid.Length - set);
    }

    /// <summary>Packs flags into an Arrow bitmap (least significant bit first), eight a step; returns how many are set.</summary>
    internal static int PackBits(bool[] flags, byte[] bits)
    {
        var bytes = System.Runtime.InteropServices.MemoryMarshal.AsBytes(flags.AsSpan());
        var whole = flags.Length / 8;
        var set = 0;
        for (var b = 0; b < whole; b++)
        {
            // A .NET bool is one byte, 0 or 1: the eight low bits of eight bytes, gathered into one byte.
            var word = System.Buffers.Binary.BinaryPrimitives.ReadUInt64LittleEndian(bytes.Slice(b * 8, 8));
            var packed = (byte)((word * 0x0102040810204080UL) >> 56);
            bits[b] = packed;
            set += System.Numerics.BitOperations.PopCount(packed);
        }
        for (var i = whole * 8; i < flags.Length; i++)
            if (flags[i])
            {
                bits[i >> 3] |= (byte)(1 << (i & 7));
                set++;
            }
        return set;
    }
}
