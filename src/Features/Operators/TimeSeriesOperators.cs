using Cube.Features.Engine;
using Cube.Features.Expressions;

namespace Cube.Features.Operators;

/// <summary>
/// Entities (distinct values of the <c>by</c> columns) seen so far, numbered as they appear; grows batch by batch. Null
/// is a value of its own, as in SQL's PARTITION BY and GROUP BY. Keys are kept once per entity, never boxed per row.
/// </summary>
internal sealed class EntityIndex(IReadOnlyList<DataKind> kinds)
{
    private readonly Dictionary<ulong, int> _head = [];
    private readonly List<int> _next = [];
    private readonly List<long>[] _longs = kinds.Select(_ => new List<long>()).ToArray();
    private readonly List<string?>[] _strings = kinds.Select(_ => new List<string?>()).ToArray();
    private readonly List<bool>[] _valid = kinds.Select(_ => new List<bool>()).ToArray();

    // One whole-number or text key (the common case) is looked up by its value directly; the null key has its own slot.
    private readonly LongTable? _byLong = kinds is [DataKind.Int64 or DataKind.Timestamp] ? new() : null;
    private readonly Dictionary<string, int>? _byString = kinds is [DataKind.String] ? new(StringComparer.Ordinal) : null;
    private int _nullId = -1;

    public int Count => _next.Count;

    /// <summary>Entity numbers of every row of <paramref name="keys"/>, adding new entities.</summary>
    public int[] Assign(Column[] keys, int rows)
    {
        if (_byLong is not null) return AssignLongs(_byLong, keys[0], rows);
        if (_byString is not null) return AssignSingle(_byString, (string[])keys[0].Values, keys[0], rows);
        var ids = new int[rows];
        for (var row = 0; row < rows; row++)
        {
            var hash = 0xcbf29ce484222325UL;
            for (var k = 0; k < keys.Length; k++)
            {
                var value = !keys[k].IsValid(row) ? 0x9e3779b97f4a7c15UL : kinds[k] switch
                {
                    DataKind.String => (ulong)(uint)keys[k].String[row]!.GetHashCode(StringComparison.Ordinal),
                    DataKind.Boolean => keys[k].Boolean[row] ? 1UL : 2UL,
                    _ => (ulong)keys[k].Int64[row],
                };
                hash = (hash ^ value) * 0x100000001b3UL;
                hash ^= hash >> 31;
            }
            var id = _head.TryGetValue(hash, out var first) ? first : -1;
            while (id >= 0 && !Equal(id, keys, row)) id = _next[id];
            if (id < 0)
            {
                id = _next.Count;
                _next.Add(_head.TryGetValue(hash, out var chain) ? chain : -1);
                _head[hash] = id;
                for (var k = 0; k < keys.Length; k++)
                {
                    var valid = keys[k].IsValid(row);
                    _valid[k].Add(valid);
                    _strings[k].Add(kinds[k] == DataKind.String && valid ? keys[k].String[row] : null);
                    _longs[k].Add(!valid ? 0 : kinds[k] switch
                    {
                        DataKind.String => 0,
                        DataKind.Boolean => keys[k].Boolean[row] ? 1 : 0,
                        _ => keys[k].Int64[row],
                    });
                }
            }
            ids[row] = id;
        }
        return ids;
    }

    /// <summary>One whole-number key, looked up in the flat table (null has its own entity).</summary>
    private int[] AssignLongs(LongTable index, Column key, int rows)
    {
        var ids = new int[rows];
        var values = key.Int64;
        var valid = key.Valid;
        for (var row = 0; row < rows; row++)
        {
            // The key sixteen rows ahead has its table line requested now: entity ids land anywhere in a large table.
            if (row + 16 < rows) index.Prefetch(values[row + 16]);
            if (valid is not null && !valid[row])
            {
                if (_nullId < 0) _nullId = AddEntity(0, valid: false);
                ids[row] = _nullId;
                continue;
            }
            ids[row] = index.GetOrAdd(values[row], _next.Count, out var added);
            if (added) AddEntity(values[row], valid: true);
        }
        return ids;
    }

