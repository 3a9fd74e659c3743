using System.Text.Json;
using System.Text.Json.Nodes;
using Cube.Core.Errors;
using Cube.Labeling.Configs;

namespace Cube.Labeling.Formats.Interchange;

/// <summary>
/// COCO object detection JSON for box and polygon configurations: <c>images</c> (id, file_name, width, height),
/// <c>annotations</c> (bbox <c>[x,y,w,h]</c> in pixels, polygon <c>segmentation</c>, area) and <c>categories</c> numbered
/// from 1 in the order of the configuration's labels. One result per image: the final (accepted or consensus) one.
/// </summary>
public static class CocoFormat
{
    public const string Name = "COCO";

    public static void Require(LabelConfig config)
    {
        if (config.Kind is not (LabelingKind.BoundingBoxes or LabelingKind.Polygons))
            throw new UnprocessableException($"COCO holds boxes and polygons; this project is {config.Kind}.");
    }

    /// <summary>Writes the file in two passes over the tasks (images, then annotations), so it streams without holding the project.</summary>
    public static async Task WriteAsync(LabelConfig config, Func<IAsyncEnumerable<InterchangeTask>> tasks, Stream output, CancellationToken cancellationToken)
    {
        Require(config);
        await using var json = new Utf8JsonWriter(output);
        json.WriteStartObject();
        json.WriteStartObject("info");
        json.WriteString("description", "Exported by Cube");
        json.WriteString("version", "1.0");
        json.WriteEndObject();
        json.WriteStartArray("categories");
        for (var i = 0; i < config.Labels.Count; i++)
        {
            json.WriteStartObject();
            json.WriteNumber("id", i + 1);
            json.WriteString("name", config.Labels[i].Name);
            json.WriteString("supercategory", "none");
            json.WriteEndObject();
        }
        json.WriteEndArray();
        json.WriteStartArray("images");
        var id = 0;
        await foreach (var task in tasks().WithCancellation(cancellationToken))
        {
            id++;
            if (task.Single is null) continue;
            json.WriteStartObject();
            json.WriteNumber("id", id);
            json.WriteString("file_name", task.Image ?? task.Key ?? $"task-{id}");
            if (task.Width is { } w) json.WriteNumber("width", w);
            if (task.Height is { } h) json.WriteNumber("height", h);
            if (Interchange.String(task.Data["url"]) is { } url) json.WriteString("coco_url", url);
            if (task.Key is not null) json.WriteString("cube_task", task.Key);
            json.WriteEndObject();
            if (json.BytesPending > 1 << 16) await json.FlushAsync(cancellationToken);
        }
        json.WriteEndArray();
        json.WriteStartArray("annotations");
        var categories = config.Labels.Select((l, i) => (l.Name, i + 1)).ToDictionary(x => x.Name, x => x.Item2, StringComparer.Ordinal);
        id = 0;
        var annotationId = 0;
        await foreach (var task in tasks().WithCancellation(cancellationToken))
        {
            id++;
            var result = task.Single;
            if (result is null) continue;
            foreach (var item in Interchange.Items(result, Interchange.Member(config)))
            {
                var label = Interchange.String(item["label"]) ?? "";
                if (!categories.TryGetValue(label, out var category)) continue;
                double x, y, w, h, area;
                List<double>? flat = null;
                if (config.Kind == LabelingKind.BoundingBoxes)
                {
                    (x, y, w, h) = (Interchange.Get(item, "x"), Interchange.Get(item, "y"), Interchange.Get(item, "width"), Interchange.Get(item, "height"));
                    area = w * h;
                }
                else
                {
                    var points = (item["points"] as JsonArray ?? []).OfType<JsonArray>().Select(p => (X: Interchange.Double(p[0]) ?? 0, Y: Interchange.Double(p[1]) ?? 0)).ToList();
                    if (points.Count == 0) continue;
                    flat = [.. points.SelectMany(p => new[] { p.X, p.Y })];
                    x = points.Min(p => p.X);
                    y = points.Min(p => p.Y);
                    w = points.Max(p => p.X) - x;
                    h = points.Max(p => p.Y) - y;
                    area = Math.Abs(points.Select((p, i) => p.X * points[(i + 1) % points.Count].Y - points[(i + 1) % points.Count].X * p.Y).Sum()) / 2;
                }
                json.WriteStartObject();
                json.WriteNumber("id", ++annotationId);
                json.WriteNumber("image_id", id);
                json.WriteNumber("category_id", category);
                json.WriteStartArray("bbox");
                foreach (var v in new[] { x, y, w, h }) json.WriteNumberValue(Math.Round(v, 6));
                json.WriteEndArray();
                json.WriteNumber("area", Math.Round(area, 6));
                json.WriteStartArray("segmentation");
                if (flat is not null)
                {
                    json.WriteStartArray();
                    foreach (var v in flat) json.WriteNumberValue(Math.Round(v, 6));
                    json.WriteEndArray();
                }
                json.WriteEndArray();
                json.WriteNumber("iscrowd", 0);
                json.WriteEndObject();
            }
            if (json.BytesPending > 1 << 16) await json.FlushAsync(cancellationToken);
        }
        json.WriteEndArray();
        json.WriteEndObject();
        await json.FlushAsync(cancellationToken);
    }

