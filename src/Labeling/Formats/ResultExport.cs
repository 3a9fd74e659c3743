using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Cube.Core.Errors;
using Cube.Labeling.Data;
using Cube.Labeling.Projects;
using Microsoft.EntityFrameworkCore;

namespace Cube.Labeling.Formats;

/// <summary>
/// Writes a project's results. JSONL: one line per task, <c>{"task","data","annotations":[{"annotator","status",
/// "reviewState","result"}]}</c>, with submitted and accepted annotations (gold tasks carry their answer). CSV, for
/// classification: <c>task,item,annotator,labels</c>, one row per annotation, several labels joined by <c>|</c>.
/// </summary>
public sealed class ResultExport(LabelingDbContext db)
{
    private const int PageSize = 2_000;

    public async Task WriteJsonLinesAsync(LabelingProject project, Stream output, CancellationToken cancellationToken)
    {
        await using var writer = new StreamWriter(output, new UTF8Encoding(false), 1 << 16, leaveOpen: true) { NewLine = "\n" };
        await foreach (var (task, annotations) in ReadAsync(db, project, cancellationToken))
        {
            var line = new JsonObject
            {
                ["task"] = task.Id.ToString(),
                ["data"] = JsonNode.Parse(task.DataJson),
                ["annotations"] = new JsonArray(annotations.Select(a => (JsonNode)new JsonObject
                {
                    ["annotator"] = a.AnnotatorId.ToString(),
                    ["status"] = a.Status.ToString().ToLowerInvariant(),
                    ["reviewState"] = a.ReviewState.ToString().ToLowerInvariant(),
                    ["result"] = a.ResultJson is null ? null : JsonNode.Parse(a.ResultJson),
                }).ToArray()),
            };
            if (task.IsGold) line["goldAnswer"] = task.GoldAnswerJson is null ? null : JsonNode.Parse(task.GoldAnswerJson);
            await writer.WriteLineAsync(line.ToJsonString());
        }
    }

    public async Task WriteCsvAsync(LabelingProject project, Stream output, CancellationToken cancellationToken)
    {
        var config = LabelingProjects.Config(project);
        if (!config.IsClassification) throw new UnprocessableException($"CSV export is for classification; this project is {config.Kind}. Use JSONL.");
        await using var writer = new StreamWriter(output, new UTF8Encoding(false), 1 << 16, leaveOpen: true) { NewLine = "\n" };
        await writer.WriteLineAsync("task,item,annotator,labels");
        await foreach (var (task, annotations) in ReadAsync(db, project, cancellationToken))
        {
            using var data = JsonDocument.Parse(task.DataJson);
            var item = data.RootElement.TryGetProperty("text", out var text) ? text.ToString()
                : data.RootElement.TryGetProperty("image", out var image) ? image.ToString() : data.RootElement.GetRawText();
            foreach (var annotation in annotations)
            {
                using var result = JsonDocument.Parse(annotation.ResultJson ?? "{}");
                var labels = result.RootElement.TryGetProperty("labels", out var l) ? string.Join('|', l.EnumerateArray().Select(x => x.GetString())) : "";
                await writer.WriteLineAsync(string.Join(',', Csv(task.Id.ToString()), Csv(item), Csv(annotation.AnnotatorId.ToString()), Csv(labels)));
            }
        }
    }

    /// <summary>
    /// Tasks in order with their counted annotations (submitted or accepted, in submission order), a page at a time so
    /// large projects stream. Every export format reads the project through here.
    /// </summary>
    internal static async IAsyncEnumerable<(LabelingTask Task, List<Annotation> Annotations)> ReadAsync(LabelingDbContext db, LabelingProject project,
        [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        long after = -1;
        while (true)
        {
            var tasks = await db.Tasks.AsNoTracking().Where(t => t.LabelingProjectId == project.Id && t.Ordinal > after)
                .OrderBy(t => t.Ordinal).Take(PageSize).ToListAsync(cancellationToken);
            if (tasks.Count == 0) yield break;
            var ids = tasks.Select(t => t.Id).ToList();
            var annotations = (await db.Annotations.AsNoTracking()
                    .Where(a => ids.Contains(a.TaskId) && (a.Status == AnnotationStatus.Submitted || a.Status == AnnotationStatus.Accepted))
                    .ToListAsync(cancellationToken))
                .GroupBy(a => a.TaskId).ToDictionary(g => g.Key, g => g.OrderBy(a => a.SubmittedAt).ThenBy(a => a.Id).ToList());
            foreach (var task in tasks) yield return (task, annotations.GetValueOrDefault(task.Id) ?? []);
            after = tasks[^1].Ordinal;
        }
    }

    internal static string Csv(string value) =>
        value.AsSpan().IndexOfAny(",\"\r\n") >= 0 ? "\"" + value.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"" : value;
}
