using System.Text.Json.Nodes;
using Cube.Features.Operators;

namespace Cube.Features.Pipelines;

/// <summary>An operator as the catalogue endpoint shows it: its parameters as JSON Schema, for editors to build forms from.</summary>
public sealed record OperatorInfo(string Op, string Description, bool Fitted, JsonObject Parameters)
{
    /// <summary>True for joins: the step names a second input as <c>right</c>, which it reads in full.</summary>
    public bool TakesRight { get; init; }

    /// <summary>False for steps the online endpoint refuses (they need another input or the rows' history).</summary>
    public bool Online { get; init; } = true;
}

/// <summary>Every operator a pipeline step can name, with its factory and parameter schema.</summary>
public static class OperatorCatalog
{
    private sealed record Entry(OperatorInfo Info, Func<Params, FeatureOperator> Create);

    private static readonly Dictionary<string, Entry> Entries = new Entry[]
    {
        new(Info("select", "Keeps the listed columns, in order.", false, Req("columns"), ("columns", Columns())), p => new SelectOperator(p)),
        new(Info("drop", "Removes the listed columns.", false, Req("columns"), ("columns", Columns())), p => new DropOperator(p)),
        new(Info("rename", "Renames columns: {old: new}.", false, Req("columns"), ("columns", Map("New name per column."))), p => new RenameOperator(p)),
        new(Info("filter", "Keeps rows where the expression is true.", false, Req("expr"), ("expr", Str("Boolean expression, e.g. amount > 0 and country in ('FR', 'DE')."))), p => new FilterOperator(p)),
        new(Info("derive", "Adds or replaces columns computed by expressions: {name: expr}.", false, Req("columns"), ("columns", Map("Expression per new column."))), p => new DeriveOperator(p)),
        new(Info("cast", "Converts columns: {name: type} with int64, float64, boolean, string or timestamp; failures become null.", false, Req("columns"), ("columns", Map("Target type per column."))), p => new CastOperator(p)),
        new(Info("impute", "Fills null (and NaN) with the fitted mean, median, mode, or a constant.", true, Req("columns"),
            ("columns", Columns()), ("strategy", Enum("mean", "mean", "median", "mode", "constant")), ("value", new JsonObject { ["description"] = "Fill value for strategy constant." })), p => new ImputeOperator(p)),
        new(Info("standardize", "(x − mean) / standard deviation, fitted.", true, Req("columns"), ("columns", Columns())), p => new ScaleOperator(p, "standardize")),
        new(Info("minmax", "(x − min) / (max − min), fitted.", true, Req("columns"), ("columns", Columns())), p => new ScaleOperator(p, "minmax")),
        new(Info("robust_scale", "(x − median) / interquartile range, fitted.", true, Req("columns"), ("columns", Columns())), p => new RobustScaleOperator(p)),
        new(Info("clip", "Limits numbers to [min, max]; NaN and null stay as they are.", false, Req("columns"),
            ("columns", Columns()), ("min", Num("Lower bound.")), ("max", Num("Upper bound."))), p => new ClipOperator(p)),
        new(Info("log1p", "ln(1 + x); x <= -1 gives null.", false, Req("columns"), ("columns", Columns())), p => new Log1pOperator(p)),
        new(Info("onehot", "One 0/1 column per fitted category.", true, Req("column"),
            ("column", Str("Categorical column.")), ("unknown", Enum("ignore", "ignore", "error", "other")), ("maxCategories", Int(1, 10_000, 100)),
            ("minCount", Int(1, null, 1)), ("keepOriginal", Bool(false)), ("dtype", Enum("int64", "int64", "float64", "boolean")),
            ("categories", new JsonObject { ["type"] = "array", ["items"] = new JsonObject { ["type"] = "string" }, ["description"] = "Fixed categories; when given the step is not fitted." })), p => new OneHotOperator(p)),
        new(Info("ordinal", "Code of each category in the sorted fitted vocabulary.", true, Req("column"),
            ("column", Str("Categorical column.")), ("output", Str("Output column (default: replaces the input).")), ("unknown", Enum("code", "error", "null", "code")),
            ("maxCategories", Int(1, 10_000_000, 1_000_000))), p => new OrdinalOperator(p)),
        new(Info("bucketize", "Bucket index by fixed edges or fitted quantiles.", false, Req("column"),
            ("column", Str("Numeric column.")), ("output", Str("Output column (default {column}_bucket).")),
            ("edges", new JsonObject { ["type"] = "array", ["items"] = new JsonObject { ["type"] = "number" } }), ("quantiles", Int(2, 1000, null))), p => new BucketizeOperator(p)),
        new(Info("hash", "Feature hashing of columns into a fixed number of buckets.", false, Req("columns", "buckets"),
            ("columns", Columns()), ("buckets", Int(2, null, null)), ("output", Str("Output column (default {columns}_hash)."))), p => new HashOperator(p)),
        new(Info("datetime_parts", "Calendar parts of a timestamp column.", false, Req("column"),
            ("column", Str("Timestamp column.")), ("parts", new JsonObject { ["type"] = "array", ["items"] = Enum(null, "year", "month", "day", "hour", "minute", "second", "dayofweek", "dayofyear", "epoch") })), p => new DatetimePartsOperator(p)),
        new(Info("lowercase", "Lower-cases text columns.", false, Req("columns"), ("columns", Columns())), p => new LowercaseOperator(p)),
        new(Info("tokenize", "Splits text into a token list, optional n-grams.", false, Req("column"),
            ("column", Str("Text column.")), ("output", Str("Output column (default {column}_tokens).")), ("pattern", Str("Separator regular expression.")),
            ("tokenizer", Enum("regex", "regex", "whitespace")), ("lowercase", Bool(true)), ("ngrams", Int(1, 5, 1))), p => new TokenizeOperator(p)),
        new(Info("ngrams", "Word n-grams of a token list: runs of min … max tokens joined by the separator.", false, Req("column"),
            ("column", Str("Token list column (from tokenize).")), ("output", Str("Output column (default {column}_ngrams).")),
            ("min", Int(1, 10, 1)), ("max", Int(1, 10, 2)), ("separator", Str("Joins the tokens of an n-gram (default a space)."))), p => new NgramsOperator(p)),
        new(Info("tfidf", "TF-IDF over a fitted vocabulary: one Float64 column {prefix}_{term} per term (dense), or one sparse-vector column {prefix} (sparse); optional l2 norm.", true, Req("column"),
            ("column", Str("Token list column (from tokenize or ngrams).")), ("prefix", Str("Output column prefix, or the sparse column's name (default {column}_tfidf).")),
            ("minDf", Int(1, null, 1)), ("maxFeatures", Int(1, 1_000_000, 1_000)), ("smoothIdf", Bool(true)), ("norm", Enum("l2", "l2", "none")),
            ("output", Enum("dense", "dense", "sparse")), ("keepOriginal", Bool(false))), p => new TfidfOperator(p)),
        new(Info("sample", "Seeded sample by a hash of the key columns: a fraction (stateless) or exactly n rows (fitted); the same rows whatever the batch size.", false, Req(),
            ("fraction", Num("Share of rows to keep, 0 < fraction <= 1.")), ("n", Int(1, 10_000_000, null)), ("seed", Int(0, null, 0)),
            ("key", Columns())), p => new SampleOperator(p)),
        new(Info("split", "Adds a column naming each row's part: random or stratified by ratios (seeded hash of the key columns), or by time cutoffs.", false, Req(),
            ("output", Str("Output column (default split).")), ("by", Enum("random", "random", "stratified", "time")),
            ("ratios", new JsonObject { ["type"] = "object", ["additionalProperties"] = new JsonObject { ["type"] = "number", ["exclusiveMinimum"] = 0, ["maximum"] = 1 }, ["description"] = "Share per part, summing to 1, e.g. {train: 0.8, test: 0.2}." }),
            ("label", Str("Class column a stratified split keeps the proportions of.")), ("time", Str("Timestamp column of a time split.")),
            ("cutoffs", new JsonObject { ["type"] = "array", ["items"] = new JsonObject { ["type"] = "string", ["format"] = "date-time" }, ["description"] = "Ascending ISO 8601 timestamps; a row at a cutoff goes to the later part." }),
            ("names", new JsonObject { ["type"] = "array", ["items"] = new JsonObject { ["type"] = "string" }, ["description"] = "Part names of a time split (default train/test or train/validation/test)." }),
            ("seed", Int(0, null, 0)), ("key", Columns())), p => new SplitOperator(p)),
        new(Info("join", "Hash join with the step or input named by 'right' (hashed in full) on key columns; inner or left.", false, Req("on"),
            ("on", Columns()), ("rightOn", Columns()), ("how", Enum("inner", "inner", "left")), ("suffix", Str("Appended to right column names already on the left (default _right).")),
            ("onClash", Enum("suffix", "suffix", "error"))) with { TakesRight = true, Online = false }, p => new HashJoinOperator(p)),
        new(Info("asof_join", "Point-in-time join: per left row, the latest right row with the same key and right time <= left time.", false, Req("on", "time"),
            ("on", Columns()), ("rightOn", Columns()), ("time", Str("Timestamp column of the left input.")), ("rightTime", Str("Timestamp column of the right input (default: time).")),
            ("tolerance", Str("Maximum age of the matched right row, e.g. 7d, 12h, 30m.")), ("how", Enum("left", "left", "inner")),
            ("suffix", Str("Appended to right column names already on the left (default _right).")), ("onClash", Enum("suffix", "suffix", "error"))) with { TakesRight = true, Online = false },
            p => new AsOfJoinOperator(p)),
        new(Info("lag", "The value n rows earlier in the same entity, in time order ({column}_lag{n}); keeps history across batches.", false, Req("columns", "time"),
            ("columns", Columns()), ("n", Int(1, 1_000, 1)), ("by", Columns()), ("time", Str("Timestamp (or whole-number) column the rows arrive in order of."))) with { Online = false },
            p => new LagOperator(p)),
        new(Info("rolling", "Aggregates over a trailing time window per entity ({column}_{aggregate}_{window}); keeps history across batches.", false, Req("columns", "window", "time"),
            ("columns", Columns()), ("aggregates", new JsonObject { ["type"] = "array", ["items"] = Enum(null, "count", "sum", "mean", "min", "max"), ["default"] = new JsonArray("mean") }),
            ("window", Str("Window length, e.g. 7d, 12h, 30m.")), ("by", Columns()), ("time", Str("Timestamp column the rows arrive in order of."))) with { Online = false },
            p => new RollingOperator(p)),
        new(Info("groupby", "One row per distinct value of 'by' with aggregates {name: \"fn(column)\"}: count, sum, mean, min, max, distinct_count, last.", false, Req("by", "aggregates"),
            ("by", Columns()), ("aggregates", Map("Aggregate per output column, e.g. {orders: \"count()\", spent: \"sum(amount)\"}."))) with { Online = false },
            p => new GroupByOperator(p)),
        new(Info("sql", "A row-wise SQL SELECT run by DuckDB over each batch as table 'input'.", false, Req("query"), ("query", Str("SELECT … FROM input"))), p => new SqlOperator(p)),
    }.ToDictionary(e => e.Info.Op, StringComparer.Ordinal);

