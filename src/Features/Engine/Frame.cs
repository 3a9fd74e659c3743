namespace Cube.Features.Engine;

/// <summary>An ordered list of uniquely named fields: what an operator declares it consumes and produces.</summary>
public sealed class FrameSchema
{
    private readonly Dictionary<string, int> _index;

    public FrameSchema(IEnumerable<FieldDef> fields)
    {
        Fields = fields.ToList();
        _index = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < Fields.Count; i++)
            if (!_index.TryAdd(Fields[i].Name, i))
                throw new ArgumentException($"Column '{Fields[i].Name}' appears twice.");
    }

    public IReadOnlyList<FieldDef> Fields { get; }

    public FieldDef? Find(string name) => _index.TryGetValue(name, out var i) ? Fields[i] : null;

    public int IndexOf(string name) => _index.TryGetValue(name, out var i) ? i : -1;

    public IEnumerable<string> Names => Fields.Select(f => f.Name);

    /// <summary>The named fields, in the given order; an unknown name is an <see cref="ArgumentException"/>.</summary>
    public FrameSchema Select(IEnumerable<string> names) =>
        new(names.Select(n => Find(n) ?? throw new ArgumentException($"No column '{n}'.", nameof(names))));

    public override string ToString() => string.Join(", ", Fields.Select(f => $"{f.Name}:{f.Kind}"));
}

/// <summary>A batch of rows in column form: the unit every operator transforms.</summary>
public sealed class Frame
{
    public Frame(FrameSchema schema, IReadOnlyList<Column> columns, int rowCount)
    {
        if (schema.Fields.Count != columns.Count) throw new ArgumentException("The schema and the columns differ in count.");
        for (var i = 0; i < columns.Count; i++)
        {
            if (columns[i].Length != rowCount) throw new ArgumentException($"Column '{schema.Fields[i].Name}' has {columns[i].Length} rows, not {rowCount}.");
            if (columns[i].Kind != schema.Fields[i].Kind) throw new ArgumentException($"Column '{schema.Fields[i].Name}' is {columns[i].Kind}, not {schema.Fields[i].Kind}.");
        }
        Schema = schema;
        Columns = columns;
        RowCount = rowCount;
    }

    public FrameSchema Schema { get; }
    public IReadOnlyList<Column> Columns { get; }
    public int RowCount { get; }

    public Column this[string name] => Columns[Schema.IndexOf(name) is var i and >= 0 ? i : throw new KeyNotFoundException($"No column '{name}'.")];

    public static Frame Empty(FrameSchema schema) => new(schema, schema.Fields.Select(f => Column.Nulls(f.Kind, 0)).ToList(), 0);

    /// <summary>A frame with the named columns replaced or appended (in the given order), the others kept.</summary>
    public Frame With(IReadOnlyList<(string Name, Column Column)> columns)
    {
        var fields = Schema.Fields.ToList();
        var values = Columns.ToList();
        foreach (var (name, column) in columns)
        {
            var index = fields.FindIndex(f => f.Name == name);
            if (index >= 0)
            {
                fields[index] = new FieldDef(name, column.Kind);
                values[index] = column;
            }
            else
            {
                fields.Add(new FieldDef(name, column.Kind));
                values.Add(column);
            }
        }
        return new Frame(new FrameSchema(fields), values, RowCount);
    }

    /// <summary>The named columns, in the given order (the arrays are shared, not copied).</summary>
    public Frame Select(IReadOnlyList<string> names) => new(Schema.Select(names), names.Select(n => this[n]).ToList(), RowCount);

    public Frame Take(int[] rows) => new(Schema, Columns.Select(c => c.Take(rows)).ToList(), rows.Length);

    public Frame Slice(int offset, int count) => new(Schema, Columns.Select(c => c.Slice(offset, count)).ToList(), count);

    public static Frame Concat(FrameSchema schema, IReadOnlyList<Frame> frames) =>
        new(schema, schema.Fields.Select((f, i) => Column.Concat(f.Kind, frames.Select(x => x.Columns[i]).ToList())).ToList(), frames.Sum(f => f.RowCount));
}
