using System.Text.RegularExpressions;
using Cube.Features.Engine;

namespace Cube.Features.Operators;

/// <summary>
/// A reducing step: one row per distinct value of the <c>by</c> columns (null is a group of its own, as in SQL), in order
/// of first appearance, with aggregates written <c>{output: "fn(column)"}</c>: count() (rows), count(c) (non-null values),
/// sum, mean, min, max (numbers and timestamps; nulls skipped, null when none; NaN propagates through sum and mean and is
/// the largest value for min and max, as in DuckDB), distinct_count (non-null distinct values), last (the last non-null
/// value in input order). It reads its whole input, batch by batch, when the pipeline is fitted; the steps after it read
/// its result as their source.
/// </summary>
public sealed partial class GroupByOperator : FeatureOperator
{
    private static readonly string[] Known = ["count", "sum", "mean", "min", "max", "distinct_count", "last"];
    private readonly IReadOnlyList<string> _by;
    private readonly List<(string Name, string Function, string? Column)> _aggregates = [];
    private IReadOnlyList<DataKind> _keyKinds = [];
    private List<DataKind> _kinds = [];
    private EntityIndex? _groups;
    private Accumulator[] _accumulators = [];

    [GeneratedRegex(@"^\s*([a-z_]+)\s*\(\s*([^()]*?)\s*\)\s*$")]
    private static partial Regex Call();

    public GroupByOperator(Params p)
    {
        _by = p.Strings("by");
        foreach (var (name, text) in p.StringMap("aggregates"))
        {
            var match = Call().Match(text);
            if (!match.Success) throw new StepException($"aggregates.{name}", $"'{text}' is not an aggregate; write fn(column), e.g. sum(amount) or count().");
            var function = match.Groups[1].Value;
            if (!Known.Contains(function)) throw new StepException($"aggregates.{name}", $"Unknown aggregate '{function}' (use {string.Join(", ", Known)}).");
            var column = match.Groups[2].Value.Length == 0 ? null : match.Groups[2].Value.Trim('"');
            if (column is null && function != "count") throw new StepException($"aggregates.{name}", $"{function}() needs a column.");
            _aggregates.Add((name, function, column));
        }
    }

    public override string Kind => "groupby";
    public override bool Reduces => true;
    public Frame? Result { get; private set; }
    public override bool IsReady => Result is not null;
    protected override bool HasState => Result is not null;
    public override string? OnlineRefusal => "it aggregates over its whole input";
    /// <summary>The keys and the aggregated columns: what its pass over the input reads.</summary>
    public override IReadOnlyCollection<string>? FitReads => _by.Concat(_aggregates.Where(a => a.Column is not null).Select(a => a.Column!)).Distinct(StringComparer.Ordinal).ToList();

    protected override FrameSchema BindCore(FrameSchema input)
    {
        _keyKinds = EntityIndex.Bind(input, _by, "by");
        var fields = _by.Select(b => input.Find(b)!).ToList();
        _kinds = [];
        foreach (var (name, function, column) in _aggregates)
        {
            var field = $"aggregates.{name}";
            var source = column is null ? null : RequireColumn(input, column, field);
            var kind = function switch
            {
                "count" or "distinct_count" => DataKind.Int64,
                "sum" or "mean" => DataKind.Float64,
                _ => source!.Kind,
            };
            if (function is "sum" or "mean" && source!.Kind is not (DataKind.Int64 or DataKind.Float64))
                throw new StepException(field, $"Column '{column}' is {source.Kind}; {function} needs numbers.");
            if (function is "min" or "max" && source!.Kind is not (DataKind.Int64 or DataKind.Float64 or DataKind.Timestamp))
                throw new StepException(field, $"Column '{column}' is {source.Kind}; {function} needs numbers or timestamps.");
            if (source?.Kind is DataKind.StringList or DataKind.SparseVector) throw new StepException(field, $"Column '{column}' is {source.Kind}; it cannot be aggregated.");
            if (fields.Any(f => f.Name == name)) throw new StepException(field, $"'{name}' is already a column of the output.");
            fields.Add(new FieldDef(name, kind));
            _kinds.Add(kind);
        }
        return new FrameSchema(fields);
    }

    /// <summary>Starts reading the input again from its first batch.</summary>
    public void Begin()
    {
        _groups = new EntityIndex(_keyKinds);
        _accumulators = _aggregates.Select(a => new Accumulator(a.Function)).ToArray();
        Result = null;
    }

    public void Absorb(Frame input)
    {
        var ids = _groups!.Assign(_by.Select(b => input[b]).ToArray(), input.RowCount);
        for (var a = 0; a < _aggregates.Count; a++)
            _accumulators[a].Add(ids, _groups.Count, _aggregates[a].Column is { } c ? input[c] : null);
    }

