using System.Globalization;
using Cube.DataHub.Tables;
using Cube.Training.Specs;

namespace Cube.Training.MlNet;

public enum MlTask
{
    BinaryClassification,
    MulticlassClassification,
    Regression,
}

public enum MlTrainer
{
    FastTree,
    LightGbm,
    Sdca,
}

/// <summary>How a table column is used: a number (bool and integers included), a categorical string, or free text.</summary>
public enum FeatureKind
{
    Numeric,
    Categorical,
    Text,
}

public sealed record FeatureColumn(string Name, string ArrowType, FeatureKind Kind);

/// <summary>
/// A built-in ML.NET job as its hyperparameters describe it: <c>task</c>, <c>trainer</c>, <c>label</c>, optional
/// <c>features</c> (comma-separated), <c>text</c>, <c>table</c>, <c>validationFraction</c>, <c>seed</c>, <c>model</c>,
/// and the trainer settings <c>trees</c>, <c>leaves</c>, <c>learningRate</c>, <c>iterations</c>.
/// </summary>
public sealed record MlNetSettings
{
    public MlTask Task { get; init; }
    public MlTrainer Trainer { get; init; }
    public string Label { get; init; } = "";
    public IReadOnlyList<string>? Features { get; init; }
    public string? Text { get; init; }
    public string? Table { get; init; }
    public double ValidationFraction { get; init; } = 0.2;
    public int Seed { get; init; } = 42;
    /// <summary>Registered model the trained version goes to; the job name when not set.</summary>
    public string? Model { get; init; }
    public int Trees { get; init; } = 100;
    public int Leaves { get; init; } = 20;
    public double? LearningRate { get; init; }
    public int? Iterations { get; init; }

    /// <summary>Internal column names of the pipeline; table columns may not use the prefix.</summary>
    public const string Reserved = "__";

    /// <summary>True for jobs Cube trains itself: framework mlnet, run locally, with no command of the user's.</summary>
    public static bool IsBuiltIn(JobSpec spec) =>
        spec.Framework == Framework.MlNet && spec.Distribution == Distribution.Local && (spec.Command is null || spec.Command.Count == 0);

    public static string TaskName(MlTask task) => task switch
    {
        MlTask.BinaryClassification => "binary",
        MlTask.MulticlassClassification => "multiclass",
        _ => "regression",
    };

