using Cube.Features.Engine;

namespace Cube.Features.Expressions;

/// <summary>A parsed and type-checked expression, ready to evaluate over frames of its input schema.</summary>
public sealed class Expression
{
    private readonly Bound _bound;

    private Expression(string text, Bound bound, IReadOnlyList<string> columns)
    {
        Text = text;
        _bound = bound;
        Columns = columns;
    }

    public string Text { get; }
    public DataKind Kind => _bound.Kind;
    /// <summary>The input columns the expression reads.</summary>
    public IReadOnlyList<string> Columns { get; }

    /// <summary>Parses and type-checks; throws <see cref="ExpressionException"/> with the position of the first error.</summary>
    public static Expression Compile(string text, FrameSchema schema)
    {
        var node = Parser.Parse(text);
        var binder = new Binder(schema);
        var bound = binder.Bind(node);
        if (bound is Constant { IsNull: true }) bound = new Constant(DataKind.Float64, null);
        return new Expression(text, bound, binder.Columns);
    }

    public Column Evaluate(Frame frame) => _bound.Evaluate(frame);
}
