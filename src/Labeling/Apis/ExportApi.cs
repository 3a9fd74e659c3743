using System.Security.Claims;
using Cube.Core.Errors;
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
        group.MapGet("/export", ExportAsync).WithName("ExportLabels").WithSummary("Streams the results as JSONL (any kind) or CSV (classification).")
            .RequireAuthorization(CubePolicies.ProjectReviewer);
        group.MapPost("/export/dataset", ExportToDatasetAsync).WithName("ExportLabelsToDataset")
            .WithSummary("Writes the results as the next version of a dataset of this project, with lineage to the source version.")
            .RequireAuthorization(CubePolicies.ProjectManager);
        return endpoints;
    }

    private static async Task<EmptyHttpResult> ExportAsync(Guid labeling, string? format, HttpContext http, LabelingProjects projects, ResultExport export, CancellationToken cancellationToken)
    {
        var (_, found) = await ApiHelpers.ResolveAsync(http, projects, labeling);
        var kind = (format ?? "jsonl").ToLowerInvariant();
        if (kind is not ("jsonl" or "csv")) throw new ValidationException("format", $"Format '{format}' is not one of jsonl, csv.");
        if (kind == "csv" && !LabelingProjects.Config(found).IsClassification)
            throw new UnprocessableException("CSV export is for classification projects; use format=jsonl.");
        http.Response.ContentType = kind == "csv" ? "text/csv; charset=utf-8" : "application/jsonl; charset=utf-8";
        http.Response.Headers.ContentDisposition = $"attachment; filename=\"labels.{kind}\"";
        if (kind == "csv") await export.WriteCsvAsync(found, http.Response.Body, cancellationToken);
        else await export.WriteJsonLinesAsync(found, http.Response.Body, cancellationToken);
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
