using System.Runtime.InteropServices;
using Apache.Arrow;
using Apache.Arrow.Types;

namespace Cube.DataHub.Tables;

/// <summary>
/// Turns dictionary-encoded string columns into plain strings. Apache.Arrow's IPC writer sends a column's
/// dictionary once and silently mislabels values when a later batch carries a different dictionary, and each
/// Parquet row group decodes with its own dictionary, so batches bound for IPC go through here first.
/// </summary>
public static class DictionaryDecoding
{
    public static Schema DecodeSchema(Schema schema) => new(
        [.. schema.FieldsList.Select(f => f.DataType is DictionaryType { ValueType: StringType } ? new Field(f.Name, StringType.Default, f.IsNullable, f.Metadata) : f)],
        schema.Metadata);

    /// <summary>The batch with every dictionary string column decoded; other columns are shared, not copied.</summary>
    public static RecordBatch Decode(RecordBatch batch, Schema decodedSchema)
    {
        var arrays = new IArrowArray[batch.ColumnCount];
        for (var c = 0; c < arrays.Length; c++)
            arrays[c] = batch.Column(c) is DictionaryArray { Dictionary: StringArray dictionary } d ? Decode(d, dictionary) : batch.Column(c);
        return new RecordBatch(decodedSchema, arrays, batch.Length);
    }

    private static StringArray Decode(DictionaryArray array, StringArray dictionary)
    {
        var rows = array.Length;
        var offsetBytes = new byte[(rows + 1) * 4];
        var offsets = MemoryMarshal.Cast<byte, int>(offsetBytes.AsSpan());
        var validity = new byte[(rows + 7) / 8];
        long total = 0;
        for (var r = 0; r < rows; r++)
            if (array.IsValid(r)) total += dictionary.GetBytes(ArrowValues.DictionaryIndex(array, r)).Length;
        var data = new byte[checked((int)total)];
        var at = 0;
        var nulls = 0;
        for (var r = 0; r < rows; r++)
        {
            if (array.IsValid(r))
            {
                var value = dictionary.GetBytes(ArrowValues.DictionaryIndex(array, r));
                value.CopyTo(data.AsSpan(at));
                at += value.Length;
                validity[r >> 3] |= (byte)(1 << (r & 7));
            }
            else
            {
                nulls++;
            }
            offsets[r + 1] = at;
        }
        return new StringArray(rows, new ArrowBuffer(offsetBytes), new ArrowBuffer(data), nulls == 0 ? ArrowBuffer.Empty : new ArrowBuffer(validity), nulls, 0);
    }
}
