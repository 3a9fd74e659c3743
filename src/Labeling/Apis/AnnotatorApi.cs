using System.Security.Claims;
using Cube.Core.Apis;
using Cube.Core.Errors;
using Cube.Core.Identity;
using Cube.Core.Projects;
using Cube.Labeling.Annotations;
using Cube.Labeling.Data;
using Cube.Labeling.Distribution;
using Cube.Labeling.Projects;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Microsoft.EntityFrameworkCore;

namespace Cube.Labeling.Apis;

public sealed record HeartbeatDto(Guid LeaseId, DateTimeOffset ExpiresAt);

/// <summary>The annotator's loop: next task under a lease, heartbeat, drafts, submit/update, skip, and returned work.</summary>
public static class AnnotatorApi
{
    public static IEndpointRouteBuilder MapAnnotatorApi(this IEndpointRouteBuilder endpoints)
    {
        var group = endpoints.MapGroup(LabelingProjectsApi.Base + "/{labeling:guid}").WithTags("Labeling");
        group.MapPost("/next", NextAsync).WithName("NextLabelingTask")
            .WithSummary("Leases the next task for the caller (or returns their current lease or returned work); 204 when none is left for them.")
            .RequireAuthorization(CubePolicies.ProjectAnnotator);
        group.MapPost("/leases/{lease:guid}/heartbeat", HeartbeatAsync).WithName("HeartbeatLabelingLease").WithSummary("Extends the caller's live lease.")
            .RequireAuthorization(CubePolicies.ProjectAnnotator);
        group.MapGet("/tasks/{task:guid}", GetTaskAsync).WithName("GetLabelingTask")
            .WithSummary("A task: annotators see only tasks given to them, and only their data; reviewers and managers see any task of the project.")
            .RequireAuthorization(CubePolicies.ProjectAnnotator);
        group.MapGet("/tasks/{task:guid}/annotation", GetAnnotationAsync).WithName("GetMyAnnotation").WithSummary("The caller's annotation of a task, with its ETag.")
            .RequireAuthorization(CubePolicies.ProjectAnnotator);
        group.MapPut("/tasks/{task:guid}/annotation", SaveAnnotationAsync).WithName("SaveMyAnnotation")
            .WithSummary("Saves a draft, submits, or updates the caller's annotation (If-Match with the annotation's ETag guards updates).")
            .RequireAuthorization(CubePolicies.ProjectAnnotator);
        group.MapPost("/tasks/{task:guid}/skip", SkipAsync).WithName("SkipLabelingTask").WithSummary("Skips the leased task with a reason.")
            .RequireAuthorization(CubePolicies.ProjectAnnotator);
        group.MapGet("/returned", ReturnedAsync).WithName("ListReturnedWork").WithSummary("The caller's annotations a reviewer rejected, with the comments.")
            .RequireAuthorization(CubePolicies.ProjectAnnotator);
        return endpoints;
    }

    private static async Task<Results<Ok<LeaseDto>, NoContent>> NextAsync(Guid labeling, HttpContext http, ClaimsPrincipal user, LabelingProjects projects,
        Distributor distributor, LabelingDbContext db, Predictions.PredictionStore predictions, CancellationToken cancellationToken)
    {
        var (_, found) = await ApiHelpers.ResolveAsync(http, projects, labeling);
        var me = user.RequireUserId();
        var lease = await distributor.NextAsync(found, me, cancellationToken);
        if (lease is null) return TypedResults.NoContent();
        var annotation = await db.Annotations.AsNoTracking().FirstOrDefaultAsync(a => a.TaskId == lease.Task.Id && a.AnnotatorId == me, cancellationToken);
        string? comment = null;
        if (annotation?.Status == AnnotationStatus.Rejected)
            comment = await db.Reviews.AsNoTracking().Where(r => r.AnnotationId == annotation.Id).OrderByDescending(r => r.CreatedAt).Select(r => r.Comment).FirstOrDefaultAsync(cancellationToken);
        if (annotation is not null) ETags.Set(http, annotation.Version);
        return TypedResults.Ok(new LeaseDto(lease.Assignment.Id, lease.Assignment.ExpiresAt, new AnnotatorTaskDto(lease.Task.Id, TaskDto.Parse(lease.Task.DataJson),
            [.. (await predictions.ForTaskAsync(lease.Task.Id, cancellationToken)).Select(PredictionDto.From)]),
            annotation is null ? null : AnnotationDto.From(annotation), comment));
    }

    private static async Task<Ok<HeartbeatDto>> HeartbeatAsync(Guid labeling, Guid lease, HttpContext http, ClaimsPrincipal user, LabelingProjects projects,
        Distributor distributor, CancellationToken cancellationToken)
    {
        var (_, found) = await ApiHelpers.ResolveAsync(http, projects, labeling);
        var extended = await distributor.HeartbeatAsync(found, lease, user.RequireUserId(), cancellationToken);
        return TypedResults.Ok(new HeartbeatDto(extended.Id, extended.ExpiresAt));
    }

