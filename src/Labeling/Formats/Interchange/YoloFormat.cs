using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using Cube.Core.Errors;
using Cube.Labeling.Configs;

namespace Cube.Labeling.Formats.Interchange;

/// <summary>
/// YOLO (Darknet/Ultralytics) labels for box and polygon configurations: <c>classes.txt</c> (one label per line, the
/// line number is the class index), <c>data.yaml</c>, and <c>labels/&lt;image stem&gt;.txt</c> per image with one
/// object a line, coordinates normalised to 0..1: <c>class cx cy w h [confidence]</c> for boxes, <c>class x1 y1 x2 y2 …</c>
/// for polygons. One result per image: the final one. Normalised coordinates need the image size.
/// </summary>
public static class YoloFormat
{
    public const string Name = "YOLO";

    public static void Require(LabelConfig config)
    {
        if (config.Kind is not (LabelingKind.BoundingBoxes or LabelingKind.Polygons))
            throw new UnprocessableException($"YOLO holds boxes and polygons; this project is {config.Kind}.");
    }

    public static async Task WriteAsync(LabelConfig config, IAsyncEnumerable<InterchangeTask> tasks, ZipOutput zip, CancellationToken cancellationToken)
    {
        Require(config);
        await zip.WriteAsync("classes.txt", string.Join('\n', config.Labels.Select(l => l.Name)) + "\n", cancellationToken);
        var yaml = new StringBuilder("# Exported by Cube\npath: .\ntrain: images\nval: images\nnames:\n");
        for (var i = 0; i < config.Labels.Count; i++) yaml.Append(CultureInfo.InvariantCulture, $"  {i}: \"{config.Labels[i].Name.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal)}\"\n");
        await zip.WriteAsync("data.yaml", yaml.ToString(), cancellationToken);
        var classes = config.Labels.Select((l, i) => (l.Name, i)).ToDictionary(x => x.Name, x => x.i, StringComparer.Ordinal);
        var used = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        var index = 0;
        await foreach (var task in tasks.WithCancellation(cancellationToken))
        {
            index++;
            if (task.Single is not { } result) continue;
            if (task.Width is not { } w || task.Height is not { } h)
                throw new UnprocessableException($"Task {task.Key ?? task.Image} has no image size; YOLO coordinates are normalised by it.");
            var stem = Interchange.Stem(task, index);
            if (!used.Add(stem)) used.Add(stem = $"{stem}-{index}");
            var lines = new StringBuilder();
            foreach (var item in Interchange.Items(result, Interchange.Member(config)))
            {
                if (!classes.TryGetValue(Interchange.String(item["label"]) ?? "", out var cls)) continue;
                lines.Append(cls.ToString(CultureInfo.InvariantCulture));
                if (config.Kind == LabelingKind.BoundingBoxes)
                {
                    var (x, y, bw, bh) = (Interchange.Get(item, "x"), Interchange.Get(item, "y"), Interchange.Get(item, "width"), Interchange.Get(item, "height"));
                    foreach (var v in new[] { (x + bw / 2) / w, (y + bh / 2) / h, bw / w, bh / h }) lines.Append(' ').Append(N(v));
                }
                else
                    foreach (var p in (item["points"] as JsonArray ?? []).OfType<JsonArray>())
                        lines.Append(' ').Append(N((Interchange.Double(p[0]) ?? 0) / w)).Append(' ').Append(N((Interchange.Double(p[1]) ?? 0) / h));
                lines.Append('\n');
            }
            await zip.WriteAsync($"labels/{stem}.txt", lines.ToString(), cancellationToken);
        }
    }

    /// <summary>An image the label files refer to: its path as the task shows it and its size.</summary>
    public sealed record ImageInfo(string Image, int Width, int Height);

