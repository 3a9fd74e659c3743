using System.Globalization;
using Cube.Features.Engine;

namespace Cube.Features.Expressions;

/// <summary>
/// The function library. Math domain errors (sqrt of a negative, log of a non-positive) give null, like division by zero;
/// NaN inputs stay NaN. Date parts read timestamps as UTC.
/// </summary>
internal static class Functions
{
    public static readonly IReadOnlyList<string> Names =
    [
        "abs", "sqrt", "ln", "log", "log10", "log2", "log1p", "exp", "floor", "ceil", "round", "pow", "power", "sign",
        "least", "greatest", "clip", "is_nan", "is_finite", "coalesce", "if", "nullif",
        "lower", "upper", "trim", "length", "contains", "starts_with", "ends_with", "regexp_matches", "concat", "replace", "substring",
        "year", "month", "day", "hour", "minute", "second", "dayofweek", "dayofyear", "epoch", "timestamp",
        "days", "hours", "minutes", "seconds", "to_double", "to_int", "to_string",
    ];

    public static Bound Bind(Binder binder, CallNode call)
    {
        var args = call.Arguments.Select(binder.Bind).ToList();
        var p = call.Position;
        switch (call.Name)
        {
            case "abs":
                Arity(call, 1);
                Binder.RequireNumeric(args[0], p, call.Name);
                if (args[0].Kind == DataKind.Int64)
                    return new Lambda(DataKind.Int64, f =>
                    {
                        var c = args[0].Evaluate(f);
                        var x = c.Int64;
                        var r = new long[x.Length];
                        for (var i = 0; i < r.Length; i++) r[i] = Math.Abs(x[i] == long.MinValue ? 0 : x[i]);
                        return Column.OfInt64(r, c.Valid);
                    });
                return Float(args[0], Math.Abs);
            case "sqrt": return Math1(call, args, Math.Sqrt, x => x >= 0);
            case "ln": return Math1(call, args, Math.Log, x => x > 0);
            case "log" or "log10": return Math1(call, args, Math.Log10, x => x > 0);
            case "log2": return Math1(call, args, Math.Log2, x => x > 0);
            case "log1p": return Math1(call, args, x => Math.Log(1 + x), x => x > -1);
            case "exp": return Math1(call, args, Math.Exp);
            case "floor": return Math1(call, args, Math.Floor);
            case "ceil": return Math1(call, args, Math.Ceiling);
            case "sign": return Math1(call, args, x => double.IsNaN(x) ? x : Math.Sign(x));
            case "round":
            {
                Arity(call, 1, 2);
                var digits = 0;
                if (args.Count == 2)
                {
                    if (args[1] is not Constant { Kind: DataKind.Int64, Value: long d }) throw new ExpressionException("round() takes a whole-number literal as digits.", p);
                    digits = (int)Math.Clamp(d, -15, 15);
                }
                var scale = Math.Pow(10, digits);
                // Half away from zero, as SQL engines round.
                return Math1(call, [args[0]], x => digits >= 0 ? Math.Round(x * scale, MidpointRounding.AwayFromZero) / scale : Math.Round(x / (1 / scale), MidpointRounding.AwayFromZero) * (1 / scale));
            }
            case "pow" or "power":
            {
                Arity(call, 2);
                Binder.RequireNumeric(args[0], p, call.Name);
                Binder.RequireNumeric(args[1], p, call.Name);
                var a = Binder.Coerce(args[0], DataKind.Float64, p, call.Name);
                var b = Binder.Coerce(args[1], DataKind.Float64, p, call.Name);
                return new Lambda(DataKind.Float64, f =>
                {
                    var x = a.Evaluate(f);
                    var y = b.Evaluate(f);
                    var r = new double[f.RowCount];
                    for (var i = 0; i < r.Length; i++) r[i] = Math.Pow(x.Float64[i], y.Float64[i]);
                    return Column.OfFloat64(r, Kernels.AndValid(x.Valid, y.Valid));
                });
            }
            case "least" or "greatest":
            {
                if (args.Count < 2) throw new ExpressionException($"{call.Name}() takes at least 2 arguments.", p);
                var kind = args.Select(a => a.Kind).Aggregate((a, b) => Binder.CommonKind(a, b, p, call.Name));
                if (kind is DataKind.StringList) throw new ExpressionException($"{call.Name}() cannot take token lists.", p);
                var coerced = args.Select(a => Binder.Coerce(a, kind, p, call.Name)).ToList();
                var wantGreater = call.Name == "greatest";
                return new Lambda(kind, f => Extreme(coerced.Select(a => a.Evaluate(f)).ToList(), kind, wantGreater));
            }
            case "clip":
            {
                Arity(call, 3);
                foreach (var a in args) Binder.RequireNumeric(a, p, call.Name);
                var kind = args.Any(a => a.Kind == DataKind.Float64) ? DataKind.Float64 : DataKind.Int64;
                var coerced = args.Select(a => Binder.Coerce(a, kind, p, call.Name)).ToList();
                // clip(x, lo, hi) = least(greatest(x, lo), hi); a null bound leaves that side open.
                return new Lambda(kind, f =>
                {
                    var x = coerced[0].Evaluate(f);
                    var lo = coerced[1].Evaluate(f);
                    var hi = coerced[2].Evaluate(f);
                    var low = lo.Valid is null ? Extreme([x, lo], kind, true) : Choose(x, Extreme([x, lo], kind, true), lo);
                    return hi.Valid is null ? Extreme([low, hi], kind, false) : Choose(low, Extreme([low, hi], kind, false), hi);
                });
            }
            case "is_nan" or "is_finite":
            {
                Arity(call, 1);
                Binder.RequireNumeric(args[0], p, call.Name);
                var a = Binder.Coerce(args[0], DataKind.Float64, p, call.Name);
                var nan = call.Name == "is_nan";
                return new Lambda(DataKind.Boolean, f =>
                {
                    var c = a.Evaluate(f);
                    var r = new bool[c.Length];
                    for (var i = 0; i < r.Length; i++) r[i] = nan ? double.IsNaN(c.Float64[i]) : double.IsFinite(c.Float64[i]);
                    return Column.OfBoolean(r, c.Valid);
                });
            }
            case "coalesce":
            {
                if (args.Count < 1) throw new ExpressionException("coalesce() takes at least 1 argument.", p);
                var kind = args.Where(a => !Binder.IsNullConstant(a)).Select(a => a.Kind).DefaultIfEmpty(DataKind.Float64).Aggregate((a, b) => Binder.CommonKind(a, b, p, call.Name));
                var coerced = args.Select(a => Binder.Coerce(a, kind, p, call.Name)).ToList();
                return new Lambda(kind, f =>
                {
                    var n = f.RowCount;
                    var result = Column.NewValues(kind, n);
                    var valid = new bool[n];
                    foreach (var arg in coerced)
                    {
                        var c = arg.Evaluate(f);
                        for (var i = 0; i < n; i++)
                        {
                            if (valid[i] || !c.IsValid(i)) continue;
                            Array.Copy(c.Values, i, result, i, 1);
                            valid[i] = true;
                        }
                    }
                    return Column.Of(kind, result, valid);
                });
            }
            case "if":
            {
                Arity(call, 3);
                return binder.Bind(new CaseNode([(call.Arguments[0], call.Arguments[1])], call.Arguments[2], p));
            }
            case "nullif":
            {
                Arity(call, 2);
                return binder.Bind(new CaseNode([(new BinaryNode("=", call.Arguments[0], call.Arguments[1], p), new LiteralNode(null, p))], call.Arguments[0], p));
            }
            case "lower": return Text(call, args, DataKind.String, s => s.ToLowerInvariant());
            case "upper": return Text(call, args, DataKind.String, s => s.ToUpperInvariant());
            case "trim": return Text(call, args, DataKind.String, s => s.Trim());
            case "length": return Text(call, args, DataKind.Int64, s => (long)new StringInfo(s).LengthInTextElements);
            case "contains": return TextPredicate(call, args, (s, t) => s.Contains(t, StringComparison.Ordinal));
            case "starts_with": return TextPredicate(call, args, (s, t) => s.StartsWith(t, StringComparison.Ordinal));
            case "ends_with": return TextPredicate(call, args, (s, t) => s.EndsWith(t, StringComparison.Ordinal));
            case "regexp_matches":
            {
                Arity(call, 2);
                RequireString(args[0], p, call.Name);
                var regex = Binder.CompileRegex(args[1], call.Arguments[1].Position);
                var a = args[0];
                return new Lambda(DataKind.Boolean, f => Kernels.MapString(a.Evaluate(f), DataKind.Boolean, regex.IsMatch));
            }
            case "replace":
            {
                Arity(call, 3);
                foreach (var a in args) RequireString(a, p, call.Name);
                return new Lambda(DataKind.String, f =>
                {
                    var s = args[0].Evaluate(f);
                    var from = args[1].Evaluate(f);
                    var to = args[2].Evaluate(f);
                    var r = new string?[f.RowCount];
                    for (var i = 0; i < r.Length; i++)
                        if (s.String[i] is { } x && from.String[i] is { } y && to.String[i] is { } z) r[i] = y.Length == 0 ? x : x.Replace(y, z, StringComparison.Ordinal);
                    return Column.OfString(r);
                });
            }
            case "substring":
            {
                Arity(call, 2, 3);
                RequireString(args[0], p, call.Name);
                var start = Binder.Coerce(args[1], DataKind.Int64, p, call.Name);
                var length = args.Count == 3 ? Binder.Coerce(args[2], DataKind.Int64, p, call.Name) : null;
                return new Lambda(DataKind.String, f =>
                {
                    var s = args[0].Evaluate(f);
                    var st = start.Evaluate(f);
                    var ln = length?.Evaluate(f);
                    var r = new string?[f.RowCount];
                    for (var i = 0; i < r.Length; i++)
                    {
                        if (s.String[i] is not { } x || !st.IsValid(i) || (ln is not null && !ln.IsValid(i))) continue;
                        // 1-based start, as in SQL; out-of-range parts are cut, never an error.
                        var from = (int)Math.Clamp(st.Int64[i] - 1, 0, x.Length);
                        var count = ln is null ? x.Length - from : (int)Math.Clamp(ln.Int64[i], 0, x.Length - from);
                        r[i] = x.Substring(from, count);
                    }
                    return Column.OfString(r);
                });
            }
            case "concat":
            {
                if (args.Count < 1) throw new ExpressionException("concat() takes at least 1 argument.", p);
                var parts = args.Select(a => a.Kind == DataKind.String ? a : ToText(a)).ToList();
                // Like SQL concat, null parts are skipped.
                return new Lambda(DataKind.String, f =>
                {
                    var columns = parts.Select(a => a.Evaluate(f)).ToList();
                    var r = new string?[f.RowCount];
                    for (var i = 0; i < r.Length; i++) r[i] = string.Concat(columns.Select(c => c.String[i]));
                    return Column.OfString(r);
                });
            }
            case "year": return DatePart(call, args, d => d.Year);
            case "month": return DatePart(call, args, d => d.Month);
            case "day": return DatePart(call, args, d => d.Day);
            case "hour": return DatePart(call, args, d => d.Hour);
            case "minute": return DatePart(call, args, d => d.Minute);
            case "second": return DatePart(call, args, d => d.Second);
            case "dayofweek": return DatePart(call, args, d => (long)d.DayOfWeek);
            case "dayofyear": return DatePart(call, args, d => d.DayOfYear);
            case "epoch":
            {
                Arity(call, 1);
                RequireTimestamp(args[0], p, call.Name);
                var a = args[0];
                return new Lambda(DataKind.Float64, f =>
                {
                    var c = a.Evaluate(f);
                    var r = new double[c.Length];
                    for (var i = 0; i < r.Length; i++) r[i] = c.Timestamp[i] / 1e6;
                    return Column.OfFloat64(r, c.Valid);
                });
            }
            case "timestamp":
            {
                Arity(call, 1);
                if (args[0].Kind == DataKind.Timestamp) return args[0];
                RequireString(args[0], p, call.Name);
                var a = args[0];
                return new Lambda(DataKind.Timestamp, f =>
                {
                    var c = a.Evaluate(f);
                    var r = new long[c.Length];
                    var valid = new bool[c.Length];
                    for (var i = 0; i < r.Length; i++)
                        if (c.String[i] is { } s && Binder.ParseTimestamp(s) is { } t) { r[i] = t; valid[i] = true; }
                    return Column.OfTimestamp(r, valid);
                });
            }
            case "days": return Interval(call, args, 86_400_000_000L);
            case "hours": return Interval(call, args, 3_600_000_000L);
            case "minutes": return Interval(call, args, 60_000_000L);
            case "seconds": return Interval(call, args, 1_000_000L);
            case "to_double":
                Arity(call, 1);
                return Casts.Bind(args[0], DataKind.Float64);
            case "to_int":
                Arity(call, 1);
                return Casts.Bind(args[0], DataKind.Int64);
            case "to_string":
                Arity(call, 1);
                return ToText(args[0]);
            default:
            {
                var match = Suggest.Closest(call.Name, Names);
                throw new ExpressionException(match is null ? $"Unknown function '{call.Name}'." : $"Unknown function '{call.Name}' (did you mean '{match}'?).", p);
            }
        }
    }

