using System.Text.RegularExpressions;
using Cube.Features.Engine;

namespace Cube.Features.Operators;

/// <summary>
/// A step that reads a second input (<c>right</c>) in full before it transforms the first one batch by batch: the right
/// side is built once (hashed), the left side streams through <see cref="FeatureOperator.Transform"/>.
/// </summary>
public abstract class BinaryOperator : FeatureOperator
{
    private FrameSchema? _right;

    public FrameSchema RightInput => _right ?? throw new InvalidOperationException("The operator is not bound.");

    public bool IsBuilt { get; private set; }

    /// <summary>Ready once the right side is built; that happens in every fit, and is never saved in the fitted state.</summary>
    public override bool IsReady => IsBuilt;

    protected override bool HasState => IsBuilt;

    public override string? OnlineRefusal => "it joins against its whole right input, which an online request does not carry";

    public FrameSchema Bind(FrameSchema left, FrameSchema right)
    {
        _right = right;
        return Bind(left);
    }

    /// <summary>Takes the whole right input (the output of the step or input named by <c>right</c>).</summary>
    public void Build(Frame right)
    {
        BuildCore(right);
        IsBuilt = true;
    }

    protected abstract void BuildCore(Frame right);
}

/// <summary>Key columns, output naming and clash policy shared by the joins.</summary>
internal sealed class JoinLayout
{
    public required IReadOnlyList<string> LeftKeys { get; init; }
    public required IReadOnlyList<string> RightKeys { get; init; }
    /// <summary>Right columns that go to the output: index in the right schema and output name.</summary>
    public List<(int Index, string Name)> RightColumns { get; } = [];

    public static JoinLayout Read(Params p)
    {
        var left = p.Strings("on");
        var right = p.Has("rightOn") ? p.Strings("rightOn") : left;
        if (right.Count != left.Count) throw new StepException("rightOn", $"'rightOn' lists {right.Count} columns but 'on' lists {left.Count}.");
        return new JoinLayout { LeftKeys = left, RightKeys = right };
    }

    /// <summary>
    /// Checks the keys on both sides (same kinds) and lays out the output: the left columns, then the right ones except
    /// its keys (equal to the left keys where rows match). A right name already on the left gets <paramref name="suffix"/>,
    /// or is an error when <paramref name="clash"/> is <c>error</c>.
    /// </summary>
    public FrameSchema Bind(FrameSchema left, FrameSchema right, IReadOnlyCollection<string> alsoKeep, string suffix, string clash)
    {
        for (var i = 0; i < LeftKeys.Count; i++)
        {
            var l = left.Find(LeftKeys[i]) ?? throw new StepException("on", Suggest.UnknownColumn(LeftKeys[i], left) + " (left input)");
            var r = right.Find(RightKeys[i]) ?? throw new StepException(RightKeys == LeftKeys ? "on" : "rightOn", Suggest.UnknownColumn(RightKeys[i], right) + " (right input)");
            if (l.Kind is DataKind.Float64 or DataKind.StringList or DataKind.SparseVector)
                throw new StepException("on", $"Key '{l.Name}' is {l.Kind}; join on whole numbers, text, booleans or timestamps (cast it first).");
            if (l.Kind != r.Kind)
                throw new StepException("on", $"Key '{l.Name}' is {l.Kind} on the left but '{r.Name}' is {r.Kind} on the right; cast one side so they match.");
        }
        var fields = left.Fields.ToList();
        RightColumns.Clear();
        for (var i = 0; i < right.Fields.Count; i++)
        {
            var field = right.Fields[i];
            if (RightKeys.Contains(field.Name) && !alsoKeep.Contains(field.Name)) continue;
            var name = field.Name;
            if (left.Find(name) is not null)
            {
                if (clash == "error") throw new StepException("onClash", $"Column '{name}' is on both sides; rename it or set onClash: suffix.");
                name += suffix;
                if (left.Find(name) is not null || right.Find(name) is not null)
                    throw new StepException("suffix", $"Suffixing '{field.Name}' gives '{name}', which already exists; choose another suffix.");
            }
            fields.Add(new FieldDef(name, field.Kind));
            RightColumns.Add((i, name));
        }
        return new FrameSchema(fields);
    }

    /// <summary>The output: left rows repeated as <paramref name="leftRows"/> says, right rows gathered (−1 gives nulls).</summary>
    public Frame Assemble(FrameSchema output, Frame left, Frame right, int[] leftRows, int[] rightRows)
    {
        var columns = new List<Column>(output.Fields.Count);
        var identity = leftRows.Length == left.RowCount && IsIdentity(leftRows);
        foreach (var column in left.Columns) columns.Add(identity ? column : column.Take(leftRows));
        foreach (var (index, _) in RightColumns) columns.Add(right.Columns[index].TakeOrNull(rightRows));
        return new Frame(output, columns, leftRows.Length);
    }

