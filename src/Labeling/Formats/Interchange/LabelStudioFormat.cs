using System.Text.Json;
using System.Text.Json.Nodes;
using Cube.Core.Errors;
using Cube.Labeling.Configs;

namespace Cube.Labeling.Formats.Interchange;

/// <summary>
/// Label Studio's JSON task format, both ways: an array of <c>{"id","data","annotations":[{"completed_by","result"}],
/// "predictions":[{"model_version","score","result"}]}</c>. Regions use Label Studio's control types (choices,
/// rectanglelabels, polygonlabels, keypointlabels, labels) with <c>from_name</c> "label" and <c>to_name</c> "image" or
/// "text"; image coordinates are percentages of <c>original_width</c>/<c>original_height</c>, as Label Studio stores them.
/// </summary>
public static class LabelStudioFormat
{
    public const string Name = "Label Studio";

    public static string RegionType(LabelConfig config) => config.Kind switch
    {
        LabelingKind.ImageClassification or LabelingKind.TextClassification => "choices",
        LabelingKind.BoundingBoxes => "rectanglelabels",
        LabelingKind.Polygons => "polygonlabels",
        LabelingKind.Keypoints => "keypointlabels",
        _ => "labels",
    };

    public static async Task WriteAsync(LabelConfig config, IAsyncEnumerable<InterchangeTask> tasks, Stream output, CancellationToken cancellationToken)
    {
        await using var json = new Utf8JsonWriter(output, new JsonWriterOptions { Indented = false });
        json.WriteStartArray();
        var index = 0;
        await foreach (var task in tasks.WithCancellation(cancellationToken))
        {
            index++;
            var node = new JsonObject { ["id"] = index, ["data"] = task.Data.DeepClone() };
            if (task.Key is not null) node["meta"] = new JsonObject { ["cube_task"] = task.Key };
            var annotations = new JsonArray();
            foreach (var (a, i) in task.Annotations.Select((a, i) => (a, i)))
                annotations.Add(new JsonObject { ["id"] = i + 1, ["completed_by"] = a.Source, ["result"] = Regions(config, task, a.Result), ["was_cancelled"] = false, ["ground_truth"] = false });
            node["annotations"] = annotations;
            var predictions = new JsonArray();
            foreach (var p in task.Predictions)
                predictions.Add(new JsonObject { ["model_version"] = p.Source, ["score"] = p.Score, ["result"] = Regions(config, task, p.Result) });
            node["predictions"] = predictions;
            node.WriteTo(json);
            if (json.BytesPending > 1 << 16) await json.FlushAsync(cancellationToken);
        }
        json.WriteEndArray();
        await json.FlushAsync(cancellationToken);
    }

