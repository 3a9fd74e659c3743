using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Cube.Core.Errors;
using Cube.Labeling.Configs;

namespace Cube.Labeling.Formats.Interchange;

/// <summary>
/// One result carried by a file: a Cube result object (the shape <see cref="AnnotationValidator"/> accepts), who made
/// it (an annotator for annotations, a model name/version for predictions) and a score for predictions.
/// <see cref="Where"/> names the place in the file it came from and <see cref="ItemWhere"/> the place of each of its
/// items (box, span, label), so a validation error points at the line or element of the file.
/// </summary>
public sealed record InterchangeResult(JsonObject Result, string? Source = null, double? Score = null, string Where = "", IReadOnlyList<string>? ItemWhere = null);

/// <summary>
/// A task as a file carries it: Cube task data (<c>{"text"}</c> or <c>{"image","width","height",…}</c>), every
/// annotation and prediction, and for formats that hold one result per item the final result (accepted or consensus).
/// </summary>
public sealed record InterchangeTask(JsonObject Data, IReadOnlyList<InterchangeResult> Annotations, IReadOnlyList<InterchangeResult> Predictions,
    JsonObject? Final = null, string? Key = null, string Where = "")
{
    public string? Text => Interchange.String(Data["text"]);
    public string? Image => Interchange.String(Data["image"]);
    public int? Width => Int(Data["width"]);
    public int? Height => Int(Data["height"]);

    /// <summary>The one result single-result formats (COCO, YOLO, VOC, CoNLL) write: the final one, else the only annotation.</summary>
    public JsonObject? Single => Final ?? (Annotations.Count > 0 ? Annotations[0].Result : null);

    private static int? Int(JsonNode? node) => Interchange.Double(node) is { } d && d == Math.Floor(d) && d is > 0 and < int.MaxValue ? (int)d : null;
}

/// <summary>Problems found in an uploaded file, each under its place in the file; thrown as one 422 with an <c>errors</c> map.</summary>
public sealed class FormatErrors
{
    public const int MaxReported = 200;
    private readonly Dictionary<string, List<string>> _errors = new(StringComparer.Ordinal);
    private int _count;

    public int Count => _count;

    public void Add(string where, string message)
    {
        _count++;
        if (_errors.Count >= MaxReported && !_errors.ContainsKey(where)) return;
        if (!_errors.TryGetValue(where, out var list)) _errors[where] = list = [];
        list.Add(message);
    }

    public void ThrowIfAny(string format)
    {
        if (_count == 0) return;
        var first = _errors.First();
        throw new UnprocessableException($"The {format} file has {_count} problem(s); the first: {first.Key}: {first.Value[0]}")
            .With("errors", _errors.ToDictionary(e => e.Key, e => e.Value.ToArray()));
    }
}

/// <summary>Helpers shared by the format converters.</summary>
public static class Interchange
{
    internal static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public static string Number(double value) => value.ToString("0.######", CultureInfo.InvariantCulture);

    /// <summary>The member a result of this configuration holds its items in.</summary>
    public static string Member(LabelConfig config) => config.Kind switch
    {
        LabelingKind.ImageClassification or LabelingKind.TextClassification => "labels",
        LabelingKind.BoundingBoxes => "boxes",
        LabelingKind.Polygons => "polygons",
        LabelingKind.Keypoints => "keypoints",
        _ => "spans",
    };

    public static JsonObject Result(LabelConfig config, IEnumerable<JsonNode> items) => new() { [Member(config)] = new JsonArray([.. items]) };

    public static IEnumerable<JsonObject> Items(JsonObject? result, string member) =>
        result?[member] is JsonArray array ? array.OfType<JsonObject>() : [];

    public static IEnumerable<string> Labels(JsonObject? result) =>
        result?["labels"] is JsonArray array ? array.Select(l => String(l) ?? "") : [];

    public static double Get(JsonObject item, string name) => Double(item[name]) ?? 0;

