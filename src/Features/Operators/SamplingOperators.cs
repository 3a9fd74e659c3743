using System.IO.Hashing;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Cube.Features.Engine;
using Cube.Features.Expressions;

namespace Cube.Features.Operators;

/// <summary>
/// A seeded hash of each row's key columns: XxHash64 (seeded) of their text values joined by U+001F, null as U+0000.
/// A row's hash depends only on its own values and the seed, never on its position or batch, so sampling and splitting
/// give the same rows whatever the batch size, in batch runs and online. Rows equal in every key column share a hash.
/// </summary>
internal static class RowHash
{
    /// <summary>The key columns: the given ones, or every column of the input that is not a token list.</summary>
    public static IReadOnlyList<string> Resolve(FrameSchema input, IReadOnlyList<string>? key)
    {
        if (key is null) return input.Fields.Where(f => f.Kind is not (DataKind.StringList or DataKind.SparseVector)).Select(f => f.Name).ToList();
        foreach (var name in key)
        {
            var field = input.Find(name) ?? throw new StepException("key", Suggest.UnknownColumn(name, input));
            if (field.Kind is DataKind.StringList or DataKind.SparseVector) throw new StepException("key", $"Column '{name}' is {field.Kind}; key columns must be scalar.");
        }
        return key;
    }

    public static ulong[] Of(Frame input, IReadOnlyList<string> columns, long seed)
    {
        var texts = columns.Select(c => VocabularyCounter.AsText(input[c])).ToList();
        var result = new ulong[input.RowCount];
        var buffer = new byte[256];
        var builder = new StringBuilder();
        for (var i = 0; i < result.Length; i++)
        {
            builder.Clear();
            for (var c = 0; c < texts.Count; c++)
            {
                if (c > 0) builder.Append('\u001f');
                builder.Append(texts[c][i] ?? "\u0000");
            }
            var key = builder.ToString();
            var length = Encoding.UTF8.GetMaxByteCount(key.Length);
            if (length > buffer.Length) buffer = new byte[length];
            var written = Encoding.UTF8.GetBytes(key, buffer);
            result[i] = XxHash64.HashToUInt64(buffer.AsSpan(0, written), seed);
        }
        return result;
    }

    /// <summary>The hash as a number in [0, 1): its top 53 bits.</summary>
    public static double Unit(ulong hash) => (hash >> 11) * (1.0 / (1UL << 53));
}

/// <summary>
/// Seeded sampling. With <c>fraction</c>, keeps the rows whose key hash (see <see cref="RowHash"/>) falls below the
/// fraction: stateless, and a smaller fraction with the same seed keeps a subset of a larger one. With <c>n</c>, the step
/// is fitted: it keeps the n rows with the smallest hashes over the whole input (state: the largest kept hash), exactly n
/// when the input has at least n rows with distinct keys; rows sharing a key are kept or dropped together.
/// </summary>
public sealed class SampleOperator : FeatureOperator
{
    private readonly double? _fraction;
    private readonly long? _n;
    private readonly long _seed;
    private readonly IReadOnlyList<string>? _key;
    private IReadOnlyList<string> _columns = [];
    private PriorityQueue<ulong, ulong> _smallest = new();
    private SampleState? _state;

    /// <summary>Rows whose hash is at most <c>Threshold</c> are kept.</summary>
    public sealed record SampleState(ulong Threshold, long Rows);

    public SampleOperator(Params p)
    {
        if (p.Has("fraction") == p.Has("n")) throw new StepException("fraction", "Give either 'fraction' (0 < fraction ≤ 1) or 'n' (a row count).");
        if (p.Has("fraction"))
        {
            var fraction = p.Number("fraction");
            if (!(fraction > 0 && fraction <= 1)) throw new StepException("fraction", $"'fraction' must be above 0 and at most 1, not {fraction}.");
            _fraction = fraction;
        }
        else _n = p.Integer("n", null, 1, 10_000_000);
        _seed = p.Integer("seed", 0, 0, long.MaxValue);
        _key = p.Has("key") ? p.Strings("key") : null;
    }

    public override string Kind => "sample";
    public override bool IsFitted => _n is not null;
    protected override bool HasState => _state is not null;

    protected override FrameSchema BindCore(FrameSchema input)
    {
        _columns = RowHash.Resolve(input, _key);
        _smallest = new PriorityQueue<ulong, ulong>(Comparer<ulong>.Create((a, b) => b.CompareTo(a)));
        return input;
    }

    public override void Accumulate(Frame input)
    {
        // A max-heap of the n smallest hashes seen so far.
        foreach (var hash in RowHash.Of(input, _columns, _seed))
        {
            if (_smallest.Count < _n) _smallest.Enqueue(hash, hash);
            else if (hash < _smallest.Peek()) _smallest.EnqueueDequeue(hash, hash);
        }
    }

