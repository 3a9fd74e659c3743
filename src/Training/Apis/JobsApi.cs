using System.Security.Claims;
using System.Text.Json;
using Cube.Core.Apis;
using Cube.Core.Data;
using Cube.Core.Errors;
using Cube.Core.Identity;
using Cube.Core.Runs;
using Cube.Core.Storage;
using Cube.Training.Data;
using Cube.Training.Execution;
using Cube.Training.Jobs;
using Cube.Training.Kubernetes;
using Cube.Training.Specs;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Cube.Training.Apis;

/// <summary>
/// A job as lists show it. <c>Gpus</c> is what it asks for in all (workers × GPUs per worker); <c>QueuePosition</c>, while
/// it waits for the project's GPU quota, its place in the queue (1 is next), otherwise null.
/// </summary>
public sealed record JobDto(
    Guid Id, string Name, string Experiment, string Distribution, string Framework, string State, double Progress, string? Message,
    string? Error, int? ExitCode, Guid RunId, long LogLines, DateTimeOffset CreatedAt, DateTimeOffset? StartedAt, DateTimeOffset? FinishedAt,
    int Gpus, int? QueuePosition, Guid? StudyId = null)
{
    /// <summary>The job row's state, unless its run ended without the handler recording it (a worker died): then the run's.</summary>
    public static JobDto From(TrainingJob j, Run? run, int? queuePosition = null)
    {
        var state = j.State;
        if (state is JobState.Queued or JobState.Running && run is { IsTerminal: true })
            state = run.State switch { RunState.Succeeded => JobState.Succeeded, RunState.Cancelled => JobState.Cancelled, _ => JobState.Failed };
        var progress = state == JobState.Succeeded ? 100 : Math.Round(run?.Progress ?? 0, 2);
        return new(j.Id, j.Name, j.Experiment, j.Distribution, j.Framework, state.ToString().ToLowerInvariant(), progress, j.Message,
            j.Error ?? (state != j.State ? run?.Error : null), j.ExitCode, j.RunId, j.LogLineCount, j.CreatedAt, j.StartedAt, j.FinishedAt,
            j.Gpus, state == JobState.Queued ? queuePosition : null, j.StudyId);
    }
}

public sealed record JobInputDto(string Name, string Dataset, int Version, Guid VersionId);
public sealed record ArtifactDto(string Path, string Sha256, long Size);
/// <summary>A registered model version made from a job's artifact.</summary>
public sealed record JobModelVersionDto(string Model, int Version, string Flavor);
public sealed record JobDetailDto(
    JobDto Job, JsonElement Spec, IReadOnlyDictionary<string, string> Params, IReadOnlyList<JobInputDto> Inputs, IReadOnlyList<ArtifactDto> Artifacts,
    IReadOnlyList<JobModelVersionDto> ModelVersions);
public sealed record LogLineDto(long Sequence, string Source, string Text, DateTimeOffset At);
public sealed record LogPageDto(IReadOnlyList<LogLineDto> Lines, long Total, bool Truncated, long? NextAfter);
public sealed record MetricPointDto(long Step, double Value, DateTimeOffset At);
public sealed record MetricSeriesDto(string Name, IReadOnlyList<MetricPointDto> Points);
public sealed record ExperimentDto(string Name, int Runs, DateTimeOffset LastRunAt);
public sealed record RunComparisonDto(Guid JobId, string Name, string State, DateTimeOffset CreatedAt, IReadOnlyDictionary<string, string> Params, IReadOnlyDictionary<string, double> Metrics);
public sealed record ManifestDto(string ApiVersion, string Kind, string Name, string Path, JsonElement Body);

