using System.Security.Claims;
using Cube.Core.Data;
using Cube.Core.Errors;
using Cube.Core.Identity;
using Cube.Core.Runs;
using Cube.Features.Data;
using Cube.Features.Schedules;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Microsoft.EntityFrameworkCore;

namespace Cube.Features.Apis;

public sealed record ScheduleRequest(
    string? Name, string? Pipeline, string? Cron, string? TimeZone, string? OutputDataset, int? PipelineVersion,
    Dictionary<string, ScheduleInput>? Inputs, int? MaxConcurrentRuns, int? MaxRetries, int? RetryDelaySeconds, bool? SkipWhenUnchanged, bool? Enabled)
{
    /// <summary>Values for the pipeline's declared parameters (<c>{{params.NAME}}</c>) on every fire; the others keep their defaults.</summary>
    public Dictionary<string, string>? Parameters { get; init; }
}

public sealed record ScheduleDto(
    Guid Id, string Name, string Pipeline, int? PipelineVersion, string Cron, string TimeZone, string OutputDataset, IReadOnlyDictionary<string, ScheduleInput> Inputs,
    bool Enabled, int MaxConcurrentRuns, int MaxRetries, int RetryDelaySeconds, bool SkipWhenUnchanged,
    DateTimeOffset? LastFireAt, DateTimeOffset? NextFireAt, string? LastOutcome, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt)
{
    /// <summary>The next cron occurrences after the next fire (up to four more), so a screen can show what is coming; empty when paused.</summary>
    public IReadOnlyList<DateTimeOffset> UpcomingFires { get; init; } = [];
    /// <summary>Values the schedule gives the pipeline's declared parameters on every fire.</summary>
    public IReadOnlyDictionary<string, string> Parameters { get; init; } = new Dictionary<string, string>();
}

/// <summary>One fire: its trigger (cron, manual, backfill, retry), logical date, outcome and run.</summary>
public sealed record FireDto(
    Guid Id, string Trigger, DateTimeOffset LogicalDate, string Ds, DateTimeOffset FiredAt, string Outcome, string? Detail, int Attempt,
    Guid? RunId, string? RunState, int? PipelineVersion, IReadOnlyDictionary<string, int>? Inputs, Guid? BackfillId);

public sealed record BackfillRequest(DateTimeOffset? From, DateTimeOffset? To);

/// <summary>A backfill's progress over its logical dates: <c>completed</c> of <c>total</c> are done (succeeded, failed for good or skipped).</summary>
public sealed record BackfillDto(
    Guid Id, DateTimeOffset From, DateTimeOffset To, int Total, int Completed, int Pending, int Running, int Succeeded, int Failed, int Skipped,
    bool Done, string Progress, DateTimeOffset CreatedAt);

