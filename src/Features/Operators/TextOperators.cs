using System.Text.Json.Nodes;
using Cube.Features.Engine;

namespace Cube.Features.Operators;

/// <summary>
/// Word n-grams of a token list: every run of <c>min</c> … <c>max</c> consecutive tokens joined by <c>separator</c>
/// (default a space), shortest first and in token order within each length. Null stays null; a list shorter than
/// <c>min</c> gives an empty list.
/// </summary>
public sealed class NgramsOperator : FeatureOperator
{
    private readonly string _column;
    private readonly string _output;
    private readonly int _min;
    private readonly int _max;
    private readonly string _separator;

    public NgramsOperator(Params p)
    {
        _column = p.String("column");
        _output = p.OptionalString("output") ?? $"{_column}_ngrams";
        _min = (int)p.Integer("min", 1, 1, 10);
        _max = (int)p.Integer("max", 2, 1, 10);
        if (_max < _min) throw new StepException("max", $"'max' ({_max}) must not be below 'min' ({_min}).");
        // The separator may be a single space, which Params.String would reject as blank.
        _separator = p.Raw("separator") is JsonValue v && v.TryGetValue<string>(out var s) && s.Length > 0 ? s
            : p.Has("separator") ? throw new StepException("separator", "'separator' must be a non-empty string.") : " ";
    }

    public override string Kind => "ngrams";
    protected override bool HasState => true;

    protected override FrameSchema BindCore(FrameSchema input)
    {
        RequireColumn(input, _column, "column", DataKind.StringList);
        return Replace(input, [new FieldDef(_output, DataKind.StringList)]);
    }

    public override Frame Transform(Frame input)
    {
        var lists = input[_column].StringList;
        var result = new string[]?[lists.Length];
        for (var i = 0; i < lists.Length; i++)
        {
            if (lists[i] is not { } tokens) continue;
            var grams = new List<string>();
            for (var n = _min; n <= _max; n++)
                for (var start = 0; start + n <= tokens.Length; start++)
                    grams.Add(n == 1 ? tokens[start] : string.Join(_separator, tokens, start, n));
            result[i] = [.. grams];
        }
        return input.With([(_output, Column.OfStringList(result))]);
    }
}

/// <summary>
/// TF-IDF of a token list (from <c>tokenize</c> or <c>ngrams</c>) over a fitted vocabulary, as one dense Float64 column
/// <c>{prefix}_{term}</c> per vocabulary term (prefix defaults to <c>{column}_tfidf</c>), in vocabulary order, so later
/// steps and ML.NET training read plain numeric columns. The vocabulary keeps terms found in at least <c>minDf</c>
/// documents, the <c>maxFeatures</c> most frequent by total count (ties by ordinal text order). A document is a non-null
/// list; tf is the raw count of the term in the row; idf is ln((1 + N) / (1 + df)) + 1 with <c>smoothIdf</c> (default),
/// ln(N / df) + 1 without, N the number of documents seen at fit time; with <c>norm: l2</c> (default) each row is divided
/// by its Euclidean norm over the vocabulary. A null list, an empty one, or one without vocabulary terms is all zeros.
/// The state is <c>{documents, terms, idf}</c>. With <c>output: sparse</c> the weights are one column <c>{prefix}</c>
/// of sparse vectors instead (vocabulary index and float weight of each non-zero term, by ascending index; a null or
/// empty list is an empty vector), so vocabularies of up to 1,000,000 terms stay one column and a row costs what it holds.
/// </summary>
public sealed class TfidfOperator : FeatureOperator
{
    /// <summary>Above this many terms a dense output would be thousands of mostly-zero columns: the sparse output is required.</summary>
    public const int MaxDenseFeatures = 10_000;

    private readonly string _column;
    private readonly string _prefix;
    private readonly long _minDf;
    private readonly int _maxFeatures;
    private readonly bool _sparse;

    public TfidfOperator(Params p)
    {
        _column = p.String("column");
        _prefix = p.OptionalString("prefix") ?? $"{_column}_tfidf";
        _minDf = p.Integer("minDf", 1, 1, long.MaxValue);
        _sparse = p.Choice("output", "dense", "dense", "sparse") == "sparse";
        _maxFeatures = (int)p.Integer("maxFeatures", 1_000, 1, 1_000_000);
        if (!_sparse && _maxFeatures > MaxDenseFeatures)
            throw new StepException("maxFeatures", $"A dense TF-IDF output has at most {MaxDenseFeatures:N0} columns; use 'output: sparse' for {_maxFeatures:N0} terms.");
        _smooth = p.Boolean("smoothIdf", true);
        _l2 = p.Choice("norm", "l2", "l2", "none") == "l2";
        _keep = p.Boolean("keepOriginal", false);
    }

    private readonly bool _smooth;
    private readonly bool _l2;
    private readonly bool _keep;
    private Dictionary<string, (long Count, long Documents)> _counts = new(StringComparer.Ordinal);
    private long _documents;
    private TfidfState? _state;
    private Dictionary<string, int> _codes = [];

    /// <summary>The fitted vocabulary: terms in column order and their idf, with the document count they came from.</summary>
    public sealed record TfidfState(long Documents, IReadOnlyList<string> Terms, IReadOnlyList<double> Idf);

    public override string Kind => "tfidf";
    public override bool IsFitted => true;
    protected override bool HasState => _state is not null;
    public override bool SchemaAwaitsFit => _state is null && !_sparse;

