using System.Text;
using System.Text.Json.Nodes;
using Cube.Core.Errors;
using Cube.Labeling.Configs;
using Cube.Labeling.Quality;

namespace Cube.Labeling.Formats.Interchange;

/// <summary>
/// CSV for classification, with a header. Written as <c>task,item,annotator,labels</c> (one row per annotation,
/// several labels joined by <c>|</c>). Read with columns <c>text</c>, <c>image</c> or <c>item</c> (what is labeled) and
/// optionally <c>label</c>/<c>labels</c>, <c>task</c>/<c>id</c> (rows with one id form one task), <c>annotator</c>, and
/// <c>model</c>/<c>score</c> (which make the row's labels a prediction).
/// </summary>
public static class CsvFormat
{
    public const string Name = "CSV";

    public static void Require(LabelConfig config)
    {
        if (!config.IsClassification) throw new UnprocessableException($"CSV holds classification labels; this project is {config.Kind}. Use JSONL.");
    }

    public static async Task WriteAsync(LabelConfig config, IAsyncEnumerable<InterchangeTask> tasks, Stream output, CancellationToken cancellationToken)
    {
        Require(config);
        await using var writer = new StreamWriter(output, new UTF8Encoding(false), 1 << 16, leaveOpen: true) { NewLine = "\n" };
        await writer.WriteLineAsync("task,item,annotator,labels");
        await foreach (var task in tasks.WithCancellation(cancellationToken))
        {
            var item = (config.IsImage ? task.Image : task.Text) ?? "";
            foreach (var a in task.Annotations)
                await writer.WriteLineAsync(string.Join(',', ResultExport.Csv(task.Key ?? ""), ResultExport.Csv(item), ResultExport.Csv(a.Source ?? ""),
                    ResultExport.Csv(string.Join('|', Interchange.Labels(a.Result)))));
        }
    }

    public static List<InterchangeTask> Read(LabelConfig config, Stream input, int maxTasks)
    {
        Require(config);
        var errors = new FormatErrors();
        using var reader = new StreamReader(input, Encoding.UTF8, true);
        var order = new List<string>();
        var byKey = new Dictionary<string, (JsonObject Data, List<InterchangeResult> Annotations, List<InterchangeResult> Predictions, string Where, string? Key)>(StringComparer.Ordinal);
        try
        {
            List<string>? header = null;
            int Column(params string[] names) => header!.FindIndex(h => names.Contains(h, StringComparer.OrdinalIgnoreCase));
            int item = -1, labels = -1, key = -1, annotator = -1, model = -1, score = -1;
            foreach (var (line, fields) in CrowdCsv.Records(reader, Name))
            {
                if (header is null)
                {
                    header = [.. fields.Select(f => f.Trim().TrimStart('\uFEFF'))];
                    item = Column(config.IsImage ? "image" : "text", "item");
                    labels = Column("labels", "label");
                    key = Column("task", "id");
                    annotator = Column("annotator");
                    model = Column("model");
                    score = Column("score");
                    if (item < 0) throw new UnprocessableException($"line 1: the header needs a column '{(config.IsImage ? "image" : "text")}' (or 'item'); found '{string.Join(',', header)}'.");
                    continue;
                }
                if (fields.Count == 1 && fields[0].Length == 0) continue;
                var at = $"line {line}";
                if (fields.Count != header.Count) { errors.Add(at, $"Expected {header.Count} fields, found {fields.Count}."); continue; }
                var id = key >= 0 && fields[key].Trim().Length > 0 ? fields[key].Trim() : $"#{line}";
                if (!byKey.TryGetValue(id, out var task))
                {
                    if (byKey.Count >= maxTasks) throw new UnprocessableException($"The file has more than {maxTasks:N0} tasks; at most {maxTasks:N0} are imported at once.");
                    var data = new JsonObject { [config.IsImage ? "image" : "text"] = fields[item] };
                    byKey[id] = task = (data, [], [], at, key >= 0 && fields[key].Trim().Length > 0 ? id : null);
                    order.Add(id);
                }
                else if (Interchange.String(task.Data[config.IsImage ? "image" : "text"]) != fields[item])
                    errors.Add(at, $"Task '{id}' has a different item here than on {task.Where}.");
                if (labels < 0 || fields[labels].Trim().Length == 0) continue;
                var names = fields[labels].Split('|').Select(l => l.Trim()).ToList();
                var result = new InterchangeResult(new JsonObject { ["labels"] = new JsonArray([.. names.Select(n => (JsonNode)n)]) }, Where: at,
                    ItemWhere: [.. names.Select(n => $"{at}: {header[labels]} '{n}'")]);
                var isPrediction = (model >= 0 && fields[model].Trim().Length > 0) || (score >= 0 && fields[score].Trim().Length > 0);
                if (isPrediction)
                {
                    double? value = null;
                    if (score >= 0 && fields[score].Trim().Length > 0)
                    {
                        if (double.TryParse(fields[score], System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var parsed)) value = parsed;
                        else errors.Add(at, $"Score '{fields[score]}' is not a number.");
                    }
                    task.Predictions.Add(result with { Source = model >= 0 ? fields[model].Trim() : null, Score = value });
                }
                else task.Annotations.Add(result with { Source = annotator >= 0 && fields[annotator].Trim().Length > 0 ? fields[annotator].Trim() : null });
            }
            if (header is null) throw new UnprocessableException("The CSV file is empty; it needs a header.");
        }
        catch (CrowdCsvException e)
        {
            var message = e.Message[(e.Message.IndexOf(": ", StringComparison.Ordinal) + 2)..];
            throw new UnprocessableException($"line {e.Line}: {message}").With("errors", new Dictionary<string, string[]> { [$"line {e.Line}"] = [message] });
        }
        var tasks = order.Select(k => byKey[k]).Select(t => new InterchangeTask(t.Data, t.Annotations, t.Predictions, Key: t.Key, Where: t.Where)).ToList();
        Interchange.Validate(config, tasks, Name, errors);
        return tasks;
    }
}