/// <summary>Cron schedules of feature pipelines: CRUD, pause and resume, run now, backfills and the fire log.</summary>
public static class SchedulesApi
{
    public static IEndpointRouteBuilder MapSchedulesApi(this IEndpointRouteBuilder endpoints)
    {
        var group = endpoints.MapGroup("/api/projects/{project}/features/schedules").WithTags("Features");
        group.MapGet("", ListAsync).WithName("ListFeatureSchedules").WithSummary("Schedules of the project's pipelines.").RequireAuthorization(CubePolicies.ProjectViewer);
        group.MapPost("", CreateAsync).WithName("CreateFeatureSchedule")
            .WithSummary("Creates a cron schedule for a pipeline (validated cron and time zone).").RequireAuthorization(CubePolicies.ProjectManager);
        group.MapGet("/{name}", GetAsync).WithName("GetFeatureSchedule").WithSummary("A schedule with its last and next fire.").RequireAuthorization(CubePolicies.ProjectViewer);
        group.MapPut("/{name}", UpdateAsync).WithName("UpdateFeatureSchedule").WithSummary("Replaces a schedule's settings.").RequireAuthorization(CubePolicies.ProjectManager);
        group.MapDelete("/{name}", DeleteAsync).WithName("DeleteFeatureSchedule")
            .WithSummary("Deletes a schedule and its recurring job; runs already started go on.").RequireAuthorization(CubePolicies.ProjectManager);
        group.MapPost("/{name}/pause", PauseAsync).WithName("PauseFeatureSchedule")
            .WithSummary("Stops cron fires; pending backfill dates and retries wait.").RequireAuthorization(CubePolicies.ProjectManager);
        group.MapPost("/{name}/resume", ResumeAsync).WithName("ResumeFeatureSchedule").WithSummary("Resumes cron fires.").RequireAuthorization(CubePolicies.ProjectManager);
        group.MapPost("/{name}/run", RunNowAsync).WithName("RunFeatureScheduleNow")
            .WithSummary("Fires now (logical date: now) within the concurrency limit; 409 when the limit is reached.").RequireAuthorization(CubePolicies.ProjectManager);
        group.MapPost("/{name}/backfills", BackfillAsync).WithName("BackfillFeatureSchedule")
            .WithSummary("One run per cron occurrence in [from, to], started in order within the concurrency limit.").RequireAuthorization(CubePolicies.ProjectManager);
        group.MapGet("/{name}/backfills", ListBackfillsAsync).WithName("ListFeatureScheduleBackfills")
            .WithSummary("Backfills of a schedule with their progress, newest first.").RequireAuthorization(CubePolicies.ProjectViewer);
        group.MapGet("/{name}/backfills/{id:guid}", GetBackfillAsync).WithName("GetFeatureScheduleBackfill")
            .WithSummary("One backfill's progress (n of m logical dates done).").RequireAuthorization(CubePolicies.ProjectViewer);
        group.MapGet("/{name}/fires", ListFiresAsync).WithName("ListFeatureScheduleFires")
            .WithSummary("Fires of a schedule with their outcome and run, newest first.").RequireAuthorization(CubePolicies.ProjectViewer);
        return endpoints;
    }

    private static async Task<Ok<List<ScheduleDto>>> ListAsync(HttpContext http, FeaturesDbContext db, CancellationToken cancellationToken)
    {
        var projectId = (await http.GetProjectAsync()).Id;
        var rows = await (from s in db.Schedules.AsNoTracking()
                          join p in db.Pipelines.AsNoTracking() on s.PipelineId equals p.Id
                          where s.ProjectId == projectId
                          orderby s.Name
                          select new { s, p.Name }).ToListAsync(cancellationToken);
        return TypedResults.Ok(rows.Select(r => Dto(r.s, r.Name)).ToList());
    }

    private static async Task<Ok<ScheduleDto>> GetAsync(string name, HttpContext http, ScheduleService schedules, FeaturesDbContext db, CancellationToken cancellationToken)
    {
        var schedule = await schedules.FindAsync((await http.GetProjectAsync()).Id, name, cancellationToken);
        return TypedResults.Ok(await DtoAsync(schedule, db, cancellationToken));
    }

    private static async Task<Created<ScheduleDto>> CreateAsync(ScheduleRequest request, HttpContext http, ClaimsPrincipal user, ScheduleService schedules,
        FeaturesDbContext db, CancellationToken cancellationToken)
    {
        var project = await http.GetProjectAsync();
        var schedule = await schedules.SaveAsync(project.Id, request.Name ?? "", Validate(request, requireName: true), user.RequireUserId(), create: true, cancellationToken);
        return TypedResults.Created($"/api/projects/{project.Slug}/features/schedules/{schedule.Name}", await DtoAsync(schedule, db, cancellationToken));
    }

    private static async Task<Ok<ScheduleDto>> UpdateAsync(string name, ScheduleRequest request, HttpContext http, ClaimsPrincipal user, ScheduleService schedules,
        FeaturesDbContext db, CancellationToken cancellationToken)
    {
        if (request.Name is not null && request.Name != name) throw new ValidationException("name", "A schedule cannot be renamed; create a new one.");
        var schedule = await schedules.SaveAsync((await http.GetProjectAsync()).Id, name, Validate(request, requireName: false), user.RequireUserId(), create: false, cancellationToken);
        return TypedResults.Ok(await DtoAsync(schedule, db, cancellationToken));
    }

    private static async Task<NoContent> DeleteAsync(string name, HttpContext http, ScheduleService schedules, CancellationToken cancellationToken)
    {
        await schedules.DeleteAsync((await http.GetProjectAsync()).Id, name, cancellationToken);
        return TypedResults.NoContent();
    }

