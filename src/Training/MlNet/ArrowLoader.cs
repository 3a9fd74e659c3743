using System.Globalization;
using Apache.Arrow;

namespace Cube.Training.MlNet;

/// <summary>A problem with the data itself, found while reading it (a label outside 0/1, rows beyond the recorded count).</summary>
public sealed class TrainingDataException(string message) : Exception(message);

/// <summary>
/// Streams a table's Arrow record batches into a <see cref="ColumnStore"/>: only the label and feature columns are read
/// (projection), each batch is copied into typed arrays and released, so memory is the arrays plus one batch.
/// Rows with a missing label are left out; missing numbers become NaN, missing strings empty.
/// </summary>
internal static class ArrowLoader
{
    public static async Task<ColumnStore> LoadAsync(IAsyncEnumerable<RecordBatch> batches, MlNetSettings settings, IReadOnlyList<FeatureColumn> features,
        long capacity, Func<long, ValueTask> progress, CancellationToken cancellationToken)
    {
        if (capacity > System.Array.MaxLength) throw new TrainingDataException($"The table has {capacity} rows, more than one in-process ML.NET job takes ({System.Array.MaxLength}).");
        var store = new ColumnStore((int)capacity) { Cancellation = cancellationToken };
        var writers = new List<(string Name, Action<IArrowArray, int, int> Write)>();
        foreach (var feature in features)
        {
            if (feature.Kind == FeatureKind.Numeric)
            {
                var values = store.AddSingle(feature.Name);
                writers.Add((feature.Name, (array, row, at) => values[at] = Number(array, row) is { } d ? (float)d : float.NaN));
            }
            else
            {
                var values = store.AddText(feature.Name);
                // A dictionary-encoded column's values are decoded once per batch, not once per row.
                IArrowArray? dictionary = null;
                ReadOnlyMemory<char>[] decoded = [];
                writers.Add((feature.Name, (array, row, at) =>
                {
                    if (array is DictionaryArray d)
                    {
                        if (!ReferenceEquals(d.Dictionary, dictionary))
                        {
                            dictionary = d.Dictionary;
                            decoded = Enumerable.Range(0, d.Dictionary.Length).Select(i => (Text(d.Dictionary, i) ?? "").AsMemory()).ToArray();
                        }
                        values[at] = d.IsNull(row) ? ReadOnlyMemory<char>.Empty : decoded[DictionaryIndex(d.Indices, row)];
                    }
                    else values[at] = (Text(array, row) ?? "").AsMemory();
                }));
            }
        }

        var label = settings.Label;
        Func<IArrowArray, int, int, bool> writeLabel;
        switch (settings.Task)
        {
            case MlTask.BinaryClassification:
                var bools = store.AddBoolean(label);
                writeLabel = (array, row, at) =>
                {
                    if (array.IsNull(row)) return false;
                    if (array is BooleanArray b) bools[at] = b.GetValue(row)!.Value;
                    else bools[at] = Number(array, row) switch
                    {
                        0 => false,
                        1 => true,
                        var other => throw new TrainingDataException($"Label '{label}' has the value {other}; binary classification takes 0 or 1."),
                    };
                    return true;
                };
                break;
            case MlTask.MulticlassClassification:
                var classes = store.AddText(label);
                writeLabel = (array, row, at) =>
                {
                    if (array.IsNull(row)) return false;
                    classes[at] = (array is BooleanArray b ? (b.GetValue(row)!.Value ? "true" : "false")
                        : Text(array, row) ?? Convert.ToString(Number(array, row), CultureInfo.InvariantCulture) ?? "").AsMemory();
                    return true;
                };
                break;
            default:
                var targets = store.AddSingle(label);
                writeLabel = (array, row, at) =>
                {
                    if (Number(array, row) is not { } d || double.IsNaN(d)) return false;
                    targets[at] = (float)d;
                    return true;
                };
                break;
        }

        var columns = features.Select(f => f.Name).Append(label).ToList();
        var count = 0;
        long read = 0;
        await foreach (var batch in batches.WithCancellation(cancellationToken))
        {
            using (batch)
            {
                var labelArray = batch.Column(batch.Schema.GetFieldIndex(label));
                var arrays = writers.Select(w => batch.Column(batch.Schema.GetFieldIndex(w.Name))).ToArray();
                for (var row = 0; row < batch.Length; row++)
                {
                    if (count >= store.Capacity) throw new TrainingDataException($"The table has more rows than its recorded {store.Capacity}.");
                    if (!writeLabel(labelArray, row, count)) continue;
                    for (var c = 0; c < arrays.Length; c++) writers[c].Write(arrays[c], row, count);
                    count++;
                }
                read += batch.Length;
            }
            await progress(read);
        }
        store.Commit(count);
        return store;
    }

    /// <summary>The columns to read from the table: features, then the label.</summary>
    public static IReadOnlyList<string> Projection(MlNetSettings settings, IReadOnlyList<FeatureColumn> features) =>
        [.. features.Select(f => f.Name), settings.Label];

    private static double? Number(IArrowArray array, int row) => array switch
    {
        DoubleArray a => a.GetValue(row),
        FloatArray a => a.GetValue(row),
        Int64Array a => a.GetValue(row),
        Int32Array a => a.GetValue(row),
        Int16Array a => a.GetValue(row),
        Int8Array a => a.GetValue(row),
        UInt64Array a => a.GetValue(row),
        UInt32Array a => a.GetValue(row),
        UInt16Array a => a.GetValue(row),
        UInt8Array a => a.GetValue(row),
        HalfFloatArray a => a.GetValue(row) is { } h ? (double)h : null,
        BooleanArray a => a.GetValue(row) is { } b ? (b ? 1 : 0) : null,
        _ => throw new TrainingDataException($"Arrow type {array.Data.DataType.Name} is not a number."),
    };

    private static string? Text(IArrowArray array, int row) => array switch
    {
        StringArray a => a.GetString(row),
        LargeStringArray a => a.GetString(row),
        DictionaryArray d => d.IsNull(row) ? null : Text(d.Dictionary, DictionaryIndex(d.Indices, row)),
        _ => null,
    };

    private static int DictionaryIndex(IArrowArray indices, int row) => indices switch
    {
        Int32Array a => a.GetValue(row)!.Value,
        Int64Array a => (int)a.GetValue(row)!.Value,
        Int16Array a => a.GetValue(row)!.Value,
        Int8Array a => a.GetValue(row)!.Value,
        UInt32Array a => (int)a.GetValue(row)!.Value,
        UInt16Array a => a.GetValue(row)!.Value,
        UInt8Array a => a.GetValue(row)!.Value,
        _ => throw new TrainingDataException($"Dictionary index type {indices.Data.DataType.Name} is not supported."),
    };
}