    private static async Task<Results<Ok<TaskDto>, Ok<AnnotatorTaskDto>>> GetTaskAsync(Guid labeling, Guid task, HttpContext http, ClaimsPrincipal user,
        LabelingProjects projects, ProjectAccess access, AnnotationService annotations, LabelingDbContext db, Predictions.PredictionStore predictions, CancellationToken cancellationToken)
    {
        var (_, found) = await ApiHelpers.ResolveAsync(http, projects, labeling);
        if (await ApiHelpers.RoleAsync(http, access) >= ProjectRole.Reviewer)
        {
            var row = await db.Tasks.AsNoTracking().FirstOrDefaultAsync(t => t.Id == task && t.LabelingProjectId == found.Id, cancellationToken)
                ?? throw new NotFoundException("Task", task.ToString());
            return TypedResults.Ok(TaskDto.From(row));
        }
        var (_, own) = await annotations.OwnAsync(found, task, user.RequireUserId(), cancellationToken);
        return TypedResults.Ok(new AnnotatorTaskDto(own.Id, TaskDto.Parse(own.DataJson), [.. (await predictions.ForTaskAsync(own.Id, cancellationToken)).Select(PredictionDto.From)]));
    }

    private static async Task<Ok<AnnotationDto>> GetAnnotationAsync(Guid labeling, Guid task, HttpContext http, ClaimsPrincipal user, LabelingProjects projects,
        AnnotationService annotations, CancellationToken cancellationToken)
    {
        var (_, found) = await ApiHelpers.ResolveAsync(http, projects, labeling);
        var me = user.RequireUserId();
        await annotations.OwnAsync(found, task, me, cancellationToken);
        var annotation = await annotations.FindAsync(task, me, cancellationToken) ?? throw new NotFoundException("Annotation of task", task.ToString());
        ETags.Set(http, annotation.Version);
        return TypedResults.Ok(AnnotationDto.From(annotation));
    }

    private static async Task<Ok<AnnotationDto>> SaveAnnotationAsync(Guid labeling, Guid task, SaveAnnotationRequest request, HttpContext http, ClaimsPrincipal user,
        LabelingProjects projects, AnnotationService annotations, Prelabel.AutoPrelabel auto, CancellationToken cancellationToken)
    {
        var (_, found) = await ApiHelpers.ResolveAsync(http, projects, labeling);
        var saved = await annotations.SaveAsync(found, task, user.RequireUserId(),
            new AnnotationInput(request.Result, request.Draft ?? false, request.TimeSpentMs ?? 0), ApiHelpers.IfMatchVersion(http), cancellationToken);
        if (saved.Status == AnnotationStatus.Submitted) await auto.AfterLabelAsync(found, saved);
        ETags.Set(http, saved.Version);
        return TypedResults.Ok(AnnotationDto.From(saved));
    }

    private static async Task<Ok<AnnotationDto>> SkipAsync(Guid labeling, Guid task, SkipRequest request, HttpContext http, ClaimsPrincipal user,
        LabelingProjects projects, AnnotationService annotations, CancellationToken cancellationToken)
    {
        var (_, found) = await ApiHelpers.ResolveAsync(http, projects, labeling);
        var skipped = await annotations.SkipAsync(found, task, user.RequireUserId(), request.Reason, request.TimeSpentMs ?? 0, cancellationToken);
        ETags.Set(http, skipped.Version);
        return TypedResults.Ok(AnnotationDto.From(skipped));
    }

    private static async Task<Ok<List<ReturnedWorkDto>>> ReturnedAsync(Guid labeling, HttpContext http, ClaimsPrincipal user, LabelingProjects projects,
        LabelingDbContext db, CancellationToken cancellationToken)
    {
        var (_, found) = await ApiHelpers.ResolveAsync(http, projects, labeling);
        var me = user.RequireUserId();
        var rejected = await db.Annotations.AsNoTracking()
            .Where(a => a.LabelingProjectId == found.Id && a.AnnotatorId == me && a.Status == AnnotationStatus.Rejected)
            .OrderBy(a => a.UpdatedAt).Take(500).ToListAsync(cancellationToken);
        var ids = rejected.Select(a => a.Id).ToList();
        var comments = (await db.Reviews.AsNoTracking().Where(r => ids.Contains(r.AnnotationId)).ToListAsync(cancellationToken))
            .GroupBy(r => r.AnnotationId).ToDictionary(g => g.Key, g => g.OrderByDescending(r => r.CreatedAt).First().Comment);
        return TypedResults.Ok(rejected.Select(a => new ReturnedWorkDto(AnnotationDto.From(a), comments.GetValueOrDefault(a.Id))).ToList());
    }
}