    private static Task<Ok<ScheduleDto>> PauseAsync(string name, HttpContext http, ScheduleService schedules, FeaturesDbContext db, CancellationToken cancellationToken) =>
        SetEnabledAsync(name, false, http, schedules, db, cancellationToken);

    private static Task<Ok<ScheduleDto>> ResumeAsync(string name, HttpContext http, ScheduleService schedules, FeaturesDbContext db, CancellationToken cancellationToken) =>
        SetEnabledAsync(name, true, http, schedules, db, cancellationToken);

    private static async Task<Ok<ScheduleDto>> SetEnabledAsync(string name, bool enabled, HttpContext http, ScheduleService schedules, FeaturesDbContext db, CancellationToken cancellationToken)
    {
        var schedule = await schedules.SetEnabledAsync((await http.GetProjectAsync()).Id, name, enabled, cancellationToken);
        return TypedResults.Ok(await DtoAsync(schedule, db, cancellationToken));
    }

    private static async Task<Accepted<FireDto>> RunNowAsync(string name, HttpContext http, ScheduleService schedules, CancellationToken cancellationToken)
    {
        var project = await http.GetProjectAsync();
        var schedule = await schedules.FindAsync(project.Id, name, cancellationToken);
        var fire = await schedules.RunNowAsync(schedule.Id, cancellationToken);
        // The fire is recorded either way; the answer says whether it started a run.
        if (fire.Outcome == FireOutcome.SkippedConcurrency) throw new ConflictException($"Schedule '{name}': {fire.Detail}.").With("fire", fire.Id);
        if (fire.Outcome == FireOutcome.Failed) throw new UnprocessableException($"Schedule '{name}' could not start a run: {fire.Detail}").With("fire", fire.Id);
        return TypedResults.Accepted($"/api/runs/{fire.RunId}", FireDto(fire, schedule));
    }

    private static async Task<Accepted<BackfillDto>> BackfillAsync(string name, BackfillRequest request, HttpContext http, ClaimsPrincipal user, ScheduleService schedules,
        FeaturesDbContext db, CoreDbContext core, CancellationToken cancellationToken)
    {
        var errors = new Dictionary<string, string[]>();
        if (request.From is null) errors["from"] = ["'from' (an ISO 8601 date and time) is required."];
        if (request.To is null) errors["to"] = ["'to' (an ISO 8601 date and time) is required."];
        if (errors.Count > 0) throw new ValidationException(errors);
        var project = await http.GetProjectAsync();
        var schedule = await schedules.FindAsync(project.Id, name, cancellationToken);
        var backfill = await schedules.BackfillAsync(schedule.Id, request.From!.Value, request.To!.Value, user.RequireUserId(), cancellationToken);
        var dto = (await BackfillDtosAsync([backfill], schedule, db, core, cancellationToken))[0];
        return TypedResults.Accepted($"/api/projects/{project.Slug}/features/schedules/{name}/backfills/{backfill.Id}", dto);
    }

    private static async Task<Ok<List<BackfillDto>>> ListBackfillsAsync(string name, HttpContext http, ScheduleService schedules, FeaturesDbContext db, CoreDbContext core,
        CancellationToken cancellationToken)
    {
        var schedule = await schedules.FindAsync((await http.GetProjectAsync()).Id, name, cancellationToken);
        var backfills = await db.ScheduleBackfills.AsNoTracking().Where(b => b.ScheduleId == schedule.Id).ToListAsync(cancellationToken);
        return TypedResults.Ok(await BackfillDtosAsync([.. backfills.OrderByDescending(b => b.CreatedAt)], schedule, db, core, cancellationToken));
    }

    private static async Task<Ok<BackfillDto>> GetBackfillAsync(string name, Guid id, HttpContext http, ScheduleService schedules, FeaturesDbContext db, CoreDbContext core,
        CancellationToken cancellationToken)
    {
        var schedule = await schedules.FindAsync((await http.GetProjectAsync()).Id, name, cancellationToken);
        var backfill = await db.ScheduleBackfills.AsNoTracking().FirstOrDefaultAsync(b => b.Id == id && b.ScheduleId == schedule.Id, cancellationToken)
            ?? throw new NotFoundException("Backfill", id.ToString());
        return TypedResults.Ok((await BackfillDtosAsync([backfill], schedule, db, core, cancellationToken))[0]);
    }

