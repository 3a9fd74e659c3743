using System.Globalization;
using Apache.Arrow;
using Apache.Arrow.Types;

namespace Cube.DataHub.Tables;

/// <summary>Reads single Arrow values as JSON-friendly CLR values (numbers, bools, strings, ISO 8601 text).</summary>
public static class ArrowValues
{
    public static object? Get(IArrowArray array, int index)
    {
        if (!array.IsValid(index)) return null;
        return array switch
        {
            BooleanArray a => a.GetValue(index),
            Int8Array a => (long)a.Values[index],
            Int16Array a => (long)a.Values[index],
            Int32Array a => (long)a.Values[index],
            Int64Array a when a.Data.DataType.TypeId == ArrowTypeId.Int64 => a.Values[index],
            UInt8Array a => (long)a.Values[index],
            UInt16Array a => (long)a.Values[index],
            UInt32Array a => (long)a.Values[index],
            UInt64Array a => a.Values[index],
            FloatArray a => Finite(a.Values[index]),
            DoubleArray a => Finite(a.Values[index]),
            StringArray a => a.GetString(index),
            TimestampArray a => FormatTimestamp(a, index),
            Date32Array a => a.GetDateOnly(index)?.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
            Date64Array a => a.GetDateOnly(index)?.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
            DictionaryArray d => Get(d.Dictionary, DictionaryIndex(d, index)),
            BinaryArray a => Convert.ToBase64String(a.GetBytes(index)),
            _ => array.Data.DataType.Name,
        };
    }

    /// <summary>The dictionary position of row <paramref name="index"/> of a dictionary array.</summary>
    public static int DictionaryIndex(DictionaryArray array, int index) => array.Indices switch
    {
        Int32Array x => x.Values[index],
        Int16Array x => x.Values[index],
        Int8Array x => x.Values[index],
        UInt8Array x => x.Values[index],
        UInt16Array x => x.Values[index],
        UInt32Array x => checked((int)x.Values[index]),
        Int64Array x => checked((int)x.Values[index]),
        UInt64Array x => checked((int)x.Values[index]),
        _ => throw new NotSupportedException($"Dictionary index type {array.Indices.Data.DataType.Name}"),
    };

    // JSON has no NaN or infinity; they read as text so a preview never fails to serialise.
    private static object Finite(double v) => double.IsFinite(v) ? v : v.ToString(CultureInfo.InvariantCulture);

    private static string FormatTimestamp(TimestampArray array, int index)
    {
        var type = (TimestampType)array.Data.DataType;
        var value = array.GetTimestampUnchecked(index);
        var text = value.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.FFFFFFF", CultureInfo.InvariantCulture);
        return type.Timezone is null ? text : text + "Z";
    }
}