    protected override JsonNode? FinishFitCore()
    {
        var state = new SampleState(_smallest.Count < _n ? ulong.MaxValue : _smallest.Peek(), _smallest.Count);
        _smallest.Clear();
        _state = state;
        return StateJson.To(state);
    }

    protected override void LoadStateCore(JsonNode state) => _state = StateJson.From<SampleState>(state, Kind);

    public override Frame Transform(Frame input)
    {
        var hashes = RowHash.Of(input, _columns, _seed);
        var rows = new List<int>(hashes.Length);
        for (var i = 0; i < hashes.Length; i++)
            if (_fraction is { } f ? RowHash.Unit(hashes[i]) < f : hashes[i] <= _state!.Threshold) rows.Add(i);
        return rows.Count == input.RowCount ? input : input.Take([.. rows]);
    }
}

/// <summary>
/// Adds a String column (<c>output</c>, default <c>split</c>) naming each row's part. <c>by: random</c> assigns parts by
/// <c>ratios</c> ({name: share}, summing to 1) from the row's key hash. <c>by: stratified</c> is fitted: per value of
/// <c>label</c> (null is a class of its own) the rows sorted by hash are cut so each part holds its share of the class
/// rounded by largest remainder (within one row of ratio × class size when keys are distinct); the state is each class's
/// largest hash per part, and a class not seen at fit time is split at random. <c>by: time</c> compares the <c>time</c>
/// column with ascending <c>cutoffs</c>: before the first is <c>names[0]</c>, from cutoff k on is <c>names[k+1]</c>; a null
/// time gives a null part. All three are deterministic for a seed, whatever the batch boundaries.
/// </summary>
public sealed class SplitOperator : FeatureOperator
{
    private readonly string _output;
    private readonly string _by;
    private readonly long _seed;
    private readonly IReadOnlyList<string>? _key;
    private readonly IReadOnlyList<string> _names;
    private readonly double[] _cumulative = [];
    private readonly double[] _ratios = [];
    private readonly string? _label;
    private readonly string? _time;
    private readonly long[] _cutoffs = [];
    private IReadOnlyList<string> _columns = [];
    private Dictionary<ClassKey, List<ulong>> _classes = [];
    private Dictionary<ClassKey, ulong?[]>? _cuts;
    private StratifiedState? _state;

    private readonly record struct ClassKey(string? Label);

    /// <summary>Per class: its rows at fit time and, per part, the largest hash it holds (null for an empty part).</summary>
    public sealed record ClassCuts(string? Label, long Rows, IReadOnlyList<ulong?> Cuts);

    public sealed record StratifiedState(IReadOnlyList<string> Parts, IReadOnlyList<ClassCuts> Classes);

    public SplitOperator(Params p)
    {
        _output = p.OptionalString("output") ?? "split";
        _by = p.Choice("by", "random", "random", "stratified", "time");
        _seed = p.Integer("seed", 0, 0, long.MaxValue);
        _key = p.Has("key") ? p.Strings("key") : null;
        if (_by == "time")
        {
            _time = p.String("time");
            if (p.Has("ratios")) throw new StepException("ratios", "A time split takes 'cutoffs', not 'ratios'.");
            var cutoffs = p.Strings("cutoffs");
            _cutoffs = new long[cutoffs.Count];
            for (var i = 0; i < cutoffs.Count; i++)
            {
                _cutoffs[i] = Binder.ParseTimestamp(cutoffs[i]) ?? throw new StepException("cutoffs", $"'{cutoffs[i]}' is not a timestamp (use ISO 8601, e.g. 2024-06-01).");
                if (i > 0 && _cutoffs[i] <= _cutoffs[i - 1]) throw new StepException("cutoffs", "'cutoffs' must be strictly increasing.");
            }
            _names = p.Has("names") ? p.Strings("names") : _cutoffs.Length switch
            {
                1 => ["train", "test"],
                2 => ["train", "validation", "test"],
                _ => throw new StepException("names", $"Give 'names' for the {_cutoffs.Length + 1} parts."),
            };
            if (_names.Count != _cutoffs.Length + 1)
                throw new StepException("names", $"{_cutoffs.Length} cutoffs make {_cutoffs.Length + 1} parts, but 'names' lists {_names.Count}.");
            return;
        }
        if (p.Has("cutoffs")) throw new StepException("cutoffs", $"A {_by} split takes 'ratios', not 'cutoffs'.");
        if (p.Raw("ratios") is not JsonObject ratios || ratios.Count < 2)
            throw new StepException("ratios", "'ratios' must map at least two part names to their shares, e.g. {train: 0.8, test: 0.2}.");
        var names = new List<string>();
        var shares = new List<double>();
        foreach (var (name, value) in ratios)
        {
            if (value is not JsonValue v || v.GetValueKind() != JsonValueKind.Number || !(Share(v) is var share and > 0 and <= 1))
                throw new StepException($"ratios.{name}", $"'ratios.{name}' must be a number above 0 and at most 1.");
            names.Add(name);
            shares.Add(share);
        }
        if (Math.Abs(shares.Sum() - 1) > 1e-9) throw new StepException("ratios", $"The ratios add up to {shares.Sum()}, not 1.");
        _names = names;
        _ratios = [.. shares];
        _cumulative = new double[shares.Count];
        double total = 0;
        for (var i = 0; i < shares.Count; i++) _cumulative[i] = total += shares[i];
        if (_by == "stratified") _label = p.String("label");
        else if (p.Has("label")) throw new StepException("label", "Only a stratified split takes 'label'.");
    }