    private int AddEntity(long value, bool valid)
    {
        _next.Add(-1);
        _valid[0].Add(valid);
        _strings[0].Add(null);
        _longs[0].Add(valid ? value : 0);
        return _next.Count - 1;
    }

    private int[] AssignSingle<T>(Dictionary<T, int> index, T[] values, Column key, int rows) where T : notnull
    {
        var ids = new int[rows];
        var valid = key.Valid;
        for (var row = 0; row < rows; row++)
        {
            if (valid is not null && !valid[row])
            {
                if (_nullId < 0) _nullId = Add(default, valid: false);
                ids[row] = _nullId;
                continue;
            }
            ref var id = ref System.Runtime.InteropServices.CollectionsMarshal.GetValueRefOrAddDefault(index, values[row], out var exists);
            if (!exists) id = Add(values[row], valid: true);
            ids[row] = id;
        }
        return ids;

        int Add(T? value, bool valid)
        {
            _next.Add(-1);
            _valid[0].Add(valid);
            _strings[0].Add(valid ? value as string : null);
            _longs[0].Add(valid && value is long whole ? whole : 0);
            return _next.Count - 1;
        }
    }

    private bool Equal(int id, Column[] keys, int row)
    {
        for (var k = 0; k < keys.Length; k++)
        {
            var valid = keys[k].IsValid(row);
            if (valid != _valid[k][id]) return false;
            if (!valid) continue;
            var same = kinds[k] switch
            {
                DataKind.String => string.Equals(_strings[k][id], keys[k].String[row], StringComparison.Ordinal),
                DataKind.Boolean => (_longs[k][id] == 1) == keys[k].Boolean[row],
                _ => _longs[k][id] == keys[k].Int64[row],
            };
            if (!same) return false;
        }
        return true;
    }

    /// <summary>The key columns of every entity, in entity order (the group-by output).</summary>
    public Column[] Keys()
    {
        var columns = new Column[kinds.Count];
        for (var k = 0; k < kinds.Count; k++)
        {
            var valid = _valid[k].ToArray();
            columns[k] = kinds[k] switch
            {
                DataKind.String => Column.OfString(_strings[k].ToArray()),
                DataKind.Boolean => Column.OfBoolean(_longs[k].Select(v => v == 1).ToArray(), valid),
                DataKind.Timestamp => Column.OfTimestamp(_longs[k].ToArray(), valid),
                _ => Column.OfInt64(_longs[k].ToArray(), valid),
            };
        }
        return columns;
    }

    public static IReadOnlyList<DataKind> Bind(FrameSchema input, IReadOnlyList<string> by, string field) =>
        by.Select(name =>
        {
            var column = input.Find(name) ?? throw new StepException(field, Suggest.UnknownColumn(name, input));
            if (column.Kind is DataKind.Float64 or DataKind.StringList or DataKind.SparseVector)
                throw new StepException(field, $"Column '{name}' is {column.Kind}; entities are keyed by whole numbers, text, booleans or timestamps.");
            return column.Kind;
        }).ToList();
}

/// <summary>
/// Shared by the steps that keep per-entity history across batches: rows must arrive in time order within each entity
/// (a row earlier than its entity's previous one fails naming the row); a row with a null time has no history and a
/// null result. The history starts empty at the start of every pass over the input.
/// </summary>
public abstract class HistoryOperator(Params p) : FeatureOperator
{
    protected IReadOnlyList<string> By { get; } = p.Has("by") ? p.Strings("by") : [];
    protected string Time { get; } = p.String("time");
    private protected EntityIndex? Entities { get; private set; }
    private IReadOnlyList<DataKind> _kinds = [];
    protected long[] LastTime { get; private set; } = [];

    protected override bool HasState => true;
    public override bool CarriesStateAcrossBatches => true;

    public override string? OnlineRefusal => "it needs each entity's earlier rows (history), which an online request does not carry";

    protected void BindHistory(FrameSchema input)
    {
        RequireColumn(input, Time, "time", DataKind.Timestamp, DataKind.Int64);
        _kinds = EntityIndex.Bind(input, By, "by");
        Reset();
    }