    public static IReadOnlyList<OperatorInfo> All => Entries.Values.Select(e => e.Info).ToList();

    public static IEnumerable<string> Names => Entries.Keys;

    public static bool Exists(string op) => Entries.ContainsKey(op);

    public static bool IsBinary(string op) => Entries.TryGetValue(op, out var entry) && entry.Info.TakesRight;

    /// <summary>Creates the operator; parameter problems surface as <see cref="StepException"/>.</summary>
    public static FeatureOperator Create(string op, Params parameters)
    {
        var entry = Entries[op];
        var known = ((JsonObject)entry.Info.Parameters["properties"]!).Select(p => p.Key).ToHashSet();
        foreach (var (key, _) in parameters.Values)
            if (!known.Contains(key))
                throw new StepException(key, Engine.Suggest.Closest(key, known) is { } match
                    ? $"Unknown parameter '{key}' for {op} (did you mean '{match}'?)."
                    : $"Unknown parameter '{key}' for {op} (it takes {string.Join(", ", known)}).");
        return entry.Create(parameters);
    }

    private static OperatorInfo Info(string op, string description, bool fitted, string[] required, params (string Name, JsonObject Schema)[] properties)
    {
        var props = new JsonObject();
        foreach (var (name, schema) in properties) props[name] = schema;
        return new OperatorInfo(op, description, fitted, new JsonObject
        {
            ["type"] = "object",
            ["properties"] = props,
            ["required"] = new JsonArray(required.Select(r => (JsonNode)JsonValue.Create(r)).ToArray()),
            ["additionalProperties"] = false,
        });
    }

    private static string[] Req(params string[] names) => names;
    private static JsonObject Str(string description) => new() { ["type"] = "string", ["description"] = description };
    private static JsonObject Num(string description) => new() { ["type"] = "number", ["description"] = description };
    private static JsonObject Bool(bool fallback) => new() { ["type"] = "boolean", ["default"] = fallback };
    private static JsonObject Map(string description) => new() { ["type"] = "object", ["additionalProperties"] = new JsonObject { ["type"] = "string" }, ["description"] = description };
    private static JsonObject Columns() => new() { ["type"] = "array", ["items"] = new JsonObject { ["type"] = "string" }, ["minItems"] = 1 };

    private static JsonObject Enum(string? fallback, params string[] values)
    {
        var schema = new JsonObject { ["type"] = "string", ["enum"] = new JsonArray(values.Distinct().Select(v => (JsonNode)JsonValue.Create(v)).ToArray()) };
        if (fallback is not null) schema["default"] = fallback;
        return schema;
    }

    private static JsonObject Int(long min, long? max, long? fallback)
    {
        var schema = new JsonObject { ["type"] = "integer", ["minimum"] = min };
        if (max is not null) schema["maximum"] = max;
        if (fallback is not null) schema["default"] = fallback;
        return schema;
    }
}
