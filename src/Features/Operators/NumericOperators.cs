using System.Text.Json;
using System.Text.Json.Nodes;
using Cube.Features.Engine;
using Cube.Features.Expressions;

namespace Cube.Features.Operators;

/// <summary>Shared JSON settings for fitted state: web casing, doubles written in round-trip form.</summary>
internal static class StateJson
{
    public static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.Web);

    public static JsonNode? To<T>(T value) => JsonSerializer.SerializeToNode(value, Options);

    public static T From<T>(JsonNode node, string kind) =>
        node.Deserialize<T>(Options) ?? throw new InvalidOperationException($"The fitted state of a {kind} step is empty.");
}

/// <summary>
/// Fills missing values (null, and NaN for doubles) with a constant or with the mean, median or mode learnt at fit time.
/// Mean and median make a column Float64; a column with no values at fit time stays null.
/// </summary>
public sealed class ImputeOperator(Params p) : FeatureOperator
{
    private readonly IReadOnlyList<string> _columns = p.Strings("columns");
    private readonly string _strategy = p.Choice("strategy", "mean", "mean", "median", "mode", "constant");
    private readonly JsonNode? _constant = p.Raw("value");
    private Dictionary<string, List<double>> _numbers = [];
    private Dictionary<string, Dictionary<string, long>> _counts = [];
    private Dictionary<string, JsonNode?>? _fill;

    public override string Kind => "impute";
    public override IReadOnlyCollection<string>? FitReads => _columns;
    public override IReadOnlyCollection<string>? ReplacesInPlace => _columns;
    public override bool IsFitted => _strategy != "constant";
    protected override bool HasState => _fill is not null;

    protected override FrameSchema BindCore(FrameSchema input)
    {
        var output = new List<FieldDef>();
        foreach (var name in _columns)
        {
            var column = _strategy is "mean" or "median"
                ? RequireColumn(input, name, "columns", DataKind.Int64, DataKind.Float64)
                : RequireColumn(input, name, "columns", DataKind.Int64, DataKind.Float64, DataKind.Boolean, DataKind.String, DataKind.Timestamp);
            output.Add(new FieldDef(name, _strategy is "mean" or "median" ? DataKind.Float64 : column.Kind));
        }
        if (_strategy == "constant")
        {
            if (_constant is null) throw new StepException("value", "The constant strategy needs 'value'.");
            _fill = [];
            foreach (var field in output)
            {
                var converted = Convert(field.Kind, _constant);
                if (converted.Valid is null || converted.IsValid(0)) _fill[field.Name] = _constant.DeepClone();
                else throw new StepException("value", $"'{_constant.ToJsonString()}' is not a {field.Kind} value for column '{field.Name}'.");
            }
        }
        _numbers = _columns.ToDictionary(c => c, _ => new List<double>());
        _counts = _columns.ToDictionary(c => c, _ => new Dictionary<string, long>(StringComparer.Ordinal));
        return Replace(input, output);
    }

    public override void Accumulate(Frame input)
    {
        foreach (var name in _columns)
        {
            var column = input[name];
            if (_strategy is "mean" or "median")
            {
                var values = Kernels.ToFloat(column).Float64;
                var list = _numbers[name];
                for (var i = 0; i < values.Length; i++)
                    if (column.IsValid(i) && !double.IsNaN(values[i])) list.Add(values[i]);
            }
            else
            {
                var text = Casts.Cast(column, DataKind.String).String;
                var counts = _counts[name];
                for (var i = 0; i < text.Length; i++)
                    if (text[i] is { } s && !(column.Kind == DataKind.Float64 && double.IsNaN(column.Float64[i])))
                        counts[s] = counts.GetValueOrDefault(s) + 1;
            }
        }
    }

