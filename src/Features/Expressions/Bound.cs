using Cube.Features.Engine;

namespace Cube.Features.Expressions;

/// <summary>A type-checked expression: its result kind is known, and it evaluates a whole frame at once.</summary>
internal abstract class Bound(DataKind kind)
{
    public DataKind Kind { get; } = kind;

    public abstract Column Evaluate(Frame frame);
}

internal sealed class ColumnRef(string name, int index, DataKind kind) : Bound(kind)
{
    public string Name { get; } = name;

    public override Column Evaluate(Frame frame) => frame.Columns[index];
}

/// <summary>A constant, broadcast to the frame's length. A null literal takes the kind its context needs.</summary>
internal sealed class Constant(DataKind kind, object? value) : Bound(kind)
{
    public object? Value { get; } = value;
    public bool IsNull => Value is null;

    public override Column Evaluate(Frame frame)
    {
        var n = frame.RowCount;
        if (Value is null) return Column.Nulls(Kind, n);
        switch (Kind)
        {
            case DataKind.Int64 or DataKind.Timestamp:
            {
                var values = new long[n];
                Array.Fill(values, (long)Value);
                return Kind == DataKind.Int64 ? Column.OfInt64(values) : Column.OfTimestamp(values);
            }
            case DataKind.Float64:
            {
                var values = new double[n];
                Array.Fill(values, (double)Value);
                return Column.OfFloat64(values);
            }
            case DataKind.Boolean:
            {
                var values = new bool[n];
                Array.Fill(values, (bool)Value);
                return Column.OfBoolean(values);
            }
            case DataKind.String:
            {
                var values = new string?[n];
                Array.Fill(values, (string)Value);
                return Column.OfString(values);
            }
            default:
                throw new InvalidOperationException($"No constant of kind {Kind}.");
        }
    }
}

/// <summary>Int64 to Float64 promotion inside arithmetic and comparisons.</summary>
internal sealed class ToFloat(Bound operand) : Bound(DataKind.Float64)
{
    public override Column Evaluate(Frame frame) => Kernels.ToFloat(operand.Evaluate(frame));
}

internal sealed class Lambda(DataKind kind, Func<Frame, Column> evaluate) : Bound(kind)
{
    public override Column Evaluate(Frame frame) => evaluate(frame);
}
