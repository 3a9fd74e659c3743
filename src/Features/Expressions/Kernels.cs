using System.Numerics;
using Cube.Features.Engine;

namespace Cube.Features.Expressions;

/// <summary>
/// Vectorised loops over column arrays. Null semantics follow SQL: an operation on null gives null, AND/OR use
/// three-valued logic. Division and modulo by zero give null; NaN compares greater than every number and equal to itself.
/// </summary>
internal static class Kernels
{
    public static bool[]? AndValid(bool[]? a, bool[]? b)
    {
        if (a is null) return b is null ? null : (bool[])b.Clone();
        if (b is null) return (bool[])a.Clone();
        var result = new bool[a.Length];
        var va = new Span<bool>(a);
        for (var i = 0; i < result.Length; i++) result[i] = va[i] & b[i];
        return result;
    }

    public static Column ToFloat(Column column)
    {
        if (column.Kind == DataKind.Float64) return column;
        var src = column.Int64;
        var values = new double[src.Length];
        for (var i = 0; i < values.Length; i++) values[i] = src[i];
        return Column.OfFloat64(values, column.Valid);
    }

    public static Column Arithmetic(string op, Column a, Column b)
    {
        var n = a.Length;
        var valid = AndValid(a.Valid, b.Valid);
        if (a.Kind == DataKind.Int64 && op != "/")
        {
            var x = a.Int64;
            var y = b.Int64;
            var r = new long[n];
            switch (op)
            {
                case "+": Vectorised(x, y, r, static (p, q) => p + q, static (p, q) => p + q); break;
                case "-": Vectorised(x, y, r, static (p, q) => p - q, static (p, q) => p - q); break;
                case "*": Vectorised(x, y, r, static (p, q) => p * q, static (p, q) => p * q); break;
                case "%":
                    valid ??= Filled(n);
                    for (var i = 0; i < n; i++)
                    {
                        if (y[i] == 0) valid[i] = false;
                        else if (y[i] != -1) r[i] = x[i] % y[i];
                    }
                    break;
                default: throw new InvalidOperationException(op);
            }
            return Column.OfInt64(r, valid);
        }
        {
            var x = ToFloat(a).Float64;
            var y = ToFloat(b).Float64;
            var r = new double[n];
            switch (op)
            {
                case "+": Vectorised(x, y, r, static (p, q) => p + q, static (p, q) => p + q); break;
                case "-": Vectorised(x, y, r, static (p, q) => p - q, static (p, q) => p - q); break;
                case "*": Vectorised(x, y, r, static (p, q) => p * q, static (p, q) => p * q); break;
                case "/" or "%":
                    valid ??= Filled(n);
                    for (var i = 0; i < n; i++)
                    {
                        if (y[i] == 0) valid[i] = false;
                        else r[i] = op == "/" ? x[i] / y[i] : x[i] % y[i];
                    }
                    break;
                default: throw new InvalidOperationException(op);
            }
            return Column.OfFloat64(r, valid);
        }
    }

    /// <summary>Element-wise op with <see cref="Vector{T}"/> over the bulk and a scalar tail.</summary>
    private static void Vectorised<T>(T[] x, T[] y, T[] r, Func<Vector<T>, Vector<T>, Vector<T>> vector, Func<T, T, T> scalar) where T : struct
    {
        var i = 0;
        if (Vector.IsHardwareAccelerated)
        {
            var width = Vector<T>.Count;
            for (; i <= x.Length - width; i += width)
                vector(new Vector<T>(x, i), new Vector<T>(y, i)).CopyTo(r, i);
        }
        for (; i < x.Length; i++) r[i] = scalar(x[i], y[i]);
    }

    public static Column Negate(Column a)
    {
        if (a.Kind == DataKind.Int64)
        {
            var x = a.Int64;
            var r = new long[x.Length];
            for (var i = 0; i < r.Length; i++) r[i] = -x[i];
            return Column.OfInt64(r, a.Valid);
        }
        var d = a.Float64;
        var f = new double[d.Length];
        for (var i = 0; i < f.Length; i++) f[i] = -d[i];
        return Column.OfFloat64(f, a.Valid);
    }

