using System.Text.Json;
using Cube.Core.Errors;
using Cube.Core.Runs;
using Cube.DataHub.Catalog;
using Cube.DataHub.Data;
using Cube.Training.Data;
using Cube.Training.Execution;
using Cube.Training.MlNet;
using Cube.Training.Specs;
using Microsoft.EntityFrameworkCore;

namespace Cube.Training.Jobs;

/// <summary>Parameters of a <c>training.job</c> run.</summary>
public sealed record JobRunParameters(Guid JobId) : IRunSubject
{
    Guid IRunSubject.SubjectId => JobId;
}

/// <summary>Submits and cancels training jobs.</summary>
public sealed class JobService(TrainingDbContext db, DatasetResolver datasets, DataHubDbContext hub, RunService runs, IEnumerable<ITrainingExecutor> executors, TimeProvider time)
{
    public static readonly JsonSerializerOptions SpecJson = new(JsonSerializerDefaults.Web);

    /// <summary>
    /// Validates the spec, pins every dataset input to a concrete version (so "latest" means the version at submission),
    /// records the job with its params and queues its run.
    /// </summary>
    public Task<TrainingJob> SubmitAsync(Guid projectId, JobSpec spec, Guid? userId, CancellationToken cancellationToken)
    {
        if (spec.Search is not null)
            throw new ValidationException("search", "A spec with a search block is a study of many jobs: submit it to POST /api/projects/{project}/training/studies (cube job submit does).");
        return SubmitAsync(projectId, spec, userId, jobId: null, studyId: null, cancellationToken);
    }

    /// <summary>
    /// Submits one trial of a study as the job <paramref name="jobId"/>, chosen by the study beforehand: submitting the same
    /// trial again (its scheduler stopped in between) answers the job already there instead of a second one.
    /// </summary>
    internal async Task<TrainingJob> SubmitTrialAsync(Guid projectId, JobSpec spec, Guid? userId, Guid jobId, Guid studyId, CancellationToken cancellationToken) =>
        await db.Jobs.AsNoTracking().FirstOrDefaultAsync(j => j.Id == jobId, cancellationToken)
        ?? await SubmitAsync(projectId, spec, userId, jobId, studyId, cancellationToken);

    /// <summary>
    /// Refuses a spec this server could never run: no executor for its distribution, or more GPUs than the project's
    /// quota (it would wait forever). <paramref name="what"/> names it in the message ("The job", "Each trial").
    /// </summary>
    internal async Task EnsureRunnableAsync(Guid projectId, JobSpec spec, string what, CancellationToken cancellationToken)
    {
        if (!executors.Any(e => e.Handles(spec)))
            throw new ValidationException("distribution",
                $"No executor for distribution '{JobSpecValidator.Name(spec.Distribution)}' is configured on this server; set Cube:Training:Kubernetes (a kubeconfig or host) to run cluster jobs.");
        if (spec.Resources.Gpus > 0
            && await db.Quotas.AsNoTracking().FirstOrDefaultAsync(q => q.ProjectId == projectId, cancellationToken) is { } quota
            && spec.Workers * spec.Resources.Gpus > quota.MaxGpus)
        {
            throw new ValidationException("resources.gpus",
                $"{what} needs {spec.Workers * spec.Resources.Gpus} GPUs ({spec.Workers} workers × {spec.Resources.Gpus}), more than this project's quota of {quota.MaxGpus}; it could never start.");
        }
    }