    protected override JsonNode? FinishFitCore()
    {
        var fill = new Dictionary<string, JsonNode?>();
        foreach (var name in _columns)
        {
            var kind = Input.Find(name)!.Kind;
            if (_strategy == "mean")
            {
                var values = _numbers[name];
                fill[name] = values.Count == 0 ? null : JsonValue.Create(Mean(values));
            }
            else if (_strategy == "median")
            {
                var values = _numbers[name];
                fill[name] = values.Count == 0 ? null : JsonValue.Create(Median(values));
            }
            else
            {
                // Mode: the most frequent value; ties go to the smallest text so refits are deterministic.
                var best = _counts[name].OrderByDescending(c => c.Value).ThenBy(c => c.Key, StringComparer.Ordinal).Select(c => c.Key).FirstOrDefault();
                fill[name] = best is null ? null : Casts.Cast(Column.OfString([best]), kind) is var c && c.IsValid(0) ? JsonValue.Create(best) : null;
            }
        }
        _numbers = [];
        _counts = [];
        LoadStateCore(StateJson.To(fill)!);
        return StateJson.To(fill);
    }

    protected override void LoadStateCore(JsonNode state) => _fill = StateJson.From<Dictionary<string, JsonNode?>>(state, Kind);

    public override Frame Transform(Frame input)
    {
        var replaced = new List<(string, Column)>();
        foreach (var name in _columns)
        {
            var column = input[name];
            var outKind = _strategy is "mean" or "median" ? DataKind.Float64 : column.Kind;
            var source = Casts.Cast(column, outKind);
            var fill = _fill![name];
            if (fill is null)
            {
                replaced.Add((name, source));
                continue;
            }
            var constant = Convert(outKind, fill);
            if (outKind == DataKind.Float64)
            {
                var numbers = (double[])source.Float64.Clone();
                var valid = source.Valid;
                var with = constant.Float64[0];
                for (var i = 0; i < numbers.Length; i++)
                    if ((valid is not null && !valid[i]) || double.IsNaN(numbers[i])) numbers[i] = with;
                replaced.Add((name, Column.OfFloat64(numbers)));
                continue;
            }
            var values = (Array)source.Values.Clone();
            var n = source.Length;
            for (var i = 0; i < n; i++)
            {
                var missing = !source.IsValid(i) || (outKind == DataKind.Float64 && double.IsNaN(source.Float64[i]));
                if (missing) Array.Copy(constant.Values, 0, values, i, 1);
            }
            replaced.Add((name, Column.Of(outKind, values, null)));
        }
        return input.With(replaced);
    }

    private static Column Convert(DataKind kind, JsonNode value)
    {
        var text = value is JsonValue v && v.GetValueKind() == JsonValueKind.String ? v.GetValue<string>() : value.ToJsonString();
        return Casts.Cast(Column.OfString([text]), kind);
    }

    /// <summary>Pairwise-safe mean: Kahan summation keeps the fitted value independent of batch boundaries in practice.</summary>
    internal static double Mean(List<double> values)
    {
        double sum = 0, compensation = 0;
        foreach (var v in values)
        {
            var y = v - compensation;
            var t = sum + y;
            compensation = (t - sum) - y;
            sum = t;
        }
        return sum / values.Count;
    }

    /// <summary>Interpolated median (the mean of the two middle values for an even count); reorders the values.</summary>
    internal static double Median(List<double> values) => OrderStatistics.Quantile(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(values), 0.5);
}

/// <summary>
/// Standardisation ((x − mean) / population standard deviation) or min-max scaling ((x − min) / (max − min)), fitted
/// per column over non-missing, non-NaN values. A constant column scales to 0; nulls stay null, NaN stays NaN.
/// </summary>
public sealed class ScaleOperator(Params p, string kind) : FeatureOperator
{
    private readonly IReadOnlyList<string> _columns = p.Strings("columns");
    private Dictionary<string, Moments> _moments = [];
    private Dictionary<string, ScaleState>? _state;

    public override string Kind => kind;
    public override IReadOnlyCollection<string>? FitReads => _columns;
    public override IReadOnlyCollection<string>? ReplacesInPlace => _columns;
    public override bool IsFitted => true;
    protected override bool HasState => _state is not null;