    private static Bound ToText(Bound a) => Casts.Bind(a, DataKind.String);

    private static void Arity(CallNode call, int min, int? max = null)
    {
        var count = call.Arguments.Count;
        var upper = max ?? min;
        if (count < min || count > upper)
            throw new ExpressionException(min == upper ? $"{call.Name}() takes {min} argument{(min == 1 ? "" : "s")}, not {count}." : $"{call.Name}() takes {min} to {upper} arguments, not {count}.", call.Position);
    }

    private static void RequireString(Bound b, int position, string what)
    {
        if (b.Kind != DataKind.String && !Binder.IsNullConstant(b)) throw new ExpressionException($"{what}() needs text, not {b.Kind}.", position);
    }

    private static void RequireTimestamp(Bound b, int position, string what)
    {
        if (b.Kind != DataKind.Timestamp && !Binder.IsNullConstant(b)) throw new ExpressionException($"{what}() needs a timestamp, not {b.Kind}.", position);
    }

    private static Lambda Float(Bound a, Func<double, double> f) => new(DataKind.Float64, frame => Kernels.MapFloat(a.Evaluate(frame), f));

    private static Bound Math1(CallNode call, List<Bound> args, Func<double, double> f, Func<double, bool>? domain = null)
    {
        if (args.Count != 1) Arity(call, 1);
        Binder.RequireNumeric(args[0], call.Position, call.Name);
        var a = Binder.Coerce(args[0], DataKind.Float64, call.Position, call.Name);
        return new Lambda(DataKind.Float64, frame => Kernels.MapFloat(a.Evaluate(frame), f, domain));
    }

