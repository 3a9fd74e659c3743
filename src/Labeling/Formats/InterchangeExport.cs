using System.Text.Json;
using System.Text.Json.Nodes;
using Cube.Core.Errors;
using Cube.Labeling.Configs;
using Cube.Labeling.Data;
using Cube.Labeling.Formats.Interchange;
using Cube.Labeling.Projects;
using Cube.Labeling.Quality;

namespace Cube.Labeling.Formats;

/// <summary>The export formats beyond Cube's own JSONL and CSV.</summary>
public enum ExportFormat
{
    Jsonl,
    Csv,
    LabelStudio,
    Coco,
    Yolo,
    Voc,
    Conll,
}

/// <summary>
/// A project's tasks as the format converters see them, read a page at a time: every counted annotation (submitted
/// or accepted, as the JSONL export counts them; a reviewer's correction replaces the annotator's result) and the
/// final result for single-result formats — the gold answer for gold tasks, else the latest accepted annotation, else
/// the only annotation, else the consensus of the annotations as the quality API computes it (majority vote, box
/// clustering at IoU 0.5, span voting).
/// </summary>
public sealed class InterchangeExport(LabelingDbContext db)
{
    public static ExportFormat Parse(string? format) => (format ?? "jsonl").ToLowerInvariant() switch
    {
        "jsonl" => ExportFormat.Jsonl,
        "csv" => ExportFormat.Csv,
        "labelstudio" or "label-studio" => ExportFormat.LabelStudio,
        "coco" => ExportFormat.Coco,
        "yolo" => ExportFormat.Yolo,
        "voc" => ExportFormat.Voc,
        "conll" => ExportFormat.Conll,
        _ => throw new ValidationException("format", $"Format '{format}' is not one of jsonl, csv, labelstudio, coco, yolo, voc, conll."),
    };

    /// <summary>Refuses, before anything is written, a format that cannot hold this configuration's results.</summary>
    public static void Require(ExportFormat format, LabelConfig config)
    {
        switch (format)
        {
            case ExportFormat.Csv: CsvFormat.Require(config); break;
            case ExportFormat.Coco: CocoFormat.Require(config); break;
            case ExportFormat.Yolo: YoloFormat.Require(config); break;
            case ExportFormat.Voc: VocFormat.Require(config); break;
            case ExportFormat.Conll: ConllFormat.Require(config); break;
        }
    }

    public static (string ContentType, string FileName) Describe(ExportFormat format) => format switch
    {
        ExportFormat.Csv => ("text/csv; charset=utf-8", "labels.csv"),
        ExportFormat.LabelStudio => ("application/json; charset=utf-8", "labels.labelstudio.json"),
        ExportFormat.Coco => ("application/json; charset=utf-8", "labels.coco.json"),
        ExportFormat.Yolo => ("application/zip", "labels.yolo.zip"),
        ExportFormat.Voc => ("application/zip", "labels.voc.zip"),
        ExportFormat.Conll => ("text/plain; charset=utf-8", "labels.conll"),
        _ => ("application/jsonl; charset=utf-8", "labels.jsonl"),
    };

    /// <summary>Writes the project in one of the converter formats (JSONL and CSV stay with <see cref="ResultExport"/>).</summary>
    public async Task WriteAsync(LabelingProject project, ExportFormat format, Stream output, CancellationToken cancellationToken)
    {
        var config = LabelingProjects.Config(project);
        Require(format, config);
        switch (format)
        {
            case ExportFormat.LabelStudio:
                await LabelStudioFormat.WriteAsync(config, TasksAsync(project, config, cancellationToken), output, cancellationToken);
                break;
            case ExportFormat.Coco:
                await CocoFormat.WriteAsync(config, () => TasksAsync(project, config, cancellationToken), output, cancellationToken);
                break;
            case ExportFormat.Conll:
                await ConllFormat.WriteAsync(config, TasksAsync(project, config, cancellationToken), output, cancellationToken);
                break;
            case ExportFormat.Yolo or ExportFormat.Voc:
                await using (var zip = await ZipOutput.CreateAsync(output, cancellationToken))
                {
                    if (format == ExportFormat.Yolo) await YoloFormat.WriteAsync(config, TasksAsync(project, config, cancellationToken), zip, cancellationToken);
                    else await VocFormat.WriteAsync(config, TasksAsync(project, config, cancellationToken), zip, cancellationToken);
                }
                break;
            default:
                throw new InvalidOperationException($"{format} is written by ResultExport.");
        }
    }

    public async IAsyncEnumerable<InterchangeTask> TasksAsync(LabelingProject project, LabelConfig config,
        [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await foreach (var page in ResultExport.ReadAsync(db, project, cancellationToken))
        {
            var task = page.Task;
            var own = page.Annotations.Where(a => page.Result(a) is not null).ToList();
            var results = own.Select(a => new InterchangeResult((JsonObject)JsonNode.Parse(page.Result(a)!)!, a.AnnotatorId.ToString())).ToList();
            var final = task.GoldAnswerJson is not null ? (JsonObject)JsonNode.Parse(task.GoldAnswerJson)!
                : own.Where(a => a.Status == AnnotationStatus.Accepted).MaxBy(a => a.UpdatedAt) is { } accepted ? (JsonObject)JsonNode.Parse(page.Result(accepted)!)!
                : Consensus(config, results);
            yield return new InterchangeTask((JsonObject)JsonNode.Parse(task.DataJson)!, results, [], final, task.Id.ToString());
        }
    }

    /// <summary>One result from several annotators' results; null when there are none.</summary>
    public static JsonObject? Consensus(LabelConfig config, IReadOnlyList<InterchangeResult> results)
    {
        if (results.Count == 0) return null;
        if (results.Count == 1) return results[0].Result;
        // The same per-task consensus as the quality API's (ProjectQuality), at the default IoU threshold of 0.5.
        var elements = results.Select((r, i) => (r.Source ?? i.ToString(System.Globalization.CultureInfo.InvariantCulture), JsonSerializer.SerializeToElement(r.Result))).ToList();
        switch (config.Kind)
        {
            case LabelingKind.ImageClassification or LabelingKind.TextClassification:
                return new JsonObject { ["labels"] = new JsonArray([.. ProjectQuality.LabelsOf(elements).Select(l => (JsonNode)l)]) };
            case LabelingKind.BoundingBoxes:
                return new JsonObject
                {
                    ["boxes"] = new JsonArray([.. ProjectQuality.BoxesOf(elements, 0.5).Select(b => (JsonNode)new JsonObject
                    {
                        ["label"] = b.Box.Label, ["x"] = Math.Round(b.Box.X, 4), ["y"] = Math.Round(b.Box.Y, 4), ["width"] = Math.Round(b.Box.Width, 4), ["height"] = Math.Round(b.Box.Height, 4),
                    })]),
                };
            case LabelingKind.NamedEntities:
                return new JsonObject { ["spans"] = new JsonArray([.. ProjectQuality.SpansOf(elements).Select(s => (JsonNode)new JsonObject { ["label"] = s.Span.Label, ["start"] = s.Span.Start, ["end"] = s.Span.End })]) };
            default:
                return results[0].Result;
        }
    }
}