    /// <summary>Offset and divisor per column: the output is (x − Offset) / Scale, or 0 where Scale is 0.</summary>
    public sealed record ScaleState(double? Offset, double? Scale);

    private sealed class Moments
    {
        public long Count;
        public double Mean;
        public double M2;
        public double Min = double.PositiveInfinity;
        public double Max = double.NegativeInfinity;
    }

    protected override FrameSchema BindCore(FrameSchema input)
    {
        foreach (var c in _columns) RequireColumn(input, c, "columns", DataKind.Int64, DataKind.Float64);
        _moments = _columns.ToDictionary(c => c, _ => new Moments());
        return Replace(input, _columns.Select(c => new FieldDef(c, DataKind.Float64)));
    }

    public override void Accumulate(Frame input)
    {
        foreach (var name in _columns)
        {
            var column = input[name];
            var values = Kernels.ToFloat(column).Float64;
            var m = _moments[name];
            for (var i = 0; i < values.Length; i++)
            {
                var x = values[i];
                if (!column.IsValid(i) || double.IsNaN(x)) continue;
                // Welford's update: numerically stable in one pass over the stream.
                m.Count++;
                var delta = x - m.Mean;
                m.Mean += delta / m.Count;
                m.M2 += delta * (x - m.Mean);
                if (x < m.Min) m.Min = x;
                if (x > m.Max) m.Max = x;
            }
        }
    }

    protected override JsonNode? FinishFitCore()
    {
        var state = _moments.ToDictionary(m => m.Key, m => m.Value.Count == 0
            ? new ScaleState(null, null)
            : Kind == "standardize"
                ? new ScaleState(m.Value.Mean, Math.Sqrt(m.Value.M2 / m.Value.Count))
                : new ScaleState(m.Value.Min, m.Value.Max - m.Value.Min));
        _state = state;
        return StateJson.To(state);
    }

    protected override void LoadStateCore(JsonNode state) => _state = StateJson.From<Dictionary<string, ScaleState>>(state, Kind);

    public override Frame Transform(Frame input) => Apply(input, _columns, _state!);

    /// <summary>(x − Offset) / Scale per column; 0 where Scale is 0, all null where the column had no values to fit.</summary>
    internal static Frame Apply(Frame input, IReadOnlyList<string> columns, IReadOnlyDictionary<string, ScaleState> states)
    {
        var replaced = new List<(string, Column)>();
        foreach (var name in columns)
        {
            var column = input[name];
            var values = Kernels.ToFloat(column).Float64;
            var (offset, scale) = states[name];
            if (offset is null || scale is null)
            {
                replaced.Add((name, Column.Nulls(DataKind.Float64, column.Length)));
                continue;
            }
            var o = offset.Value;
            var s = scale.Value;
            var result = new double[values.Length];
            if (s == 0)
            {
                for (var i = 0; i < result.Length; i++) result[i] = double.IsNaN(values[i]) ? double.NaN : 0;
            }
            else
            {
                var inverse = 1 / s;
                for (var i = 0; i < result.Length; i++) result[i] = (values[i] - o) * inverse;
            }
            replaced.Add((name, Column.OfFloat64(result, column.Valid)));
        }
        return input.With(replaced);
    }
}

/// <summary>
/// Limits numbers to [<c>min</c>, <c>max</c>] (either bound may be left out). Whole-number columns stay Int64 when the
/// bounds are whole numbers, otherwise the result is Float64. Nulls stay null and NaN stays NaN (a missing value is not
/// moved onto a bound).
/// </summary>
public sealed class ClipOperator : FeatureOperator
{
    private readonly IReadOnlyList<string> _columns;
    private readonly double _min;
    private readonly double _max;
    private List<FieldDef> _outputs = [];

