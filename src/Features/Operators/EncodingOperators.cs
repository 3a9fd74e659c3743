using System.IO.Hashing;
using System.Text;
using System.Text.Json.Nodes;
using Cube.Features.Engine;
using Cube.Features.Expressions;

namespace Cube.Features.Operators;

/// <summary>Fitted vocabulary of a categorical column: values as text, counted over the whole input.</summary>
internal sealed class VocabularyCounter
{
    private readonly Dictionary<string, long> _counts = new(StringComparer.Ordinal);

    public void Add(Column column)
    {
        if (column.Codes is { } coded)
        {
            // Counted per dictionary entry, then added once per entry that occurs.
            var counts = new long[coded.Entries.Length];
            foreach (var code in coded.Codes) if (code >= 0) counts[code]++;
            for (var e = 0; e < counts.Length; e++)
                if (counts[e] > 0) System.Runtime.InteropServices.CollectionsMarshal.GetValueRefOrAddDefault(_counts, coded.Entries[e], out _) += counts[e];
            return;
        }
        var text = column.Kind == DataKind.String ? column.String : Casts.Cast(column, DataKind.String).String;
        foreach (var value in text)
            if (value is not null) System.Runtime.InteropServices.CollectionsMarshal.GetValueRefOrAddDefault(_counts, value, out _)++;
    }

    /// <summary>Most frequent first, ties by ordinal text order; at most <paramref name="max"/>, each seen at least <paramref name="minCount"/> times.</summary>
    public List<string> ByFrequency(int max, long minCount) =>
        _counts.Where(c => c.Value >= minCount).OrderByDescending(c => c.Value).ThenBy(c => c.Key, StringComparer.Ordinal).Take(max).Select(c => c.Key).ToList();

    public static string?[] AsText(Column column) => column.Kind == DataKind.String ? column.String : Casts.Cast(column, DataKind.String).String;
}

/// <summary>
/// One-hot encoding with a fitted vocabulary: one 0/1 column <c>{column}_{value}</c> per category (most frequent
/// first, at most <c>maxCategories</c>), Int64 by default, Float64 or Boolean by <c>dtype</c> (Boolean is written as one
/// bit per row). Unknown categories at transform time: <c>ignore</c> (all zeros), <c>error</c> (the run fails naming
/// the row), or <c>other</c> (an extra <c>{column}__other</c> column). Null is all zeros.
/// </summary>
public sealed class OneHotOperator(Params p) : FeatureOperator
{
    private readonly string _column = p.String("column");
    private readonly string _unknown = p.Choice("unknown", "ignore", "ignore", "error", "other");
    private readonly int _max = (int)p.Integer("maxCategories", 100, 1, 10_000);
    private readonly long _minCount = p.Integer("minCount", 1, 1, long.MaxValue);
    private readonly bool _keep = p.Boolean("keepOriginal", false);
    private readonly DataKind _dtype = p.Choice("dtype", "int64", "int64", "float64", "boolean") switch
    {
        "float64" => DataKind.Float64,
        "boolean" => DataKind.Boolean,
        _ => DataKind.Int64,
    };
    private readonly IReadOnlyList<string>? _categories = p.Has("categories") ? p.Strings("categories") : null;
    private VocabularyCounter _counter = new();
    private List<string>? _vocabulary;
    private Dictionary<string, int> _codes = [];

    public override string Kind => "onehot";
    public override IReadOnlyCollection<string>? FitReads => [_column];
    public override IReadOnlyCollection<string>? ReplacesInPlace => [];
    /// <summary>Fitted unless the categories are given explicitly.</summary>
    public override bool IsFitted => _categories is null;
    protected override bool HasState => _vocabulary is not null;
    public override bool SchemaAwaitsFit => _vocabulary is null;

    protected override FrameSchema BindCore(FrameSchema input)
    {
        RequireColumn(input, _column, "column", DataKind.String, DataKind.Int64, DataKind.Boolean);
        _counter = new VocabularyCounter();
        if (_categories is not null && _vocabulary is null) LoadStateCore(StateJson.To(_categories)!);
        return OutputSchema(input);
    }

