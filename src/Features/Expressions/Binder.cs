using System.Globalization;
using System.Text.RegularExpressions;
using Cube.Features.Engine;

namespace Cube.Features.Expressions;

/// <summary>Resolves column names against the input schema, checks operand kinds and builds the evaluation tree.</summary>
internal sealed class Binder(FrameSchema schema)
{
    private readonly List<string> _columns = [];

    public IReadOnlyList<string> Columns => _columns;

    public Bound Bind(Node node) => node switch
    {
        LiteralNode l => l.Value switch
        {
            null => new Constant(DataKind.Float64, null),
            long v => new Constant(DataKind.Int64, v),
            double v => new Constant(DataKind.Float64, v),
            bool v => new Constant(DataKind.Boolean, v),
            string v => new Constant(DataKind.String, v),
            _ => throw new ExpressionException("Unsupported literal.", l.Position),
        },
        ColumnNode c => BindColumn(c),
        UnaryNode u => BindUnary(u),
        BinaryNode b => BindBinary(b),
        IsNullNode n => BindIsNull(n),
        InNode i => BindIn(i),
        CallNode c => Functions.Bind(this, c),
        CaseNode c => BindCase(c),
        _ => throw new ExpressionException("Unsupported expression.", node.Position),
    };

    private Bound BindColumn(ColumnNode c)
    {
        var index = schema.IndexOf(c.Name);
        if (index < 0) throw new ExpressionException(Suggest.UnknownColumn(c.Name, schema), c.Position);
        if (!_columns.Contains(c.Name)) _columns.Add(c.Name);
        return new ColumnRef(c.Name, index, schema.Fields[index].Kind);
    }

    private Bound BindUnary(UnaryNode u)
    {
        var operand = Bind(u.Operand);
        if (u.Op == "not")
        {
            operand = Coerce(operand, DataKind.Boolean, u.Position, "NOT");
            return new Lambda(DataKind.Boolean, f => Kernels.Not(operand.Evaluate(f)));
        }
        if (IsNullConstant(operand)) return operand;
        RequireNumeric(operand, u.Position, "-");
        return new Lambda(operand.Kind, f => Kernels.Negate(operand.Evaluate(f)));
    }

    private Bound BindBinary(BinaryNode b)
    {
        var left = Bind(b.Left);
        var right = Bind(b.Right);
        switch (b.Op)
        {
            case "and" or "or":
            {
                left = Coerce(left, DataKind.Boolean, b.Left.Position, b.Op.ToUpperInvariant());
                right = Coerce(right, DataKind.Boolean, b.Right.Position, b.Op.ToUpperInvariant());
                return b.Op == "and"
                    ? new Lambda(DataKind.Boolean, f => Kernels.And(left.Evaluate(f), right.Evaluate(f)))
                    : new Lambda(DataKind.Boolean, f => Kernels.Or(left.Evaluate(f), right.Evaluate(f)));
            }
            case "+" or "-" or "*" or "/" or "%":
            {
                if (b.Op == "+" && (left.Kind == DataKind.String || right.Kind == DataKind.String) && !IsNullConstant(left) && !IsNullConstant(right))
                    throw new ExpressionException("'+' does not join text; use concat(a, b).", b.Position);
                if (b.Op is "+" or "-" && left.Kind == DataKind.Timestamp) return DateArithmetic(b.Op, left, right, b.Position);
                var kind = CommonNumeric(left, right, b.Position, b.Op);
                if (b.Op == "/") kind = DataKind.Float64;
                var l = Coerce(left, kind, b.Left.Position, b.Op);
                var r = Coerce(right, kind, b.Right.Position, b.Op);
                return new Lambda(kind, f => Kernels.Arithmetic(b.Op, l.Evaluate(f), r.Evaluate(f)));
            }
            default:
            {
                var kind = CommonKind(left, right, b.Position, b.Op);
                var l = Coerce(left, kind, b.Left.Position, b.Op);
                var r = Coerce(right, kind, b.Right.Position, b.Op);
                if (kind is DataKind.StringList or DataKind.SparseVector) throw new ExpressionException($"'{b.Op}' cannot compare {(kind == DataKind.StringList ? "token lists" : "sparse vectors")}.", b.Position);
                return new Lambda(DataKind.Boolean, f => Kernels.Compare(b.Op, l.Evaluate(f), r.Evaluate(f)));
            }
        }
    }

    /// <summary>timestamp ± microseconds (an integer, e.g. <c>days(3)</c>), and timestamp − timestamp in microseconds.</summary>
    private static Bound DateArithmetic(string op, Bound left, Bound right, int position)
    {
        if (op == "-" && right.Kind == DataKind.Timestamp)
            return new Lambda(DataKind.Int64, f => Kernels.Arithmetic("-", Retag(left.Evaluate(f)), Retag(right.Evaluate(f))));
        if (right.Kind != DataKind.Int64 && !IsNullConstant(right))
            throw new ExpressionException($"A timestamp {op} needs an interval in microseconds (e.g. days(3), hours(2)), not {right.Kind}.", position);
        var r = IsNullConstant(right) ? new Constant(DataKind.Int64, null) : right;
        return new Lambda(DataKind.Timestamp, f =>
        {
            var sum = Kernels.Arithmetic(op, Retag(left.Evaluate(f)), r.Evaluate(f));
            return Column.OfTimestamp(sum.Int64, sum.Valid);
        });

        static Column Retag(Column c) => c.Kind == DataKind.Timestamp ? Column.OfInt64(c.Timestamp, c.Valid) : c;
    }

    private Bound BindIsNull(IsNullNode n)
    {
        var operand = Bind(n.Operand);
        return new Lambda(DataKind.Boolean, f => Kernels.IsNull(operand.Evaluate(f), n.Negated));
    }