    private static bool IsIdentity(int[] rows)
    {
        for (var i = 0; i < rows.Length; i++) if (rows[i] != i) return false;
        return true;
    }
}

/// <summary>
/// The distinct keys of the build side of a join, each a group of rows. Rows are hashed over their key columns and
/// compared column by column, so keys of any kind and count need no boxing; a row with a null key belongs to no group
/// (null never matches, as in SQL).
/// </summary>
internal sealed class KeyIndex
{
    private readonly Column[] _keys;
    // One whole-number key (ids, the usual entity key) is looked up by value; other keys by hash chains.
    private readonly LongTable? _byLong;
    private readonly Dictionary<ulong, int> _head = [];
    private readonly List<int> _nextGroup = [];
    private readonly List<int> _groupRow = [];

    public KeyIndex(Column[] keys, int rowCount, Func<int, bool>? include = null)
    {
        _keys = keys;
        GroupOf = new int[rowCount];
        if (keys is [{ Kind: DataKind.Int64 or DataKind.Timestamp } key])
        {
            _byLong = new LongTable();
            var values = key.Int64;
            for (var row = 0; row < rowCount; row++)
            {
                if (!key.IsValid(row) || (include is not null && !include(row)))
                {
                    GroupOf[row] = -1;
                    continue;
                }
                var group = _byLong.GetOrAdd(values[row], _groupRow.Count, out var added);
                if (added) _groupRow.Add(row);
                GroupOf[row] = group;
            }
            return;
        }
        for (var row = 0; row < rowCount; row++)
        {
            if (!AllValid(keys, row) || (include is not null && !include(row)))
            {
                GroupOf[row] = -1;
                continue;
            }
            var hash = Hash(keys, row);
            var group = Find(hash, keys, row);
            if (group < 0)
            {
                group = _groupRow.Count;
                _groupRow.Add(row);
                _nextGroup.Add(_head.TryGetValue(hash, out var first) ? first : -1);
                _head[hash] = group;
            }
            GroupOf[row] = group;
        }
    }

    /// <summary>The group of each build row, −1 for rows left out.</summary>
    public int[] GroupOf { get; }

    public int GroupCount => _groupRow.Count;

    /// <summary>The group whose key equals the probe row's, or −1 (also for a null key).</summary>
    public int Find(Column[] probe, int row)
    {
        if (!AllValid(probe, row)) return -1;
        // Probe keys of another kind (a text key against whole numbers) never match; the binding refuses such joins anyway.
        if (_byLong is not null) return probe[0].Kind is DataKind.Int64 or DataKind.Timestamp ? _byLong.Find(probe[0].Int64[row]) : -1;
        return Find(Hash(probe, row), probe, row);
    }

    /// <summary>
    /// The groups of probe rows <c>[from, from + groups.Length)</c>, as <see cref="Find(Column[], int)"/> gives them; a
    /// whole-number key has its table lines requested for the whole block first, so their memory waits overlap.
    /// </summary>
    public void FindBlock(Column[] probe, int from, Span<int> groups)
    {
        if (_byLong is not null && probe is [{ Kind: DataKind.Int64 or DataKind.Timestamp } key])
        {
            var values = key.Int64;
            for (var i = 0; i < groups.Length; i++) _byLong.Prefetch(values[from + i]);
            for (var i = 0; i < groups.Length; i++) groups[i] = key.IsValid(from + i) ? _byLong.Find(values[from + i]) : -1;
            return;
        }
        for (var i = 0; i < groups.Length; i++) groups[i] = Find(probe, from + i);
    }

    /// <summary>Rows of each group, in row order: rows[start[g] .. start[g+1]).</summary>
    public (int[] Start, int[] Rows) Groups()
    {
        var start = new int[GroupCount + 1];
        foreach (var g in GroupOf) if (g >= 0) start[g + 1]++;
        for (var g = 0; g < GroupCount; g++) start[g + 1] += start[g];
        var rows = new int[start[GroupCount]];
        var at = (int[])start.Clone();
        for (var row = 0; row < GroupOf.Length; row++) if (GroupOf[row] >= 0) rows[at[GroupOf[row]]++] = row;
        return (start, rows);
    }

    private int Find(ulong hash, Column[] probe, int row)
    {
        if (!_head.TryGetValue(hash, out var group)) return -1;
        for (; group >= 0; group = _nextGroup[group])
            if (Equal(_keys, _groupRow[group], probe, row)) return group;
        return -1;
    }

    private static bool AllValid(Column[] keys, int row)
    {
        foreach (var key in keys) if (!key.IsValid(row)) return false;
        return true;
    }