    private static JsonArray Regions(LabelConfig config, InterchangeTask task, JsonObject result)
    {
        var type = RegionType(config);
        var to = config.IsImage ? "image" : "text";
        var regions = new JsonArray();
        var n = 0;
        JsonObject Region(JsonObject value, bool sized)
        {
            var region = new JsonObject { ["id"] = $"r{++n}", ["from_name"] = "label", ["to_name"] = to, ["type"] = type, ["value"] = value };
            if (sized)
            {
                region["original_width"] = task.Width;
                region["original_height"] = task.Height;
                region["image_rotation"] = 0;
            }
            return region;
        }
        (double W, double H) Size() => task.Width is { } w && task.Height is { } h
            ? (w, h)
            : throw new UnprocessableException($"Task {task.Key ?? task.Image} has no image size; Label Studio stores image regions as percentages of it.");
        switch (config.Kind)
        {
            case LabelingKind.ImageClassification or LabelingKind.TextClassification:
                regions.Add(Region(new JsonObject { ["choices"] = new JsonArray([.. Interchange.Labels(result).Select(l => (JsonNode)l)]) }, false));
                break;
            case LabelingKind.BoundingBoxes:
                foreach (var box in Interchange.Items(result, "boxes"))
                {
                    var (w, h) = Size();
                    regions.Add(Region(new JsonObject
                    {
                        ["x"] = Pct(Interchange.Get(box, "x"), w), ["y"] = Pct(Interchange.Get(box, "y"), h),
                        ["width"] = Pct(Interchange.Get(box, "width"), w), ["height"] = Pct(Interchange.Get(box, "height"), h),
                        ["rotation"] = 0, ["rectanglelabels"] = new JsonArray(box["label"]?.DeepClone()),
                    }, true));
                }
                break;
            case LabelingKind.Polygons:
                foreach (var polygon in Interchange.Items(result, "polygons"))
                {
                    var (w, h) = Size();
                    var points = polygon["points"] as JsonArray ?? [];
                    regions.Add(Region(new JsonObject
                    {
                        ["points"] = new JsonArray([.. points.OfType<JsonArray>().Select(p => (JsonNode)new JsonArray(Pct(Interchange.Double(p[0]) ?? 0, w), Pct(Interchange.Double(p[1]) ?? 0, h)))]),
                        ["closed"] = true, ["polygonlabels"] = new JsonArray(polygon["label"]?.DeepClone()),
                    }, true));
                }
                break;
            case LabelingKind.Keypoints:
                foreach (var point in Interchange.Items(result, "keypoints"))
                {
                    var (w, h) = Size();
                    regions.Add(Region(new JsonObject
                    {
                        ["x"] = Pct(Interchange.Get(point, "x"), w), ["y"] = Pct(Interchange.Get(point, "y"), h), ["width"] = 0.5,
                        ["keypointlabels"] = new JsonArray(point["label"]?.DeepClone()),
                    }, true));
                }
                break;
            default:
                foreach (var span in Interchange.Items(result, "spans"))
                {
                    var start = (int)Interchange.Get(span, "start");
                    var end = (int)Interchange.Get(span, "end");
                    var value = new JsonObject { ["start"] = start, ["end"] = end };
                    if (task.Text is { } text && end <= text.Length) value["text"] = text[start..end];
                    value["labels"] = new JsonArray(span["label"]?.DeepClone());
                    regions.Add(Region(value, false));
                }
                break;
        }
        return regions;
    }

    private static double Pct(double pixels, double size) => Math.Round(pixels / size * 100, 9);

    private static double Px(double percent, double size) => Math.Round(percent * size / 100, 6);