    public Frame Finish()
    {
        var columns = _groups!.Keys().ToList();
        for (var a = 0; a < _aggregates.Count; a++) columns.Add(_accumulators[a].Result(_groups.Count, _kinds[a]));
        Result = new Frame(new FrameSchema(_by.Select(b => Input.Find(b)!).Concat(_aggregates.Select((x, i) => new FieldDef(x.Name, _kinds[i])))), columns, _groups.Count);
        _accumulators = [];
        return Result;
    }

    public override Frame Transform(Frame input) =>
        throw new InvalidOperationException("A group-by step is read through its result, not transformed batch by batch.");

    /// <summary>One aggregate's running state per group, in arrays grown as groups appear.</summary>
    private sealed class Accumulator(string function)
    {
        private long[] _count = [];
        private double[] _sum = [];
        private double[] _extreme = [];
        private long[] _extremeWhole = [];
        private bool[] _nan = [];
        private Array? _last;
        private bool[] _lastValid = [];
        // Distinct values get dense codes (0, 1, 2, ... in order of appearance). While there are at most 64, each group
        // keeps a bit mask of the codes it has seen (a category column: one word per group); past that, one set of
        // (group, code) pairs holds them all.
        private Dictionary<string, int>? _stringCodes;
        private Dictionary<long, int>? _valueCodes;
        private ulong[]? _masks = [];
        private HashSet<(int Group, int Code)>? _distinct;
        private long[] _distinctCount = [];

        public void Add(int[] groups, int groupCount, Column? column)
        {
            if (_count.Length < groupCount)
            {
                var size = Math.Max(groupCount, _count.Length * 2);
                Array.Resize(ref _count, size);
                Array.Resize(ref _sum, size);
                var from = _extreme.Length;
                Array.Resize(ref _extreme, size);
                Array.Fill(_extreme, function == "min" ? double.PositiveInfinity : double.NegativeInfinity, from, size - from);
                Array.Resize(ref _extremeWhole, size);
                Array.Fill(_extremeWhole, function == "min" ? long.MaxValue : long.MinValue, from, size - from);
                Array.Resize(ref _nan, size);
                Array.Resize(ref _lastValid, size);
                if (function == "distinct_count")
                {
                    Array.Resize(ref _distinctCount, size);
                    if (_masks is not null) Array.Resize(ref _masks, size);
                }
                if (column is not null && function == "last")
                {
                    var grown = Column.NewValues(column.Kind, size);
                    if (_last is not null) Array.Copy(_last, grown, _last.Length);
                    _last = grown;
                }
            }
            if (column is null)
            {
                foreach (var g in groups) _count[g]++;
                return;
            }
            var valid = column.Valid;
            switch (function)
            {
                case "count":
                    for (var i = 0; i < groups.Length; i++)
                    {
                        Memory.Prefetch(_count, Ahead(groups, i));
                        if (valid is null || valid[i]) _count[groups[i]]++;
                    }
                    break;
                case "last":
                    for (var i = 0; i < groups.Length; i++)
                        if (valid is null || valid[i])
                        {
                            Array.Copy(column.Values, i, _last!, groups[i], 1);
                            _lastValid[groups[i]] = true;
                        }
                    break;
                case "distinct_count":
                {
                    // A dictionary-coded text column looks each entry up once, the first time a row uses it.
                    var coded = column.Codes;
                    var entryCodes = coded is null ? null : new int[coded.Entries.Length];
                    if (entryCodes is not null) Array.Fill(entryCodes, -1);
                    for (var i = 0; i < groups.Length; i++)
                    {
                        var ahead = Ahead(groups, i);
                        if (_masks is not null) Memory.Prefetch(_masks, ahead);
                        Memory.Prefetch(_distinctCount, ahead);
                        if (valid is not null && !valid[i]) continue;
                        var code = column.Kind switch
                        {
                            DataKind.String when entryCodes is not null => EntryCode(entryCodes, coded!, coded!.Codes[i]),
                            DataKind.String => Code(column.String[i]!),
                            // NaN is one value, as DuckDB counts it; 0.0 and −0.0 are one value too.
                            DataKind.Float64 => Code(double.IsNaN(column.Float64[i]) ? long.MinValue : BitConverter.DoubleToInt64Bits(column.Float64[i] + 0.0)),
                            DataKind.Boolean => column.Boolean[i] ? 1 : 0,
                            _ => Code(column.Int64[i]),
                        };
                        var g = groups[i];
                        if (_masks is not null && code >= 64) SpillMasks();
                        if (_masks is not null)
                        {
                            var bit = 1UL << code;
                            if ((_masks[g] & bit) != 0) continue;
                            _masks[g] |= bit;
                            _distinctCount[g]++;
                        }
                        else if (_distinct!.Add((g, code))) _distinctCount[g]++;
                    }
                    break;
                }
                case "sum" or "mean" when column.Kind == DataKind.Float64:
                    Sum(groups, column.Float64, valid);
                    break;
                case "sum" or "mean":
                    Sum(groups, column.Int64, valid);
                    break;
                default:
                {
                    // min and max.
                    var min = function == "min";
                    if (column.Kind != DataKind.Float64)
                    {
                        // Whole numbers and timestamps keep exact extremes (a double loses digits past 2^53).
                        var whole = column.Int64;
                        for (var i = 0; i < groups.Length; i++)
                        {
                            var ahead = Ahead(groups, i);
                            Memory.Prefetch(_count, ahead);
                            Memory.Prefetch(_extremeWhole, ahead);
                            if (valid is not null && !valid[i]) continue;
                            var g = groups[i];
                            _count[g]++;
                            if (min ? whole[i] < _extremeWhole[g] : whole[i] > _extremeWhole[g]) _extremeWhole[g] = whole[i];
                        }
                        break;
                    }
                    var values = column.Float64;
                    for (var i = 0; i < groups.Length; i++)
                    {
                        var ahead = Ahead(groups, i);
                        Memory.Prefetch(_count, ahead);
                        Memory.Prefetch(_extreme, ahead);
                        if (valid is not null && !valid[i]) continue;
                        var g = groups[i];
                        var x = values[i];
                        _count[g]++;
                        if (double.IsNaN(x)) _nan[g] = true;
                        else if (min ? x < _extreme[g] : x > _extreme[g]) _extreme[g] = x;
                    }
                    break;
                }
            }
        }