    /// <summary>Before fitting the category columns are unknown, so the schema lists only the kept columns.</summary>
    private FrameSchema OutputSchema(FrameSchema input)
    {
        var fields = input.Fields.Where(f => _keep || f.Name != _column).ToList();
        foreach (var name in OutputNames())
        {
            if (fields.Any(f => f.Name == name)) throw new StepException("column", $"The one-hot column '{name}' already exists in the input.");
            fields.Add(new FieldDef(name, _dtype));
        }
        return new FrameSchema(fields);
    }

    private IEnumerable<string> OutputNames()
    {
        foreach (var value in _vocabulary ?? []) yield return $"{_column}_{value}";
        if (_unknown == "other" && _vocabulary is not null) yield return $"{_column}__other";
    }

    /// <summary>The output schema once fitted (the pipeline re-binds downstream steps with it).</summary>
    public FrameSchema FittedOutput => OutputSchema(Input);

    public override void Accumulate(Frame input) => _counter.Add(input[_column]);

    protected override JsonNode? FinishFitCore()
    {
        var vocabulary = _counter.ByFrequency(_max, _minCount);
        _counter = new VocabularyCounter();
        var state = StateJson.To(vocabulary)!;
        LoadStateCore(state);
        return state;
    }

    protected override void LoadStateCore(JsonNode state)
    {
        _vocabulary = StateJson.From<List<string>>(state, Kind);
        _codes = _vocabulary.Select((v, i) => (v, i)).ToDictionary(x => x.v, x => x.i, StringComparer.Ordinal);
    }

    public override Frame Transform(Frame input)
    {
        var source = input[_column];
        var n = input.RowCount;
        var width = _vocabulary!.Count + (_unknown == "other" ? 1 : 0);
        // Each row's category position (−1: none), then one column per category from it.
        var hot = new int[n];
        if (source.Codes is { } coded)
        {
            // Each dictionary entry is looked up once; rows go by their code.
            var column = new int[coded.Entries.Length];
            for (var e = 0; e < column.Length; e++)
                column[e] = _codes.TryGetValue(coded.Entries[e], out var code) ? code : _unknown == "other" ? width - 1 : _unknown == "error" ? -2 : -1;
            var codes = coded.Codes;
            for (var i = 0; i < n; i++)
            {
                var k = codes[i] < 0 ? -1 : column[codes[i]];
                if (k == -2) throw Unknown(coded.Entries[codes[i]], i);
                hot[i] = k;
            }
        }
        else
        {
            var text = VocabularyCounter.AsText(source);
            for (var i = 0; i < n; i++)
            {
                if (text[i] is not { } value) hot[i] = -1;
                else if (_codes.TryGetValue(value, out var code)) hot[i] = code;
                else if (_unknown == "other") hot[i] = width - 1;
                else if (_unknown == "error") throw Unknown(value, i);
                else hot[i] = -1;
            }
        }
        var outputs = new Column[width];
        switch (_dtype)
        {
            case DataKind.Boolean:
            {
                var values = new bool[width][];
                for (var k = 0; k < width; k++) values[k] = new bool[n];
                for (var i = 0; i < n; i++) if (hot[i] >= 0) values[hot[i]][i] = true;
                for (var k = 0; k < width; k++) outputs[k] = Column.OfBoolean(values[k]);
                break;
            }
            case DataKind.Float64:
            {
                var values = new double[width][];
                for (var k = 0; k < width; k++) values[k] = new double[n];
                for (var i = 0; i < n; i++) if (hot[i] >= 0) values[hot[i]][i] = 1;
                for (var k = 0; k < width; k++) outputs[k] = Column.OfFloat64(values[k]);
                break;
            }
            default:
            {
                var values = new long[width][];
                for (var k = 0; k < width; k++) values[k] = new long[n];
                for (var i = 0; i < n; i++) if (hot[i] >= 0) values[hot[i]][i] = 1;
                for (var k = 0; k < width; k++) outputs[k] = Column.OfInt64(values[k]);
                break;
            }
        }
        var kept = input.Schema.Fields.Select((f, i) => (f, i)).Where(x => _keep || x.f.Name != _column).ToList();
        var names = OutputNames().ToList();
        var fields = kept.Select(x => x.f).Concat(names.Select(nm => new FieldDef(nm, _dtype)));
        var columns = kept.Select(x => input.Columns[x.i]).Concat(outputs);
        return new Frame(new FrameSchema(fields), columns.ToList(), n);
    }