    private static double Share(JsonValue value) => value.TryGetValue<double>(out var d) ? d : value.TryGetValue<long>(out var l) ? l : double.NaN;

    public override string Kind => "split";
    public override bool IsFitted => _by == "stratified";
    protected override bool HasState => _state is not null;

    protected override FrameSchema BindCore(FrameSchema input)
    {
        if (_time is not null) RequireColumn(input, _time, "time", DataKind.Timestamp);
        else _columns = RowHash.Resolve(input, _key);
        if (_label is not null) RequireColumn(input, _label, "label", DataKind.String, DataKind.Int64, DataKind.Boolean, DataKind.Timestamp);
        _classes = [];
        return Replace(input, [new FieldDef(_output, DataKind.String)]);
    }

    public override void Accumulate(Frame input)
    {
        if (_label is null) return;
        var labels = VocabularyCounter.AsText(input[_label]);
        var hashes = RowHash.Of(input, _columns, _seed);
        for (var i = 0; i < hashes.Length; i++)
        {
            var key = new ClassKey(labels[i]);
            if (!_classes.TryGetValue(key, out var list)) _classes[key] = list = [];
            list.Add(hashes[i]);
        }
    }

    protected override JsonNode? FinishFitCore()
    {
        var classes = new List<ClassCuts>();
        foreach (var (key, hashes) in _classes.OrderBy(c => c.Key.Label, StringComparer.Ordinal))
        {
            hashes.Sort();
            var sizes = Apportion(hashes.Count);
            var cuts = new ulong?[sizes.Length];
            var end = 0;
            for (var k = 0; k < sizes.Length; k++)
            {
                end += sizes[k];
                cuts[k] = sizes[k] == 0 ? null : hashes[end - 1];
            }
            classes.Add(new ClassCuts(key.Label, hashes.Count, cuts));
        }
        _classes = [];
        var state = StateJson.To(new StratifiedState(_names, classes))!;
        LoadStateCore(state);
        return state;
    }

    /// <summary>Part sizes by largest remainder: each within one row of ratio × count, summing to count.</summary>
    private int[] Apportion(int count)
    {
        var exact = _ratios.Select(r => r * count).ToArray();
        var sizes = exact.Select(e => (int)Math.Floor(e)).ToArray();
        var left = count - sizes.Sum();
        foreach (var k in Enumerable.Range(0, sizes.Length).OrderByDescending(k => exact[k] - sizes[k]).ThenBy(k => k).Take(left)) sizes[k]++;
        return sizes;
    }

    protected override void LoadStateCore(JsonNode state)
    {
        var loaded = StateJson.From<StratifiedState>(state, Kind);
        if (!loaded.Parts.SequenceEqual(_names)) throw new InvalidOperationException($"The fitted split has parts {string.Join(", ", loaded.Parts)}, the step names {string.Join(", ", _names)}.");
        _state = loaded;
        _cuts = loaded.Classes.ToDictionary(c => new ClassKey(c.Label), c => c.Cuts.ToArray());
    }

    public override Frame Transform(Frame input)
    {
        var result = new string?[input.RowCount];
        if (_time is not null)
        {
            var time = input[_time];
            for (var i = 0; i < result.Length; i++)
            {
                if (!time.IsValid(i)) continue;
                var index = Array.BinarySearch(_cutoffs, time.Timestamp[i]);
                // A row at a cutoff belongs to the part that cutoff opens.
                result[i] = _names[index >= 0 ? index + 1 : ~index];
            }
            return input.With([(_output, Column.OfString(result))]);
        }
        var hashes = RowHash.Of(input, _columns, _seed);
        var labels = _label is null ? null : VocabularyCounter.AsText(input[_label]);
        for (var i = 0; i < result.Length; i++)
        {
            if (labels is not null && _cuts!.TryGetValue(new ClassKey(labels[i]), out var cuts))
            {
                var part = cuts.Length - 1;
                for (var k = 0; k < cuts.Length - 1; k++)
                    if (cuts[k] is { } cut && hashes[i] <= cut) { part = k; break; }
                result[i] = _names[part];
                continue;
            }
            var u = RowHash.Unit(hashes[i]);
            var chosen = _cumulative.Length - 1;
            for (var k = 0; k < _cumulative.Length - 1; k++)
                if (u < _cumulative[k]) { chosen = k; break; }
            result[i] = _names[chosen];
        }
        return input.With([(_output, Column.OfString(result))]);
    }
}