/// <summary>Training jobs of a project: submit, list, inspect, cancel, logs, metrics, artifacts, rendered manifests; experiments.</summary>
public static class JobsApi
{
    public static IEndpointRouteBuilder MapJobsApi(this IEndpointRouteBuilder endpoints)
    {
        var group = endpoints.MapGroup("/api/projects/{project}/training").WithTags("Training");
        group.MapPost("/jobs", SubmitAsync).WithName("SubmitTrainingJob").WithSummary("Validates a job spec and queues the job as a run.").RequireAuthorization(CubePolicies.ProjectManager);
        group.MapGet("/jobs", ListAsync).WithName("ListTrainingJobs").WithSummary("Jobs, newest first; filter by experiment or state.").RequireAuthorization(CubePolicies.ProjectViewer);
        group.MapGet("/jobs/{id:guid}", GetAsync).WithName("GetTrainingJob").WithSummary("A job with its spec, params, inputs and artifacts.").RequireAuthorization(CubePolicies.ProjectViewer);
        group.MapPost("/jobs/{id:guid}/cancel", CancelAsync).WithName("CancelTrainingJob").WithSummary("Stops a queued or running job.").RequireAuthorization(CubePolicies.ProjectManager);
        group.MapGet("/jobs/{id:guid}/logs", LogsAsync).WithName("GetTrainingJobLogs").WithSummary("Log lines after a sequence number, for polling a live job.").RequireAuthorization(CubePolicies.ProjectViewer);
        group.MapGet("/jobs/{id:guid}/metrics", MetricsAsync).WithName("GetTrainingJobMetrics").WithSummary("Metric series (step, value) of a job, for charts.").RequireAuthorization(CubePolicies.ProjectViewer);
        group.MapGet("/jobs/{id:guid}/artifacts/{**path}", ArtifactAsync).WithName("DownloadTrainingArtifact").WithSummary("Streams one artifact of a job.").RequireAuthorization(CubePolicies.ProjectViewer);
        group.MapGet("/jobs/{id:guid}/manifests", ManifestsAsync).WithName("GetTrainingJobManifests").WithSummary("The Kubernetes objects a cluster job is submitted as.").RequireAuthorization(CubePolicies.ProjectViewer);
        group.MapGet("/experiments", ExperimentsAsync).WithName("ListExperiments").WithSummary("Experiments with their run counts.").RequireAuthorization(CubePolicies.ProjectViewer);
        group.MapGet("/experiments/{experiment}/runs", CompareAsync).WithName("CompareExperimentRuns").WithSummary("Runs of an experiment side by side: params and final metrics.").RequireAuthorization(CubePolicies.ProjectViewer);
        return endpoints;
    }

    private static async Task<Accepted<JobDto>> SubmitAsync(JobSpec spec, HttpContext http, JobService jobs, ClaimsPrincipal user, CoreDbContext core, CancellationToken cancellationToken)
    {
        var project = await http.GetProjectAsync();
        var job = await jobs.SubmitAsync(project.Id, spec, user.GetUserId(), cancellationToken);
        var run = await core.Runs.AsNoTracking().FirstOrDefaultAsync(r => r.Id == job.RunId, cancellationToken);
        return TypedResults.Accepted($"/api/projects/{project.Slug}/training/jobs/{job.Id}", JobDto.From(job, run));
    }

    internal static async Task<TrainingJob> JobAsync(HttpContext http, TrainingDbContext db, Guid id, CancellationToken cancellationToken)
    {
        var project = await http.GetProjectAsync();
        return await db.Jobs.AsNoTracking().FirstOrDefaultAsync(j => j.Id == id && j.ProjectId == project.Id, cancellationToken)
            ?? throw new NotFoundException("Training job", id.ToString());
    }