    /// <summary>
    /// Reads <c>classes.txt</c> and the label files (every other <c>.txt</c>) of an unpacked YOLO folder. Each label file
    /// becomes a task for the image of the same stem, whose size <paramref name="imageOf"/> supplies; a sixth box column
    /// (a detector's confidence) makes the result a prediction scored by the mean confidence. Problems are reported as
    /// <c>labels/a.txt:3</c>.
    /// </summary>
    public static List<InterchangeTask> Read(LabelConfig config, IReadOnlyDictionary<string, string> files, Func<string, ImageInfo?> imageOf, int maxTasks)
    {
        Require(config);
        var errors = new FormatErrors();
        var classesFile = files.Keys.Where(k => Path.GetFileName(k) == "classes.txt").OrderBy(k => k.Length).FirstOrDefault()
            ?? throw new UnprocessableException("A YOLO upload needs classes.txt, one class name a line.");
        var classes = files[classesFile].Split('\n').Select(l => l.TrimEnd('\r').Trim()).ToList();
        while (classes.Count > 0 && classes[^1].Length == 0) classes.RemoveAt(classes.Count - 1);
        var labels = config.Labels.Select(l => l.Name).ToHashSet(StringComparer.Ordinal);
        for (var i = 0; i < classes.Count; i++)
            if (!labels.Contains(classes[i])) errors.Add($"{classesFile}:{i + 1}", $"Class '{classes[i]}' is not a label of this project ({string.Join(", ", labels)}).");
        var labelFiles = files.Keys.Where(k => k != classesFile && k.EndsWith(".txt", StringComparison.OrdinalIgnoreCase)).Order(StringComparer.Ordinal).ToList();
        if (labelFiles.Count > maxTasks) throw new UnprocessableException($"The upload has {labelFiles.Count:N0} label files; at most {maxTasks:N0} are imported at once.");
        var tasks = new List<InterchangeTask>();
        foreach (var file in labelFiles)
        {
            var stem = Path.GetFileNameWithoutExtension(file);
            var image = imageOf(stem);
            if (image is null)
            {
                errors.Add(file, $"No image named '{stem}' with a known size goes with this label file.");
                continue;
            }
            var items = new List<JsonNode>();
            var where = new List<string>();
            var scores = new List<double>();
            var lines = files[file].Split('\n');
            for (var n = 0; n < lines.Length; n++)
            {
                var line = lines[n].Trim();
                if (line.Length == 0) continue;
                var at = $"{file}:{n + 1}";
                var parts = line.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
                if (!int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var cls) || cls >= classes.Count)
                {
                    errors.Add(at, $"Class '{parts[0]}' is not an index into classes.txt (0..{classes.Count - 1}).");
                    continue;
                }
                var values = new double[parts.Length - 1];
                var bad = false;
                for (var k = 1; k < parts.Length; k++)
                    if (!double.TryParse(parts[k], NumberStyles.Float, CultureInfo.InvariantCulture, out values[k - 1]) || !double.IsFinite(values[k - 1]))
                    {
                        errors.Add(at, $"Column {k + 1} ('{parts[k]}') is not a number.");
                        bad = true;
                    }
                if (bad) continue;
                if (config.Kind == LabelingKind.BoundingBoxes)
                {
                    if (values.Length is not (4 or 5)) { errors.Add(at, $"A box line is 'class cx cy w h [confidence]'; this one has {parts.Length} columns."); continue; }
                    if (values.Take(4).Any(v => v is < 0 or > 1)) { errors.Add(at, "Box coordinates are normalised to 0..1."); continue; }
                    var (cx, cy, bw, bh) = (values[0] * image.Width, values[1] * image.Height, values[2] * image.Width, values[3] * image.Height);
                    items.Add(new JsonObject { ["label"] = classes[cls], ["x"] = R(cx - bw / 2), ["y"] = R(cy - bh / 2), ["width"] = R(bw), ["height"] = R(bh) });
                    if (values.Length == 5) scores.Add(values[4]);
                }
                else
                {
                    if (values.Length < 6 || values.Length % 2 != 0) { errors.Add(at, "A polygon line is 'class x1 y1 x2 y2 x3 y3 …' with at least three points."); continue; }
                    if (values.Any(v => v is < 0 or > 1)) { errors.Add(at, "Polygon coordinates are normalised to 0..1."); continue; }
                    var points = new JsonArray();
                    for (var k = 0; k < values.Length; k += 2) points.Add(new JsonArray(R(values[k] * image.Width), R(values[k + 1] * image.Height)));
                    items.Add(new JsonObject { ["label"] = classes[cls], ["points"] = points });
                }
                where.Add(at);
            }
            var data = new JsonObject { ["image"] = image.Image, ["width"] = image.Width, ["height"] = image.Height };
            var result = new InterchangeResult(Interchange.Result(config, items), Where: file, ItemWhere: where);
            tasks.Add(scores.Count > 0 && scores.Count == items.Count
                ? new InterchangeTask(data, [], [result with { Score = scores.Average() }], Key: image.Image, Where: file)
                : new InterchangeTask(data, items.Count > 0 ? [result] : [], [], Key: image.Image, Where: file));
        }
        Interchange.Validate(config, tasks, Name, errors);
        return tasks;
    }

    private static double R(double v) => Math.Round(v, 4);

    private static string N(double v) => v.ToString("0.##########", CultureInfo.InvariantCulture);
}