    public override void Reset()
    {
        Entities = new EntityIndex(_kinds);
        LastTime = [];
        ResetHistory();
    }

    protected abstract void ResetHistory();

    /// <summary>Entity per row, checked for time order (grows <see cref="LastTime"/> as entities appear).</summary>
    protected int[] Entity(Frame input)
    {
        var ids = Entities!.Assign(By.Select(b => input[b]).ToArray(), input.RowCount);
        if (LastTime.Length < Entities.Count)
        {
            var grown = new long[Math.Max(Entities.Count, LastTime.Length * 2)];
            Array.Fill(grown, long.MinValue, LastTime.Length, grown.Length - LastTime.Length);
            Array.Copy(LastTime, grown, LastTime.Length);
            LastTime = grown;
        }
        var time = input[Time];
        var ts = time.Int64;
        for (var i = 0; i < ids.Length; i++)
        {
            if (!time.IsValid(i)) continue;
            if (ts[i] < LastTime[ids[i]])
                throw new TransformException($"Rows must arrive in '{Time}' order within each entity; this row goes back in time. Sort the input first.", Time, i);
            LastTime[ids[i]] = ts[i];
        }
        return ids;
    }
}

/// <summary>
/// The value <c>n</c> rows earlier in the same entity (<c>by</c>), in time order (<c>time</c>), as <c>{column}_lag{n}</c>;
/// null when the entity has fewer earlier rows. Carries each entity's last n values across batches.
/// </summary>
public sealed class LagOperator(Params p) : HistoryOperator(p)
{
    private readonly IReadOnlyList<string> _columns = p.Strings("columns");
    private readonly int _n = (int)p.Integer("n", 1, 1, 1_000);
    private List<FieldDef> _fields = [];
    // Per entity and column: a ring of the last n values (boxed once per entity, not per row).
    private List<Array[]> _rings = [];
    private List<bool[][]> _ringValid = [];
    private List<long> _seen = [];

    public override string Kind => "lag";

    protected override FrameSchema BindCore(FrameSchema input)
    {
        _fields = _columns.Select(c => RequireColumn(input, c, "columns")).ToList();
        BindHistory(input);
        return Replace(input, _fields.Select(f => new FieldDef($"{f.Name}_lag{_n}", f.Kind)));
    }

    protected override void ResetHistory()
    {
        _rings = [];
        _ringValid = [];
        _seen = [];
    }

    public override Frame Transform(Frame input)
    {
        var ids = Entity(input);
        var time = input[Time];
        while (_rings.Count < Entities!.Count)
        {
            _rings.Add(_fields.Select(f => Column.NewValues(f.Kind, _n)).ToArray());
            _ringValid.Add(_fields.Select(_ => new bool[_n]).ToArray());
            _seen.Add(0);
        }
        var outputs = _fields.Select(f => Column.NewValues(f.Kind, input.RowCount)).ToArray();
        var valid = _fields.Select(_ => new bool[input.RowCount]).ToArray();
        var sources = _fields.Select(f => input[f.Name]).ToArray();
        for (var i = 0; i < input.RowCount; i++)
        {
            if (!time.IsValid(i)) continue;
            var entity = ids[i];
            var seen = _seen[entity];
            var slot = (int)(seen % _n);
            for (var c = 0; c < sources.Length; c++)
            {
                var ring = _rings[entity][c];
                if (seen >= _n)
                {
                    // The slot about to be overwritten holds the value n rows back.
                    Array.Copy(ring, slot, outputs[c], i, 1);
                    valid[c][i] = _ringValid[entity][c][slot];
                }
                Array.Copy(sources[c].Values, i, ring, slot, 1);
                _ringValid[entity][c][slot] = sources[c].IsValid(i);
            }
            _seen[entity] = seen + 1;
        }
        return input.With(_fields.Select((f, c) => ($"{f.Name}_lag{_n}", Column.Of(f.Kind, outputs[c], valid[c]))).ToList());
    }
}