    private static async Task<Ok<Page<JobDto>>> ListAsync(string? experiment, string? state, string? cursor, int? limit, HttpContext http, TrainingDbContext db, CoreDbContext core, CancellationToken cancellationToken)
    {
        var project = await http.GetProjectAsync();
        var take = Cursor.Limit(limit);
        var query = db.Jobs.AsNoTracking().Where(j => j.ProjectId == project.Id);
        if (experiment is not null) query = query.Where(j => j.Experiment == experiment);
        if (state is not null)
        {
            if (!Enum.TryParse<JobState>(state, ignoreCase: true, out var parsed)) throw new ValidationException("state", $"'{state}' is not a job state; use queued, running, succeeded, failed or cancelled.");
            query = query.Where(j => j.State == parsed);
        }
        if (Cursor.Decode(cursor) is { } before) query = query.Where(j => j.Id < before);
        var rows = await query.OrderByDescending(j => j.Id).Take(take + 1).ToListAsync(cancellationToken);
        var runIds = rows.Select(r => r.RunId).ToList();
        var runs = await core.Runs.AsNoTracking().Where(r => runIds.Contains(r.Id)).ToDictionaryAsync(r => r.Id, cancellationToken);
        var positions = rows.Any(j => j.State == JobState.Queued && j.Gpus > 0) ? await QueuePositionsAsync(project.Id, db, core, cancellationToken) : [];
        return TypedResults.Ok(Cursor.Build(rows.Select(j => JobDto.From(j, runs.GetValueOrDefault(j.RunId), positions.GetValueOrDefault(j.Id))).ToList(), take, j => j.Id));
    }

    /// <summary>
    /// Places in the project's GPU queue, counted as GpuQueue counts them: queued GPU jobs whose run has not ended, oldest first.
    /// Empty without a quota, since then no job waits for GPUs.
    /// </summary>
    private static async Task<Dictionary<Guid, int?>> QueuePositionsAsync(Guid projectId, TrainingDbContext db, CoreDbContext core, CancellationToken cancellationToken)
    {
        if (!await db.Quotas.AsNoTracking().AnyAsync(q => q.ProjectId == projectId, cancellationToken)) return [];
        var waiting = await db.Jobs.AsNoTracking().Where(j => j.ProjectId == projectId && j.State == JobState.Queued && j.Gpus > 0)
            .OrderBy(j => j.Id).Select(j => new { j.Id, j.RunId }).ToListAsync(cancellationToken);
        var runIds = waiting.Select(w => w.RunId).ToList();
        var live = (await core.Runs.AsNoTracking().Where(r => runIds.Contains(r.Id) && (r.State == RunState.Queued || r.State == RunState.Running))
            .Select(r => r.Id).ToListAsync(cancellationToken)).ToHashSet();
        return waiting.Where(w => live.Contains(w.RunId)).Select((w, i) => (w.Id, Position: i + 1)).ToDictionary(p => p.Id, p => (int?)p.Position);
    }

    private static async Task<Ok<JobDetailDto>> GetAsync(Guid id, HttpContext http, TrainingDbContext db, CoreDbContext core, CancellationToken cancellationToken)
    {
        var job = await JobAsync(http, db, id, cancellationToken);
        var run = await core.Runs.AsNoTracking().FirstOrDefaultAsync(r => r.Id == job.RunId, cancellationToken);
        var parameters = await db.Params.AsNoTracking().Where(p => p.JobId == id).ToDictionaryAsync(p => p.Key, p => p.Value, cancellationToken);
        var inputs = await db.Inputs.AsNoTracking().Where(i => i.JobId == id).OrderBy(i => i.Name)
            .Select(i => new JobInputDto(i.Name, i.Dataset, i.VersionNumber, i.VersionId)).ToListAsync(cancellationToken);
        var artifacts = await db.Artifacts.AsNoTracking().Where(a => a.JobId == id).OrderBy(a => a.Path)
            .Select(a => new ArtifactDto(a.Path, a.Sha256, a.Size)).ToListAsync(cancellationToken);
        var models = await (from v in db.ModelVersions.AsNoTracking()
                            join m in db.Models.AsNoTracking() on v.ModelId equals m.Id
                            where v.JobId == id && m.ProjectId == job.ProjectId
                            orderby m.Name, v.Number
                            select new JobModelVersionDto(m.Name, v.Number, v.Flavor)).ToListAsync(cancellationToken);
        var position = job.State == JobState.Queued && job.Gpus > 0 ? (await QueuePositionsAsync(job.ProjectId, db, core, cancellationToken)).GetValueOrDefault(job.Id) : null;
        using var spec = JsonDocument.Parse(job.SpecJson);
        return TypedResults.Ok(new JobDetailDto(JobDto.From(job, run, position), spec.RootElement.Clone(), parameters, inputs, artifacts, models));
    }

