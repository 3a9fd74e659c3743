using System.Security.Claims;
using System.Text.Json;
using Cube.Core.Apis;
using Cube.Core.Errors;
using Cube.Core.Identity;
using Cube.Training.Data;
using Cube.Training.Jobs;
using Cube.Training.Search;
using Cube.Training.Specs;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Microsoft.EntityFrameworkCore;

namespace Cube.Training.Apis;

/// <summary>One trial: its configuration at a rung, the job that ran it, the metric it reached and why it stopped.</summary>
public sealed record StudyTrialDto(
    Guid Id, int Number, int Configuration, int Rung, IReadOnlyDictionary<string, string> Params, string State, double? Metric,
    string? StopReason, Guid? JobId, Guid? PromotedFrom, DateTimeOffset CreatedAt, DateTimeOffset? FinishedAt)
{
    public static StudyTrialDto From(StudyTrial t) => new(t.Id, t.Number, t.Configuration, t.Rung,
        JsonSerializer.Deserialize<Dictionary<string, string>>(t.ParamsJson, JobService.SpecJson)!, t.State.ToString().ToLowerInvariant(), t.MetricValue,
        t.StopReason, t.JobId, t.PromotedFrom, t.CreatedAt, t.FinishedAt);
}

/// <summary>A study's progress: trials done of the planned total, the rung, and the best trial so far.</summary>
public sealed record StudyDto(
    Guid Id, string Name, string Experiment, string Strategy, string Metric, string Goal, string State, int Parallelism, int Seed,
    int Rung, int Rungs, int TrialsDone, int TrialsActive, int TrialsTotal, Guid? BestTrialId, double? BestValue, string? Message,
    DateTimeOffset CreatedAt, DateTimeOffset? FinishedAt)
{
    public static StudyDto From(Study s, int done, int active) => new(s.Id, s.Name, s.Experiment, s.Strategy, s.Metric, s.Goal,
        s.State.ToString().ToLowerInvariant(), s.Parallelism, s.Seed, s.Rung, s.Rungs, done, active, s.TotalTrials, s.BestTrialId, s.BestValue,
        s.Message, s.CreatedAt, s.FinishedAt);
}

public sealed record StudyDetailDto(StudyDto Study, JsonElement Spec, StudyTrialDto? Best, IReadOnlyList<StudyTrialDto> Trials);

/// <summary>The study's metric over steps for one trial, for charts comparing trials.</summary>
public sealed record TrialSeriesDto(Guid TrialId, int Number, int Rung, IReadOnlyDictionary<string, string> Params, double? Final, IReadOnlyList<MetricPointDto> Points);

/// <summary>Hyperparameter studies of a project: create (a job spec with a search block), list, inspect, compare trials, cancel.</summary>
public static class StudiesApi
{
    public static IEndpointRouteBuilder MapStudiesApi(this IEndpointRouteBuilder endpoints)
    {
        var group = endpoints.MapGroup("/api/projects/{project}/training/studies").WithTags("Training");
        group.MapPost("", CreateAsync).WithName("CreateTrainingStudy").WithSummary("Validates a job spec with a search block and starts its study.").RequireAuthorization(CubePolicies.ProjectManager);
        group.MapGet("", ListAsync).WithName("ListTrainingStudies").WithSummary("Studies, newest first, with their progress.").RequireAuthorization(CubePolicies.ProjectViewer);
        group.MapGet("/{id:guid}", GetAsync).WithName("GetTrainingStudy").WithSummary("A study with its trials (params, state, metric, rung, stop reason) and best trial.").RequireAuthorization(CubePolicies.ProjectViewer);
        group.MapGet("/{id:guid}/metrics", MetricsAsync).WithName("GetTrainingStudyMetrics").WithSummary("The study's metric per trial over steps, for charts.").RequireAuthorization(CubePolicies.ProjectViewer);
        group.MapPost("/{id:guid}/cancel", CancelAsync).WithName("CancelTrainingStudy").WithSummary("Stops a study: no new trials, queued and running ones cancelled.").RequireAuthorization(CubePolicies.ProjectManager);
        return endpoints;
    }

    private static async Task<Accepted<StudyDto>> CreateAsync(JobSpec spec, HttpContext http, StudyService studies, ClaimsPrincipal user, TrainingDbContext db, CancellationToken cancellationToken)
    {
        var project = await http.GetProjectAsync();
        var study = await studies.CreateAsync(project.Id, spec, user.GetUserId(), cancellationToken);
        return TypedResults.Accepted($"/api/projects/{project.Slug}/training/studies/{study.Id}", await DtoAsync(db, study, cancellationToken));
    }

