using System.Runtime.CompilerServices;
using Apache.Arrow;
using ParquetSharp;
using ParquetSharp.Arrow;

namespace Cube.DataHub.Tables;

/// <summary>
/// Reads a Parquet table into Apache.Arrow record batches through ParquetSharp's Arrow API (Arrow C++ underneath,
/// threads on). String columns written dictionary-encoded come back dictionary-encoded. Schema and row count come
/// from the footer without reading data.
/// </summary>
public sealed class TableReader : IDisposable
{
    /// <summary>Rows per batch the reader hands out.</summary>
    public const int BatchSize = 64 * 1024;
    private readonly FileReader _reader;
    private readonly string _fileName;

    private TableReader(FileReader reader, string fileName)
    {
        _reader = reader;
        _fileName = fileName;
        Schema = reader.Schema;
        RowCount = reader.ParquetReader.FileMetaData.NumRows;
        _groupRows = new long[reader.NumRowGroups];
        for (var g = 0; g < _groupRows.Length; g++)
        {
            using var group = reader.ParquetReader.RowGroup(g);
            _groupRows[g] = group.MetaData.NumRows;
        }
    }

    private readonly long[] _groupRows;

    public Schema Schema { get; }
    public long RowCount { get; }
    public int RowGroupCount => _reader.NumRowGroups;

    /// <summary>
    /// Opens a Parquet file; a missing footer, a truncated file or another format is a <see cref="TableFormatException"/>.
    /// With <paramref name="dictionaryStrings"/>, every top-level text column comes back dictionary-encoded as stored
    /// (Parquet keeps text in dictionary pages): a reader that works on codes, or shares one string per distinct value,
    /// skips decoding the same text once per row.
    /// </summary>
    public static TableReader Open(string path, bool dictionaryStrings = false) =>
        OpenWith(Path.GetFileName(path), properties => new FileReader(path, arrowProperties: properties), dictionaryStrings);

    /// <summary>Opens a Parquet stream, which must be seekable; the stream is left open.</summary>
    public static TableReader Open(Stream stream, string fileName, bool dictionaryStrings = false) =>
        OpenWith(fileName, properties =>
        {
            stream.Position = 0;
            return new FileReader(stream, arrowProperties: properties, leaveOpen: true);
        }, dictionaryStrings);

    private static TableReader OpenWith(string fileName, Func<ArrowReaderProperties, FileReader> open, bool dictionaryStrings)
    {
        using var properties = ArrowReaderProperties.GetDefault();
        properties.UseThreads = true;
        properties.BatchSize = BatchSize;
        FileReader reader;
        try
        {
            reader = open(properties);
            if (dictionaryStrings && TextColumns(reader) is { Count: > 0 } text)
            {
                // Which leaves are text is known only from the footer, and the reader takes its properties when opened.
                reader.Dispose();
                foreach (var column in text) properties.SetReadDictionary(column, true);
                reader = open(properties);
            }
        }
        catch (ParquetException e)
        {
            throw new TableFormatException(fileName, $"Not a readable Parquet file: {e.Message.Split('\n')[0]}");
        }
        return new TableReader(reader, fileName);
    }

    /// <summary>The leaf indexes of top-level UTF-8 columns.</summary>
    private static List<int> TextColumns(FileReader reader)
    {
        var schema = reader.ParquetReader.FileMetaData.Schema;
        var text = new List<int>();
        for (var i = 0; i < schema.NumColumns; i++)
        {
            var column = schema.Column(i);
            if (column.PhysicalType != PhysicalType.ByteArray || column.MaxRepetitionLevel != 0) continue;
            using var logical = column.LogicalType;
            using var node = column.SchemaNode;
            using var parent = node.Parent;
            // The parent of a top-level column is the schema's root, which has none.
            using var grandparent = parent?.Parent;
            if (logical is StringLogicalType && grandparent is null) text.Add(i);
        }
        return text;
    }

    /// <summary>
    /// Streams the table's rows as record batches, with only the named <paramref name="columns"/> (all when null)
    /// and at most <paramref name="limit"/> rows, starting at row group <paramref name="firstRowGroup"/>.
    /// </summary>
    public async IAsyncEnumerable<RecordBatch> ReadAsync(IReadOnlyList<string>? columns = null, long? limit = null,
        int firstRowGroup = 0, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var indices = columns?.Select(ColumnIndex).ToArray();
        var remaining = limit ?? long.MaxValue;
        if (remaining <= 0 || firstRowGroup >= RowGroupCount) yield break;
        var rowGroups = Enumerable.Range(firstRowGroup, RowGroupCount - firstRowGroup).ToArray();
        using var stream = ReadWith(rowGroups, indices);
        while (remaining > 0 && await stream.ReadNextRecordBatchAsync(cancellationToken).ConfigureAwait(false) is { } read)
        {
            var batch = Shape(read, columns, (int)Math.Min(remaining, read.Length));
            remaining -= batch.Length;
            yield return batch;
        }
    }

