using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Cube.Core.Errors;
using Cube.Labeling.Configs;

namespace Cube.Labeling.Formats.Interchange;

/// <summary>
/// JSON Lines, one task a line, for any configuration (spans and classification above all). Written as
/// <c>{"task","data","annotations":[{"annotator","result"}],"predictions":[{"model","score","result"}]}</c> (the shape of
/// Cube's export); read in that shape or flat: <c>{"text":…,"spans":[…]}</c>, <c>{"text":…,"label":"pos"}</c>,
/// <c>{"image":…,"boxes":[…]}</c>, where a <c>model</c> or <c>score</c> on a flat line makes its result a prediction.
/// </summary>
public static class JsonLinesFormat
{
    public const string Name = "JSONL";
    private static readonly string[] ResultMembers = ["labels", "label", "spans", "boxes", "polygons", "keypoints"];

    public static async Task WriteAsync(IAsyncEnumerable<InterchangeTask> tasks, Stream output, CancellationToken cancellationToken)
    {
        await using var writer = new StreamWriter(output, new UTF8Encoding(false), 1 << 16, leaveOpen: true) { NewLine = "\n" };
        await foreach (var task in tasks.WithCancellation(cancellationToken))
        {
            var line = new JsonObject
            {
                ["task"] = task.Key,
                ["data"] = task.Data.DeepClone(),
                ["annotations"] = new JsonArray([.. task.Annotations.Select(a => (JsonNode)new JsonObject { ["annotator"] = a.Source, ["result"] = a.Result.DeepClone() })]),
                ["predictions"] = new JsonArray([.. task.Predictions.Select(p => (JsonNode)new JsonObject { ["model"] = p.Source, ["score"] = p.Score, ["result"] = p.Result.DeepClone() })]),
            };
            await writer.WriteLineAsync(line.ToJsonString());
        }
    }

    public static List<InterchangeTask> Read(LabelConfig config, Stream input, int maxTasks)
    {
        var errors = new FormatErrors();
        var tasks = new List<InterchangeTask>();
        using var reader = new StreamReader(input, Encoding.UTF8, true);
        var number = 0;
        while (reader.ReadLine() is { } text)
        {
            number++;
            if (string.IsNullOrWhiteSpace(text)) continue;
            var at = $"line {number}";
            if (tasks.Count >= maxTasks) throw new UnprocessableException($"The file has more than {maxTasks:N0} tasks; at most {maxTasks:N0} are imported at once.");
            JsonObject line;
            try
            {
                if (JsonNode.Parse(text) is not JsonObject o) { errors.Add(at, "Each line is a JSON object."); continue; }
                line = o;
            }
            catch (JsonException e)
            {
                errors.Add(at, $"Not valid JSON: {e.Message}");
                continue;
            }
            var annotations = new List<InterchangeResult>();
            var predictions = new List<InterchangeResult>();
            JsonObject data;
            if (line["data"] is JsonObject d)
            {
                data = (JsonObject)d.DeepClone();
                Results(line["annotations"], "annotations", "annotator", annotations);
                Results(line["predictions"], "predictions", "model", predictions);
            }
            else
            {
                data = (JsonObject)line.DeepClone();
                foreach (var member in ResultMembers.Concat(["model", "score", "annotator"])) data.Remove(member);
                var result = new JsonObject();
                if (line["label"] is { } single)
                {
                    if (Interchange.String(single) is null) errors.Add($"{at}.label", "'label' is a label name.");
                    result["labels"] = new JsonArray(single.DeepClone());
                }
                foreach (var member in ResultMembers.Where(m => m != "label" && line.ContainsKey(m))) result[member] = line[member]?.DeepClone();
                if (result.Count > 0)
                {
                    var score = line["score"] is null ? (double?)null : Interchange.Double(line["score"]);
                    if (line["score"] is not null && score is null) errors.Add($"{at}.score", "A score is a number.");
                    var parsed = new InterchangeResult(result, Where: at);
                    if (line["model"] is not null || line["score"] is not null) predictions.Add(parsed with { Source = Interchange.String(line["model"]), Score = score });
                    else annotations.Add(parsed with { Source = Interchange.String(line["annotator"]) });
                }
            }
            tasks.Add(new InterchangeTask(data, annotations, predictions, Key: (line["task"] ?? line["id"]) is { } key ? (Interchange.String(key) ?? key.ToJsonString()) : null, Where: at));

            void Results(JsonNode? node, string name, string sourceName, List<InterchangeResult> into)
            {
                if (node is null) return;
                if (node is not JsonArray array) { errors.Add($"{at}.{name}", $"'{name}' is an array."); return; }
                for (var i = 0; i < array.Count; i++)
                {
                    var where = $"{at}.{name}[{i}]";
                    if (array[i] is not JsonObject item || item["result"] is not JsonObject result) { errors.Add(where, "Each entry has a 'result' object."); continue; }
                    double? score = null;
                    if (item["score"] is { } s && (score = Interchange.Double(s)) is null) errors.Add($"{where}.score", "A score is a number.");
                    into.Add(new InterchangeResult((JsonObject)result.DeepClone(), Interchange.String(item[sourceName]), score, where));
                }
            }
        }
        Interchange.Validate(config, tasks, Name, errors);
        return tasks;
    }
}