    /// <summary>Reads the hyperparameters, adding an error under <c>hyperparameters.NAME</c> for each bad one.</summary>
    public static MlNetSettings Parse(JobSpec spec, Action<string, string> error)
    {
        var hp = spec.Hyperparameters;
        string? Get(string key) => hp.TryGetValue(key, out var v) && !string.IsNullOrWhiteSpace(v) ? v.Trim() : null;
        var settings = new MlNetSettings();

        var task = Get("task")?.ToLowerInvariant() switch
        {
            null => (MlTask?)null,
            "binary" or "binary-classification" => MlTask.BinaryClassification,
            "multiclass" or "multiclass-classification" or "text-classification" => MlTask.MulticlassClassification,
            "regression" => MlTask.Regression,
            _ => (MlTask)(-1),
        };
        if (task is null) error("hyperparameters.task", "ML.NET jobs need a task: binary, multiclass or regression.");
        else if (!Enum.IsDefined(task.Value)) error("hyperparameters.task", $"'{hp["task"]}' is not a task; use binary, multiclass or regression.");
        else settings = settings with { Task = task.Value };

        var trainer = Get("trainer")?.ToLowerInvariant() switch
        {
            null or "fasttree" => MlTrainer.FastTree,
            "lightgbm" => MlTrainer.LightGbm,
            "sdca" => MlTrainer.Sdca,
            _ => (MlTrainer)(-1),
        };
        if (!Enum.IsDefined(trainer)) error("hyperparameters.trainer", $"'{hp["trainer"]}' is not a trainer; use fasttree, lightgbm or sdca.");
        else settings = settings with { Trainer = trainer };

        if (Get("label") is { } label) settings = settings with { Label = label };
        else error("hyperparameters.label", "ML.NET jobs need the label column's name.");
        if (Get("features") is { } features)
        {
            var names = features.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
            if (names.Length == 0) error("hyperparameters.features", "List at least one feature column, comma-separated, or leave it out for all columns.");
            else if (names.Distinct(StringComparer.Ordinal).Count() != names.Length) error("hyperparameters.features", "A feature column is listed twice.");
            settings = settings with { Features = names };
        }
        settings = settings with { Text = Get("text"), Table = Get("table"), Model = Get("model") };

        if (Get("validationFraction") is { } fraction)
        {
            if (!double.TryParse(fraction, NumberStyles.Float, CultureInfo.InvariantCulture, out var f) || f is <= 0 or >= 0.9)
                error("hyperparameters.validationFraction", $"'{fraction}' is not a fraction between 0 and 0.9 (exclusive).");
            else settings = settings with { ValidationFraction = f };
        }
        settings = settings with
        {
            Seed = Int("seed", settings.Seed, 0, int.MaxValue),
            Trees = Int("trees", settings.Trees, 1, 10_000),
            Leaves = Int("leaves", settings.Leaves, 2, 131_072),
            Iterations = Get("iterations") is null ? null : Int("iterations", 0, 1, 100_000),
        };
        if (Get("learningRate") is { } rate)
        {
            if (!double.TryParse(rate, NumberStyles.Float, CultureInfo.InvariantCulture, out var r) || r is <= 0 or > 10)
                error("hyperparameters.learningRate", $"'{rate}' is not a learning rate in (0, 10].");
            else settings = settings with { LearningRate = r };
        }
        if (spec.Inputs.Count != 1)
            error("inputs", $"An ML.NET job reads exactly one dataset input (the table to train on); got {spec.Inputs.Count}.");
        return settings;

        int Int(string key, int fallback, int min, int max)
        {
            if (Get(key) is not { } text) return fallback;
            if (int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value) && value >= min && value <= max) return value;
            error($"hyperparameters.{key}", $"'{text}' is not an integer between {min} and {max}.");
            return fallback;
        }
    }

    /// <summary>
    /// Resolves the label and feature columns against the table's schema, with an error under the hyperparameter that
    /// names a missing or unfitting column. Defaults: every other numeric or bool column, string columns one-hot encoded.
    /// </summary>
    public IReadOnlyList<FeatureColumn> ResolveColumns(IReadOnlyList<ColumnSchema> schema, Action<string, string> error)
    {
        var byName = schema.ToDictionary(c => c.Name, StringComparer.Ordinal);
        if (!byName.TryGetValue(Label, out var label))
            error("hyperparameters.label", $"The table has no column '{Label}'; its columns are {string.Join(", ", schema.Select(c => c.Name))}.");
        else if (LabelProblem(label.Type) is { } problem)
            error("hyperparameters.label", problem);

        var columns = new List<FeatureColumn>();
        if (Text is not null)
        {
            if (!byName.TryGetValue(Text, out var text)) error("hyperparameters.text", $"The table has no column '{Text}'.");
            else if (!IsString(text.Type)) error("hyperparameters.text", $"Column '{Text}' is {text.Type}; the text column must hold strings.");
            else if (Text == Label) error("hyperparameters.text", "The text column cannot be the label.");
            else columns.Add(new FeatureColumn(Text, text.Type, FeatureKind.Text));
        }
        if (Features is not null)
        {
            foreach (var name in Features)
            {
                if (name == Label) error("hyperparameters.features", $"'{name}' is the label; it cannot be a feature too.");
                else if (name == Text) continue;
                else if (!byName.TryGetValue(name, out var column)) error("hyperparameters.features", $"The table has no column '{name}'.");
                else if (Kind(column.Type) is { } kind) columns.Add(new FeatureColumn(name, column.Type, kind));
                else error("hyperparameters.features", $"Column '{name}' is {column.Type}; features must be numbers, bools or strings.");
            }
        }
        else
        {
            foreach (var column in schema)
                if (column.Name != Label && column.Name != Text && Kind(column.Type) is { } kind) columns.Add(new FeatureColumn(column.Name, column.Type, kind));
        }
        foreach (var column in columns.Where(c => c.Name.StartsWith(Reserved, StringComparison.Ordinal)))
            error("hyperparameters.features", $"Column '{column.Name}' starts with '{Reserved}', which ML.NET jobs keep for their own columns.");
        if (byName.ContainsKey(Label) && columns.Count == 0)
            error("hyperparameters.features", "The table has no feature columns besides the label (numbers, bools or strings).");
        return columns;
    }

    private string? LabelProblem(string type) => Task switch
    {
        MlTask.BinaryClassification when !(type == "bool" || IsInteger(type)) =>
            $"Label '{Label}' is {type}; binary classification needs a bool or 0/1 integer label.",
        MlTask.MulticlassClassification when !(type == "bool" || IsInteger(type) || IsString(type)) =>
            $"Label '{Label}' is {type}; multiclass classification needs a string, integer or bool label (a class per value).",
        MlTask.Regression when !(IsInteger(type) || IsFloat(type)) =>
            $"Label '{Label}' is {type}; regression needs a numeric label.",
        _ => null,
    };

    internal static FeatureKind? Kind(string type) =>
        type == "bool" || IsInteger(type) || IsFloat(type) ? FeatureKind.Numeric : IsString(type) ? FeatureKind.Categorical : null;

    internal static bool IsInteger(string type) => type is "int8" or "int16" or "int32" or "int64" or "uint8" or "uint16" or "uint32" or "uint64";
    internal static bool IsFloat(string type) => type is "float" or "double" or "halffloat";
    internal static bool IsString(string type) => type is "utf8" or "large_utf8";
}