    /// <summary>Rows <paramref name="offset"/> .. offset+limit as JSON-friendly dictionaries, reading only the row groups they lie in.</summary>
    public async Task<IReadOnlyList<IReadOnlyDictionary<string, object?>>> PreviewAsync(long offset, int limit,
        IReadOnlyList<string>? columns = null, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        var rows = new List<IReadOnlyDictionary<string, object?>>();
        var (group, skip) = Locate(offset);
        await foreach (var batch in ReadAsync(columns, skip + limit, group, cancellationToken).ConfigureAwait(false))
        {
            using (batch)
            {
                var from = (int)Math.Min(skip, batch.Length);
                skip -= from;
                for (var r = from; r < batch.Length && rows.Count < limit; r++) rows.Add(Row(batch, r));
            }
        }
        return rows;
    }

    /// <summary>A uniform random sample of <paramref name="count"/> rows (all rows when fewer), in table order.</summary>
    public async Task<IReadOnlyList<IReadOnlyDictionary<string, object?>>> SampleAsync(int count, int seed,
        IReadOnlyList<string>? columns = null, CancellationToken cancellationToken = default)
    {
        var random = new Random(seed);
        var picks = new SortedSet<long>();
        if (RowCount <= count) for (long i = 0; i < RowCount; i++) picks.Add(i);
        else while (picks.Count < count) picks.Add(random.NextInt64(RowCount));
        var indices = columns?.Select(ColumnIndex).ToArray();
        var rows = new List<IReadOnlyDictionary<string, object?>>(picks.Count);
        // Only the row groups holding picked rows are read.
        foreach (var group in picks.GroupBy(p => Locate(p).Group))
        {
            var start = GroupStart(group.Key);
            using var stream = ReadWith([group.Key], indices);
            var batchStart = start;
            var wanted = new Queue<long>(group);
            while (wanted.Count > 0 && await stream.ReadNextRecordBatchAsync(cancellationToken).ConfigureAwait(false) is { } batch)
            {
                using (batch)
                {
                    while (wanted.Count > 0 && wanted.Peek() < batchStart + batch.Length) rows.Add(Row(batch, (int)(wanted.Dequeue() - batchStart)));
                    batchStart += batch.Length;
                }
            }
        }
        return rows;
    }

    public void Dispose() => _reader.Dispose();

    /// <summary>
    /// Orders the columns as asked (Arrow C++ returns them in file order) and cuts the batch to <paramref name="rows"/>.
    /// The result takes over the read batch's arrays, so disposing it frees them.
    /// </summary>
    private static RecordBatch Shape(RecordBatch batch, IReadOnlyList<string>? columns, int rows)
    {
        if (rows < batch.Length)
        {
            // SliceShared keeps the imported native buffers alive by reference count; the plain slice does not.
            var head = batch.SliceShared(0, rows);
            batch.Dispose();
            batch = head;
        }
        if (columns is null) return batch;
        var indices = columns.Select(n => batch.Schema.GetFieldIndex(n)).ToArray();
        if (indices.SequenceEqual(Enumerable.Range(0, batch.ColumnCount))) return batch;
        var schema = new Schema([.. indices.Select(i => batch.Schema.GetFieldByIndex(i))], batch.Schema.Metadata);
        return new RecordBatch(schema, [.. indices.Select(i => batch.Column(i))], batch.Length);
    }

    private IArrowArrayStreamReader ReadWith(int[] rowGroups, int[]? columns) => new(_reader.GetRecordBatchReader(rowGroups, columns));

    private int ColumnIndex(string name)
    {
        var index = Schema.GetFieldIndex(name);
        if (index < 0) throw new TableFormatException(_fileName, $"The table has no column '{name}'.", column: name);
        return index;
    }

    private (int Group, long Skip) Locate(long row)
    {
        long start = 0;
        for (var g = 0; g < RowGroupCount; g++)
        {
            var n = _groupRows[g];
            if (row < start + n) return (g, row - start);
            start += n;
        }
        return (RowGroupCount, 0);
    }

    private long GroupStart(int group)
    {
        long start = 0;
        for (var g = 0; g < group; g++) start += _groupRows[g];
        return start;
    }

    private static Dictionary<string, object?> Row(RecordBatch batch, int row)
    {
        var values = new Dictionary<string, object?>(batch.ColumnCount, StringComparer.Ordinal);
        for (var c = 0; c < batch.ColumnCount; c++) values[batch.Schema.GetFieldByIndex(c).Name] = ArrowValues.Get(batch.Column(c), row);
        return values;
    }

    /// <summary>Owns ParquetSharp's array stream so it is disposed with the enumeration.</summary>
    private sealed class IArrowArrayStreamReader(Apache.Arrow.Ipc.IArrowArrayStream inner) : IDisposable
    {
        public ValueTask<RecordBatch> ReadNextRecordBatchAsync(CancellationToken cancellationToken) => inner.ReadNextRecordBatchAsync(cancellationToken);
        public void Dispose() => inner.Dispose();
    }
}