        /// <summary>Counts and sums the valid values per group, in one typed loop per column kind.</summary>
        private void Sum<T>(int[] groups, T[] values, bool[]? valid) where T : struct, System.Numerics.INumberBase<T>
        {
            for (var i = 0; i < groups.Length; i++)
            {
                var ahead = Ahead(groups, i);
                Memory.Prefetch(_count, ahead);
                Memory.Prefetch(_sum, ahead);
                if (valid is not null && !valid[i]) continue;
                _count[groups[i]]++;
                _sum[groups[i]] += double.CreateTruncating(values[i]);
            }
        }

        /// <summary>
        /// The group sixteen rows ahead (−1 past the end): its accumulator lines are requested while this row is added,
        /// since a million groups' accumulators are far larger than the caches and rows visit them at random.
        /// </summary>
        private static int Ahead(int[] groups, int i) => i + 16 < groups.Length ? groups[i + 16] : -1;

        private int EntryCode(int[] entryCodes, TextCodes coded, int entry)
        {
            ref var code = ref entryCodes[entry];
            if (code < 0) code = Code(coded.Entries[entry]);
            return code;
        }

        private int Code(string value)
        {
            var codes = _stringCodes ??= new Dictionary<string, int>(StringComparer.Ordinal);
            ref var code = ref System.Runtime.InteropServices.CollectionsMarshal.GetValueRefOrAddDefault(codes, value, out var exists);
            if (!exists) code = codes.Count - 1;
            return code;
        }

        private int Code(long value)
        {
            var codes = _valueCodes ??= [];
            ref var code = ref System.Runtime.InteropServices.CollectionsMarshal.GetValueRefOrAddDefault(codes, value, out var exists);
            if (!exists) code = codes.Count - 1;
            return code;
        }

        /// <summary>The 65th distinct value: the masks move into the set of (group, code) pairs.</summary>
        private void SpillMasks()
        {
            _distinct = [];
            for (var g = 0; g < _masks!.Length; g++)
                for (var bits = _masks[g]; bits != 0; bits &= bits - 1)
                    _distinct.Add((g, System.Numerics.BitOperations.TrailingZeroCount(bits)));
            _masks = null;
        }

        public Column Result(int groups, DataKind kind)
        {
            if (_count.Length < groups) Add([], groups, null);
            switch (function)
            {
                case "count":
                    return Column.OfInt64(_count.AsSpan(0, groups).ToArray());
                case "distinct_count":
                {
                    var counts = new long[groups];
                    Array.Copy(_distinctCount, counts, Math.Min(groups, _distinctCount.Length));
                    return Column.OfInt64(counts);
                }
                case "last":
                {
                    var values = Column.NewValues(kind, groups);
                    if (_last is not null) Array.Copy(_last, values, groups);
                    return Column.Of(kind, values, _lastValid.AsSpan(0, groups).ToArray());
                }
            }
            var valid = new bool[groups];
            var result = new double[groups];
            for (var g = 0; g < groups; g++)
            {
                if (_count[g] == 0) continue;
                valid[g] = true;
                result[g] = function switch
                {
                    "sum" => _sum[g],
                    "mean" => _sum[g] / _count[g],
                    // NaN is the largest value: the max of anything with NaN is NaN, the min only when all are NaN.
                    "max" => _nan[g] ? double.NaN : _extreme[g],
                    _ => double.IsPositiveInfinity(_extreme[g]) && _nan[g] ? double.NaN : _extreme[g],
                };
            }
            return kind switch
            {
                DataKind.Float64 => Column.OfFloat64(result, valid),
                DataKind.Timestamp => Column.OfTimestamp(_extremeWhole.AsSpan(0, groups).ToArray(), valid),
                _ => Column.OfInt64(_extremeWhole.AsSpan(0, groups).ToArray(), valid),
            };
        }
    }
}
