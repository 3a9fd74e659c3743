using System.Security.Claims;
using Cube.Core.Apis;
using Cube.Core.Errors;
using Cube.Core.Identity;
using Cube.Labeling.Data;
using Cube.Labeling.Projects;
using Cube.Labeling.Reviews;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Microsoft.EntityFrameworkCore;

namespace Cube.Labeling.Apis;

public sealed record ReviewResultDto(AnnotationDto Annotation, ReviewDto Review);

/// <summary>Reviewers' side: annotations awaiting review, decisions, and each task's history.</summary>
public static class ReviewApi
{
    public static IEndpointRouteBuilder MapReviewApi(this IEndpointRouteBuilder endpoints)
    {
        var group = endpoints.MapGroup(LabelingProjectsApi.Base + "/{labeling:guid}").WithTags("Labeling");
        group.MapGet("/annotations", ListAsync).WithName("ListAnnotations").WithSummary("Annotations by review state, task or annotator.")
            .RequireAuthorization(CubePolicies.ProjectReviewer);
        group.MapGet("/annotations/{annotation:guid}", GetAsync).WithName("GetAnnotation").WithSummary("One annotation, with its ETag.")
            .RequireAuthorization(CubePolicies.ProjectReviewer);
        group.MapPost("/annotations/{annotation:guid}/review", ReviewAsync).WithName("ReviewAnnotation")
            .WithSummary("Accepts, rejects with a comment (the work returns to its annotator), or corrects and accepts (If-Match supported).")
            .RequireAuthorization(CubePolicies.ProjectReviewer);
        group.MapGet("/tasks/{task:guid}/history", HistoryAsync).WithName("GetLabelingTaskHistory").WithSummary("Who leased, annotated, reviewed and changed the task, and when.")
            .RequireAuthorization(CubePolicies.ProjectReviewer);
        return endpoints;
    }

    private static async Task<Ok<Page<AnnotationDto>>> ListAsync(Guid labeling, HttpContext http, LabelingProjects projects, LabelingDbContext db,
        string? reviewState, string? status, Guid? task, Guid? annotator, string? cursor, int? limit, CancellationToken cancellationToken)
    {
        var (_, found) = await ApiHelpers.ResolveAsync(http, projects, labeling);
        var take = Cursor.Limit(limit);
        var query = db.Annotations.AsNoTracking().Where(a => a.LabelingProjectId == found.Id);
        if (reviewState is not null)
        {
            var state = ApiHelpers.ParseEnum<ReviewState>(reviewState, "reviewState");
            query = query.Where(a => a.ReviewState == state);
            // Pending review means submitted and not yet decided.
            if (state == ReviewState.Pending) query = query.Where(a => a.Status == AnnotationStatus.Submitted);
        }
        if (status is not null)
        {
            var parsed = ApiHelpers.ParseEnum<AnnotationStatus>(status, "status");
            query = query.Where(a => a.Status == parsed);
        }
        if (task is { } t) query = query.Where(a => a.TaskId == t);
        if (annotator is { } u) query = query.Where(a => a.AnnotatorId == u);
        if (Cursor.Decode(cursor) is { } after) query = query.Where(a => a.Id > after);
        var rows = await query.OrderBy(a => a.Id).Take(take + 1).ToListAsync(cancellationToken);
        return TypedResults.Ok(Cursor.Build(rows.Select(AnnotationDto.From).ToList(), take, a => a.Id));
    }

    private static async Task<Ok<AnnotationDto>> GetAsync(Guid labeling, Guid annotation, HttpContext http, LabelingProjects projects, LabelingDbContext db, CancellationToken cancellationToken)
    {
        var (_, found) = await ApiHelpers.ResolveAsync(http, projects, labeling);
        var row = await db.Annotations.AsNoTracking().FirstOrDefaultAsync(a => a.Id == annotation && a.LabelingProjectId == found.Id, cancellationToken)
            ?? throw new NotFoundException("Annotation", annotation.ToString());
        ETags.Set(http, row.Version);
        return TypedResults.Ok(AnnotationDto.From(row));
    }

    private static async Task<Ok<ReviewResultDto>> ReviewAsync(Guid labeling, Guid annotation, ReviewRequest request, HttpContext http, ClaimsPrincipal user,
        LabelingProjects projects, ReviewService reviews, Prelabel.AutoPrelabel auto, CancellationToken cancellationToken)
    {
        var (_, found) = await ApiHelpers.ResolveAsync(http, projects, labeling);
        var decision = ApiHelpers.ParseEnum<ReviewDecision>(request.Decision ?? "", "decision");
        var (updated, review) = await reviews.ReviewAsync(found, annotation, user.RequireUserId(), new ReviewInput(decision, request.Comment, request.Result),
            ApiHelpers.IfMatchVersion(http), cancellationToken);
        if (updated.Status == AnnotationStatus.Accepted) await auto.AfterLabelAsync(found, updated);
        ETags.Set(http, updated.Version);
        return TypedResults.Ok(new ReviewResultDto(AnnotationDto.From(updated), ReviewDto.From(review)));
    }

    private static async Task<Ok<List<HistoryDto>>> HistoryAsync(Guid labeling, Guid task, HttpContext http, LabelingProjects projects, LabelingDbContext db, CancellationToken cancellationToken)
    {
        var (_, found) = await ApiHelpers.ResolveAsync(http, projects, labeling);
        if (!await db.Tasks.AnyAsync(t => t.Id == task && t.LabelingProjectId == found.Id, cancellationToken)) throw new NotFoundException("Task", task.ToString());
        var rows = await db.History.AsNoTracking().Where(h => h.LabelingProjectId == found.Id && h.TaskId == task).OrderBy(h => h.Id).ToListAsync(cancellationToken);
        return TypedResults.Ok(rows.Select(HistoryDto.From).ToList());
    }
}