    /// <summary>
    /// Reads a Label Studio export (an array of tasks, or of bare data objects) into tasks with their annotations and
    /// predictions, checking every region against the configuration; problems are reported as <c>tasks[i].annotations[j].result[k]</c>.
    /// </summary>
    public static List<InterchangeTask> Read(LabelConfig config, Stream input, int maxTasks)
    {
        var errors = new FormatErrors();
        JsonNode? root;
        try
        {
            root = JsonNode.Parse(input, documentOptions: new JsonDocumentOptions { MaxDepth = 64 });
        }
        catch (JsonException e)
        {
            throw new UnprocessableException($"The {Name} file is not valid JSON: {e.Message}");
        }
        var items = root switch
        {
            JsonArray array => array,
            JsonObject single => new JsonArray(single.DeepClone()),
            _ => throw new UnprocessableException($"A {Name} file is a JSON array of tasks."),
        };
        if (items.Count > maxTasks) throw new UnprocessableException($"The file has {items.Count:N0} tasks; at most {maxTasks:N0} are imported at once.");
        var tasks = new List<InterchangeTask>();
        for (var i = 0; i < items.Count; i++)
        {
            var at = $"tasks[{i}]";
            if (items[i] is not JsonObject item)
            {
                errors.Add(at, "A task is a JSON object.");
                continue;
            }
            var data = item["data"] is JsonObject d ? (JsonObject)d.DeepClone() : item.ContainsKey("data") ? null : (JsonObject)item.DeepClone();
            if (data is null)
            {
                errors.Add($"{at}.data", "A task's 'data' is an object.");
                continue;
            }
            if (!config.IsImage && data["text"] is not JsonValue)
            {
                errors.Add($"{at}.data.text", "A text task needs 'data.text'.");
                continue;
            }
            if (config.IsImage && data["image"] is not JsonValue)
            {
                errors.Add($"{at}.data.image", "An image task needs 'data.image' (a path or URL).");
                continue;
            }
            var annotations = new List<InterchangeResult>();
            var source = item["annotations"] as JsonArray ?? item["completions"] as JsonArray;
            if (item["annotations"] is { } a && a is not JsonArray) errors.Add($"{at}.annotations", "'annotations' is an array.");
            for (var j = 0; source is not null && j < source.Count; j++)
            {
                if (source[j] is not JsonObject annotation) { errors.Add($"{at}.annotations[{j}]", "An annotation is an object."); continue; }
                if (annotation["was_cancelled"] is JsonValue c && c.GetValueKind() == JsonValueKind.True) continue;
                var who = annotation["completed_by"] switch
                {
                    JsonObject o => (o["email"] ?? o["id"])?.ToString(),
                    { } n => n.ToString(),
                    null => null,
                };
                if (ReadRegions(config, annotation["result"], data, $"{at}.annotations[{j}]", errors) is { } parsed)
                    annotations.Add(parsed with { Source = who });
            }
            var predictions = new List<InterchangeResult>();
            if (item["predictions"] is { } p && p is not JsonArray) errors.Add($"{at}.predictions", "'predictions' is an array.");
            var predicted = item["predictions"] as JsonArray;
            for (var j = 0; predicted is not null && j < predicted.Count; j++)
            {
                if (predicted[j] is not JsonObject prediction) { errors.Add($"{at}.predictions[{j}]", "A prediction is an object."); continue; }
                double? score = null;
                if (prediction["score"] is { } s)
                {
                    if (Interchange.Double(s) is { } value) score = value;
                    else errors.Add($"{at}.predictions[{j}].score", "A score is a number.");
                }
                if (ReadRegions(config, prediction["result"], data, $"{at}.predictions[{j}]", errors) is { } parsed)
                    predictions.Add(parsed with { Source = prediction["model_version"]?.ToString(), Score = score });
            }
            tasks.Add(new InterchangeTask(data, annotations, predictions, Key: item["id"]?.ToString(), Where: at));
        }
        Interchange.Validate(config, tasks, Name, errors);
        return tasks;
    }