    private static async Task<Ok<JobDto>> CancelAsync(Guid id, HttpContext http, TrainingDbContext db, JobService jobs, CoreDbContext core, CancellationToken cancellationToken)
    {
        var job = await jobs.CancelAsync(await JobAsync(http, db, id, cancellationToken), cancellationToken);
        var run = await core.Runs.AsNoTracking().FirstOrDefaultAsync(r => r.Id == job.RunId, cancellationToken);
        return TypedResults.Ok(JobDto.From(job, run));
    }

    private static async Task<Ok<LogPageDto>> LogsAsync(Guid id, long? after, int? limit, HttpContext http, TrainingDbContext db, IOptions<TrainingOptions> options, CancellationToken cancellationToken)
    {
        var job = await JobAsync(http, db, id, cancellationToken);
        var take = Math.Clamp(limit ?? 1000, 1, 10_000);
        var from = after ?? 0;
        var lines = await db.Logs.AsNoTracking().Where(l => l.JobId == id && l.Sequence > from).OrderBy(l => l.Sequence).Take(take)
            .Select(l => new LogLineDto(l.Sequence, l.Source, l.Text, l.At)).ToListAsync(cancellationToken);
        var next = lines.Count > 0 ? lines[^1].Sequence : (long?)null;
        return TypedResults.Ok(new LogPageDto(lines, job.LogLineCount, job.LogLineCount > options.Value.MaxLogLines, next));
    }

    private static async Task<Ok<IReadOnlyList<MetricSeriesDto>>> MetricsAsync(Guid id, string? name, HttpContext http, TrainingDbContext db, CancellationToken cancellationToken)
    {
        await JobAsync(http, db, id, cancellationToken);
        var query = db.Metrics.AsNoTracking().Where(m => m.JobId == id);
        if (name is not null) query = query.Where(m => m.Name == name);
        var points = await query.OrderBy(m => m.Name).ThenBy(m => m.Step).ThenBy(m => m.Id).ToListAsync(cancellationToken);
        IReadOnlyList<MetricSeriesDto> series = points.GroupBy(p => p.Name)
            .Select(g => new MetricSeriesDto(g.Key, g.Select(p => new MetricPointDto(p.Step, p.Value, p.At)).ToList())).ToList();
        return TypedResults.Ok(series);
    }

    private static async Task<IResult> ArtifactAsync(Guid id, string path, HttpContext http, TrainingDbContext db, IObjectStore store, CancellationToken cancellationToken)
    {
        await JobAsync(http, db, id, cancellationToken);
        var artifact = await db.Artifacts.AsNoTracking().FirstOrDefaultAsync(a => a.JobId == id && a.Path == path, cancellationToken)
            ?? throw new NotFoundException("Artifact", path);
        var stream = await store.GetAsync(artifact.ObjectKey, null, cancellationToken);
        return TypedResults.Stream(stream, "application/octet-stream", Path.GetFileName(artifact.Path));
    }

