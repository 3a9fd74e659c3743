using System.IO.Compression;
using System.Text;
using System.Text.Json;
using Cube.Core.Errors;
using Cube.Core.Identity;
using Cube.Labeling.Data;
using Cube.Labeling.Formats.Interchange;
using Cube.Labeling.Predictions;
using Cube.Labeling.Projects;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Options;

namespace Cube.Labeling.Apis;

/// <summary>A prediction as the annotator and reviewers see it: <c>kind</c> is always "prediction", so it is never taken for an annotation.</summary>
public sealed record PredictionDto(Guid Id, Guid TaskId, string Kind, string Model, string? ModelVersion, double? Score, JsonElement Result, DateTimeOffset CreatedAt)
{
    public static PredictionDto From(Prediction p) => new(p.Id, p.TaskId, "prediction", p.Model, p.ModelVersion, p.Score, TaskDto.Parse(p.ResultJson), p.CreatedAt);
}

public sealed record NewPredictionRequest(Guid? Task, string? Key, string Model, string? ModelVersion, JsonElement Result, double? Score);

public sealed record AddPredictionsRequest(IReadOnlyList<NewPredictionRequest> Predictions);

public sealed record AddedPredictionsDto(int Count, IReadOnlyList<Guid> Ids);

public sealed record ImportedDto(string Format, int Tasks, int Predictions);

/// <summary>Pre-annotations: attach model predictions to tasks, and import task files (with their predictions) in the interchange formats.</summary>
public static class PredictionsApi
{
    public static IEndpointRouteBuilder MapPredictionsApi(this IEndpointRouteBuilder endpoints)
    {
        var group = endpoints.MapGroup(LabelingProjectsApi.Base + "/{labeling:guid}").WithTags("Labeling");
        group.MapPost("/predictions", AddAsync).WithName("AddLabelingPredictions")
            .WithSummary("Attaches model predictions to tasks named by id or external key (data.key, else data.image); all or none, each validated against the configuration.")
            .RequireAuthorization(CubePolicies.ProjectManager);
        group.MapGet("/tasks/{task:guid}/predictions", ListAsync).WithName("ListLabelingPredictions").WithSummary("A task's predictions, highest score first.")
            .RequireAuthorization(CubePolicies.ProjectReviewer);
        group.MapPost("/import", ImportAsync).WithName("ImportLabelingTasks")
            .WithSummary("Adds the tasks of a file (labelstudio, coco, yolo zip, voc zip, jsonl, csv, conll) with their predictions, atomically; 422 names every bad item.")
            // The body is the file itself, whatever Content-Type the client sends (curl --data-binary sends a form type);
            // no Accepts metadata, which would turn other types away at routing.
            .RequireAuthorization(CubePolicies.ProjectManager);
        return endpoints;
    }

    private static async Task<Created<AddedPredictionsDto>> AddAsync(Guid labeling, AddPredictionsRequest request, HttpContext http, LabelingProjects projects,
        PredictionStore store, CancellationToken cancellationToken)
    {
        var (project, found) = await ApiHelpers.ResolveAsync(http, projects, labeling);
        if (request.Predictions is null || request.Predictions.Count == 0) throw new ValidationException("predictions", "Give at least one prediction.");
        if (request.Predictions.Count > PredictionStore.MaxPerRequest) throw new ValidationException("predictions", $"At most {PredictionStore.MaxPerRequest} predictions per request.");
        var added = await store.AttachAsync(found, [.. request.Predictions.Select(p => new NewPrediction(p.Task, p.Key, p.Model, p.ModelVersion, p.Result, p.Score))], cancellationToken);
        return TypedResults.Created($"/api/projects/{project.Slug}/labeling/{found.Id}/tasks", new AddedPredictionsDto(added.Count, [.. added.Select(p => p.Id)]));
    }

    private static async Task<Ok<List<PredictionDto>>> ListAsync(Guid labeling, Guid task, HttpContext http, LabelingProjects projects, LabelingDbContext db,
        PredictionStore store, CancellationToken cancellationToken)
    {
        var (_, found) = await ApiHelpers.ResolveAsync(http, projects, labeling);
        if (!db.Tasks.Any(t => t.Id == task && t.LabelingProjectId == found.Id)) throw new NotFoundException("Task", task.ToString());
        return TypedResults.Ok((await store.ForTaskAsync(task, cancellationToken)).Select(PredictionDto.From).ToList());
    }

