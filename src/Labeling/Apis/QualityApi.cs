using Cube.Core.Identity;
using Cube.Labeling.Projects;
using Cube.Labeling.Quality;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;

namespace Cube.Labeling.Apis;

/// <summary>Agreement, gold accuracy and consensus of a labeling project, for reviewers and managers.</summary>
public static class QualityApi
{
    public static IEndpointRouteBuilder MapQualityApi(this IEndpointRouteBuilder endpoints)
    {
        var group = endpoints.MapGroup(LabelingProjectsApi.Base + "/{labeling:guid}").WithTags("Labeling").RequireAuthorization(CubePolicies.ProjectReviewer);
        group.MapGet("/quality", ReportAsync).WithName("LabelingQuality")
            .WithSummary("Agreement (Fleiss, Krippendorff, Cohen per pair; mean IoU or span F1 per pair) and gold accuracy per annotator with flag/pause verdicts.");
        group.MapGet("/consensus", ConsensusAsync).WithName("LabelingConsensus")
            .WithSummary("One result per task with confidence: majority vote or Dawid–Skene (classification), IoU clustering (boxes), span voting (entities).");
        return endpoints;
    }

    private static async Task<Ok<QualityReportDto>> ReportAsync(Guid labeling, HttpContext http, LabelingProjects projects, ProjectQuality quality,
        double? iou, string? spanMatch, int? minGold, double? flagBelow, double? pauseBelow, CancellationToken cancellationToken)
    {
        var (_, found) = await ApiHelpers.ResolveAsync(http, projects, labeling);
        ApiHelpers.Range(iou, "iou", 0, 1);
        ApiHelpers.Range(flagBelow, "flagBelow", 0, 1);
        ApiHelpers.Range(pauseBelow, "pauseBelow", 0, 1);
        ApiHelpers.Range(minGold, "minGold", 0, 1_000_000);
        var policy = new QualityPolicy(minGold ?? 5, flagBelow ?? 0.8, pauseBelow ?? 0.6);
        var match = spanMatch is null ? SpanMatch.Exact : ApiHelpers.ParseEnum<SpanMatch>(spanMatch, "spanMatch");
        return TypedResults.Ok(await quality.ReportAsync(found, LabelingProjects.Config(found), policy, iou ?? 0.5, match, cancellationToken));
    }

    private static async Task<Ok<List<TaskConsensusDto>>> ConsensusAsync(Guid labeling, HttpContext http, LabelingProjects projects, ProjectQuality quality,
        string? method, double? iou, CancellationToken cancellationToken)
    {
        var (_, found) = await ApiHelpers.ResolveAsync(http, projects, labeling);
        ApiHelpers.Range(iou, "iou", 0, 1);
        var chosen = method ?? "ds";
        if (chosen is not ("mv" or "ds")) throw new Core.Errors.ValidationException("method", "method must be 'mv' (majority vote) or 'ds' (Dawid–Skene).");
        return TypedResults.Ok(await quality.ConsensusAsync(found, LabelingProjects.Config(found), chosen, iou ?? 0.5, cancellationToken));
    }
}
