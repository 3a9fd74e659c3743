using Apache.Arrow;
using System.Runtime.InteropServices;
using Apache.Arrow.Types;

namespace Cube.DataHub.Tables.Text;

/// <summary>
/// Converts raw text batches into Arrow record batches of the planned types. A value that does not fit raises
/// <see cref="TypeWideningException"/> with plans widened over the whole batch, so one restart fixes every
/// column this batch breaks.
/// </summary>
internal sealed class BatchConverter
{
    private readonly IReadOnlyList<ColumnPlan> _plans;
    private readonly Utf8Interner _interner = new();

    public BatchConverter(IReadOnlyList<ColumnPlan> plans)
    {
        _plans = plans;
        Schema = new Schema([.. plans.Select(p => new Field(p.Name, ColumnKinds.ToArrow(p.Kind, p.Dictionary), nullable: true))], null);
    }

    public Schema Schema { get; }

    public RecordBatch Convert(RawBatch batch)
    {
        var arrays = new IArrowArray[_plans.Count];
        for (var c = 0; c < _plans.Count; c++)
        {
            var array = ConvertColumn(batch, c, _plans[c]);
            arrays[c] = array ?? throw new TypeWideningException(TypeInference.Widen(_plans, batch));
        }
        return new RecordBatch(Schema, arrays, batch.Rows);
    }

    internal IArrowArray? ConvertColumn(RawBatch batch, int c, ColumnPlan plan)
    {
        var rows = batch.Rows;
        var validity = new byte[(rows + 7) / 8];
        var nulls = 0;
        switch (plan.Kind)
        {
            case ColumnKind.Int64:
            case ColumnKind.Timestamp:
            case ColumnKind.TimestampTz:
            {
                var bytes = new byte[rows * 8];
                var values = MemoryMarshal.Cast<byte, long>(bytes.AsSpan());
                for (var r = 0; r < rows; r++)
                {
                    if (IsNull(batch, r, c, allowNaN: false, out var s)) { nulls++; continue; }
                    var ok = plan.Kind == ColumnKind.Int64
                        ? batch.Kinds[r * batch.Columns + c] == FieldKind.Text && ValueParsers.TryParseInt64(s, out values[r])
                        : ValueParsers.TryParseTimestamp(s, out values[r], out var tz, out _) && tz == (plan.Kind == ColumnKind.TimestampTz);
                    if (!ok) return null;
                    validity[r >> 3] |= (byte)(1 << (r & 7));
                }
                var buffer = new ArrowBuffer(bytes);
                return plan.Kind == ColumnKind.Int64
                    ? new Int64Array(buffer, Validity(validity, nulls), rows, nulls, 0)
                    : new TimestampArray((TimestampType)ColumnKinds.ToArrow(plan.Kind, false), buffer, Validity(validity, nulls), rows, nulls, 0);
            }
            case ColumnKind.Double:
            {
                var bytes = new byte[rows * 8];
                var values = MemoryMarshal.Cast<byte, double>(bytes.AsSpan());
                for (var r = 0; r < rows; r++)
                {
                    if (IsNull(batch, r, c, allowNaN: true, out var s)) { nulls++; continue; }
                    if (batch.Kinds[r * batch.Columns + c] != FieldKind.Text || !ValueParsers.TryParseDouble(s, out values[r])) return null;
                    validity[r >> 3] |= (byte)(1 << (r & 7));
                }
                return new DoubleArray(new ArrowBuffer(bytes), Validity(validity, nulls), rows, nulls, 0);
            }
            case ColumnKind.Date:
            {
                var bytes = new byte[rows * 4];
                var values = MemoryMarshal.Cast<byte, int>(bytes.AsSpan());
                for (var r = 0; r < rows; r++)
                {
                    if (IsNull(batch, r, c, allowNaN: false, out var s)) { nulls++; continue; }
                    if (!ValueParsers.TryParseDate(s, out values[r])) return null;
                    validity[r >> 3] |= (byte)(1 << (r & 7));
                }
                return new Date32Array(new ArrowBuffer(bytes), Validity(validity, nulls), rows, nulls, 0);
            }
            case ColumnKind.Boolean:
            {
                var bits = new byte[(rows + 7) / 8];
                for (var r = 0; r < rows; r++)
                {
                    if (IsNull(batch, r, c, allowNaN: false, out var s)) { nulls++; continue; }
                    if (batch.Kinds[r * batch.Columns + c] != FieldKind.Text || !ValueParsers.TryParseBoolean(s, out var b)) return null;
                    if (b) bits[r >> 3] |= (byte)(1 << (r & 7));
                    validity[r >> 3] |= (byte)(1 << (r & 7));
                }
                return new BooleanArray(new ArrowBuffer(bits), Validity(validity, nulls), rows, nulls, 0);
            }
            default:
                return plan.Dictionary ? ConvertDictionary(batch, c, validity) : ConvertPlain(batch, c, validity);
        }
    }

    private IArrowArray ConvertDictionary(RawBatch batch, int c, byte[] validity)
    {
        var rows = batch.Rows;
        var nulls = 0;
        var codeBytes = new byte[rows * 4];
        var codes = MemoryMarshal.Cast<byte, int>(codeBytes.AsSpan());
        _interner.Clear();
        for (var r = 0; r < rows; r++)
        {
            if (IsNull(batch, r, c, allowNaN: false, out var s)) { nulls++; continue; }
            codes[r] = _interner.Intern(s);
            validity[r >> 3] |= (byte)(1 << (r & 7));
        }
        var dictionary = new StringArray(_interner.Count, new ArrowBuffer(MemoryMarshal.AsBytes(_interner.Offsets).ToArray()),
            new ArrowBuffer(_interner.Data.ToArray()), ArrowBuffer.Empty, 0, 0);
        var indices = new Int32Array(new ArrowBuffer(codeBytes), Validity(validity, nulls), rows, nulls, 0);
        return new DictionaryArray(ColumnKinds.DictionaryString, indices, dictionary);
    }

    private static StringArray ConvertPlain(RawBatch batch, int c, byte[] validity)
    {
        var rows = batch.Rows;
        var nulls = 0;
        var offsetBytes = new byte[(rows + 1) * 4];
        var offsets = MemoryMarshal.Cast<byte, int>(offsetBytes.AsSpan());
        var total = 0;
        for (var r = 0; r < rows; r++) total += batch.Lengths[r * batch.Columns + c];
        var data = new byte[total];
        var at = 0;
        for (var r = 0; r < rows; r++)
        {
            if (IsNull(batch, r, c, allowNaN: false, out var s)) nulls++;
            else
            {
                s.CopyTo(data.AsSpan(at));
                at += s.Length;
                validity[r >> 3] |= (byte)(1 << (r & 7));
            }
            offsets[r + 1] = at;
        }
        return new StringArray(rows, new ArrowBuffer(offsetBytes),
            new ArrowBuffer(data.AsMemory(0, at)), Validity(validity, nulls), nulls, 0);
    }

    private static bool IsNull(RawBatch batch, int r, int c, bool allowNaN, out ReadOnlySpan<byte> value)
    {
        var i = r * batch.Columns + c;
        var kind = batch.Kinds[i];
        value = batch.Data.AsSpan(batch.Starts[i], batch.Lengths[i]);
        if (kind == FieldKind.Null) return true;
        if (kind == FieldKind.JsonString) return false;
        return ValueParsers.IsNullToken(value) || (!allowNaN && ValueParsers.IsNaN(value));
    }

    private static ArrowBuffer Validity(byte[] bits, int nulls) => nulls == 0 ? ArrowBuffer.Empty : new ArrowBuffer(bits);
}
