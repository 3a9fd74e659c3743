using System.Globalization;
using System.Text.Json.Nodes;
using System.Xml;
using System.Xml.Linq;
using Cube.Core.Errors;
using Cube.Labeling.Configs;

namespace Cube.Labeling.Formats.Interchange;

/// <summary>
/// Pascal VOC XML for box configurations: <c>Annotations/&lt;image stem&gt;.xml</c> per image with
/// <c>filename</c>, <c>size</c> and one <c>object</c> (<c>name</c>, <c>bndbox</c> xmin/ymin/xmax/ymax in pixels) per box.
/// One result per image: the final one.
/// </summary>
public static class VocFormat
{
    public const string Name = "Pascal VOC";

    public static void Require(LabelConfig config)
    {
        if (config.Kind != LabelingKind.BoundingBoxes) throw new UnprocessableException($"Pascal VOC holds bounding boxes; this project is {config.Kind}.");
    }

    public static XDocument Document(InterchangeTask task, JsonObject result)
    {
        var image = task.Image ?? task.Key ?? "";
        var root = new XElement("annotation",
            new XElement("folder", Path.GetDirectoryName(image)?.Replace('\\', '/') ?? ""),
            new XElement("filename", Path.GetFileName(image)),
            new XElement("path", image),
            new XElement("source", new XElement("database", "Cube")),
            new XElement("size", new XElement("width", task.Width ?? 0), new XElement("height", task.Height ?? 0), new XElement("depth", 3)),
            new XElement("segmented", 0));
        foreach (var box in Interchange.Items(result, "boxes"))
        {
            var (x, y, w, h) = (Interchange.Get(box, "x"), Interchange.Get(box, "y"), Interchange.Get(box, "width"), Interchange.Get(box, "height"));
            root.Add(new XElement("object",
                new XElement("name", Interchange.String(box["label"])),
                new XElement("pose", "Unspecified"), new XElement("truncated", 0), new XElement("difficult", 0),
                new XElement("bndbox",
                    new XElement("xmin", Interchange.Number(x)), new XElement("ymin", Interchange.Number(y)),
                    new XElement("xmax", Interchange.Number(x + w)), new XElement("ymax", Interchange.Number(y + h)))));
        }
        return new XDocument(root);
    }

    public static async Task WriteAsync(LabelConfig config, IAsyncEnumerable<InterchangeTask> tasks, ZipOutput zip, CancellationToken cancellationToken)
    {
        Require(config);
        var used = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        var index = 0;
        await foreach (var task in tasks.WithCancellation(cancellationToken))
        {
            index++;
            if (task.Single is not { } result) continue;
            var stem = Interchange.Stem(task, index);
            if (!used.Add(stem)) used.Add(stem = $"{stem}-{index}");
            await zip.WriteAsync($"Annotations/{stem}.xml", Document(task, result).ToString(), cancellationToken);
        }
        await zip.WriteAsync("labels.txt", string.Join('\n', config.Labels.Select(l => l.Name)) + "\n", cancellationToken);
    }

    /// <summary>Reads VOC XML files (path to content); each becomes a task for its image with one result. Problems are reported as <c>file.xml: object[2].bndbox</c>.</summary>
    public static List<InterchangeTask> Read(LabelConfig config, IReadOnlyDictionary<string, string> files, int maxTasks)
    {
        Require(config);
        var errors = new FormatErrors();
        var xmlFiles = files.Keys.Where(k => k.EndsWith(".xml", StringComparison.OrdinalIgnoreCase)).Order(StringComparer.Ordinal).ToList();
        if (xmlFiles.Count == 0) throw new UnprocessableException("The upload has no VOC .xml files.");
        if (xmlFiles.Count > maxTasks) throw new UnprocessableException($"The upload has {xmlFiles.Count:N0} files; at most {maxTasks:N0} are imported at once.");
        var tasks = new List<InterchangeTask>();
        foreach (var file in xmlFiles)
        {
            XElement root;
            try
            {
                using var reader = XmlReader.Create(new StringReader(files[file]), new XmlReaderSettings { DtdProcessing = DtdProcessing.Prohibit, XmlResolver = null });
                root = XDocument.Load(reader, LoadOptions.SetLineInfo).Root!;
            }
            catch (XmlException e)
            {
                errors.Add(file, $"Not well-formed XML: {e.Message}");
                continue;
            }
            if (root.Name != "annotation") { errors.Add(file, $"The root element is <{root.Name}>, not <annotation>."); continue; }
            var image = (string?)root.Element("path") is { Length: > 0 } path ? path : (string?)root.Element("filename");
            if (string.IsNullOrWhiteSpace(image)) { errors.Add(file, "<filename> is missing."); continue; }
            var width = Int(root.Element("size")?.Element("width"));
            var height = Int(root.Element("size")?.Element("height"));
            var data = new JsonObject { ["image"] = image };
            if (width is > 0) data["width"] = width;
            if (height is > 0) data["height"] = height;
            var items = new List<JsonNode>();
            var where = new List<string>();
            var k = 0;
            foreach (var obj in root.Elements("object"))
            {
                var at = $"{file}: object[{k++}] (line {((IXmlLineInfo)obj).LineNumber})";
                var name = ((string?)obj.Element("name"))?.Trim();
                var box = obj.Element("bndbox");
                var (xmin, ymin, xmax, ymax) = (Num(box?.Element("xmin")), Num(box?.Element("ymin")), Num(box?.Element("xmax")), Num(box?.Element("ymax")));
                if (string.IsNullOrEmpty(name)) { errors.Add(at, "<name> is missing."); continue; }
                if (xmin is null || ymin is null || xmax is null || ymax is null) { errors.Add($"{at}.bndbox", "<bndbox> needs numeric xmin, ymin, xmax and ymax."); continue; }
                if (xmax < xmin || ymax < ymin) { errors.Add($"{at}.bndbox", $"xmax/ymax ({Interchange.Number(xmax.Value)}, {Interchange.Number(ymax.Value)}) lie before xmin/ymin ({Interchange.Number(xmin.Value)}, {Interchange.Number(ymin.Value)})."); continue; }
                items.Add(new JsonObject { ["label"] = name, ["x"] = xmin, ["y"] = ymin, ["width"] = Math.Round(xmax.Value - xmin.Value, 6), ["height"] = Math.Round(ymax.Value - ymin.Value, 6) });
                where.Add(at);
            }
            var result = new InterchangeResult(Interchange.Result(config, items), Where: file, ItemWhere: where);
            tasks.Add(new InterchangeTask(data, items.Count > 0 ? [result] : [], [], Key: image, Where: file));
        }
        Interchange.Validate(config, tasks, Name, errors);
        return tasks;
    }

    private static double? Num(XElement? e) =>
        e is not null && double.TryParse(e.Value.Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out var v) && double.IsFinite(v) ? v : null;

    private static int? Int(XElement? e) => Num(e) is { } v && v == Math.Floor(v) && v is >= 0 and < int.MaxValue ? (int)v : null;
}
