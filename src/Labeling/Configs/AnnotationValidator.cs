using System.Text.Json;

namespace Cube.Labeling.Configs;

/// <summary>What a result is checked against besides the configuration: the image size or the text of the task.</summary>
public sealed record TaskSubject(int? Width = null, int? Height = null, string? Text = null);

/// <summary>
/// Validates an annotation result against a label configuration. Result shapes, per kind:
/// classification <c>{"labels":["cat"]}</c>; boxes <c>{"boxes":[{"label","x","y","width","height"}]}</c> in pixels from the
/// top-left corner; polygons <c>{"polygons":[{"label","points":[[x,y],…]}]}</c>; keypoints
/// <c>{"keypoints":[{"label","x","y","visible"?}]}</c> (<c>visible: false</c> for an occluded point); named entities <c>{"spans":[{"label","start","end"}]}</c> as character offsets
/// into the text, end exclusive. Every problem is reported under its JSON path (<c>result.boxes[2].x</c>).
/// </summary>
public static class AnnotationValidator
{
    public static void Validate(LabelConfig config, JsonElement result, TaskSubject subject)
    {
        var errors = new ErrorList();
        var labels = config.Labels.Select(l => l.Name).ToHashSet(StringComparer.Ordinal);
        if (result.ValueKind != JsonValueKind.Object)
        {
            errors.Add("result", "The result must be a JSON object.");
            errors.ThrowIfAny();
        }
        var member = config.Kind switch
        {
            LabelingKind.ImageClassification or LabelingKind.TextClassification => "labels",
            LabelingKind.BoundingBoxes => "boxes",
            LabelingKind.Polygons => "polygons",
            LabelingKind.Keypoints => "keypoints",
            _ => "spans",
        };
        foreach (var property in result.EnumerateObject())
            if (property.Name != member) errors.Add($"result.{property.Name}", $"Unknown member '{property.Name}'; a {config.Kind} result has only '{member}'.");
        if (!result.TryGetProperty(member, out var items) || items.ValueKind != JsonValueKind.Array)
        {
            errors.Add($"result.{member}", $"A {config.Kind} result needs an array '{member}'.");
            errors.ThrowIfAny();
        }
        var path = $"result.{member}";
        switch (config.Kind)
        {
            case LabelingKind.ImageClassification or LabelingKind.TextClassification:
                Classification(config, items, labels, path, errors);
                break;
            case LabelingKind.BoundingBoxes:
                Boxes(config, items, labels, subject, path, errors);
                break;
            case LabelingKind.Polygons:
                Polygons(config, items, labels, subject, path, errors);
                break;
            case LabelingKind.Keypoints:
                Keypoints(items, labels, subject, path, errors);
                break;
            default:
                Spans(config, items, labels, subject, path, errors);
                break;
        }
        errors.ThrowIfAny();
    }

    private static void Classification(LabelConfig config, JsonElement items, HashSet<string> labels, string path, ErrorList errors)
    {
        var count = items.GetArrayLength();
        if (count == 0) errors.Add(path, "Choose at least one label.");
        if (!config.Multiple && count > 1) errors.Add(path, $"This configuration takes one label; {count} were given.");
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var i = 0;
        foreach (var item in items.EnumerateArray())
        {
            var at = $"{path}[{i++}]";
            if (item.ValueKind != JsonValueKind.String) errors.Add(at, "A label must be a string.");
            else if (!labels.Contains(item.GetString()!)) errors.Add(at, $"Unknown label '{item.GetString()}'.");
            else if (!seen.Add(item.GetString()!)) errors.Add(at, $"Label '{item.GetString()}' is given twice.");
        }
    }

    private static void Boxes(LabelConfig config, JsonElement items, HashSet<string> labels, TaskSubject subject, string path, ErrorList errors)
    {
        var i = 0;
        foreach (var box in items.EnumerateArray())
        {
            var at = $"{path}[{i++}]";
            if (!Label(box, labels, at, errors)) continue;
            var x = Number(box, "x", at, errors);
            var y = Number(box, "y", at, errors);
            var w = Number(box, "width", at, errors);
            var h = Number(box, "height", at, errors);
            if (x is null || y is null || w is null || h is null) continue;
            if (w < config.MinBoxSize || h < config.MinBoxSize || w <= 0 || h <= 0)
                errors.Add(at, $"The box is {ErrorList.Number(w.Value)}x{ErrorList.Number(h.Value)} pixels; the smallest allowed is {ErrorList.Number(Math.Max(config.MinBoxSize, double.Epsilon))} on each side.");
            if (x < 0 || y < 0) errors.Add(at, $"The box starts outside the image at ({ErrorList.Number(x.Value)}, {ErrorList.Number(y.Value)}).");
            if (subject.Width is { } width && x + w > width)
                errors.Add(at, $"The box ends at x={ErrorList.Number(x.Value + w.Value)}, outside the image width {width}.");
            if (subject.Height is { } height && y + h > height)
                errors.Add(at, $"The box ends at y={ErrorList.Number(y.Value + h.Value)}, outside the image height {height}.");
        }
    }

