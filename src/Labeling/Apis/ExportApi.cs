using System.Security.Claims;
using Cube.Core.Identity;
using Cube.Labeling.Formats;
using Cube.Labeling.Projects;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;

namespace Cube.Labeling.Apis;

public sealed record ExportToDatasetRequest(string Dataset, string? Message);

public sealed record ExportedVersionDto(Guid DatasetId, string Dataset, Guid VersionId, int Number, int FileCount);

/// <summary>Results out: streamed as JSONL or CSV, or written as the next version of a dataset with lineage.</summary>
public static class ExportApi
{
    public static IEndpointRouteBuilder MapExportApi(this IEndpointRouteBuilder endpoints)
    {
        var group = endpoints.MapGroup(LabelingProjectsApi.Base + "/{labeling:guid}").WithTags("Labeling");
        group.MapGet("/export", ExportAsync).WithName("ExportLabels").WithSummary("Streams the results: jsonl (any kind), csv (classification), labelstudio (any kind), coco (boxes, polygons), yolo and voc (zip; yolo boxes and polygons, voc boxes), conll (entities).")
            .RequireAuthorization(CubePolicies.ProjectReviewer);
        group.MapPost("/export/dataset", ExportToDatasetAsync).WithName("ExportLabelsToDataset")
            .WithSummary("Writes the results as the next version of a dataset of this project, with lineage to the source version.")
            .RequireAuthorization(CubePolicies.ProjectManager);
        return endpoints;
    }

    /// <summary>
    /// Streams the export. jsonl and csv carry every counted annotation (csv one row each); labelstudio every annotation
    /// (and prediction); coco, yolo, voc and conll the one final result per task (gold answer, accepted annotation, or
    /// consensus; see <see cref="InterchangeExport"/>). A format that cannot hold the project's kind is a 422 before
    /// anything is written.
    /// </summary>
    private static async Task<EmptyHttpResult> ExportAsync(Guid labeling, string? format, HttpContext http, LabelingProjects projects, ResultExport export,
        InterchangeExport interchange, CancellationToken cancellationToken)
    {
        var (_, found) = await ApiHelpers.ResolveAsync(http, projects, labeling);
        var kind = InterchangeExport.Parse(format);
        InterchangeExport.Require(kind, LabelingProjects.Config(found));
        var (contentType, fileName) = InterchangeExport.Describe(kind);
        http.Response.ContentType = contentType;
        http.Response.Headers.ContentDisposition = $"attachment; filename=\"{fileName}\"";
        switch (kind)
        {
            case ExportFormat.Csv:
                await export.WriteCsvAsync(found, http.Response.Body, cancellationToken);
                break;
            case ExportFormat.Jsonl:
                await export.WriteJsonLinesAsync(found, http.Response.Body, cancellationToken);
                break;
            default:
                await interchange.WriteAsync(found, kind, http.Response.Body, cancellationToken);
                break;
        }
        return TypedResults.Empty;
    }

    private static async Task<Created<ExportedVersionDto>> ExportToDatasetAsync(Guid labeling, ExportToDatasetRequest request, HttpContext http, ClaimsPrincipal user,
        LabelingProjects projects, DatasetExport export, CancellationToken cancellationToken)
    {
        var (project, found) = await ApiHelpers.ResolveAsync(http, projects, labeling);
        var (dataset, version) = await export.ExportAsync(found, request.Dataset, request.Message, user.RequireUserId(), cancellationToken);
        return TypedResults.Created($"/api/projects/{project.Slug}/datasets/{dataset.Name}/versions/{version.Number}",
            new ExportedVersionDto(dataset.Id, dataset.Name, version.Id, version.Number, version.FileCount));
    }
}