    internal static ulong Hash(Column[] keys, int row)
    {
        var hash = 0xcbf29ce484222325UL;
        foreach (var key in keys)
        {
            var value = key.Kind switch
            {
                DataKind.Int64 or DataKind.Timestamp => (ulong)key.Int64[row],
                DataKind.Boolean => key.Boolean[row] ? 1UL : 2UL,
                DataKind.String => (ulong)(uint)key.String[row]!.GetHashCode(StringComparison.Ordinal),
                DataKind.Float64 => (ulong)BitConverter.DoubleToInt64Bits(key.Float64[row]),
                _ => throw new InvalidOperationException($"{key.Kind} cannot be a key."),
            };
            hash = (hash ^ value) * 0x100000001b3UL;
            hash ^= hash >> 31;
        }
        return hash;
    }

    private static bool Equal(Column[] a, int rowA, Column[] b, int rowB)
    {
        for (var k = 0; k < a.Length; k++)
        {
            var same = a[k].Kind switch
            {
                DataKind.Int64 or DataKind.Timestamp => a[k].Int64[rowA] == b[k].Int64[rowB],
                DataKind.Boolean => a[k].Boolean[rowA] == b[k].Boolean[rowB],
                DataKind.String => string.Equals(a[k].String[rowA], b[k].String[rowB], StringComparison.Ordinal),
                DataKind.Float64 => a[k].Float64[rowA].Equals(b[k].Float64[rowB]),
                _ => false,
            };
            if (!same) return false;
        }
        return true;
    }
}

/// <summary>Growable pair of row-index arrays: the matches of a join, without a per-row allocation.</summary>
internal sealed class RowPairs(int capacity)
{
    private int[] _left = new int[Math.Max(4, capacity)];
    private int[] _right = new int[Math.Max(4, capacity)];

    public int Count { get; private set; }

    public void Add(int left, int right)
    {
        if (Count == _left.Length)
        {
            Array.Resize(ref _left, Count * 2);
            Array.Resize(ref _right, Count * 2);
        }
        _left[Count] = left;
        _right[Count] = right;
        Count++;
    }

    public int[] Left => _left.AsSpan(0, Count).ToArray();
    public int[] Right => _right.AsSpan(0, Count).ToArray();
}

/// <summary>
/// Hash join (<c>how: inner</c> or <c>left</c>) on one or more key columns: the right input is hashed once, each left
/// batch probes it. Output: left columns then right non-key columns, in left row order, matches in right row order.
/// </summary>
public sealed class HashJoinOperator(Params p) : BinaryOperator
{
    private readonly JoinLayout _layout = JoinLayout.Read(p);
    private readonly string _how = p.Choice("how", "inner", "inner", "left");
    private readonly string _suffix = p.OptionalString("suffix") ?? "_right";
    private readonly string _clash = p.Choice("onClash", "suffix", "suffix", "error");
    private FrameSchema? _output;
    private Frame? _right;
    private KeyIndex? _index;
    private int[] _start = [];
    private int[] _rows = [];

    public override string Kind => "join";

    protected override FrameSchema BindCore(FrameSchema input) => _output = _layout.Bind(input, RightInput, [], _suffix, _clash);

    protected override void BuildCore(Frame right)
    {
        _right = right;
        _index = new KeyIndex(_layout.RightKeys.Select(k => right[k]).ToArray(), right.RowCount);
        (_start, _rows) = _index.Groups();
    }

    public override Frame Transform(Frame input)
    {
        var keys = _layout.LeftKeys.Select(k => input[k]).ToArray();
        var pairs = new RowPairs(input.RowCount);
        for (var i = 0; i < input.RowCount; i++)
        {
            var group = _index!.Find(keys, i);
            if (group < 0)
            {
                if (_how == "left") pairs.Add(i, -1);
                continue;
            }
            for (var j = _start[group]; j < _start[group + 1]; j++) pairs.Add(i, _rows[j]);
        }
        return _layout.Assemble(_output!, input, _right!, pairs.Left, pairs.Right);
    }
}

/// <summary>
/// Point-in-time (as-of) join: for each left row, the right row with the same entity key and the latest right time at or
/// before the left time (within <c>tolerance</c> when given), so a training row only sees feature values known at its
/// time. Of right rows with equal key and time, the last in input order wins. <c>how: left</c> keeps unmatched left rows
/// with nulls; <c>inner</c> drops them. Left rows keep their order.
/// </summary>
public sealed class AsOfJoinOperator(Params p) : BinaryOperator
{
    private readonly JoinLayout _layout = JoinLayout.Read(p);
    private readonly string _time = p.String("time");
    private readonly string _rightTime = p.OptionalString("rightTime") ?? p.String("time");
    private readonly long? _tolerance = p.Has("tolerance") ? Durations.Parse(p.String("tolerance"), "tolerance") : null;
    private readonly string _how = p.Choice("how", "left", "left", "inner");
    private readonly string _suffix = p.OptionalString("suffix") ?? "_right";
    private readonly string _clash = p.Choice("onClash", "suffix", "suffix", "error");
    private FrameSchema? _output;
    private Frame? _right;
    private KeyIndex? _index;
    private int[] _start = [];
    private long[] _times = [];