/// <summary>
/// Aggregates over a trailing time window per entity: for each row, the rows of its entity with time in
/// [time − window, time] that arrived up to and including it. count counts non-null values; sum, mean, min and max skip
/// nulls (null when none), NaN propagates through sum and mean and counts as the largest value for min and max, as in
/// DuckDB. Outputs <c>{column}_{aggregate}_{window}</c>. History is kept per entity only as far back as the window.
/// </summary>
public sealed class RollingOperator(Params p) : HistoryOperator(p)
{
    private static readonly string[] Known = ["count", "sum", "mean", "min", "max"];
    private readonly IReadOnlyList<string> _columns = p.Strings("columns");
    private readonly IReadOnlyList<string> _aggregates = p.Has("aggregates") ? p.Strings("aggregates") : ["mean"];
    private readonly string _windowText = p.String("window");
    private readonly long _window = Durations.Parse(p.String("window"), "window");
    private readonly List<Queue<(long Time, double Value, bool Valid)>[]> _history = [];

    public override string Kind => "rolling";

    protected override FrameSchema BindCore(FrameSchema input)
    {
        foreach (var aggregate in _aggregates)
            if (!Known.Contains(aggregate)) throw new StepException("aggregates", $"Unknown aggregate '{aggregate}' (use {string.Join(", ", Known)}).");
        foreach (var c in _columns) RequireColumn(input, c, "columns", DataKind.Int64, DataKind.Float64);
        if (input.Find(Time)?.Kind == DataKind.Int64)
            throw new StepException("time", $"A time window needs a timestamp column; '{Time}' is Int64 (cast it to timestamp).");
        BindHistory(input);
        return Replace(input, Outputs().Select(o => new FieldDef(o.Name, o.Aggregate == "count" ? DataKind.Int64 : DataKind.Float64)));
    }

    private IEnumerable<(string Column, string Aggregate, string Name)> Outputs() =>
        from c in _columns from a in _aggregates select (c, a, $"{c}_{a}_{_windowText.Trim()}");

    protected override void ResetHistory() => _history.Clear();

    public override Frame Transform(Frame input)
    {
        var ids = Entity(input);
        var time = input[Time];
        var ts = time.Timestamp;
        while (_history.Count < Entities!.Count) _history.Add(_columns.Select(_ => new Queue<(long, double, bool)>()).ToArray());
        var outputs = Outputs().ToList();
        var results = outputs.Select(_ => new double[input.RowCount]).ToArray();
        var valid = outputs.Select(_ => new bool[input.RowCount]).ToArray();
        for (var c = 0; c < _columns.Count; c++)
        {
            var column = input[_columns[c]];
            var values = Kernels.ToFloat(column).Float64;
            for (var i = 0; i < input.RowCount; i++)
            {
                if (!time.IsValid(i)) continue;
                var window = _history[ids[i]][c];
                window.Enqueue((ts[i], values[i], column.IsValid(i)));
                while (window.Peek().Time < ts[i] - _window) window.Dequeue();
                long count = 0;
                double sum = 0, min = double.PositiveInfinity, max = double.NegativeInfinity;
                bool minNaN = true, anyNaN = false;
                foreach (var (_, value, ok) in window)
                {
                    if (!ok) continue;
                    count++;
                    sum += value;
                    if (double.IsNaN(value))
                    {
                        anyNaN = true;
                        continue;
                    }
                    minNaN = false;
                    if (value < min) min = value;
                    if (value > max) max = value;
                }
                for (var o = 0; o < outputs.Count; o++)
                {
                    if (outputs[o].Column != _columns[c]) continue;
                    if (outputs[o].Aggregate == "count")
                    {
                        results[o][i] = count;
                        valid[o][i] = true;
                        continue;
                    }
                    if (count == 0) continue;
                    valid[o][i] = true;
                    results[o][i] = outputs[o].Aggregate switch
                    {
                        "sum" => sum,
                        "mean" => sum / count,
                        "min" => minNaN ? double.NaN : min,
                        _ => anyNaN ? double.NaN : max,
                    };
                }
            }
        }
        return input.With(outputs.Select((o, k) => (o.Name, o.Aggregate == "count"
            ? Column.OfInt64(results[k].Select(v => (long)v).ToArray(), valid[k])
            : Column.OfFloat64(results[k], valid[k]))).ToList());
    }
}