    private Bound BindIn(InNode node)
    {
        // x IN (a, b) is x = a OR x = b, with the same null semantics as SQL.
        Node combined = new BinaryNode("=", node.Operand, node.Items[0], node.Position);
        foreach (var item in node.Items.Skip(1))
            combined = new BinaryNode("or", combined, new BinaryNode("=", node.Operand, item, node.Position), node.Position);
        var bound = Bind(combined);
        return node.Negated ? new Lambda(DataKind.Boolean, f => Kernels.Not(bound.Evaluate(f))) : bound;
    }

    private Bound BindCase(CaseNode c)
    {
        var conditions = c.Branches.Select(b => Coerce(Bind(b.When), DataKind.Boolean, b.When.Position, "WHEN")).ToList();
        var values = c.Branches.Select(b => Bind(b.Then)).ToList();
        var otherwise = c.Else is null ? new Constant(DataKind.Float64, null) : Bind(c.Else);
        var all = values.Append(otherwise).ToList();
        var kind = all.Aggregate((DataKind?)null, (k, v) => IsNullConstant(v) ? k : k is null ? v.Kind : CommonKind(k.Value, v.Kind, c.Position, "CASE")) ?? DataKind.Float64;
        values = values.Select((v, i) => Coerce(v, kind, c.Branches[i].Then.Position, "THEN")).ToList();
        otherwise = Coerce(otherwise, kind, c.Else?.Position ?? c.Position, "ELSE");
        return new Lambda(kind, f =>
        {
            var n = f.RowCount;
            var result = Column.NewValues(kind, n);
            var valid = new bool[n];
            var decided = new bool[n];
            for (var b = 0; b <= conditions.Count; b++)
            {
                var value = b < conditions.Count ? values[b].Evaluate(f) : otherwise.Evaluate(f);
                var condition = b < conditions.Count ? conditions[b].Evaluate(f) : null;
                for (var i = 0; i < n; i++)
                {
                    if (decided[i]) continue;
                    if (condition is not null && !(condition.IsValid(i) && condition.Boolean[i])) continue;
                    decided[i] = true;
                    valid[i] = value.IsValid(i);
                    Array.Copy(value.Values, i, result, i, 1);
                }
            }
            return Column.Of(kind, result, valid);
        });
    }

    internal static bool IsNullConstant(Bound b) => b is Constant { IsNull: true };

    internal static bool IsNumeric(DataKind kind) => kind is DataKind.Int64 or DataKind.Float64;

    internal static void RequireNumeric(Bound b, int position, string what)
    {
        if (!IsNumeric(b.Kind) && !IsNullConstant(b)) throw new ExpressionException($"'{what}' needs a number, not {b.Kind}.", position);
    }

    internal static DataKind CommonNumeric(Bound a, Bound b, int position, string what)
    {
        RequireNumeric(a, position, what);
        RequireNumeric(b, position, what);
        if (IsNullConstant(a)) return b.Kind;
        if (IsNullConstant(b)) return a.Kind;
        return a.Kind == DataKind.Int64 && b.Kind == DataKind.Int64 ? DataKind.Int64 : DataKind.Float64;
    }

    internal static DataKind CommonKind(Bound a, Bound b, int position, string what)
    {
        if (IsNullConstant(a)) return b.Kind;
        if (IsNullConstant(b)) return a.Kind;
        if (a.Kind == DataKind.Timestamp && b is Constant { Kind: DataKind.String }) return DataKind.Timestamp;
        if (b.Kind == DataKind.Timestamp && a is Constant { Kind: DataKind.String }) return DataKind.Timestamp;
        return CommonKind(a.Kind, b.Kind, position, what);
    }

    internal static DataKind CommonKind(DataKind a, DataKind b, int position, string what)
    {
        if (a == b) return a;
        if (IsNumeric(a) && IsNumeric(b)) return DataKind.Float64;
        throw new ExpressionException($"'{what}' cannot combine {a} and {b}.", position);
    }

    /// <summary>Converts to <paramref name="kind"/> where the language allows it implicitly, or fails with the position.</summary>
    internal static Bound Coerce(Bound b, DataKind kind, int position, string what)
    {
        if (b.Kind == kind && b is not Constant { IsNull: true }) return b;
        if (IsNullConstant(b)) return new Constant(kind, null);
        if (b.Kind == DataKind.Int64 && kind == DataKind.Float64) return b is Constant c ? new Constant(kind, (double)(long)c.Value!) : new ToFloat(b);
        if (b is Constant { Kind: DataKind.String, Value: string text } && kind == DataKind.Timestamp)
            return new Constant(DataKind.Timestamp, ParseTimestamp(text) ?? throw new ExpressionException($"'{text}' is not a timestamp (use ISO 8601, e.g. 2024-01-31 or 2024-01-31T12:00:00Z).", position));
        throw new ExpressionException($"'{what}' needs {kind}, not {b.Kind}.", position);
    }

    /// <summary>ISO 8601 text to microseconds since the epoch; text without an offset is UTC.</summary>
    internal static long? ParseTimestamp(string text) =>
        DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var value)
            ? (value.UtcTicks - DateTime.UnixEpoch.Ticks) / 10
            : null;

    internal static Regex CompileRegex(Bound pattern, int position)
    {
        if (pattern is not Constant { Kind: DataKind.String, Value: string text })
            throw new ExpressionException("The pattern must be a text literal.", position);
        try
        {
            return new Regex(text, RegexOptions.CultureInvariant, TimeSpan.FromSeconds(1));
        }
        catch (ArgumentException e)
        {
            throw new ExpressionException($"Invalid regular expression: {e.Message}", position);
        }
    }
}