    private TransformException Unknown(string value, int row) =>
        new($"Unknown category '{value}' in column '{_column}' (the vocabulary has {_vocabulary!.Count} values).", _column, row);
}

/// <summary>
/// Ordinal (label) encoding: each category's position in the sorted fitted vocabulary, as Int64. Unknown categories:
/// <c>error</c>, <c>null</c>, or <c>code</c> (the value −1). Null stays null.
/// </summary>
public sealed class OrdinalOperator(Params p) : FeatureOperator
{
    private readonly string _column = p.String("column");
    private readonly string _output = p.OptionalString("output") ?? p.String("column");
    private readonly string _unknown = p.Choice("unknown", "code", "error", "null", "code");
    private readonly int _max = (int)p.Integer("maxCategories", 1_000_000, 1, 10_000_000);
    private VocabularyCounter _counter = new();
    private Dictionary<string, long>? _codes;

    public override string Kind => "ordinal";
    public override IReadOnlyCollection<string>? FitReads => [_column];
    public override IReadOnlyCollection<string>? ReplacesInPlace => [_output];
    public override bool IsFitted => true;
    protected override bool HasState => _codes is not null;

    protected override FrameSchema BindCore(FrameSchema input)
    {
        RequireColumn(input, _column, "column", DataKind.String, DataKind.Int64, DataKind.Boolean);
        _counter = new VocabularyCounter();
        return Replace(input, [new FieldDef(_output, DataKind.Int64)]);
    }

    public override void Accumulate(Frame input) => _counter.Add(input[_column]);

    protected override JsonNode? FinishFitCore()
    {
        var vocabulary = _counter.ByFrequency(_max, 1);
        vocabulary.Sort(StringComparer.Ordinal);
        _counter = new VocabularyCounter();
        var state = StateJson.To(vocabulary)!;
        LoadStateCore(state);
        return state;
    }

    protected override void LoadStateCore(JsonNode state) =>
        _codes = StateJson.From<List<string>>(state, Kind).Select((v, i) => (v, i)).ToDictionary(x => x.v, x => (long)x.i, StringComparer.Ordinal);

    public override Frame Transform(Frame input)
    {
        var text = VocabularyCounter.AsText(input[_column]);
        var values = new long[text.Length];
        var valid = new bool[text.Length];
        for (var i = 0; i < text.Length; i++)
        {
            if (text[i] is not { } value) continue;
            if (_codes!.TryGetValue(value, out var code)) { values[i] = code; valid[i] = true; }
            else if (_unknown == "code") { values[i] = -1; valid[i] = true; }
            else if (_unknown == "error") throw new TransformException($"Unknown category '{value}' in column '{_column}'.", _column, i);
        }
        return input.With([(_output, Column.OfInt64(values, valid))]);
    }
}

/// <summary>
/// Bucket index of a number: the count of edges ≤ x (0 … edges), as Int64. Edges are given, or fitted as
/// <c>quantiles</c> equal-frequency cut points (interpolated, duplicates removed). Null and NaN give null.
/// </summary>
public sealed class BucketizeOperator : FeatureOperator
{
    private readonly string _column;
    private readonly string _output;
    private readonly int _quantiles;
    private double[]? _edges;
    private List<double> _values = [];

    public BucketizeOperator(Params p)
    {
        _column = p.String("column");
        _output = p.OptionalString("output") ?? $"{_column}_bucket";
        if (p.Has("edges") == p.Has("quantiles")) throw new StepException("edges", "Give either 'edges' (a sorted list of numbers) or 'quantiles' (a bucket count).");
        if (p.Has("edges"))
        {
            _edges = [.. p.Numbers("edges")];
            for (var i = 1; i < _edges.Length; i++)
                if (!(_edges[i] > _edges[i - 1])) throw new StepException("edges", "'edges' must be strictly increasing.");
        }
        else
        {
            _quantiles = (int)p.Integer("quantiles", null, 2, 1000);
        }
    }

    public override string Kind => "bucketize";
    public override bool IsFitted => _quantiles > 0;
    protected override bool HasState => _edges is not null;