    /// <summary>Comparison of two columns of the same kind (numbers promoted beforehand).</summary>
    public static Column Compare(string op, Column a, Column b)
    {
        var n = a.Length;
        var r = new bool[n];
        var valid = AndValid(a.Valid, b.Valid);
        switch (a.Kind)
        {
            case DataKind.Int64 or DataKind.Timestamp:
            {
                var x = a.Int64;
                var y = b.Int64;
                switch (op)
                {
                    case "=": for (var i = 0; i < n; i++) r[i] = x[i] == y[i]; break;
                    case "!=": for (var i = 0; i < n; i++) r[i] = x[i] != y[i]; break;
                    case "<": for (var i = 0; i < n; i++) r[i] = x[i] < y[i]; break;
                    case "<=": for (var i = 0; i < n; i++) r[i] = x[i] <= y[i]; break;
                    case ">": for (var i = 0; i < n; i++) r[i] = x[i] > y[i]; break;
                    case ">=": for (var i = 0; i < n; i++) r[i] = x[i] >= y[i]; break;
                }
                break;
            }
            case DataKind.Float64:
            {
                var x = a.Float64;
                var y = b.Float64;
                switch (op)
                {
                    case "=": for (var i = 0; i < n; i++) r[i] = CompareDouble(x[i], y[i]) == 0; break;
                    case "!=": for (var i = 0; i < n; i++) r[i] = CompareDouble(x[i], y[i]) != 0; break;
                    case "<": for (var i = 0; i < n; i++) r[i] = CompareDouble(x[i], y[i]) < 0; break;
                    case "<=": for (var i = 0; i < n; i++) r[i] = CompareDouble(x[i], y[i]) <= 0; break;
                    case ">": for (var i = 0; i < n; i++) r[i] = CompareDouble(x[i], y[i]) > 0; break;
                    case ">=": for (var i = 0; i < n; i++) r[i] = CompareDouble(x[i], y[i]) >= 0; break;
                }
                break;
            }
            case DataKind.Boolean:
            {
                var x = a.Boolean;
                var y = b.Boolean;
                for (var i = 0; i < n; i++) r[i] = Test(op, x[i].CompareTo(y[i]));
                break;
            }
            case DataKind.String:
            {
                var x = a.String;
                var y = b.String;
                for (var i = 0; i < n; i++)
                    if (x[i] is { } p && y[i] is { } q) r[i] = Test(op, string.CompareOrdinal(p, q));
                break;
            }
            default:
                throw new InvalidOperationException($"Cannot compare {a.Kind}.");
        }
        return Column.OfBoolean(r, valid);
    }

    /// <summary>Total order on doubles as SQL engines define it: NaN is the largest value and equals itself.</summary>
    public static int CompareDouble(double x, double y)
    {
        if (x < y) return -1;
        if (x > y) return 1;
        if (x == y) return 0;
        var xn = double.IsNaN(x);
        var yn = double.IsNaN(y);
        return xn && yn ? 0 : xn ? 1 : -1;
    }

    private static bool Test(string op, int c) => op switch
    {
        "=" => c == 0,
        "!=" => c != 0,
        "<" => c < 0,
        "<=" => c <= 0,
        ">" => c > 0,
        _ => c >= 0,
    };

    public static Column And(Column a, Column b) => Logic(a, b, isAnd: true);

    public static Column Or(Column a, Column b) => Logic(a, b, isAnd: false);

    private static Column Logic(Column a, Column b, bool isAnd)
    {
        var n = a.Length;
        var x = a.Boolean;
        var y = b.Boolean;
        var r = new bool[n];
        if (a.Valid is null && b.Valid is null)
        {
            if (isAnd) for (var i = 0; i < n; i++) r[i] = x[i] & y[i];
            else for (var i = 0; i < n; i++) r[i] = x[i] | y[i];
            return Column.OfBoolean(r);
        }
        var valid = new bool[n];
        for (var i = 0; i < n; i++)
        {
            bool av = a.IsValid(i), bv = b.IsValid(i);
            // Three-valued logic: false AND null = false, true OR null = true, otherwise null wins.
            if (isAnd)
            {
                if ((av && !x[i]) || (bv && !y[i])) { r[i] = false; valid[i] = true; }
                else if (av && bv) { r[i] = true; valid[i] = true; }
            }
            else
            {
                if ((av && x[i]) || (bv && y[i])) { r[i] = true; valid[i] = true; }
                else if (av && bv) { r[i] = false; valid[i] = true; }
            }
        }
        return Column.OfBoolean(r, valid);
    }

    public static Column Not(Column a)
    {
        var x = a.Boolean;
        var r = new bool[x.Length];
        for (var i = 0; i < r.Length; i++) r[i] = !x[i];
        return Column.OfBoolean(r, a.Valid);
    }

    public static Column IsNull(Column a, bool negated)
    {
        var r = new bool[a.Length];
        for (var i = 0; i < r.Length; i++) r[i] = a.IsValid(i) == negated;
        return Column.OfBoolean(r);
    }

    public static bool[] Filled(int n)
    {
        var valid = new bool[n];
        Array.Fill(valid, true);
        return valid;
    }

    /// <summary>Applies a double function; results that are not finite where the input was are nulls (domain errors).</summary>
    public static Column MapFloat(Column a, Func<double, double> f, Func<double, bool>? domain = null)
    {
        var x = ToFloat(a).Float64;
        var r = new double[x.Length];
        var valid = a.Valid is null ? null : (bool[])a.Valid.Clone();
        for (var i = 0; i < r.Length; i++)
        {
            if (domain is not null && !double.IsNaN(x[i]) && !domain(x[i]))
            {
                valid ??= Filled(r.Length);
                valid[i] = false;
                continue;
            }
            r[i] = f(x[i]);
        }
        return Column.OfFloat64(r, valid);
    }

    public static Column MapString<T>(Column a, DataKind kind, Func<string, T> f)
    {
        var x = a.String;
        var r = (T[])Column.NewValues(kind, x.Length);
        for (var i = 0; i < r.Length; i++) if (x[i] is { } s) r[i] = f(s);
        return Column.Of(kind, r, a.Valid);
    }

    public static Column MapTimestamp(Column a, Func<DateTime, long> f)
    {
        var x = a.Timestamp;
        var r = new long[x.Length];
        for (var i = 0; i < r.Length; i++)
            if (a.IsValid(i)) r[i] = f(DateTime.UnixEpoch.AddTicks(x[i] * 10));
        return Column.OfInt64(r, a.Valid);
    }
}
