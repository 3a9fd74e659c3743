using System.Net.ServerSentEvents;
using System.Runtime.CompilerServices;
using System.Security.Claims;
using System.Text.Json;
using Cube.Core.Data;
using Cube.Core.Errors;
using Cube.Core.Identity;
using Cube.Core.Projects;
using Cube.Core.Runs;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Cube.Core.Apis;

public sealed record RunDto(
    Guid Id, string Kind, string State, double Progress, string? Message, string? Error, Guid? ProjectId, Guid? OwnerId,
    int Attempt, DateTimeOffset CreatedAt, DateTimeOffset? StartedAt, DateTimeOffset? FinishedAt, JsonElement? Result)
{
    public static RunDto From(Run r) => new(
        r.Id, r.Kind, r.State.ToString().ToLowerInvariant(), Math.Round(r.Progress, 2), r.Message, r.Error, r.ProjectId, r.OwnerId,
        r.Attempt, r.CreatedAt, r.StartedAt, r.FinishedAt,
        r.ResultJson is null ? null : JsonDocument.Parse(r.ResultJson).RootElement.Clone());
}

/// <summary>Progress and control of long work. Progress is polled or streamed as server-sent events.</summary>
public static class RunsApi
{
    public static IEndpointRouteBuilder MapRunsApi(this IEndpointRouteBuilder endpoints)
    {
        var runs = endpoints.MapGroup("/api/runs").WithTags("Runs").RequireAuthorization(CubePolicies.User);
        runs.MapGet("/{id:guid}", GetAsync).WithName("GetRun").WithSummary("State and progress of one run.");
        runs.MapGet("/{id:guid}/events", Events).WithName("StreamRun").WithSummary("Server-sent events with the run's state and progress until it ends.");
        runs.MapPost("/{id:guid}/cancel", CancelAsync).WithName("CancelRun").WithSummary("Cancels a queued or running run.");
        endpoints.MapGet("/api/projects/{project}/runs", ListAsync).WithTags("Runs").WithName("ListRuns")
            .WithSummary("Runs of a project, newest first.").RequireAuthorization(CubePolicies.ProjectViewer);
        return endpoints;
    }

    /// <summary>Owners see their runs; project members see the project's; admins see all. Others get 404.</summary>
    internal static async Task<Run> AuthorizeAsync(Guid id, ClaimsPrincipal user, CoreDbContext db, ProjectAccess access, ProjectRole minimum, CancellationToken cancellationToken)
    {
        var run = await db.Runs.AsNoTracking().FirstOrDefaultAsync(r => r.Id == id, cancellationToken) ?? throw new NotFoundException("Run", id.ToString());
        if (user.IsAdmin() || run.OwnerId == user.GetUserId()) return run;
        if (run.ProjectId is { } projectId)
        {
            var info = await access.FindAsync(user, projectId, cancellationToken);
            if (info is not null && info.Has(minimum)) return run;
            if (info?.Role is not null) throw new ForbiddenException($"This needs the {minimum.ToString().ToLowerInvariant()} role in project '{info.Project.Slug}'.");
        }
        throw new NotFoundException("Run", id.ToString());
    }

    private static async Task<Ok<RunDto>> GetAsync(Guid id, ClaimsPrincipal user, CoreDbContext db, ProjectAccess access, CancellationToken cancellationToken) =>
        TypedResults.Ok(RunDto.From(await AuthorizeAsync(id, user, db, access, ProjectRole.Viewer, cancellationToken)));

    private static async Task<Ok<RunDto>> CancelAsync(Guid id, ClaimsPrincipal user, CoreDbContext db, ProjectAccess access, RunService runs, CancellationToken cancellationToken)
    {
        await AuthorizeAsync(id, user, db, access, ProjectRole.Manager, cancellationToken);
        return TypedResults.Ok(RunDto.From(await runs.CancelAsync(id, cancellationToken)));
    }

    private static async Task<Ok<Page<RunDto>>> ListAsync(HttpContext http, CoreDbContext db, string? state, string? kind, string? cursor, int? limit, CancellationToken cancellationToken)
    {
        var project = await http.GetProjectAsync();
        var take = Cursor.Limit(limit);
        var before = Cursor.Decode(cursor);
        var query = db.Runs.AsNoTracking().Where(r => r.ProjectId == project.Id);
        if (state is not null)
        {
            if (!Enum.TryParse<RunState>(state, true, out var s)) throw new ValidationException("state", "A state is one of queued, running, succeeded, failed, cancelled.");
            query = query.Where(r => r.State == s);
        }
        if (kind is not null) query = query.Where(r => r.Kind == kind);
        if (before is { } b) query = query.Where(r => r.Id < b);
        var rows = await query.OrderByDescending(r => r.Id).Take(take + 1).ToListAsync(cancellationToken);
        return TypedResults.Ok(Cursor.Build(rows.Select(RunDto.From).ToList(), take, r => r.Id));
    }

    private static async Task<ServerSentEventsResult<RunDto>> Events(Guid id, ClaimsPrincipal user, CoreDbContext db, ProjectAccess access, IServiceScopeFactory scopes, HttpContext http)
    {
        await AuthorizeAsync(id, user, db, access, ProjectRole.Viewer, http.RequestAborted);
        return TypedResults.ServerSentEvents(Stream(id, scopes, http.RequestAborted));
    }

    /// <summary>
    /// Polls the run row: it is the one place every process writes progress to, so this works whichever
    /// worker runs the job. An event goes out whenever state, progress or message changes, then once at the end.
    /// </summary>
    private static async IAsyncEnumerable<SseItem<RunDto>> Stream(Guid id, IServiceScopeFactory scopes, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        RunDto? last = null;
        while (!cancellationToken.IsCancellationRequested)
        {
            Run? run;
            await using (var scope = scopes.CreateAsyncScope())
            {
                var db = scope.ServiceProvider.GetRequiredService<CoreDbContext>();
                run = await db.Runs.AsNoTracking().FirstOrDefaultAsync(r => r.Id == id, cancellationToken);
            }
            if (run is null) yield break;
            var dto = RunDto.From(run);
            if (last is null || last.State != dto.State || last.Progress != dto.Progress || last.Message != dto.Message)
            {
                yield return new SseItem<RunDto>(dto, run.IsTerminal ? "end" : "progress") { EventId = $"{run.Id:N}-{dto.Progress}-{dto.State}" };
                last = dto;
            }
            if (run.IsTerminal) yield break;
            try
            {
                await Task.Delay(TimeSpan.FromMilliseconds(300), cancellationToken);
            }
            catch (OperationCanceledException)
            {
                yield break;
            }
        }
    }
}