    private static void Polygons(LabelConfig config, JsonElement items, HashSet<string> labels, TaskSubject subject, string path, ErrorList errors)
    {
        var i = 0;
        foreach (var polygon in items.EnumerateArray())
        {
            var at = $"{path}[{i++}]";
            if (!Label(polygon, labels, at, errors)) continue;
            if (!polygon.TryGetProperty("points", out var points) || points.ValueKind != JsonValueKind.Array)
            {
                errors.Add($"{at}.points", "A polygon needs an array 'points' of [x, y] pairs.");
                continue;
            }
            var count = points.GetArrayLength();
            if (count < config.MinPolygonPoints || count > config.MaxPolygonPoints)
                errors.Add($"{at}.points", $"A polygon has {config.MinPolygonPoints} to {config.MaxPolygonPoints} points; this one has {count}.");
            var j = 0;
            foreach (var point in points.EnumerateArray())
            {
                var pointAt = $"{at}.points[{j++}]";
                if (point.ValueKind != JsonValueKind.Array || point.GetArrayLength() != 2
                    || point[0].ValueKind != JsonValueKind.Number || point[1].ValueKind != JsonValueKind.Number)
                {
                    errors.Add(pointAt, "A point is an array [x, y] of two numbers.");
                    continue;
                }
                Inside(point[0].GetDouble(), point[1].GetDouble(), subject, pointAt, "point", errors);
            }
        }
    }

    private static void Keypoints(JsonElement items, HashSet<string> labels, TaskSubject subject, string path, ErrorList errors)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var i = 0;
        foreach (var point in items.EnumerateArray())
        {
            var at = $"{path}[{i++}]";
            if (!Label(point, labels, at, errors)) continue;
            var label = point.GetProperty("label").GetString()!;
            if (!seen.Add(label)) errors.Add($"{at}.label", $"Keypoint '{label}' is placed twice.");
            var x = Number(point, "x", at, errors);
            var y = Number(point, "y", at, errors);
            if (x is not null && y is not null) Inside(x.Value, y.Value, subject, at, "keypoint", errors);
            // A placed point the annotator cannot see (occluded) keeps its estimated position and says visible: false.
            if (point.TryGetProperty("visible", out var visible) && visible.ValueKind is not (JsonValueKind.True or JsonValueKind.False))
                errors.Add($"{at}.visible", "'visible' is true or false (false: placed but not visible in the image).");
        }
    }

    private static void Spans(LabelConfig config, JsonElement items, HashSet<string> labels, TaskSubject subject, string path, ErrorList errors)
    {
        var spans = new List<(int Start, int End, int Index)>();
        var i = 0;
        foreach (var span in items.EnumerateArray())
        {
            var index = i++;
            var at = $"{path}[{index}]";
            if (!Label(span, labels, at, errors)) continue;
            var start = Integer(span, "start", at, errors);
            var end = Integer(span, "end", at, errors);
            if (start is null || end is null) continue;
            if (start < 0 || end <= start)
            {
                errors.Add(at, $"A span needs 0 <= start < end; got start {start}, end {end}.");
                continue;
            }
            if (subject.Text is { } text && end > text.Length)
            {
                errors.Add(at, $"The span ends at {end}, past the end of the text ({text.Length} characters).");
                continue;
            }
            if (subject.Text is { } source && span.TryGetProperty("text", out var quoted) && quoted.ValueKind == JsonValueKind.String
                && quoted.GetString() != source[start.Value..end.Value])
                errors.Add($"{at}.text", $"The span's text '{quoted.GetString()}' differs from the text at {start}..{end}, '{source[start.Value..end.Value]}'.");
            spans.Add((start.Value, end.Value, index));
        }
        if (config.AllowOverlap) return;
        spans.Sort((a, b) => a.Start != b.Start ? a.Start.CompareTo(b.Start) : a.End.CompareTo(b.End));
        for (var k = 1; k < spans.Count; k++)
            if (spans[k].Start < spans[k - 1].End)
                errors.Add($"{path}[{spans[k].Index}]", $"Span {spans[k].Start}..{spans[k].End} overlaps span {spans[k - 1].Start}..{spans[k - 1].End} ({path}[{spans[k - 1].Index}]); this configuration does not allow overlapping spans.");
    }

    private static bool Label(JsonElement item, HashSet<string> labels, string at, ErrorList errors)
    {
        if (item.ValueKind != JsonValueKind.Object)
        {
            errors.Add(at, "Each item must be an object.");
            return false;
        }
        if (!item.TryGetProperty("label", out var label) || label.ValueKind != JsonValueKind.String)
        {
            errors.Add($"{at}.label", "A 'label' string is required.");
            return false;
        }
        if (labels.Contains(label.GetString()!)) return true;
        errors.Add($"{at}.label", $"Unknown label '{label.GetString()}'.");
        return false;
    }

    private static double? Number(JsonElement item, string name, string at, ErrorList errors)
    {
        if (item.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Number && double.IsFinite(value.GetDouble())) return value.GetDouble();
        errors.Add($"{at}.{name}", $"A number '{name}' is required.");
        return null;
    }

    private static int? Integer(JsonElement item, string name, string at, ErrorList errors)
    {
        if (item.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Number && value.TryGetInt32(out var number)) return number;
        errors.Add($"{at}.{name}", $"An integer '{name}' is required.");
        return null;
    }

    private static void Inside(double x, double y, TaskSubject subject, string at, string what, ErrorList errors)
    {
        if (x < 0 || y < 0 || (subject.Width is { } w && x > w) || (subject.Height is { } h && y > h))
            errors.Add(at, $"The {what} ({ErrorList.Number(x)}, {ErrorList.Number(y)}) lies outside the image"
                + (subject.Width is not null ? $" ({subject.Width}x{subject.Height})." : "."));
    }
}