    private static Bound Text<T>(CallNode call, List<Bound> args, DataKind kind, Func<string, T> f)
    {
        Arity(call, 1);
        RequireString(args[0], call.Position, call.Name);
        var a = Binder.Coerce(args[0], DataKind.String, call.Position, call.Name);
        return new Lambda(kind, frame => Kernels.MapString(a.Evaluate(frame), kind, f));
    }

    private static Bound TextPredicate(CallNode call, List<Bound> args, Func<string, string, bool> test)
    {
        Arity(call, 2);
        RequireString(args[0], call.Position, call.Name);
        RequireString(args[1], call.Position, call.Name);
        var a = Binder.Coerce(args[0], DataKind.String, call.Position, call.Name);
        var b = Binder.Coerce(args[1], DataKind.String, call.Position, call.Name);
        return new Lambda(DataKind.Boolean, frame =>
        {
            var x = a.Evaluate(frame);
            var y = b.Evaluate(frame);
            var r = new bool[frame.RowCount];
            for (var i = 0; i < r.Length; i++) if (x.String[i] is { } s && y.String[i] is { } t) r[i] = test(s, t);
            return Column.OfBoolean(r, Kernels.AndValid(x.Valid, y.Valid));
        });
    }

    private static Bound DatePart(CallNode call, List<Bound> args, Func<DateTime, long> part)
    {
        Arity(call, 1);
        RequireTimestamp(args[0], call.Position, call.Name);
        var a = Binder.Coerce(args[0], DataKind.Timestamp, call.Position, call.Name);
        return new Lambda(DataKind.Int64, frame => Kernels.MapTimestamp(a.Evaluate(frame), part));
    }