    protected override FrameSchema BindCore(FrameSchema input)
    {
        RequireColumn(input, _column, "column", DataKind.StringList);
        _counts = new(StringComparer.Ordinal);
        _documents = 0;
        var fields = input.Fields.Where(f => _keep || f.Name != _column).ToList();
        if (_sparse)
        {
            if (fields.Any(f => f.Name == _prefix)) throw new StepException("prefix", $"The TF-IDF column '{_prefix}' already exists in the input.");
            fields.Add(new FieldDef(_prefix, DataKind.SparseVector));
            return new FrameSchema(fields);
        }
        foreach (var term in _state?.Terms ?? [])
        {
            var name = $"{_prefix}_{term}";
            if (fields.Any(f => f.Name == name)) throw new StepException("prefix", $"The TF-IDF column '{name}' already exists in the input.");
            fields.Add(new FieldDef(name, DataKind.Float64));
        }
        return new FrameSchema(fields);
    }

    public override void Accumulate(Frame input)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var tokens in input[_column].StringList)
        {
            if (tokens is null) continue;
            _documents++;
            seen.Clear();
            foreach (var token in tokens)
            {
                var (count, documents) = _counts.GetValueOrDefault(token);
                _counts[token] = (count + 1, seen.Add(token) ? documents + 1 : documents);
            }
        }
    }

    protected override JsonNode? FinishFitCore()
    {
        var n = _documents;
        var terms = _counts.Where(c => c.Value.Documents >= _minDf)
            .OrderByDescending(c => c.Value.Count).ThenBy(c => c.Key, StringComparer.Ordinal).Take(_maxFeatures).ToList();
        var state = new TfidfState(n, terms.Select(t => t.Key).ToList(), terms.Select(t => Idf(n, t.Value.Documents)).ToList());
        _counts = new(StringComparer.Ordinal);
        _documents = 0;
        var json = StateJson.To(state)!;
        LoadStateCore(json);
        return json;
    }

    private double Idf(long documents, long df) =>
        _smooth ? Math.Log((1.0 + documents) / (1.0 + df)) + 1 : Math.Log((double)documents / df) + 1;

    protected override void LoadStateCore(JsonNode state)
    {
        var loaded = StateJson.From<TfidfState>(state, Kind);
        if (loaded.Terms.Count != loaded.Idf.Count) throw new InvalidOperationException("The fitted state of a tfidf step lists a different number of terms and idf values.");
        _state = loaded;
        _codes = loaded.Terms.Select((t, i) => (t, i)).ToDictionary(x => x.t, x => x.i, StringComparer.Ordinal);
    }

    public override Frame Transform(Frame input)
    {
        if (_sparse) return TransformSparse(input);
        var lists = input[_column].StringList;
        var n = input.RowCount;
        var idf = _state!.Idf;
        var outputs = new double[idf.Count][];
        for (var k = 0; k < outputs.Length; k++) outputs[k] = new double[n];
        var touched = new List<int>();
        for (var i = 0; i < n; i++)
        {
            if (lists[i] is not { } tokens) continue;
            touched.Clear();
            foreach (var token in tokens)
            {
                if (!_codes.TryGetValue(token, out var code)) continue;
                if (outputs[code][i] == 0) touched.Add(code);
                outputs[code][i] += 1;
            }
            double squares = 0;
            foreach (var code in touched)
            {
                var weight = outputs[code][i] * idf[code];
                outputs[code][i] = weight;
                squares += weight * weight;
            }
            if (!_l2 || squares == 0) continue;
            var inverse = 1 / Math.Sqrt(squares);
            foreach (var code in touched) outputs[code][i] *= inverse;
        }
        var kept = input.Schema.Fields.Select((f, i) => (f, i)).Where(x => _keep || x.f.Name != _column).ToList();
        var fields = kept.Select(x => x.f).Concat(_state.Terms.Select(t => new FieldDef($"{_prefix}_{t}", DataKind.Float64)));
        var columns = kept.Select(x => input.Columns[x.i]).Concat(outputs.Select(o => Column.OfFloat64(o)));
        return new Frame(new FrameSchema(fields), columns.ToList(), n);
    }

    /// <summary>
    /// The same weights as the dense form, computed in double and stored as float: counts per code in a scratch map that
    /// is cleared per row, so a row costs its token count whatever the vocabulary size.
    /// </summary>
    private Frame TransformSparse(Frame input)
    {
        var lists = input[_column].StringList;
        var idf = _state!.Idf;
        var vectors = new SparseVector?[input.RowCount];
        var counts = new Dictionary<int, int>();
        for (var i = 0; i < vectors.Length; i++)
        {
            counts.Clear();
            foreach (var token in lists[i] ?? [])
                if (_codes.TryGetValue(token, out var code)) counts[code] = counts.GetValueOrDefault(code) + 1;
            if (counts.Count == 0)
            {
                vectors[i] = SparseVector.Empty;
                continue;
            }
            var indices = counts.Keys.ToArray();
            Array.Sort(indices);
            var weights = new double[indices.Length];
            double squares = 0;
            for (var k = 0; k < indices.Length; k++)
            {
                weights[k] = counts[indices[k]] * idf[indices[k]];
                squares += weights[k] * weights[k];
            }
            var scale = _l2 && squares > 0 ? 1 / Math.Sqrt(squares) : 1;
            var values = new float[indices.Length];
            for (var k = 0; k < values.Length; k++) values[k] = (float)(weights[k] * scale);
            vectors[i] = new SparseVector(indices, values);
        }
        var kept = input.Schema.Fields.Select((f, i) => (f, i)).Where(x => _keep || x.f.Name != _column).ToList();
        var fields = kept.Select(x => x.f).Append(new FieldDef(_prefix, DataKind.SparseVector));
        var columns = kept.Select(x => input.Columns[x.i]).Append(Column.OfSparse(vectors));
        return new Frame(new FrameSchema(fields), columns.ToList(), input.RowCount);
    }
}