    protected override FrameSchema BindCore(FrameSchema input)
    {
        RequireColumn(input, _column, "column", DataKind.Int64, DataKind.Float64);
        _values = [];
        return Replace(input, [new FieldDef(_output, DataKind.Int64)]);
    }

    public override void Accumulate(Frame input)
    {
        var column = input[_column];
        var values = Kernels.ToFloat(column).Float64;
        for (var i = 0; i < values.Length; i++) if (column.IsValid(i) && !double.IsNaN(values[i])) _values.Add(values[i]);
    }

    protected override JsonNode? FinishFitCore()
    {
        _values.Sort();
        var edges = new List<double>();
        if (_values.Count > 0)
            for (var q = 1; q < _quantiles; q++)
            {
                // Linear interpolation between order statistics, as quantile_cont computes it.
                var position = (double)q / _quantiles * (_values.Count - 1);
                var lower = (int)Math.Floor(position);
                var upper = Math.Min(lower + 1, _values.Count - 1);
                var edge = _values[lower] + (_values[upper] - _values[lower]) * (position - lower);
                if (edges.Count == 0 || edge > edges[^1]) edges.Add(edge);
            }
        _values = [];
        var state = StateJson.To(edges)!;
        LoadStateCore(state);
        return state;
    }

    protected override void LoadStateCore(JsonNode state) => _edges = [.. StateJson.From<List<double>>(state, Kind)];

    public override Frame Transform(Frame input)
    {
        var column = input[_column];
        var values = Kernels.ToFloat(column).Float64;
        var result = new long[values.Length];
        var valid = column.Valid is null ? Kernels.Filled(values.Length) : (bool[])column.Valid.Clone();
        var edges = _edges!;
        for (var i = 0; i < values.Length; i++)
        {
            if (double.IsNaN(values[i])) { valid[i] = false; continue; }
            var index = Array.BinarySearch(edges, values[i]);
            // An exact edge belongs to the bucket it opens: count of edges <= x.
            result[i] = index >= 0 ? index + 1 : ~index;
        }
        return input.With([(_output, Column.OfInt64(result, valid))]);
    }
}

/// <summary>
/// Feature hashing: XxHash64 of the columns' text values (joined by U+001F, null as empty) modulo <c>buckets</c>,
/// as Int64. Stateless, so unseen values need no policy; stable across processes and versions.
/// </summary>
public sealed class HashOperator(Params p) : FeatureOperator
{
    private readonly IReadOnlyList<string> _columns = p.Strings("columns");
    private readonly long _buckets = p.Integer("buckets", null, 2, 1L << 40);
    private readonly string _output = p.OptionalString("output") ?? $"{string.Join("_", p.Strings("columns"))}_hash";

    public override string Kind => "hash";
    public override IReadOnlyCollection<string>? ReplacesInPlace => [_output];
    protected override bool HasState => true;

    protected override FrameSchema BindCore(FrameSchema input)
    {
        foreach (var c in _columns) RequireColumn(input, c, "columns", DataKind.String, DataKind.Int64, DataKind.Boolean, DataKind.Timestamp);
        return Replace(input, [new FieldDef(_output, DataKind.Int64)]);
    }

    public override Frame Transform(Frame input)
    {
        var texts = _columns.Select(c => VocabularyCounter.AsText(input[c])).ToList();
        var result = new long[input.RowCount];
        var buffer = new byte[256];
        for (var i = 0; i < result.Length; i++)
        {
            var key = texts.Count == 1 ? texts[0][i] ?? "" : string.Join('\u001f', texts.Select(t => t[i] ?? ""));
            var length = Encoding.UTF8.GetMaxByteCount(key.Length);
            if (length > buffer.Length) buffer = new byte[length];
            var written = Encoding.UTF8.GetBytes(key, buffer);
            result[i] = (long)(XxHash64.HashToUInt64(buffer.AsSpan(0, written)) % (ulong)_buckets);
        }
        return input.With([(_output, Column.OfInt64(result))]);
    }
}

