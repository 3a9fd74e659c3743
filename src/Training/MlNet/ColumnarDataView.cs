using Microsoft.ML;
using Microsoft.ML.Data;

namespace Cube.Training.MlNet;

/// <summary>
/// Columns of a table held as typed arrays (float for numbers, bool, text), shared by the views over them. One array per
/// column is the whole memory cost: 4 bytes a row for a number, where ML.NET's own text loader would hold strings.
/// </summary>
internal sealed class ColumnStore(int capacity)
{
    private readonly List<(string Name, DataViewType Type, Array Values)> _columns = [];
    public int Rows { get; private set; }
    public int Capacity { get; } = capacity;
    /// <summary>Stops every pass over the views: cursors throw <see cref="OperationCanceledException"/> once it is cancelled.</summary>
    public CancellationToken Cancellation { get; init; }
    public IReadOnlyList<(string Name, DataViewType Type, Array Values)> Columns => _columns;

    public float[] AddSingle(string name) => Add(name, NumberDataViewType.Single, new float[Capacity]);
    public bool[] AddBoolean(string name) => Add(name, BooleanDataViewType.Instance, new bool[Capacity]);
    public ReadOnlyMemory<char>[] AddText(string name) => Add(name, TextDataViewType.Instance, new ReadOnlyMemory<char>[Capacity]);

    private T[] Add<T>(string name, DataViewType type, T[] values)
    {
        _columns.Add((name, type, values));
        return values;
    }

    /// <summary>Sets the number of rows filled so far (rows whose label was missing are not kept).</summary>
    public void Commit(int rows) => Rows = rows;

    /// <summary>A view over the given rows, in the order given.</summary>
    public ColumnarDataView View(int[] rows, IReadOnlyCollection<string>? only = null) => new(this, rows, only);
}

/// <summary>An <see cref="IDataView"/> over some rows of a <see cref="ColumnStore"/>; ML.NET reads it with as many passes as it needs.</summary>
internal sealed class ColumnarDataView : IDataView
{
    private readonly (string Name, DataViewType Type, Array Values)[] _columns;
    private readonly int[] _rows;
    private readonly CancellationToken _cancellation;

    public ColumnarDataView(ColumnStore store, int[] rows, IReadOnlyCollection<string>? only)
    {
        _columns = store.Columns.Where(c => only is null || only.Contains(c.Name)).ToArray();
        _rows = rows;
        _cancellation = store.Cancellation;
        var builder = new DataViewSchema.Builder();
        foreach (var (name, type, _) in _columns) builder.AddColumn(name, type);
        Schema = builder.ToSchema();
    }

    public bool CanShuffle => false;
    public DataViewSchema Schema { get; }
    public long? GetRowCount() => _rows.Length;

    public DataViewRowCursor GetRowCursor(IEnumerable<DataViewSchema.Column> columnsNeeded, Random? rand = null) => new Cursor(this);

    public DataViewRowCursor[] GetRowCursorSet(IEnumerable<DataViewSchema.Column> columnsNeeded, int n, Random? rand = null) => [new Cursor(this)];

    private sealed class Cursor(ColumnarDataView view) : DataViewRowCursor
    {
        private long _position = -1;

        public override long Position => _position;
        public override long Batch => 0;
        public override DataViewSchema Schema => view.Schema;

        public override bool MoveNext()
        {
            // Checked every 4096 rows: often enough to stop within milliseconds, rare enough to cost nothing.
            if ((_position & 4095) == 0) view._cancellation.ThrowIfCancellationRequested();
            if (_position + 1 >= view._rows.Length)
            {
                _position = view._rows.Length;
                return false;
            }
            _position++;
            return true;
        }

        public override bool IsColumnActive(DataViewSchema.Column column) => true;

        public override ValueGetter<DataViewRowId> GetIdGetter() => (ref DataViewRowId value) => value = new DataViewRowId((ulong)view._rows[_position], 0);

        public override ValueGetter<TValue> GetGetter<TValue>(DataViewSchema.Column column)
        {
            if (view._columns[column.Index].Values is not TValue[] values)
                throw new InvalidOperationException($"Column '{column.Name}' is {column.Type}, not {typeof(TValue).Name}.");
            var rows = view._rows;
            return (ref TValue value) => value = values[rows[_position]];
        }
    }
}