    private static InterchangeResult? ReadRegions(LabelConfig config, JsonNode? node, JsonObject data, string at, FormatErrors errors)
    {
        if (node is not JsonArray regions)
        {
            errors.Add($"{at}.result", "'result' is an array of regions.");
            return null;
        }
        var type = RegionType(config);
        var items = new List<JsonNode>();
        var where = new List<string>();
        var labels = new List<string>();
        var before = errors.Count;
        for (var k = 0; k < regions.Count; k++)
        {
            var rat = $"{at}.result[{k}]";
            if (regions[k] is not JsonObject region || region["value"] is not JsonObject value)
            {
                errors.Add(rat, "A region is an object with a 'value' object.");
                continue;
            }
            var actual = region["type"]?.ToString();
            if (actual != type)
            {
                errors.Add($"{rat}.type", $"Region type '{actual}' does not fit a {config.Kind} configuration, which takes '{type}'.");
                continue;
            }
            if (!config.IsImage || config.IsClassification)
            {
                if (config.IsClassification)
                {
                    if (value["choices"] is not JsonArray choices || choices.Any(c => Interchange.String(c) is null))
                        errors.Add($"{rat}.value.choices", "'choices' is an array of label names.");
                    else
                        foreach (var choice in choices)
                        {
                            labels.Add(Interchange.String(choice)!);
                            where.Add($"{rat}.value.choices[{labels.Count - 1}]");
                        }
                    continue;
                }
                var label = Label(value, type, rat, errors);
                var start = Int(value, "start", rat, errors);
                var end = Int(value, "end", rat, errors);
                if (label is null || start is null || end is null) continue;
                var span = new JsonObject { ["label"] = label, ["start"] = start, ["end"] = end };
                if (Interchange.String(value["text"]) is { } quoted) span["text"] = quoted;
                items.Add(span);
                where.Add(rat);
                continue;
            }
            var width = Size(region, "original_width") ?? Size(data, "width");
            var height = Size(region, "original_height") ?? Size(data, "height");
            if (width is null || height is null)
            {
                errors.Add(rat, "An image region needs 'original_width' and 'original_height' (or the task's data.width and data.height) to turn percentages into pixels.");
                continue;
            }
            data["width"] ??= width;
            data["height"] ??= height;
            var name = Label(value, type, rat, errors);
            if (Interchange.Double(value["rotation"]) is { } rotation && rotation != 0)
                errors.Add($"{rat}.value.rotation", "Rotated regions are not supported; Cube boxes are axis-aligned.");
            if (name is null) continue;
            switch (config.Kind)
            {
                case LabelingKind.BoundingBoxes:
                    var x = Num(value, "x", rat, errors);
                    var y = Num(value, "y", rat, errors);
                    var w = Num(value, "width", rat, errors);
                    var h = Num(value, "height", rat, errors);
                    if (x is null || y is null || w is null || h is null) continue;
                    items.Add(new JsonObject { ["label"] = name, ["x"] = Px(x.Value, width.Value), ["y"] = Px(y.Value, height.Value), ["width"] = Px(w.Value, width.Value), ["height"] = Px(h.Value, height.Value) });
                    break;
                case LabelingKind.Polygons:
                    if (value["points"] is not JsonArray points || points.Any(p => p is not JsonArray pair || pair.Count != 2 || pair.Any(v => Interchange.Double(v) is null)))
                    {
                        errors.Add($"{rat}.value.points", "'points' is an array of [x, y] percentage pairs.");
                        continue;
                    }
                    items.Add(new JsonObject
                    {
                        ["label"] = name,
                        ["points"] = new JsonArray([.. points.Select(p => (JsonNode)new JsonArray(Px(Interchange.Double(p![0]) ?? 0, width.Value), Px(Interchange.Double(p[1]) ?? 0, height.Value)))]),
                    });
                    break;
                default:
                    var px = Num(value, "x", rat, errors);
                    var py = Num(value, "y", rat, errors);
                    if (px is null || py is null) continue;
                    items.Add(new JsonObject { ["label"] = name, ["x"] = Px(px.Value, width.Value), ["y"] = Px(py.Value, height.Value) });
                    break;
            }
            where.Add(rat);
        }
        if (errors.Count > before) return null;
        var result = config.IsClassification
            ? new JsonObject { ["labels"] = new JsonArray([.. labels.Distinct(StringComparer.Ordinal).Select(l => (JsonNode)l)]) }
            : Interchange.Result(config, items);
        return new InterchangeResult(result, Where: at, ItemWhere: where);
    }

    private static string? Label(JsonObject value, string type, string at, FormatErrors errors)
    {
        if (value[type] is JsonArray { Count: 1 } names && Interchange.String(names[0]) is { } name) return name;
        errors.Add($"{at}.value.{type}", $"'{type}' is an array holding one label name.");
        return null;
    }

    private static double? Num(JsonObject value, string name, string at, FormatErrors errors)
    {
        if (Interchange.Double(value[name]) is { } d) return d;
        errors.Add($"{at}.value.{name}", $"A number '{name}' is required.");
        return null;
    }

    private static int? Int(JsonObject value, string name, string at, FormatErrors errors)
    {
        if (Interchange.Double(value[name]) is { } d && d == Math.Floor(d) && d is >= int.MinValue and <= int.MaxValue) return (int)d;
        errors.Add($"{at}.value.{name}", $"An integer '{name}' is required.");
        return null;
    }

    private static int? Size(JsonObject o, string name) => Interchange.Double(o[name]) is { } d && d >= 1 && d < int.MaxValue && d == Math.Floor(d) ? (int)d : null;
}