    /// <summary>
    /// Reads a COCO file: one task per image (file_name, width, height) whose annotations form one result. When the
    /// annotations carry a <c>score</c> (detector output) the result is a prediction scored by the mean of its boxes'
    /// scores; otherwise it is an annotation. Problems are reported as <c>images[i]</c>, <c>annotations[j]</c>, <c>categories[k]</c>.
    /// </summary>
    public static List<InterchangeTask> Read(LabelConfig config, Stream input, int maxTasks)
    {
        Require(config);
        var errors = new FormatErrors();
        JsonObject root;
        try
        {
            root = JsonNode.Parse(input) as JsonObject ?? throw new UnprocessableException("A COCO file is a JSON object with images, annotations and categories.");
        }
        catch (JsonException e)
        {
            throw new UnprocessableException($"The COCO file is not valid JSON: {e.Message}");
        }
        var labels = config.Labels.Select(l => l.Name).ToHashSet(StringComparer.Ordinal);
        var categories = new Dictionary<long, string>();
        var cats = root["categories"] as JsonArray;
        if (cats is null) errors.Add("categories", "'categories' is an array of {id, name}.");
        for (var k = 0; cats is not null && k < cats.Count; k++)
        {
            var at = $"categories[{k}]";
            var cid = Interchange.Double(cats[k]?["id"]);
            var cname = Interchange.String(cats[k]?["name"]);
            if (cid is null || cname is null) errors.Add(at, "A category has a numeric 'id' and a 'name'.");
            else if (!categories.TryAdd((long)cid, cname)) errors.Add($"{at}.id", $"Category id {cid} is listed twice.");
        }
        var images = root["images"] as JsonArray;
        if (images is null) errors.Add("images", "'images' is an array of {id, file_name, width, height}.");
        else if (images.Count > maxTasks) throw new UnprocessableException($"The file has {images.Count:N0} images; at most {maxTasks:N0} are imported at once.");
        var byId = new Dictionary<long, int>();
        var tasks = new List<(JsonObject Data, string Where, List<JsonNode> Items, List<string> ItemWhere, List<double> Scores, string? Key)>();
        for (var i = 0; images is not null && i < images.Count; i++)
        {
            var at = $"images[{i}]";
            var iid = Interchange.Double(images[i]?["id"]);
            var file = Interchange.String(images[i]?["file_name"]);
            if (iid is null || file is null)
            {
                errors.Add(at, "An image has a numeric 'id' and a 'file_name'.");
                continue;
            }
            if (!byId.TryAdd((long)iid, tasks.Count))
            {
                errors.Add($"{at}.id", $"Image id {iid} is listed twice.");
                continue;
            }
            var data = new JsonObject { ["image"] = file };
            if (Interchange.Double(images[i]?["width"]) is { } w) data["width"] = (int)w;
            if (Interchange.Double(images[i]?["height"]) is { } h) data["height"] = (int)h;
            if (Interchange.String(images[i]?["coco_url"]) is { } url) data["url"] = url;
            tasks.Add((data, at, [], [], [], iid.Value.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        }
        var annotations = root["annotations"] as JsonArray ?? [];
        if (root["annotations"] is not JsonArray) errors.Add("annotations", "'annotations' is an array.");
        for (var j = 0; j < annotations.Count; j++)
        {
            var at = $"annotations[{j}]";
            if (annotations[j] is not JsonObject a) { errors.Add(at, "An annotation is an object."); continue; }
            var imageId = Interchange.Double(a["image_id"]);
            if (imageId is null || !byId.TryGetValue((long)imageId, out var index)) { errors.Add($"{at}.image_id", $"Image {a["image_id"]?.ToJsonString() ?? "(none)"} is not in 'images'."); continue; }
            var categoryId = Interchange.Double(a["category_id"]);
            if (categoryId is null || !categories.TryGetValue((long)categoryId, out var category)) { errors.Add($"{at}.category_id", $"Category {a["category_id"]?.ToJsonString() ?? "(none)"} is not in 'categories'."); continue; }
            if (!labels.Contains(category)) { errors.Add($"{at}.category_id", $"Category '{category}' is not a label of this project ({string.Join(", ", labels)})."); continue; }
            var task = tasks[index];
            if (Interchange.Double(a["score"]) is { } score) task.Scores.Add(score);
            if (config.Kind == LabelingKind.BoundingBoxes)
            {
                if (a["bbox"] is not JsonArray { Count: 4 } bbox || bbox.Any(v => Interchange.Double(v) is null)) { errors.Add($"{at}.bbox", "'bbox' is [x, y, width, height] in pixels."); continue; }
                task.Items.Add(new JsonObject { ["label"] = category, ["x"] = Interchange.Double(bbox[0]), ["y"] = Interchange.Double(bbox[1]), ["width"] = Interchange.Double(bbox[2]), ["height"] = Interchange.Double(bbox[3]) });
                task.ItemWhere.Add(at);
                continue;
            }
            if (a["segmentation"] is not JsonArray segmentation)
            {
                errors.Add($"{at}.segmentation", a["segmentation"] is JsonObject ? "RLE masks are not supported; give polygons." : "'segmentation' is an array of polygons [x1, y1, x2, y2, …].");
                continue;
            }
            for (var s = 0; s < segmentation.Count; s++)
            {
                if (segmentation[s] is not JsonArray flat || flat.Count % 2 != 0 || flat.Any(v => Interchange.Double(v) is null))
                {
                    errors.Add($"{at}.segmentation[{s}]", "A polygon is a flat array of an even count of numbers.");
                    continue;
                }
                var points = new JsonArray();
                for (var p = 0; p < flat.Count; p += 2) points.Add(new JsonArray(Interchange.Double(flat[p]), Interchange.Double(flat[p + 1])));
                task.Items.Add(new JsonObject { ["label"] = category, ["points"] = points });
                task.ItemWhere.Add($"{at}.segmentation[{s}]");
            }
        }
        var result = tasks.Select(t =>
        {
            var r = new InterchangeResult(Interchange.Result(config, t.Items), Where: t.Where, ItemWhere: t.ItemWhere);
            var scored = t.Scores.Count > 0;
            if (t.Items.Count == 0) return new InterchangeTask(t.Data, [], [], Key: t.Key, Where: t.Where);
            return scored
                ? new InterchangeTask(t.Data, [], [r with { Score = t.Scores.Average() }], Key: t.Key, Where: t.Where)
                : new InterchangeTask(t.Data, [r], [], Key: t.Key, Where: t.Where);
        }).ToList();
        Interchange.Validate(config, result, Name, errors);
        return result;
    }
}
