using Cube.Features.Engine;
using Cube.Features.Expressions;

namespace Cube.Features.Operators;

/// <summary>Keeps the listed columns, in the listed order.</summary>
public sealed class SelectOperator(Params p) : FeatureOperator
{
    private readonly IReadOnlyList<string> _columns = p.Strings("columns");
    public override string Kind => "select";
    public override IReadOnlyCollection<string>? ReplacesInPlace => [];
    protected override bool HasState => true;

    protected override FrameSchema BindCore(FrameSchema input) =>
        new(_columns.Select(c => RequireColumn(input, c, "columns")));

    public override Frame Transform(Frame input) => input.Select(_columns);
}

/// <summary>Removes the listed columns.</summary>
public sealed class DropOperator(Params p) : FeatureOperator
{
    private readonly IReadOnlyList<string> _columns = p.Strings("columns");
    public override string Kind => "drop";
    public override IReadOnlyCollection<string>? ReplacesInPlace => [];
    protected override bool HasState => true;

    protected override FrameSchema BindCore(FrameSchema input)
    {
        foreach (var c in _columns) RequireColumn(input, c, "columns");
        return new(input.Fields.Where(f => !_columns.Contains(f.Name)));
    }

    public override Frame Transform(Frame input)
    {
        var keep = input.Schema.Fields.Select((f, i) => (f, i)).Where(x => !_columns.Contains(x.f.Name)).ToList();
        return new(new FrameSchema(keep.Select(x => x.f)), keep.Select(x => input.Columns[x.i]).ToList(), input.RowCount);
    }
}

/// <summary>Renames columns (<c>columns: {old: new}</c>).</summary>
public sealed class RenameOperator(Params p) : FeatureOperator
{
    private readonly IReadOnlyList<KeyValuePair<string, string>> _map = p.StringMap("columns");
    public override string Kind => "rename";
    protected override bool HasState => true;

    protected override FrameSchema BindCore(FrameSchema input)
    {
        foreach (var (from, to) in _map)
        {
            RequireColumn(input, from, $"columns.{from}");
            if (string.IsNullOrWhiteSpace(to)) throw new StepException($"columns.{from}", "The new name is empty.");
        }
        var fields = input.Fields.Select(f => new FieldDef(NewName(f.Name), f.Kind)).ToList();
        var clash = fields.GroupBy(f => f.Name).FirstOrDefault(g => g.Count() > 1);
        if (clash is not null) throw new StepException("columns", $"Renaming gives two columns named '{clash.Key}'.");
        return new FrameSchema(fields);
    }

    private string NewName(string name) => _map.FirstOrDefault(m => m.Key == name).Value ?? name;

    public override Frame Transform(Frame input) =>
        new(new FrameSchema(input.Schema.Fields.Select(f => new FieldDef(NewName(f.Name), f.Kind))), input.Columns, input.RowCount);
}

/// <summary>Keeps the rows where a boolean expression is true (null counts as false, as in SQL WHERE).</summary>
public sealed class FilterOperator(Params p) : FeatureOperator
{
    private readonly string _text = p.String("expr");
    private Expression? _expression;
    public override string Kind => "filter";
    protected override bool HasState => true;

    protected override FrameSchema BindCore(FrameSchema input)
    {
        _expression = Compile(_text, input, "expr");
        if (_expression.Kind != DataKind.Boolean) throw new StepException("expr", $"A filter needs a true/false expression; '{_text}' is {_expression.Kind}.");
        return input;
    }

    public override Frame Transform(Frame input)
    {
        var mask = _expression!.Evaluate(input);
        var values = mask.Boolean;
        var count = 0;
        for (var i = 0; i < values.Length; i++) if (values[i] && mask.IsValid(i)) count++;
        if (count == input.RowCount) return input;
        var rows = new int[count];
        var at = 0;
        for (var i = 0; i < values.Length; i++) if (values[i] && mask.IsValid(i)) rows[at++] = i;
        return input.Take(rows);
    }

    internal static Expression Compile(string text, FrameSchema schema, string field)
    {
        try
        {
            return Expression.Compile(text, schema);
        }
        catch (ExpressionException e)
        {
            throw new StepException(field, $"{e.Message} (at character {e.Position + 1} of '{text}')");
        }
    }
}

/// <summary>Adds or replaces columns computed by expressions over the input (<c>columns: {name: expr}</c>).</summary>
public sealed class DeriveOperator(Params p) : FeatureOperator
{
    private readonly IReadOnlyList<KeyValuePair<string, string>> _definitions = p.StringMap("columns");
    private List<(string Name, Expression Expression)> _expressions = [];
    public override string Kind => "derive";
    public override IReadOnlyCollection<string>? ReplacesInPlace => _definitions.Select(d => d.Key).ToList();
    protected override bool HasState => true;

    protected override FrameSchema BindCore(FrameSchema input)
    {
        _expressions = _definitions.Select(d => (d.Key, FilterOperator.Compile(d.Value, input, $"columns.{d.Key}"))).ToList();
        return Replace(input, _expressions.Select(e => new FieldDef(e.Name, e.Expression.Kind)));
    }

    public override Frame Transform(Frame input) =>
        input.With(_expressions.Select(e => (e.Name, e.Expression.Evaluate(input))).ToList());
}

/// <summary>Converts columns to other kinds (<c>columns: {name: type}</c>); values that do not convert become null.</summary>
public sealed class CastOperator(Params p) : FeatureOperator
{
    private readonly IReadOnlyList<KeyValuePair<string, string>> _types = p.StringMap("columns");
    private List<(string Name, DataKind Kind)> _targets = [];
    public override string Kind => "cast";
    public override IReadOnlyCollection<string>? ReplacesInPlace => _types.Select(d => d.Key).ToList();
    protected override bool HasState => true;

    protected override FrameSchema BindCore(FrameSchema input)
    {
        _targets = [];
        foreach (var (name, type) in _types)
        {
            var column = RequireColumn(input, name, $"columns.{name}");
            DataKind kind;
            try
            {
                kind = Casts.ParseKind(type);
            }
            catch (FormatException e)
            {
                throw new StepException($"columns.{name}", e.Message);
            }
            if (!Casts.CanCast(column.Kind, kind)) throw new StepException($"columns.{name}", $"Column '{name}' is {column.Kind} and cannot be cast to {kind}.");
            _targets.Add((name, kind));
        }
        return Replace(input, _targets.Select(t => new FieldDef(t.Name, t.Kind)));
    }

    public override Frame Transform(Frame input) =>
        input.With(_targets.Select(t => (t.Name, Casts.Cast(input[t.Name], t.Kind))).ToList());
}

/// <summary>Lower-cases text columns in place.</summary>
public sealed class LowercaseOperator(Params p) : FeatureOperator
{
    private readonly IReadOnlyList<string> _columns = p.Strings("columns");
    public override string Kind => "lowercase";
    public override IReadOnlyCollection<string>? ReplacesInPlace => _columns;
    protected override bool HasState => true;

    protected override FrameSchema BindCore(FrameSchema input)
    {
        foreach (var c in _columns) RequireColumn(input, c, "columns", DataKind.String);
        return input;
    }

    public override Frame Transform(Frame input) =>
        input.With(_columns.Select(c => (c, Kernels.MapString(input[c], DataKind.String, s => s.ToLowerInvariant()))).ToList());
}