    /// <summary>A JSON number as a double, whatever CLR type the node was built from; null when it is not a finite number.</summary>
    public static double? Double(JsonNode? node) =>
        node is JsonValue v && v.GetValueKind() == JsonValueKind.Number
        && double.TryParse(v.ToJsonString(), NumberStyles.Float, CultureInfo.InvariantCulture, out var d) && double.IsFinite(d) ? d : null;

    /// <summary>A JSON string's value, or null.</summary>
    public static string? String(JsonNode? node) => node is JsonValue v && v.GetValueKind() == JsonValueKind.String ? v.GetValue<string>() : null;

    public static TaskSubject Subject(JsonObject data)
    {
        int? Int(string name) => Double(data[name]) is { } d && d == Math.Floor(d) && d is >= 0 and < int.MaxValue ? (int)d : null;
        return new TaskSubject(Int("width"), Int("height"), String(data["text"]));
    }

    /// <summary>
    /// Checks every result of every task against the configuration (unknown labels, boxes outside the image,
    /// overlapping spans, …) and reports each problem at its place in the file; throws a 422 naming them all.
    /// </summary>
    public static void Validate(LabelConfig config, IReadOnlyList<InterchangeTask> tasks, string format, FormatErrors? errors = null)
    {
        errors ??= new FormatErrors();
        foreach (var task in tasks)
        {
            if (config.IsImage && task.Image is null) errors.Add(task.Where, "An image task needs the image's path or URL.");
            if (!config.IsImage && task.Text is null) errors.Add(task.Where, "A text task needs its text.");
            foreach (var result in task.Annotations.Concat(task.Predictions))
            {
                if (result.Score is { } score && (double.IsNaN(score) || score < 0 || score > 1))
                    errors.Add(result.Where, $"A score is between 0 and 1; got {Number(score)}.");
                try
                {
                    AnnotationValidator.Validate(config, JsonSerializer.SerializeToElement(result.Result, Json), Subject(task.Data));
                }
                catch (ValidationException e)
                {
                    foreach (var (path, messages) in e.Errors)
                        foreach (var message in messages) errors.Add(Locate(result, path), message);
                }
            }
        }
        errors.ThrowIfAny(format);
    }

    /// <summary>Maps a validator path (<c>result.boxes[2].x</c>) to the place in the file the item came from.</summary>
    private static string Locate(InterchangeResult result, string path)
    {
        var open = path.IndexOf('[', StringComparison.Ordinal);
        var close = open < 0 ? -1 : path.IndexOf(']', open);
        if (result.ItemWhere is { } items && close > open
            && int.TryParse(path.AsSpan(open + 1, close - open - 1), NumberStyles.None, CultureInfo.InvariantCulture, out var index) && index < items.Count)
        {
            var rest = path[(close + 1)..].TrimStart('.');
            return rest.Length == 0 ? items[index] : $"{items[index]}.{rest}";
        }
        var tail = path.StartsWith("result", StringComparison.Ordinal) ? path["result".Length..].TrimStart('.') : path;
        return tail.Length == 0 ? result.Where : $"{result.Where}: {tail}";
    }

    internal static async IAsyncEnumerable<T> Async<T>(IEnumerable<T> items)
    {
        foreach (var item in items)
        {
            await Task.Yield();
            yield return item;
        }
    }

    /// <summary>A file name safe inside an archive: the task's image path without folders, or the task's key.</summary>
    public static string Stem(InterchangeTask task, int index)
    {
        var name = task.Image ?? task.Key ?? $"task-{index}";
        var slash = Math.Max(name.LastIndexOf('/'), name.LastIndexOf('\\'));
        if (slash >= 0) name = name[(slash + 1)..];
        var query = name.IndexOfAny(['?', '#']);
        if (query >= 0) name = name[..query];
        var dot = name.LastIndexOf('.');
        if (dot > 0) name = name[..dot];
        var clean = new string([.. name.Select(c => char.IsLetterOrDigit(c) || c is '-' or '_' or '.' ? c : '_')]);
        return clean.Length == 0 ? $"task-{index}" : clean;
    }
}