    private static async Task<Ok<IReadOnlyList<ManifestDto>>> ManifestsAsync(Guid id, HttpContext http, TrainingDbContext db, IOptions<TrainingOptions> options, CancellationToken cancellationToken)
    {
        var job = await JobAsync(http, db, id, cancellationToken);
        var spec = JsonSerializer.Deserialize<JobSpec>(job.SpecJson, JobService.SpecJson)!;
        if (spec.Distribution == Distribution.Local)
            throw new UnprocessableException($"Job '{job.Name}' runs locally; only cluster distributions are rendered as Kubernetes objects.");
        var inputs = await db.Inputs.AsNoTracking().Where(i => i.JobId == id).OrderBy(i => i.Name).ToListAsync(cancellationToken);
        var context = new JobContext(job.Id, job.RunId, job.ProjectId)
        {
            Inputs = inputs.Select(i => new ResolvedInput(i.Name, i.Dataset, i.VersionNumber, i.VersionId, null)).ToList(),
        };
        var rendered = ManifestRenderer.Render(spec, context, options.Value.Kubernetes.Namespace);
        IReadOnlyList<ManifestDto> manifests = rendered.Objects
            .Select(o => new ManifestDto(o.Resource.ApiVersion, o.Resource.Kind, o.Name, o.Resource.CollectionPath(rendered.Namespace), JsonSerializer.SerializeToElement(o.Body)))
            .ToList();
        return TypedResults.Ok(manifests);
    }

    private static async Task<Ok<IReadOnlyList<ExperimentDto>>> ExperimentsAsync(HttpContext http, TrainingDbContext db, CancellationToken cancellationToken)
    {
        var project = await http.GetProjectAsync();
        var rows = await db.Jobs.AsNoTracking().Where(j => j.ProjectId == project.Id)
            .GroupBy(j => j.Experiment).Select(g => new { Name = g.Key, Runs = g.Count() }).ToListAsync(cancellationToken);
        var last = await db.Jobs.AsNoTracking().Where(j => j.ProjectId == project.Id).Select(j => new { j.Experiment, j.CreatedAt }).ToListAsync(cancellationToken);
        IReadOnlyList<ExperimentDto> result = rows
            .Select(r => new ExperimentDto(r.Name, r.Runs, last.Where(l => l.Experiment == r.Name).Max(l => l.CreatedAt)))
            .OrderByDescending(e => e.LastRunAt).ToList();
        return TypedResults.Ok(result);
    }

    private static async Task<Ok<IReadOnlyList<RunComparisonDto>>> CompareAsync(string experiment, HttpContext http, TrainingDbContext db, CoreDbContext core, CancellationToken cancellationToken)
    {
        var project = await http.GetProjectAsync();
        var jobs = await db.Jobs.AsNoTracking().Where(j => j.ProjectId == project.Id && j.Experiment == experiment).OrderByDescending(j => j.Id).Take(200).ToListAsync(cancellationToken);
        if (jobs.Count == 0) throw new NotFoundException("Experiment", experiment);
        var ids = jobs.Select(j => j.Id).ToList();
        var runIds = jobs.Select(j => j.RunId).ToList();
        var runs = await core.Runs.AsNoTracking().Where(r => runIds.Contains(r.Id)).ToDictionaryAsync(r => r.Id, cancellationToken);
        var parameters = await db.Params.AsNoTracking().Where(p => ids.Contains(p.JobId)).ToListAsync(cancellationToken);
        var finals = await db.Metrics.AsNoTracking().Where(m => ids.Contains(m.JobId))
            .GroupBy(m => new { m.JobId, m.Name })
            .Select(g => new { g.Key.JobId, g.Key.Name, Last = g.OrderByDescending(m => m.Step).ThenByDescending(m => m.Id).Select(m => m.Value).First() })
            .ToListAsync(cancellationToken);
        IReadOnlyList<RunComparisonDto> result = jobs.Select(j => new RunComparisonDto(j.Id, j.Name, JobDto.From(j, runs.GetValueOrDefault(j.RunId)).State, j.CreatedAt,
            parameters.Where(p => p.JobId == j.Id).ToDictionary(p => p.Key, p => p.Value),
            finals.Where(m => m.JobId == j.Id).ToDictionary(m => m.Name, m => m.Last))).ToList();
        return TypedResults.Ok(result);
    }
}