/// <summary>Calendar parts of a timestamp (UTC) as Int64 columns <c>{column}_{part}</c>; dayofweek counts from Sunday = 0.</summary>
public sealed class DatetimePartsOperator(Params p) : FeatureOperator
{
    private static readonly string[] Known = ["year", "month", "day", "hour", "minute", "second", "dayofweek", "dayofyear", "epoch"];
    private readonly string _column = p.String("column");
    private readonly IReadOnlyList<string> _parts = p.Has("parts") ? p.Strings("parts") : ["year", "month", "day", "dayofweek"];

    public override string Kind => "datetime_parts";
    protected override bool HasState => true;

    protected override FrameSchema BindCore(FrameSchema input)
    {
        RequireColumn(input, _column, "column", DataKind.Timestamp);
        foreach (var part in _parts)
            if (!Known.Contains(part)) throw new StepException("parts", $"Unknown part '{part}' (use {string.Join(", ", Known)}).");
        return Replace(input, _parts.Select(part => new FieldDef($"{_column}_{part}", DataKind.Int64)));
    }

    public override Frame Transform(Frame input)
    {
        var column = input[_column];
        return input.With(_parts.Select(part => ($"{_column}_{part}", part == "epoch"
            ? Column.OfInt64(column.Timestamp.Select(t => Math.DivRem(t, 1_000_000L, out var rem) - (rem < 0 ? 1 : 0)).ToArray(), column.Valid)
            : Kernels.MapTimestamp(column, part switch
            {
                "year" => d => d.Year,
                "month" => d => d.Month,
                "day" => d => d.Day,
                "hour" => d => d.Hour,
                "minute" => d => d.Minute,
                "second" => d => d.Second,
                "dayofweek" => d => (long)d.DayOfWeek,
                _ => d => d.DayOfYear,
            }))).ToList());
    }
}

/// <summary>
/// Splits text into tokens on a separator pattern (default: anything but letters and digits), or on white space with
/// <c>tokenizer: whitespace</c> (no regular expression), optionally lower-cased, with optional n-grams (tokens joined by a
/// space) up to <c>ngrams</c>. Produces a list-of-strings column.
/// </summary>
public sealed class TokenizeOperator(Params p) : FeatureOperator
{
    private readonly string _column = p.String("column");
    private readonly string _output = p.OptionalString("output") ?? $"{p.String("column")}_tokens";
    private readonly string _pattern = p.OptionalString("pattern") ?? @"[^\p{L}\p{N}]+";
    private readonly bool _whitespace = p.Choice("tokenizer", "regex", "regex", "whitespace") == "whitespace";
    private readonly bool _hasPattern = p.Has("pattern");
    private readonly bool _lowercase = p.Boolean("lowercase", true);
    private readonly int _ngrams = (int)p.Integer("ngrams", 1, 1, 5);
    private System.Text.RegularExpressions.Regex? _regex;

    public override string Kind => "tokenize";
    protected override bool HasState => true;

    protected override FrameSchema BindCore(FrameSchema input)
    {
        RequireColumn(input, _column, "column", DataKind.String);
        if (_whitespace && _hasPattern) throw new StepException("pattern", "A whitespace tokenizer takes no 'pattern'.");
        try
        {
            _regex = new System.Text.RegularExpressions.Regex(_pattern, System.Text.RegularExpressions.RegexOptions.CultureInvariant, TimeSpan.FromSeconds(1));
        }
        catch (ArgumentException e)
        {
            throw new StepException("pattern", $"Invalid regular expression: {e.Message}");
        }
        return Replace(input, [new FieldDef(_output, DataKind.StringList)]);
    }

    public override Frame Transform(Frame input)
    {
        var text = input[_column].String;
        var result = new string[]?[text.Length];
        for (var i = 0; i < text.Length; i++)
        {
            if (text[i] is not { } s) continue;
            var lowered = _lowercase ? s.ToLowerInvariant() : s;
            var tokens = _whitespace
                ? lowered.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries)
                : _regex!.Split(lowered).Where(t => t.Length > 0).ToArray();
            if (_ngrams == 1)
            {
                result[i] = tokens;
                continue;
            }
            var all = new List<string>(tokens);
            for (var n = 2; n <= _ngrams; n++)
                for (var start = 0; start + n <= tokens.Length; start++) all.Add(string.Join(' ', tokens, start, n));
            result[i] = [.. all];
        }
        return input.With([(_output, Column.OfStringList(result))]);
    }
}