    /// <summary>
    /// The body is the file itself (zip for yolo and voc). Limits: <see cref="LabelingOptions"/> caps the body (413),
    /// the unzipped size, the entry count and the task count; zip entries with <c>..</c> or absolute paths are refused.
    /// </summary>
    private static async Task<Created<ImportedDto>> ImportAsync(Guid labeling, string? format, string? scheme, string? annotationModel, HttpContext http,
        LabelingProjects projects, PredictionStore store, IOptions<LabelingOptions> options, CancellationToken cancellationToken)
    {
        var (project, found) = await ApiHelpers.ResolveAsync(http, projects, labeling);
        var limits = options.Value;
        var kind = (format ?? "").ToLowerInvariant();
        if (kind is not ("labelstudio" or "coco" or "yolo" or "voc" or "jsonl" or "csv" or "conll"))
            throw new ValidationException("format", $"Format '{format}' is not one of labelstudio, coco, yolo, voc, jsonl, csv, conll.");
        var tagScheme = scheme is null ? TagScheme.Bio : ApiHelpers.ParseEnum<TagScheme>(scheme, "scheme");
        var model = string.IsNullOrWhiteSpace(annotationModel) ? "import" : annotationModel.Trim();
        if (model.Length > 200) throw new ValidationException("annotationModel", "A model name is at most 200 characters.");
        var body = await ReadBodyAsync(http, limits.MaxImportBytes, cancellationToken);
        var config = LabelingProjects.Config(found);
        var max = limits.MaxImportTasks;
        List<InterchangeTask> tasks = kind switch
        {
            "labelstudio" => LabelStudioFormat.Read(config, body, max),
            "coco" => CocoFormat.Read(config, body, max),
            "jsonl" => JsonLinesFormat.Read(config, body, max),
            "csv" => CsvFormat.Read(config, body, max),
            "conll" => ConllFormat.Read(config, body, tagScheme, max),
            "voc" => VocFormat.Read(config, Unzip(body, limits, out _), max),
            _ => ReadYolo(config, body, limits),
        };
        var (count, predictions) = await store.ImportAsync(found, tasks, model, cancellationToken);
        return TypedResults.Created($"/api/projects/{project.Slug}/labeling/{found.Id}/tasks", new ImportedDto(kind, count, predictions));
    }

    private static List<InterchangeTask> ReadYolo(Configs.LabelConfig config, MemoryStream body, LabelingOptions limits)
    {
        YoloFormat.Require(config);
        var files = Unzip(body, limits, out var images);
        var byStem = images.GroupBy(i => Path.GetFileNameWithoutExtension(i.Image), StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.First(), StringComparer.Ordinal);
        return YoloFormat.Read(config, files, stem => byStem.GetValueOrDefault(stem), limits.MaxImportTasks);
    }

    private static async Task<MemoryStream> ReadBodyAsync(HttpContext http, long limit, CancellationToken cancellationToken)
    {
        if (http.Request.ContentLength > limit) throw new PayloadTooLargeException($"The upload is larger than the import limit of {limit:N0} bytes (Cube:Labeling:MaxImportBytes).", limit);
        if (http.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } feature) feature.MaxRequestBodySize = limit;
        var buffer = new MemoryStream();
        var chunk = new byte[1 << 16];
        int read;
        while ((read = await http.Request.Body.ReadAsync(chunk, cancellationToken)) > 0)
        {
            if (buffer.Length + read > limit) throw new PayloadTooLargeException($"The upload is larger than the import limit of {limit:N0} bytes (Cube:Labeling:MaxImportBytes).", limit);
            buffer.Write(chunk, 0, read);
        }
        if (buffer.Length == 0) throw new ValidationException("body", "Send the file as the request body.");
        buffer.Position = 0;
        return buffer;
    }

    /// <summary>The text files of a zip (and the sizes of its images), refusing unsafe entry names and oversized content.</summary>
    internal static Dictionary<string, string> Unzip(Stream body, LabelingOptions limits, out List<YoloFormat.ImageInfo> images)
    {
        images = [];
        var files = new Dictionary<string, string>(StringComparer.Ordinal);
        ZipArchive zip;
        try
        {
            zip = new ZipArchive(body, ZipArchiveMode.Read);
        }
        catch (InvalidDataException e)
        {
            throw new UnprocessableException($"The upload is not a zip archive: {e.Message}");
        }
        using (zip)
        {
            if (zip.Entries.Count > limits.MaxImportZipEntries) throw new UnprocessableException($"The zip has {zip.Entries.Count:N0} entries; at most {limits.MaxImportZipEntries:N0} are read.");
            long total = 0;
            var errors = new FormatErrors();
            foreach (var entry in zip.Entries)
            {
                var name = entry.FullName.Replace('\\', '/');
                if (name.StartsWith('/') || (name.Length > 1 && name[1] == ':') || name.Split('/').Any(part => part == ".."))
                {
                    errors.Add(entry.FullName, "Entry paths may not be absolute or contain '..'.");
                    continue;
                }
                if (name.EndsWith('/')) continue;
                total += entry.Length;
                if (total > limits.MaxImportUnzippedBytes)
                    throw new PayloadTooLargeException($"The zip unpacks to more than {limits.MaxImportUnzippedBytes:N0} bytes (Cube:Labeling:MaxImportUnzippedBytes).", limits.MaxImportUnzippedBytes);
                var extension = Path.GetExtension(name).ToLowerInvariant();
                if (extension is ".txt" or ".xml" or ".yaml" or ".yml")
                {
                    using var reader = new StreamReader(entry.Open(), Encoding.UTF8);
                    files[name] = reader.ReadToEnd();
                }
                else if (extension is ".png" or ".jpg" or ".jpeg" or ".bmp" or ".webp" or ".gif")
                {
                    using var stream = new MemoryStream();
                    using (var source = entry.Open()) source.CopyTo(stream);
                    stream.Position = 0;
                    using var codec = SkiaSharp.SKCodec.Create(stream);
                    if (codec is null) errors.Add(entry.FullName, "The image cannot be decoded, so its size is unknown.");
                    else images.Add(new YoloFormat.ImageInfo(name, codec.Info.Width, codec.Info.Height));
                }
            }
            errors.ThrowIfAny("zip");
        }
        return files;
    }
}