    private static async Task<Ok<List<FireDto>>> ListFiresAsync(string name, int? limit, HttpContext http, ScheduleService schedules, FeaturesDbContext db, CoreDbContext core,
        CancellationToken cancellationToken)
    {
        if (limit is < 1 or > 1000) throw new ValidationException("limit", "The limit must be between 1 and 1,000 fires.");
        var schedule = await schedules.FindAsync((await http.GetProjectAsync()).Id, name, cancellationToken);
        var fires = await db.ScheduleFires.AsNoTracking().Where(f => f.ScheduleId == schedule.Id)
            .OrderByDescending(f => f.FiredAt).ThenByDescending(f => f.LogicalDate).Take(limit ?? 100).ToListAsync(cancellationToken);
        await WithLiveRunStatesAsync(fires, core, cancellationToken);
        return TypedResults.Ok(fires.Select(f => FireDto(f, schedule)).ToList());
    }

    /// <summary>The fires' run states from the runs table (the fire rows copy them only when the schedule next decides).</summary>
    private static async Task WithLiveRunStatesAsync(List<ScheduleFire> fires, CoreDbContext core, CancellationToken cancellationToken)
    {
        var ids = fires.Where(f => f.RunId is not null && f.RunState is null or RunState.Queued or RunState.Running).Select(f => f.RunId!.Value).ToList();
        if (ids.Count == 0) return;
        var states = await core.Runs.AsNoTracking().Where(r => ids.Contains(r.Id)).ToDictionaryAsync(r => r.Id, r => r.State, cancellationToken);
        foreach (var fire in fires)
            if (fire.RunId is { } id && states.TryGetValue(id, out var state)) fire.RunState = state;
    }

    private static async Task<List<BackfillDto>> BackfillDtosAsync(List<ScheduleBackfill> backfills, ScheduleEntity schedule, FeaturesDbContext db, CoreDbContext core,
        CancellationToken cancellationToken)
    {
        var ids = backfills.Select(b => b.Id).ToList();
        var fires = await db.ScheduleFires.AsNoTracking().Where(f => f.BackfillId != null && ids.Contains(f.BackfillId.Value)).ToListAsync(cancellationToken);
        await WithLiveRunStatesAsync(fires, core, cancellationToken);
        return backfills.Select(b =>
        {
            // Each logical date counts once, by its latest attempt.
            var dates = fires.Where(f => f.BackfillId == b.Id).GroupBy(f => f.LogicalDate).Select(g => g.MaxBy(f => f.Attempt)!).ToList();
            var pending = dates.Count(f => f.Outcome == FireOutcome.Pending);
            var running = dates.Count(f => f.Outcome == FireOutcome.Started && f.RunState is null or RunState.Queued or RunState.Running);
            var retrying = dates.Count(f => f.Outcome == FireOutcome.Started && f.RunState == RunState.Failed && f.Attempt <= schedule.MaxRetries);
            var succeeded = dates.Count(f => f.Outcome == FireOutcome.Started && f.RunState == RunState.Succeeded);
            var failed = dates.Count(f => f.Outcome == FireOutcome.Failed
                || (f.Outcome == FireOutcome.Started && (f.RunState == RunState.Cancelled || (f.RunState == RunState.Failed && f.Attempt > schedule.MaxRetries))));
            var skipped = dates.Count(f => f.Outcome is FireOutcome.SkippedConcurrency or FireOutcome.SkippedUnchanged);
            var completed = succeeded + failed + skipped;
            return new BackfillDto(b.Id, b.From, b.To, b.Total, completed, pending + retrying, running, succeeded, failed, skipped, completed == b.Total,
                $"{completed} of {b.Total}", b.CreatedAt);
        }).ToList();
    }

