using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Cube.Core.Errors;
using Cube.Labeling.Data;
using Cube.Labeling.Projects;
using Microsoft.EntityFrameworkCore;

namespace Cube.Labeling.Formats;

/// <summary>A task with its counted annotations and, for annotations a reviewer corrected, the latest correction.</summary>
internal sealed record ExportTask(LabelingTask Task, List<Annotation> Annotations, IReadOnlyDictionary<Guid, Review> Corrections)
{
    /// <summary>The result that counts: the reviewer's correction when there is one, else the annotator's own.</summary>
    public string? Result(Annotation annotation) => Corrections.TryGetValue(annotation.Id, out var c) ? c.CorrectedResultJson : annotation.ResultJson;
}

/// <summary>
/// Writes a project's results. JSONL: one line per task, <c>{"task","data","annotations":[{"annotator","status",
/// "reviewState","result","correction"?}]}</c>, with submitted and accepted annotations (gold tasks carry their
/// answer); a corrected annotation's result is the reviewer's, and <c>correction</c> names the reviewer, when, and
/// their comment. CSV, for classification: <c>task,item,annotator,labels</c>, one row per annotation (corrected
/// labels for corrected ones), several labels joined by <c>|</c>.
/// </summary>
public sealed class ResultExport(LabelingDbContext db)
{
    private const int PageSize = 2_000;
    private static readonly Dictionary<Guid, Review> EmptyCorrections = [];

    public async Task WriteJsonLinesAsync(LabelingProject project, Stream output, CancellationToken cancellationToken)
    {
        await using var writer = new StreamWriter(output, new UTF8Encoding(false), 1 << 16, leaveOpen: true) { NewLine = "\n" };
        await foreach (var page in ReadAsync(db, project, cancellationToken))
        {
            var task = page.Task;
            var line = new JsonObject
            {
                ["task"] = task.Id.ToString(),
                ["data"] = JsonNode.Parse(task.DataJson),
                ["annotations"] = new JsonArray(page.Annotations.Select(a =>
                {
                    var result = page.Result(a);
                    var entry = new JsonObject
                    {
                        ["annotator"] = a.AnnotatorId.ToString(),
                        ["status"] = a.Status.ToString().ToLowerInvariant(),
                        ["reviewState"] = a.ReviewState.ToString().ToLowerInvariant(),
                        ["result"] = result is null ? null : JsonNode.Parse(result),
                    };
                    if (page.Corrections.TryGetValue(a.Id, out var correction))
                        entry["correction"] = new JsonObject { ["reviewer"] = correction.ReviewerId.ToString(), ["at"] = correction.CreatedAt, ["comment"] = correction.Comment };
                    return (JsonNode)entry;
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
        await foreach (var page in ReadAsync(db, project, cancellationToken))
        {
            var task = page.Task;
            using var data = JsonDocument.Parse(task.DataJson);
            var item = data.RootElement.TryGetProperty("text", out var text) ? text.ToString()
                : data.RootElement.TryGetProperty("image", out var image) ? image.ToString() : data.RootElement.GetRawText();
            foreach (var annotation in page.Annotations)
            {
                using var result = JsonDocument.Parse(page.Result(annotation) ?? "{}");
                var labels = result.RootElement.TryGetProperty("labels", out var l) ? string.Join('|', l.EnumerateArray().Select(x => x.GetString())) : "";
                await writer.WriteLineAsync(string.Join(',', Csv(task.Id.ToString()), Csv(item), Csv(annotation.AnnotatorId.ToString()), Csv(labels)));
            }
        }
    }

    /// <summary>
    /// Tasks in order with their counted annotations (submitted or accepted, in submission order) and the corrections
    /// of those a reviewer corrected, a page at a time so large projects stream. Every export format reads the project
    /// through here.
    /// </summary>
    internal static async IAsyncEnumerable<ExportTask> ReadAsync(LabelingDbContext db, LabelingProject project,
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
            var corrected = annotations.Values.SelectMany(a => a).Where(a => a.ReviewState == ReviewState.Corrected).Select(a => a.Id).ToList();
            // The latest correction wins; the review service also writes it into the annotation, but the review row is
            // the record of who corrected it.
            var corrections = corrected.Count == 0 ? new Dictionary<Guid, Review>() : (await db.Reviews.AsNoTracking()
                    .Where(r => corrected.Contains(r.AnnotationId) && r.Decision == ReviewDecision.Correct && r.CorrectedResultJson != null)
                    .ToListAsync(cancellationToken))
                .GroupBy(r => r.AnnotationId).ToDictionary(g => g.Key, g => g.MaxBy(r => r.CreatedAt)!);
            foreach (var task in tasks)
            {
                var own = annotations.GetValueOrDefault(task.Id) ?? [];
                yield return new ExportTask(task, own, own.Any(a => corrections.ContainsKey(a.Id)) ? corrections : EmptyCorrections);
            }
            after = tasks[^1].Ordinal;
        }
    }

    internal static string Csv(string value) =>
        value.AsSpan().IndexOfAny(",\"\r\n") >= 0 ? "\"" + value.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"" : value;
}