    private async Task<TrainingJob> SubmitAsync(Guid projectId, JobSpec spec, Guid? userId, Guid? jobId, Guid? studyId, CancellationToken cancellationToken)
    {
        spec = JobSpecValidator.Normalize(spec);
        JobSpecValidator.EnsureValid(spec);
        await EnsureRunnableAsync(projectId, spec, "The job", cancellationToken);
        var job = new TrainingJob
        {
            Id = jobId ?? Guid.CreateVersion7(),
            StudyId = studyId,
            ProjectId = projectId,
            Name = spec.Name,
            Experiment = spec.Experiment ?? spec.Name,
            Distribution = JobSpecValidator.Name(spec.Distribution),
            Framework = JobSpecValidator.Name(spec.Framework),
            SpecJson = JsonSerializer.Serialize(spec, SpecJson),
            Gpus = spec.Workers * spec.Resources.Gpus,
            SubmittedBy = userId,
            CreatedAt = time.GetUtcNow(),
            Message = "Queued",
        };
        for (var i = 0; i < spec.Inputs.Count; i++)
        {
            var input = spec.Inputs[i];
            try
            {
                var dataset = await datasets.DatasetAsync(projectId, input.Dataset, cancellationToken);
                var version = await datasets.VersionAsync(dataset, input.Version, cancellationToken);
                if (i == 0 && MlNetSettings.IsBuiltIn(spec)) await ValidateTableAsync(spec, version.Id, dataset.Name, version.Number, cancellationToken);
                db.Inputs.Add(new JobInput
                {
                    JobId = job.Id,
                    Name = JobSpecValidator.InputEnvName(input),
                    DatasetId = dataset.Id,
                    Dataset = dataset.Name,
                    VersionId = version.Id,
                    VersionNumber = version.Number,
                });
            }
            catch (NotFoundException e)
            {
                throw new ValidationException($"inputs[{i}]", e.Message);
            }
        }
        foreach (var (key, value) in spec.Hyperparameters) db.Params.Add(new JobParam { JobId = job.Id, Key = key, Value = value });
        foreach (var (key, value) in ShapeParams(spec))
            if (!spec.Hyperparameters.ContainsKey(key)) db.Params.Add(new JobParam { JobId = job.Id, Key = key, Value = value });
        db.Jobs.Add(job);
        // The job row is committed before its run is queued, so the handler always finds it.
        await db.SaveChangesAsync(cancellationToken);
        try
        {
            var run = await runs.EnqueueAsync(TrainingJobHandler.RunKind, new JobRunParameters(job.Id), userId, projectId, cancellationToken);
            job.RunId = run.Id;
            await db.SaveChangesAsync(CancellationToken.None);
        }
        catch
        {
            job.State = JobState.Failed;
            job.Error = "The job could not be queued.";
            await db.SaveChangesAsync(CancellationToken.None);
            throw;
        }
        return job;
    }

    public async Task<TrainingJob> CancelAsync(TrainingJob job, CancellationToken cancellationToken)
    {
        if (job.State is JobState.Succeeded or JobState.Failed or JobState.Cancelled)
            throw new ConflictException($"Job '{job.Name}' has already ended ({job.State.ToString().ToLowerInvariant()}).");
        var run = await runs.CancelAsync(job.RunId, cancellationToken);
        if (run.State == RunState.Cancelled)
        {
            // Cancelled before it started: the handler will never run, so the job ends here.
            await db.Jobs.Where(j => j.Id == job.Id && (j.State == JobState.Queued || j.State == JobState.Running))
                .ExecuteUpdateAsync(s => s.SetProperty(j => j.State, JobState.Cancelled).SetProperty(j => j.FinishedAt, time.GetUtcNow())
                    .SetProperty(j => j.Message, "Cancelled"), cancellationToken);
        }
        return await db.Jobs.AsNoTracking().FirstAsync(j => j.Id == job.Id, cancellationToken);
    }

    /// <summary>A built-in ML.NET job's table, label and features are checked against the pinned version's schema before it queues.</summary>
    private async Task ValidateTableAsync(JobSpec spec, Guid versionId, string dataset, int version, CancellationToken cancellationToken)
    {
        var errors = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        void Add(string field, string message)
        {
            if (!errors.TryGetValue(field, out var list)) errors[field] = list = [];
            list.Add(message);
        }
        var settings = MlNetSettings.Parse(spec, Add);
        await MlNetTables.ResolveAsync(hub, versionId, dataset, version, settings, Add, cancellationToken);
        if (errors.Count > 0) throw new ValidationException(errors.ToDictionary(e => e.Key, e => e.Value.ToArray(), StringComparer.Ordinal));
    }

    /// <summary>The job's shape, recorded as params next to the hyperparameters so runs can be compared on it.</summary>
    private static IEnumerable<(string, string)> ShapeParams(JobSpec spec)
    {
        yield return ("workers", spec.Workers.ToString(System.Globalization.CultureInfo.InvariantCulture));
        yield return ("gpus", spec.Resources.Gpus.ToString(System.Globalization.CultureInfo.InvariantCulture));
        yield return ("distribution", JobSpecValidator.Name(spec.Distribution));
    }
}