    private static async Task<Study> StudyAsync(HttpContext http, TrainingDbContext db, Guid id, CancellationToken cancellationToken)
    {
        var project = await http.GetProjectAsync();
        return await db.Studies.AsNoTracking().FirstOrDefaultAsync(s => s.Id == id && s.ProjectId == project.Id, cancellationToken)
            ?? throw new NotFoundException("Study", id.ToString());
    }

    private static async Task<StudyDto> DtoAsync(TrainingDbContext db, Study study, CancellationToken cancellationToken)
    {
        var states = await db.Trials.AsNoTracking().Where(t => t.StudyId == study.Id).Select(t => t.State).ToListAsync(cancellationToken);
        return StudyDto.From(study, states.Count(StudyService.IsTerminal), states.Count(s => s is TrialState.Queued or TrialState.Running));
    }

    private static async Task<Ok<Page<StudyDto>>> ListAsync(string? cursor, int? limit, HttpContext http, TrainingDbContext db, CancellationToken cancellationToken)
    {
        var project = await http.GetProjectAsync();
        var take = Cursor.Limit(limit);
        var query = db.Studies.AsNoTracking().Where(s => s.ProjectId == project.Id);
        if (Cursor.Decode(cursor) is { } before) query = query.Where(s => s.Id < before);
        var rows = await query.OrderByDescending(s => s.Id).Take(take + 1).ToListAsync(cancellationToken);
        var ids = rows.Select(r => r.Id).ToList();
        var states = await db.Trials.AsNoTracking().Where(t => ids.Contains(t.StudyId)).Select(t => new { t.StudyId, t.State }).ToListAsync(cancellationToken);
        var dtos = rows.Select(s => StudyDto.From(s, states.Count(t => t.StudyId == s.Id && StudyService.IsTerminal(t.State)),
            states.Count(t => t.StudyId == s.Id && t.State is TrialState.Queued or TrialState.Running))).ToList();
        return TypedResults.Ok(Cursor.Build(dtos, take, s => s.Id));
    }

    private static async Task<Ok<StudyDetailDto>> GetAsync(Guid id, HttpContext http, TrainingDbContext db, CancellationToken cancellationToken)
    {
        var study = await StudyAsync(http, db, id, cancellationToken);
        var trials = (await db.Trials.AsNoTracking().Where(t => t.StudyId == id).OrderBy(t => t.Number).ToListAsync(cancellationToken)).Select(StudyTrialDto.From).ToList();
        using var spec = JsonDocument.Parse(study.SpecJson);
        var dto = StudyDto.From(study, trials.Count(t => t.State is "succeeded" or "failed" or "cancelled"), trials.Count(t => t.State is "queued" or "running"));
        return TypedResults.Ok(new StudyDetailDto(dto, spec.RootElement.Clone(), trials.FirstOrDefault(t => t.Id == study.BestTrialId), trials));
    }

    private static async Task<Ok<IReadOnlyList<TrialSeriesDto>>> MetricsAsync(Guid id, HttpContext http, TrainingDbContext db, CancellationToken cancellationToken)
    {
        var study = await StudyAsync(http, db, id, cancellationToken);
        var trials = await db.Trials.AsNoTracking().Where(t => t.StudyId == id && t.JobId != null).OrderBy(t => t.Number).ToListAsync(cancellationToken);
        var jobIds = trials.Select(t => t.JobId!.Value).ToList();
        var points = await db.Metrics.AsNoTracking().Where(m => jobIds.Contains(m.JobId) && m.Name == study.Metric)
            .OrderBy(m => m.Step).ThenBy(m => m.Id).ToListAsync(cancellationToken);
        var byJob = points.ToLookup(p => p.JobId);
        IReadOnlyList<TrialSeriesDto> series = trials.Select(t => new TrialSeriesDto(t.Id, t.Number, t.Rung,
            JsonSerializer.Deserialize<Dictionary<string, string>>(t.ParamsJson, JobService.SpecJson)!, t.MetricValue,
            byJob[t.JobId!.Value].Select(p => new MetricPointDto(p.Step, p.Value, p.At)).ToList())).ToList();
        return TypedResults.Ok(series);
    }

    private static async Task<Ok<StudyDto>> CancelAsync(Guid id, HttpContext http, TrainingDbContext db, StudyService studies, CancellationToken cancellationToken)
    {
        var study = await studies.CancelAsync(await StudyAsync(http, db, id, cancellationToken), cancellationToken);
        return TypedResults.Ok(await DtoAsync(db, study, cancellationToken));
    }
}
