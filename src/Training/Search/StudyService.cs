using System.Globalization;
using System.Text.Json;
using Cube.Core.Data;
using Cube.Core.Errors;
using Cube.Core.Runs;
using Cube.DataHub.Catalog;
using Cube.Training.Apis;
using Cube.Training.Data;
using Cube.Training.Jobs;
using Cube.Training.Specs;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;

namespace Cube.Training.Search;

/// <summary>
/// Creates studies and moves them on. A study advances in passes (<see cref="AdvanceAsync"/>): read the trials' jobs,
/// promote a finished halving rung, submit pending trials while fewer than <c>parallelism</c> are queued or running,
/// end the study when nothing is left. A pass works only from the database, under a lease on the study row, so any
/// process can run it: after a trial ends, on each tick of <see cref="StudyScheduler"/>, or after a restart.
/// </summary>
public sealed class StudyService(
    TrainingDbContext db, CoreDbContext core, JobService jobs, DatasetResolver datasets,
    WorkerIdentity worker, TimeProvider time, ILogger<StudyService> logger)
{
    /// <summary>How long a pass may hold a study before another process may take it over (a pass takes milliseconds).</summary>
    private static readonly TimeSpan LeaseTime = TimeSpan.FromMinutes(2);

    public static bool IsTerminal(StudyState state) => state is StudyState.Succeeded or StudyState.Failed or StudyState.Cancelled;

    public static bool IsTerminal(TrialState state) => state is TrialState.Succeeded or TrialState.Failed or TrialState.Cancelled;

    /// <summary>
    /// Validates the spec and its search block, pins dataset inputs (every trial reads the same versions), fixes the seed,
    /// checks each first-rung trial as the job it will be (a value the trainer refuses is a 400 on its <c>search.space</c>
    /// field now, not a failed trial later), records the study with its planned trials and starts the first ones.
    /// </summary>
    public async Task<Study> CreateAsync(Guid projectId, JobSpec spec, Guid? userId, CancellationToken cancellationToken)
    {
        spec = JobSpecValidator.Normalize(spec);
        if (spec.Search is null) throw new ValidationException("search", "A study needs a search block (strategy, space, metric).");
        JobSpecValidator.EnsureValid(spec);
        var search = spec.Search with { Seed = spec.Search.Seed ?? Random.Shared.Next() };
        var inputs = new List<DatasetInput>();
        for (var i = 0; i < spec.Inputs.Count; i++)
        {
            try
            {
                var dataset = await datasets.DatasetAsync(projectId, spec.Inputs[i].Dataset, cancellationToken);
                var version = await datasets.VersionAsync(dataset, spec.Inputs[i].Version, cancellationToken);
                inputs.Add(spec.Inputs[i] with { Version = version.Number.ToString(CultureInfo.InvariantCulture) });
            }
            catch (NotFoundException e)
            {
                throw new ValidationException($"inputs[{i}]", e.Message);
            }
        }
        spec = spec with { Inputs = inputs, Search = search };

        var configurations = SearchSpace.Configurations(search, search.Seed!.Value);
        var rungs = search.Strategy == SearchStrategy.Halving ? SearchSpace.Rungs(search) : [(0, configurations.Count)];
        var trialParams = configurations.Select(c => WithResource(c, search, rungs[0].Resource)).ToList();
        await CheckTrialsAsync(projectId, spec, trialParams, cancellationToken);

        var study = new Study
        {
            ProjectId = projectId,
            Name = spec.Name,
            Experiment = spec.Experiment ?? spec.Name,
            Strategy = search.Strategy.ToString().ToLowerInvariant(),
            Metric = search.Metric,
            Goal = search.Goal.ToString().ToLowerInvariant(),
            SpecJson = JsonSerializer.Serialize(spec, JobService.SpecJson),
            Parallelism = search.Parallelism,
            Seed = search.Seed.Value,
            Rungs = rungs.Count,
            TotalTrials = rungs.Sum(r => r.Trials),
            SubmittedBy = userId,
            CreatedAt = time.GetUtcNow(),
            Message = "Starting",
        };
        db.Studies.Add(study);
        for (var i = 0; i < trialParams.Count; i++)
        {
            db.Trials.Add(new StudyTrial
            {
                StudyId = study.Id, Number = i + 1, Configuration = i, Rung = 0,
                ParamsJson = JsonSerializer.Serialize(trialParams[i], JobService.SpecJson), CreatedAt = study.CreatedAt,
            });
        }
        await db.SaveChangesAsync(cancellationToken);
        db.ChangeTracker.Clear();
        // The first trials start now; if another process holds the study already, its pass or the next tick starts them.
        await AdvanceAsync(study.Id, cancellationToken);
        return await db.Studies.AsNoTracking().FirstAsync(s => s.Id == study.Id, cancellationToken);
    }

    /// <summary>Asks the study to stop: no new trials start, queued and running ones are cancelled, then the study is cancelled.</summary>
    public async Task<Study> CancelAsync(Study study, CancellationToken cancellationToken)
    {
        if (IsTerminal(study.State)) throw new ConflictException($"Study '{study.Name}' has already ended ({study.State.ToString().ToLowerInvariant()}).");
        await db.Studies.Where(s => s.Id == study.Id && s.State == StudyState.Running)
            .ExecuteUpdateAsync(s => s.SetProperty(x => x.State, StudyState.Cancelling).SetProperty(x => x.Message, "Cancelling"), cancellationToken);
        await AdvanceAsync(study.Id, cancellationToken);
        return await db.Studies.AsNoTracking().FirstAsync(s => s.Id == study.Id, cancellationToken);
    }

    /// <summary>One pass over the study, if no other process is in one; false when the study was busy.</summary>
    public async Task<bool> AdvanceAsync(Guid studyId, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var until = now + LeaseTime;
        // Only one pass at a time per study: the lease is taken by a conditional update, so two processes never both
        // see a free parallelism slot and fill it twice.
        var leased = await db.Studies
            .Where(s => s.Id == studyId && (s.State == StudyState.Running || s.State == StudyState.Cancelling) && (s.LeaseUntil == null || s.LeaseUntil < now))
            .ExecuteUpdateAsync(s => s.SetProperty(x => x.LeaseOwner, worker.Id).SetProperty(x => x.LeaseUntil, until), cancellationToken);
        if (leased == 0) return false;
        try
        {
            await PassAsync(studyId, cancellationToken);
        }
        finally
        {
            db.ChangeTracker.Clear();
            await db.Studies.Where(s => s.Id == studyId && s.LeaseOwner == worker.Id)
                .ExecuteUpdateAsync(s => s.SetProperty(x => x.LeaseOwner, (string?)null).SetProperty(x => x.LeaseUntil, (DateTimeOffset?)null), CancellationToken.None);
        }
        return true;
    }

    private async Task PassAsync(Guid studyId, CancellationToken cancellationToken)
    {
        var study = await db.Studies.FirstAsync(s => s.Id == studyId, cancellationToken);
        var spec = JsonSerializer.Deserialize<JobSpec>(study.SpecJson, JobService.SpecJson)!;
        var search = spec.Search!;
        var trials = await db.Trials.Where(t => t.StudyId == studyId).OrderBy(t => t.Number).ToListAsync(cancellationToken);
        await RefreshAsync(study, spec, trials, cancellationToken);

        if (study.State == StudyState.Cancelling)
        {
            foreach (var trial in trials.Where(t => t.State is TrialState.Queued or TrialState.Running && t.JobId is not null))
            {
                var job = await db.Jobs.AsNoTracking().FirstOrDefaultAsync(j => j.Id == trial.JobId, cancellationToken);
                if (job is null) trial.State = TrialState.Cancelled;
                else
                {
                    try
                    {
                        await jobs.CancelAsync(job, cancellationToken);
                    }
                    catch (ConflictException)
                    {
                        // Ended meanwhile; the next pass reads how.
                    }
                }
            }
            foreach (var trial in trials.Where(t => t.State == TrialState.Pending))
            {
                trial.State = TrialState.Cancelled;
                trial.StopReason = "Cancelled before it started: the study was cancelled.";
                trial.FinishedAt = time.GetUtcNow();
            }
            await RefreshAsync(study, spec, trials, cancellationToken);
            if (trials.All(t => IsTerminal(t.State)))
            {
                study.State = StudyState.Cancelled;
                study.FinishedAt = time.GetUtcNow();
                study.Message = "Cancelled";
            }
            UpdateBest(study, trials);
            await db.SaveChangesAsync(cancellationToken);
            return;
        }

        if (search.Strategy == SearchStrategy.Halving) Promote(study, search, trials);

        var active = trials.Count(t => t.State is TrialState.Queued or TrialState.Running);
        foreach (var trial in trials.Where(t => t.State == TrialState.Pending).ToList())
        {
            // The parallelism limit: a trial counts from submission (queued, perhaps waiting for GPUs) until its job ends.
            if (active >= study.Parallelism) break;
            await LaunchAsync(study, spec, trial, cancellationToken);
            if (trial.State == TrialState.Queued) active++;
        }

        UpdateBest(study, trials);
        var done = trials.Count(t => IsTerminal(t.State));
        if (trials.All(t => IsTerminal(t.State)))
        {
            study.FinishedAt = time.GetUtcNow();
            if (study.BestTrialId is { } bestId && trials.First(t => t.Id == bestId) is var best)
            {
                study.State = StudyState.Succeeded;
                study.Message = string.Create(CultureInfo.InvariantCulture, $"Done: best trial {best.Number} with {study.Metric}={best.MetricValue}");
            }
            else
            {
                study.State = StudyState.Failed;
                study.Message = $"No trial reported the metric '{study.Metric}'.";
            }
        }
        else
        {
            var rung = search.Strategy == SearchStrategy.Halving
                ? string.Create(CultureInfo.InvariantCulture, $"rung {study.Rung + 1} of {study.Rungs} ({search.Resource}={SearchSpace.Rungs(search)[study.Rung].Resource}); ")
                : "";
            study.Message = string.Create(CultureInfo.InvariantCulture, $"Running: {rung}{done} of {study.TotalTrials} trials done, {active} active");
        }
        await db.SaveChangesAsync(cancellationToken);
    }

    /// <summary>Brings each submitted trial's state up to its job's, recording its metric and why it ended.</summary>
    private async Task RefreshAsync(Study study, JobSpec spec, List<StudyTrial> trials, CancellationToken cancellationToken)
    {
        var open = trials.Where(t => t.State is TrialState.Queued or TrialState.Running && t.JobId is not null).ToList();
        if (open.Count == 0) return;
        var ids = open.Select(t => t.JobId!.Value).ToList();
        var rows = await db.Jobs.AsNoTracking().Where(j => ids.Contains(j.Id)).ToDictionaryAsync(j => j.Id, cancellationToken);
        var runIds = rows.Values.Select(j => j.RunId).ToList();
        var runs = await core.Runs.AsNoTracking().Where(r => runIds.Contains(r.Id)).ToDictionaryAsync(r => r.Id, cancellationToken);
        foreach (var trial in open)
        {
            if (!rows.TryGetValue(trial.JobId!.Value, out var job))
            {
                // The id was chosen but the job never written (a scheduler stopped in between): submit it now, same id.
                if (study.State == StudyState.Running) await LaunchAsync(study, spec, trial, cancellationToken);
                else trial.State = TrialState.Cancelled;
                continue;
            }
            var state = Enum.Parse<TrialState>(JobDto.From(job, runs.GetValueOrDefault(job.RunId)).State, ignoreCase: true);
            if (state == trial.State) continue;
            trial.State = state;
            if (!IsTerminal(state)) continue;
            trial.FinishedAt = job.FinishedAt ?? time.GetUtcNow();
            trial.MetricValue = await db.Metrics.AsNoTracking().Where(m => m.JobId == job.Id && m.Name == study.Metric)
                .OrderByDescending(m => m.Step).ThenByDescending(m => m.Id).Select(m => (double?)m.Value).FirstOrDefaultAsync(cancellationToken);
            trial.StopReason = state switch
            {
                TrialState.Succeeded when trial.MetricValue is { } value => string.Create(CultureInfo.InvariantCulture, $"Completed with {study.Metric}={value}."),
                TrialState.Succeeded => $"Completed without reporting the metric '{study.Metric}'; it cannot be ranked.",
                TrialState.Cancelled => "Cancelled.",
                _ => Truncate($"Failed: {job.Error ?? runs.GetValueOrDefault(job.RunId)?.Error ?? "the job failed"}"),
            };
        }
    }

    /// <summary>
    /// Successive halving, rung by rung: when every trial of the current rung has ended, ranks those that reported the metric
    /// and promotes the top 1/eta (at least one) as new trials with eta times the resource; the rest stop with their rank.
    /// </summary>
    private void Promote(Study study, SearchSpec search, List<StudyTrial> trials)
    {
        var rungs = SearchSpace.Rungs(search);
        var current = trials.Where(t => t.Rung == study.Rung).ToList();
        if (study.Rung >= rungs.Count - 1 || current.Any(t => !IsTerminal(t.State))) return;
        var keep = Math.Max(1, current.Count / search.Eta);
        var ranked = Rank(current, study.Goal).ToList();
        var next = study.Rung + 1;
        var resource = rungs[next].Resource;
        var number = trials.Max(t => t.Number);
        var promoted = 0;
        for (var i = 0; i < ranked.Count; i++)
        {
            var trial = ranked[i];
            var rank = string.Create(CultureInfo.InvariantCulture, $"ranked {i + 1} of {ranked.Count} by {study.Metric}={trial.MetricValue} at rung {study.Rung + 1}");
            if (i < keep)
            {
                var parameters = JsonSerializer.Deserialize<Dictionary<string, string>>(trial.ParamsJson, JobService.SpecJson)!;
                var child = new StudyTrial
                {
                    StudyId = study.Id, Number = ++number, Configuration = trial.Configuration, Rung = next, PromotedFrom = trial.Id,
                    ParamsJson = JsonSerializer.Serialize(WithResource(parameters, search, resource), JobService.SpecJson), CreatedAt = time.GetUtcNow(),
                };
                db.Trials.Add(child);
                trials.Add(child);
                trial.StopReason = string.Create(CultureInfo.InvariantCulture, $"Promoted: {rank}; continues as trial {child.Number} with {search.Resource}={resource}.");
                promoted++;
            }
            else trial.StopReason = string.Create(CultureInfo.InvariantCulture, $"Not promoted: {rank}; the top {keep} went on with {search.Resource}={resource}.");
        }
        if (promoted == 0) return;
        study.Rung = next;
        var total = trials.Count;
        var count = promoted;
        for (var r = next + 1; r < rungs.Count; r++) total += count = Math.Max(1, count / search.Eta);
        study.TotalTrials = total;
    }

    private static IEnumerable<StudyTrial> Rank(IEnumerable<StudyTrial> trials, string goal)
    {
        var ranked = trials.Where(t => t.State == TrialState.Succeeded && t.MetricValue is not null);
        return (goal == "maximize" ? ranked.OrderByDescending(t => t.MetricValue) : ranked.OrderBy(t => t.MetricValue)).ThenBy(t => t.Number);
    }

    /// <summary>The best trial so far: among the trials of the highest rung that has results (more resource, fairer comparison).</summary>
    private static void UpdateBest(Study study, List<StudyTrial> trials)
    {
        var rung = trials.Where(t => t.State == TrialState.Succeeded && t.MetricValue is not null).Select(t => (int?)t.Rung).Max();
        var best = rung is null ? null : Rank(trials.Where(t => t.Rung == rung), study.Goal).FirstOrDefault();
        study.BestTrialId = best?.Id;
        study.BestValue = best?.MetricValue;
    }

    private async Task LaunchAsync(Study study, JobSpec spec, StudyTrial trial, CancellationToken cancellationToken)
    {
        trial.JobId ??= Guid.CreateVersion7();
        trial.State = TrialState.Queued;
        // The job id is committed before the job is submitted: a pass that stops in between leaves a trial the next
        // pass submits under the same id, so a trial never becomes two jobs.
        await db.SaveChangesAsync(cancellationToken);
        var parameters = JsonSerializer.Deserialize<Dictionary<string, string>>(trial.ParamsJson, JobService.SpecJson)!;
        try
        {
            await jobs.SubmitTrialAsync(study.ProjectId, TrialSpec(spec, parameters, trial.Number), study.SubmittedBy, trial.JobId.Value, study.Id, cancellationToken);
        }
        catch (CubeException e)
        {
            // What the refused submission left in the shared context is not saved with the trial's failure.
            foreach (var entry in db.ChangeTracker.Entries().Where(x => x.State == EntityState.Added && x.Entity is not StudyTrial).ToList())
                entry.State = EntityState.Detached;
            trial.State = TrialState.Failed;
            trial.FinishedAt = time.GetUtcNow();
            var detail = e is ValidationException v ? string.Join(" ", v.Errors.Select(x => $"{x.Key}: {string.Join(" ", x.Value)}")) : e.Message;
            trial.StopReason = Truncate($"Could not be submitted: {detail}");
            await db.SaveChangesAsync(cancellationToken);
            logger.LogWarning("Trial {Number} of study {StudyId} could not be submitted: {Reason}", trial.Number, study.Id, detail);
        }
    }

    /// <summary>A trial's job: the study's spec without its search block, named <c>study-N</c>, the sampled values over the fixed hyperparameters.</summary>
    public static JobSpec TrialSpec(JobSpec spec, IReadOnlyDictionary<string, string> parameters, int number)
    {
        var suffix = string.Create(CultureInfo.InvariantCulture, $"-{number}");
        var prefix = spec.Name[..Math.Min(spec.Name.Length, JobSpecValidator.MaxNameLength - suffix.Length)].TrimEnd('-');
        var hyperparameters = new Dictionary<string, string>(spec.Hyperparameters, StringComparer.Ordinal);
        foreach (var (key, value) in parameters) hyperparameters[key] = value;
        return spec with { Name = prefix + suffix, Experiment = spec.Experiment ?? spec.Name, Hyperparameters = hyperparameters, Search = null };
    }

    private static Dictionary<string, string> WithResource(Dictionary<string, string> parameters, SearchSpec search, int resource)
    {
        if (search.Strategy != SearchStrategy.Halving) return parameters;
        return new Dictionary<string, string>(parameters, StringComparer.Ordinal) { [search.Resource!] = resource.ToString(CultureInfo.InvariantCulture) };
    }

    /// <summary>Validates every first-rung trial as a job; errors on a sampled hyperparameter are reported on its search field.</summary>
    private async Task CheckTrialsAsync(Guid projectId, JobSpec spec, List<Dictionary<string, string>> trials, CancellationToken cancellationToken)
    {
        var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
        var search = spec.Search!;
        for (var i = 0; i < trials.Count; i++)
        {
            var trial = TrialSpec(spec, trials[i], i + 1);
            foreach (var (field, messages) in JobSpecValidator.Validate(trial))
            {
                var key = field.StartsWith("hyperparameters.", StringComparison.Ordinal) && field["hyperparameters.".Length..] is var name
                    ? name == search.Resource ? "search.resource" : search.Space.ContainsKey(name) ? $"search.space.{name}" : field
                    : field;
                errors.TryAdd(key, [.. messages.Select(m => $"Trial {i + 1} ({string.Join(", ", trials[i].Select(p => $"{p.Key}={p.Value}"))}): {m}")]);
            }
        }
        if (errors.Count > 0) throw new ValidationException(errors);
        var first = TrialSpec(spec, trials.FirstOrDefault() ?? [], 1);
        await jobs.EnsureRunnableAsync(projectId, first, "Each trial", cancellationToken);
    }

    private static string Truncate(string text) => text.Length > 2000 ? text[..2000] : text;
}