    public ClipOperator(Params p)
    {
        _columns = p.Strings("columns");
        if (!p.Has("min") && !p.Has("max")) throw new StepException("min", "Give 'min', 'max' or both.");
        _min = p.Has("min") ? p.Number("min") : double.NegativeInfinity;
        _max = p.Has("max") ? p.Number("max") : double.PositiveInfinity;
        if (double.IsNaN(_min) || double.IsNaN(_max) || _min > _max) throw new StepException("max", $"'max' ({_max}) must not be below 'min' ({_min}).");
    }

    public override string Kind => "clip";
    public override IReadOnlyCollection<string>? ReplacesInPlace => _columns;
    protected override bool HasState => true;

    private bool WholeBounds => (double.IsInfinity(_min) || _min == Math.Floor(_min)) && (double.IsInfinity(_max) || _max == Math.Floor(_max));

    protected override FrameSchema BindCore(FrameSchema input)
    {
        _outputs = _columns.Select(c => RequireColumn(input, c, "columns", DataKind.Int64, DataKind.Float64))
            .Select(f => new FieldDef(f.Name, f.Kind == DataKind.Int64 && WholeBounds ? DataKind.Int64 : DataKind.Float64)).ToList();
        return Replace(input, _outputs);
    }

    public override Frame Transform(Frame input)
    {
        var replaced = new List<(string, Column)>();
        foreach (var field in _outputs)
        {
            var column = input[field.Name];
            if (field.Kind == DataKind.Int64)
            {
                var lo = double.IsNegativeInfinity(_min) ? long.MinValue : (long)Math.Max(_min, long.MinValue);
                var hi = double.IsPositiveInfinity(_max) ? long.MaxValue : (long)Math.Min(_max, long.MaxValue);
                var source = column.Int64;
                var result = new long[source.Length];
                for (var i = 0; i < result.Length; i++) result[i] = Math.Clamp(source[i], lo, hi);
                replaced.Add((field.Name, Column.OfInt64(result, column.Valid)));
            }
            else
            {
                var source = Kernels.ToFloat(column).Float64;
                var result = new double[source.Length];
                // Math.Clamp keeps NaN as NaN: both comparisons are false.
                for (var i = 0; i < result.Length; i++) result[i] = Math.Clamp(source[i], _min, _max);
                replaced.Add((field.Name, Column.OfFloat64(result, column.Valid)));
            }
        }
        return input.With(replaced);
    }
}

/// <summary>ln(1 + x) as Float64, in place: x ≤ −1 (outside the domain) gives null, as the expression function does; NaN stays NaN.</summary>
public sealed class Log1pOperator(Params p) : FeatureOperator
{
    private readonly IReadOnlyList<string> _columns = p.Strings("columns");

    public override string Kind => "log1p";
    public override IReadOnlyCollection<string>? ReplacesInPlace => _columns;
    protected override bool HasState => true;

    protected override FrameSchema BindCore(FrameSchema input) =>
        Replace(input, _columns.Select(c => new FieldDef(RequireColumn(input, c, "columns", DataKind.Int64, DataKind.Float64).Name, DataKind.Float64)));

    public override Frame Transform(Frame input)
    {
        var replaced = new List<(string, Column)>();
        foreach (var name in _columns)
        {
            var column = input[name];
            var source = Kernels.ToFloat(column).Float64;
            var result = new double[source.Length];
            bool[]? valid = column.Valid is null ? null : (bool[])column.Valid.Clone();
            for (var i = 0; i < result.Length; i++)
            {
                var x = source[i];
                if (x <= -1)
                {
                    valid ??= Kernels.Filled(result.Length);
                    valid[i] = false;
                    continue;
                }
                result[i] = double.LogP1(x);
            }
            replaced.Add((name, Column.OfFloat64(result, valid)));
        }
        return input.With(replaced);
    }
}