    private static ScheduleSettings Validate(ScheduleRequest request, bool requireName)
    {
        var errors = new Dictionary<string, string[]>();
        if (requireName && (string.IsNullOrWhiteSpace(request.Name) || request.Name.Length > 128 || !request.Name.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.')))
            errors["name"] = ["The name must be 1 to 128 letters, digits, '-', '_' or '.'."];
        if (string.IsNullOrWhiteSpace(request.Pipeline)) errors["pipeline"] = ["Name the pipeline the schedule runs."];
        if (string.IsNullOrWhiteSpace(request.OutputDataset)) errors["outputDataset"] = ["Name the dataset each run writes a new version of."];
        if (request.PipelineVersion is < 1) errors["pipelineVersion"] = ["The pipeline version must be a positive number (leave it out for the latest)."];
        if (request.MaxConcurrentRuns is < 1 or > 100) errors["maxConcurrentRuns"] = ["At most 1 to 100 runs of a schedule can be in flight at once."];
        if (request.MaxRetries is < 0 or > 10) errors["maxRetries"] = ["Retries must be between 0 and 10."];
        if (request.RetryDelaySeconds is < 1 or > 86_400) errors["retryDelaySeconds"] = ["The retry delay must be between 1 second and 1 day (86,400)."];
        foreach (var (input, value) in request.Inputs ?? [])
        {
            if (value is null || (value.Version is null && string.IsNullOrWhiteSpace(value.Tag)))
                errors[$"inputs.{input}"] = ["An input override needs 'version' or 'tag'."];
            else if (value.Version is not null && value.Tag is not null)
                errors[$"inputs.{input}"] = ["An input override takes 'version' or 'tag', not both."];
            else if (value.Version is < 1)
                errors[$"inputs.{input}"] = ["'version' must be a positive number."];
        }
        try
        {
            CronSchedule.Parse(request.Cron, request.TimeZone);
        }
        catch (ValidationException e)
        {
            foreach (var (field, messages) in e.Errors) errors[field] = messages;
        }
        if (errors.Count > 0) throw new ValidationException(errors);
        return new ScheduleSettings(request.Pipeline!, request.Cron!, request.TimeZone, request.OutputDataset!, request.PipelineVersion,
            request.Inputs ?? [], request.MaxConcurrentRuns ?? 1, request.MaxRetries ?? 0, request.RetryDelaySeconds ?? 60, request.SkipWhenUnchanged ?? false, request.Enabled ?? true)
        {
            Parameters = request.Parameters ?? [],
        };
    }

    private static async Task<ScheduleDto> DtoAsync(ScheduleEntity schedule, FeaturesDbContext db, CancellationToken cancellationToken) =>
        Dto(schedule, await db.Pipelines.AsNoTracking().Where(p => p.Id == schedule.PipelineId).Select(p => p.Name).FirstAsync(cancellationToken));

    private static ScheduleDto Dto(ScheduleEntity s, string pipeline) => new(
        s.Id, s.Name, pipeline, s.PipelineVersion, s.Cron, s.TimeZone, s.OutputDataset, ScheduleService.Inputs(s), s.Enabled, s.MaxConcurrentRuns, s.MaxRetries,
        s.RetryDelaySeconds, s.SkipWhenUnchanged, s.LastFireAt, s.NextFireAt, s.LastOutcome, s.CreatedAt, s.UpdatedAt)
    {
        UpcomingFires = Upcoming(s),
        Parameters = ScheduleService.Parameters(s),
    };

    private static List<DateTimeOffset> Upcoming(ScheduleEntity s)
    {
        var upcoming = new List<DateTimeOffset>();
        if (!s.Enabled || s.NextFireAt is not { } next) return upcoming;
        var cron = CronSchedule.Parse(s.Cron, s.TimeZone);
        for (DateTimeOffset? at = cron.Next(next); at is not null && upcoming.Count < 4; at = cron.Next(at.Value)) upcoming.Add(at.Value);
        return upcoming;
    }

    internal static FireDto FireDto(ScheduleFire f, ScheduleEntity schedule) => new(
        f.Id, f.Trigger.ToString().ToLowerInvariant(), f.LogicalDate, CronSchedule.Parse(schedule.Cron, schedule.TimeZone).Ds(f.LogicalDate), f.FiredAt, OutcomeName(f.Outcome),
        f.Detail, f.Attempt, f.RunId, f.RunState?.ToString().ToLowerInvariant(), f.PipelineVersion, ScheduleService.ResolvedInputs(f), f.BackfillId);

    internal static string OutcomeName(FireOutcome outcome) => outcome switch
    {
        FireOutcome.SkippedUnchanged => "skipped_unchanged",
        FireOutcome.SkippedConcurrency => "skipped_concurrency",
        _ => outcome.ToString().ToLowerInvariant(),
    };
}
