using System.Globalization;
using Cube.Features.Engine;

namespace Cube.Features.Expressions;

/// <summary>
/// Conversions between kinds. A value that does not convert (text that is no number, NaN or an out-of-range double to
/// an integer) becomes null, as TRY_CAST does in SQL; doubles round half away from zero when made integers.
/// </summary>
public static class Casts
{
    public static bool CanCast(DataKind from, DataKind to) =>
        from == to || (from != DataKind.StringList && to != DataKind.StringList && !(from == DataKind.Timestamp && to is DataKind.Float64 or DataKind.Boolean)
            && !(to == DataKind.Timestamp && from is DataKind.Float64 or DataKind.Boolean));

    internal static Bound Bind(Bound operand, DataKind to)
    {
        if (operand.Kind == to) return operand;
        if (Binder.IsNullConstant(operand)) return new Constant(to, null);
        if (!CanCast(operand.Kind, to)) throw new ExpressionException($"{operand.Kind} cannot be converted to {to}.", 0);
        return new Lambda(to, f => Cast(operand.Evaluate(f), to));
    }

    public static Column Cast(Column c, DataKind to)
    {
        if (c.Kind == to) return c;
        var n = c.Length;
        var valid = c.Valid is null ? Kernels.Filled(n) : (bool[])c.Valid.Clone();
        switch (to)
        {
            case DataKind.Float64:
            {
                var r = new double[n];
                for (var i = 0; i < n; i++)
                {
                    if (!valid[i]) continue;
                    switch (c.Kind)
                    {
                        case DataKind.Int64: r[i] = c.Int64[i]; break;
                        case DataKind.Boolean: r[i] = c.Boolean[i] ? 1 : 0; break;
                        case DataKind.String: valid[i] = double.TryParse(c.String[i]!.Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out r[i]); break;
                    }
                }
                return Column.OfFloat64(r, valid);
            }
            case DataKind.Int64:
            {
                var r = new long[n];
                for (var i = 0; i < n; i++)
                {
                    if (!valid[i]) continue;
                    switch (c.Kind)
                    {
                        case DataKind.Float64: valid[i] = FromDouble(c.Float64[i], out r[i]); break;
                        case DataKind.Boolean: r[i] = c.Boolean[i] ? 1 : 0; break;
                        case DataKind.Timestamp: r[i] = c.Timestamp[i]; break;
                        case DataKind.String:
                        {
                            var text = c.String[i]!.Trim();
                            if (long.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out r[i])) break;
                            valid[i] = double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) && FromDouble(d, out r[i]);
                            break;
                        }
                    }
                }
                return Column.OfInt64(r, valid);
            }
            case DataKind.Boolean:
            {
                var r = new bool[n];
                for (var i = 0; i < n; i++)
                {
                    if (!valid[i]) continue;
                    switch (c.Kind)
                    {
                        case DataKind.Int64: r[i] = c.Int64[i] != 0; break;
                        case DataKind.Float64: r[i] = c.Float64[i] != 0; valid[i] = !double.IsNaN(c.Float64[i]); break;
                        case DataKind.String:
                            switch (c.String[i]!.Trim().ToLowerInvariant())
                            {
                                case "true" or "t" or "1" or "yes" or "y": r[i] = true; break;
                                case "false" or "f" or "0" or "no" or "n": r[i] = false; break;
                                default: valid[i] = false; break;
                            }
                            break;
                    }
                }
                return Column.OfBoolean(r, valid);
            }
            case DataKind.Timestamp:
            {
                var r = new long[n];
                for (var i = 0; i < n; i++)
                {
                    if (!valid[i]) continue;
                    if (c.Kind == DataKind.Int64) r[i] = c.Int64[i];
                    else if (Binder.ParseTimestamp(c.String[i]!) is { } t) r[i] = t;
                    else valid[i] = false;
                }
                return Column.OfTimestamp(r, valid);
            }
            case DataKind.String:
            {
                var r = new string?[n];
                for (var i = 0; i < n; i++)
                {
                    if (!valid[i]) continue;
                    r[i] = c.Kind switch
                    {
                        DataKind.Int64 => c.Int64[i].ToString(CultureInfo.InvariantCulture),
                        DataKind.Float64 => c.Float64[i].ToString("R", CultureInfo.InvariantCulture),
                        DataKind.Boolean => c.Boolean[i] ? "true" : "false",
                        DataKind.Timestamp => FormatTimestamp(c.Timestamp[i]),
                        _ => null,
                    };
                }
                return Column.OfString(r);
            }
            default:
                throw new InvalidOperationException($"{c.Kind} cannot be converted to {to}.");
        }
    }

    public static string FormatTimestamp(long micros) =>
        DateTime.UnixEpoch.AddTicks(micros * 10).ToString("yyyy-MM-dd'T'HH:mm:ss.FFFFFFF'Z'", CultureInfo.InvariantCulture);

    private static bool FromDouble(double d, out long value)
    {
        value = 0;
        if (!double.IsFinite(d)) return false;
        var rounded = Math.Round(d, MidpointRounding.AwayFromZero);
        if (rounded < -9.2233720368547758E18 || rounded >= 9.2233720368547758E18) return false;
        value = (long)rounded;
        return true;
    }

    public static DataKind ParseKind(string name) => name.Trim().ToLowerInvariant() switch
    {
        "int" or "int64" or "bigint" or "integer" or "long" => DataKind.Int64,
        "float" or "float64" or "double" or "number" or "real" => DataKind.Float64,
        "bool" or "boolean" => DataKind.Boolean,
        "string" or "text" or "varchar" or "utf8" => DataKind.String,
        "timestamp" or "datetime" or "date" => DataKind.Timestamp,
        _ => throw new FormatException($"Unknown type '{name}' (use int64, float64, boolean, string or timestamp)."),
    };
}