/// <summary>
/// Robust scaling: (x − median) / IQR, with the median and the interquartile range (75th − 25th percentile, interpolated
/// as quantile_cont) fitted per column over non-missing, non-NaN values and saved as <c>{offset: median, scale: iqr}</c>.
/// A zero IQR scales to 0; nulls stay null, NaN stays NaN.
/// </summary>
public sealed class RobustScaleOperator(Params p) : FeatureOperator
{
    private readonly IReadOnlyList<string> _columns = p.Strings("columns");
    private Dictionary<string, List<double>> _values = [];
    private Dictionary<string, ScaleOperator.ScaleState>? _state;

    public override string Kind => "robust_scale";
    public override IReadOnlyCollection<string>? FitReads => _columns;
    public override IReadOnlyCollection<string>? ReplacesInPlace => _columns;
    public override bool IsFitted => true;
    protected override bool HasState => _state is not null;

    protected override FrameSchema BindCore(FrameSchema input)
    {
        foreach (var c in _columns) RequireColumn(input, c, "columns", DataKind.Int64, DataKind.Float64);
        _values = _columns.ToDictionary(c => c, _ => new List<double>());
        return Replace(input, _columns.Select(c => new FieldDef(c, DataKind.Float64)));
    }

    public override void Accumulate(Frame input)
    {
        foreach (var name in _columns)
        {
            var column = input[name];
            var values = Kernels.ToFloat(column).Float64;
            var list = _values[name];
            for (var i = 0; i < values.Length; i++)
                if (column.IsValid(i) && !double.IsNaN(values[i])) list.Add(values[i]);
        }
    }

    protected override JsonNode? FinishFitCore()
    {
        var state = new Dictionary<string, ScaleOperator.ScaleState>();
        foreach (var (name, values) in _values)
        {
            var span = System.Runtime.InteropServices.CollectionsMarshal.AsSpan(values);
            state[name] = values.Count == 0
                ? new ScaleOperator.ScaleState(null, null)
                : new ScaleOperator.ScaleState(OrderStatistics.Quantile(span, 0.5), OrderStatistics.Quantile(span, 0.75) - OrderStatistics.Quantile(span, 0.25));
        }
        _values = [];
        _state = state;
        return StateJson.To(state);
    }

    protected override void LoadStateCore(JsonNode state) => _state = StateJson.From<Dictionary<string, ScaleOperator.ScaleState>>(state, Kind);

    public override Frame Transform(Frame input) => ScaleOperator.Apply(input, _columns, _state!);
}

/// <summary>Order statistics in expected linear time, without sorting (a median over 10M values is a fit's hot spot).</summary>
internal static class OrderStatistics
{
    /// <summary>
    /// Linear interpolation between the order statistics around q·(n−1), as DuckDB's quantile_cont; reorders the values
    /// (NaN-free, non-empty).
    /// </summary>
    public static double Quantile(Span<double> values, double q)
    {
        var position = q * (values.Length - 1);
        var lower = (int)Math.Floor(position);
        var low = Select(values, lower);
        if (lower + 1 >= values.Length || position == lower) return low;
        // After the selection every value past `lower` is at least `low`; the next order statistic is their minimum.
        var high = double.PositiveInfinity;
        foreach (var v in values[(lower + 1)..]) if (v < high) high = v;
        return low + (high - low) * (position - lower);
    }

    /// <summary>The k-th smallest value (0-based), leaving smaller values before it and larger after; three-way partitions keep many equal values linear.</summary>
    public static double Select(Span<double> values, int k)
    {
        var random = new Random(values.Length);
        int lo = 0, hi = values.Length - 1;
        while (lo < hi)
        {
            var pivot = values[lo + random.Next(hi - lo + 1)];
            int lt = lo, i = lo, gt = hi;
            while (i <= gt)
            {
                var v = values[i];
                if (v < pivot)
                {
                    values[i++] = values[lt];
                    values[lt++] = v;
                }
                else if (v > pivot)
                {
                    values[i] = values[gt];
                    values[gt--] = v;
                }
                else i++;
            }
            if (k < lt) hi = lt - 1;
            else if (k > gt) lo = gt + 1;
            else return pivot;
        }
        return values[lo];
    }
}