    public override string Kind => "asof_join";

    protected override FrameSchema BindCore(FrameSchema input)
    {
        RequireColumn(input, _time, "time", DataKind.Timestamp);
        RequireColumn(RightInput, _rightTime, "rightTime", DataKind.Timestamp);
        if (_layout.RightKeys.Contains(_rightTime)) throw new StepException("rightTime", $"'{_rightTime}' is both a key and the time.");
        // The right time stays in the output (suffixed when it clashes): it tells how old each joined value is.
        return _output = _layout.Bind(input, RightInput, [_rightTime], _suffix, _clash);
    }

    protected override void BuildCore(Frame right)
    {
        var time = right[_rightTime];
        _index = new KeyIndex(_layout.RightKeys.Select(k => right[k]).ToArray(), right.RowCount, time.IsValid);
        (_start, var rows) = _index.Groups();
        var ts = time.Timestamp;
        for (var g = 0; g < _index.GroupCount; g++)
            rows.AsSpan(_start[g], _start[g + 1] - _start[g]).Sort((a, b) => ts[a] != ts[b] ? ts[a].CompareTo(ts[b]) : a.CompareTo(b));
        // The right rows are laid out in (key, time) order, so a match's position in the times is also its row in
        // the laid-out right side: a probe reads the times and then the joined values, with no row number in between.
        _right = right.Take(rows);
        _times = _right[_rightTime].Timestamp;
    }

    public override Frame Transform(Frame input)
    {
        var keys = _layout.LeftKeys.Select(k => input[k]).ToArray();
        var time = input[_time];
        var ts = time.Timestamp;
        var pairs = new RowPairs(input.RowCount);
        // Rows go through in blocks, one stage per random memory access (the key's table slot, the group's range, its
        // first time), each stage requesting the next one's cache lines for the whole block before any row waits for
        // them: the right side is too large for the caches, and a row at a time waits for memory three times.
        const int Block = 32;
        Span<int> groups = stackalloc int[Block];
        Span<int> starts = stackalloc int[Block];
        for (var from = 0; from < input.RowCount; from += Block)
        {
            var count = Math.Min(Block, input.RowCount - from);
            var block = groups[..count];
            _index!.FindBlock(keys, from, block);
            for (var j = 0; j < count; j++)
            {
                if (!time.IsValid(from + j)) block[j] = -1;
                else if (block[j] >= 0) Memory.Prefetch(_start, block[j]);
            }
            for (var j = 0; j < count; j++)
                if (block[j] >= 0)
                {
                    starts[j] = _start[block[j]];
                    Memory.Prefetch(_times, starts[j]);
                }
            for (var j = 0; j < count; j++)
            {
                var i = from + j;
                var match = -1;
                if (block[j] is var group and >= 0)
                {
                    // The last position in the group with time <= ts[i]: an upper bound by binary search.
                    int first = starts[j], lo = first, hi = _start[group + 1];
                    while (lo < hi)
                    {
                        var mid = (lo + hi) >>> 1;
                        if (_times[mid] <= ts[i]) lo = mid + 1;
                        else hi = mid;
                    }
                    if (lo > first && (_tolerance is null || ts[i] - _times[lo - 1] <= _tolerance)) match = lo - 1;
                }
                if (match >= 0 || _how == "left") pairs.Add(i, match);
            }
        }
        return _layout.Assemble(_output!, input, _right!, pairs.Left, pairs.Right);
    }
}

/// <summary>Durations written as a whole number and a unit: <c>7d</c>, <c>12h</c>, <c>30m</c>, <c>45s</c>, <c>250ms</c>.</summary>
internal static partial class Durations
{
    [GeneratedRegex(@"^\s*(\d{1,12})\s*(ms|s|m|h|d|w)\s*$")]
    private static partial Regex Pattern();

    /// <summary>The duration in microseconds.</summary>
    public static long Parse(string text, string field)
    {
        var match = Pattern().Match(text);
        if (!match.Success) throw new StepException(field, $"'{text}' is not a duration; write a whole number and a unit (ms, s, m, h, d, w), e.g. 7d.");
        var amount = long.Parse(match.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
        var unit = match.Groups[2].Value switch
        {
            "ms" => 1_000L,
            "s" => 1_000_000L,
            "m" => 60_000_000L,
            "h" => 3_600_000_000L,
            "d" => 86_400_000_000L,
            _ => 604_800_000_000L,
        };
        if (amount > long.MaxValue / unit) throw new StepException(field, $"'{text}' is too long.");
        return amount * unit;
    }
}