    private static Bound Interval(CallNode call, List<Bound> args, long unit)
    {
        Arity(call, 1);
        Binder.RequireNumeric(args[0], call.Position, call.Name);
        var a = Binder.Coerce(args[0], DataKind.Float64, call.Position, call.Name);
        return new Lambda(DataKind.Int64, frame =>
        {
            var c = a.Evaluate(frame);
            var r = new long[c.Length];
            for (var i = 0; i < r.Length; i++) r[i] = (long)Math.Round(c.Float64[i] * unit);
            return Column.OfInt64(r, c.Valid);
        });
    }

    private static Column Extreme(List<Column> columns, DataKind kind, bool greater)
    {
        // Nulls are skipped (SQL least/greatest): the result is null only when every argument is.
        var n = columns[0].Length;
        var result = Column.NewValues(kind, n);
        var valid = new bool[n];
        foreach (var c in columns)
            for (var i = 0; i < n; i++)
            {
                if (!c.IsValid(i)) continue;
                if (!valid[i] || Better(c, i, result, i, kind, greater))
                {
                    Array.Copy(c.Values, i, result, i, 1);
                    valid[i] = true;
                }
            }
        return Column.Of(kind, result, valid);
    }

    private static bool Better(Column c, int i, Array current, int j, DataKind kind, bool greater)
    {
        var cmp = kind switch
        {
            DataKind.Int64 or DataKind.Timestamp => c.Int64[i].CompareTo(((long[])current)[j]),
            DataKind.Float64 => Kernels.CompareDouble(c.Float64[i], ((double[])current)[j]),
            DataKind.Boolean => c.Boolean[i].CompareTo(((bool[])current)[j]),
            _ => string.CompareOrdinal(c.String[i], ((string?[])current)[j]),
        };
        return greater ? cmp > 0 : cmp < 0;
    }

    private static Column Choose(Column fallback, Column computed, Column bound)
    {
        // Where the bound is null the value passes through unchanged.
        if (bound.Valid is null) return computed;
        var values = (Array)computed.Values.Clone();
        var valid = computed.Valid is null ? Kernels.Filled(computed.Length) : (bool[])computed.Valid.Clone();
        for (var i = 0; i < bound.Length; i++)
            if (!bound.Valid[i])
            {
                Array.Copy(fallback.Values, i, values, i, 1);
                valid[i] = fallback.IsValid(i);
            }
        return Column.Of(computed.Kind, values, valid);
    }
}
