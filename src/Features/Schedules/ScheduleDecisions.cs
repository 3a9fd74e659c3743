using System.Text.Json;
using Cube.Core.Errors;
using Cube.Core.Runs;
using Cube.Features.Data;
using Cube.Features.Pipelines;
using Cube.Features.Runs;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;

namespace Cube.Features.Schedules;

public sealed partial class ScheduleService
{
    /// <summary>What one decision sees and does: the schedule, the time, the runs in flight, and the fires it adds.</summary>
    private sealed class Decision(ScheduleEntity schedule, DateTimeOffset now, int active)
    {
        public ScheduleEntity Schedule { get; } = schedule;
        public DateTimeOffset Now { get; } = now;
        public int Active { get; set; } = active;
        /// <summary>Fires that hold a run slot and get their run queued once the decision is saved.</summary>
        public List<(ScheduleFire Fire, PipelineRunParameters Parameters)> Claims { get; } = [];
        /// <summary>New pending fires (backfill dates), started in logical-date order with the ones already waiting.</summary>
        public List<ScheduleFire> Pending { get; } = [];
    }

    private async Task<T> DecideAsync<T>(Guid scheduleId, Func<Decision, Task<T>> decide, CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            db.ChangeTracker.Clear();
            var schedule = await db.Schedules.FirstOrDefaultAsync(s => s.Id == scheduleId, cancellationToken)
                ?? throw new NotFoundException("Schedule", scheduleId.ToString());
            var now = time.GetUtcNow();
            var decision = new Decision(schedule, now, await RefreshAsync(schedule, now, cancellationToken));
            var result = await decide(decision);
            await RetryFailedAsync(decision, cancellationToken);
            await StartPendingAsync(decision, cancellationToken);
            schedule.RowVersion++;
            try
            {
                await db.SaveChangesAsync(cancellationToken);
            }
            catch (DbUpdateConcurrencyException) when (attempt < 10)
            {
                // Another process decided for this schedule since it was loaded: decide again on what it left.
                continue;
            }
            await QueueClaimedAsync(decision);
            return result;
        }
    }

    /// <summary>Copies the states of this schedule's runs in flight from the runs table; returns how many still hold a slot.</summary>
    private async Task<int> RefreshAsync(ScheduleEntity schedule, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var open = await db.ScheduleFires
            .Where(f => f.ScheduleId == schedule.Id && f.Outcome == FireOutcome.Started && (f.RunState == null || f.RunState == RunState.Queued || f.RunState == RunState.Running))
            .ToListAsync(cancellationToken);
        var ids = open.Where(f => f.RunId is not null).Select(f => f.RunId!.Value).ToList();
        var states = await core.Runs.AsNoTracking().Where(r => ids.Contains(r.Id))
            .Select(r => new { r.Id, r.State, r.FinishedAt, r.Error }).ToDictionaryAsync(r => r.Id, cancellationToken);
        var active = 0;
        foreach (var fire in open.OrderBy(f => f.FiredAt))
        {
            if (fire.RunId is null)
            {
                if (fire.FiredAt >= now - LostClaimAfter)
                {
                    active++;
                    continue;
                }
                fire.Outcome = FireOutcome.Failed;
                fire.Detail = "The process that fired it stopped before its run was queued.";
                continue;
            }
            if (!states.TryGetValue(fire.RunId.Value, out var run))
            {
                fire.RunState = RunState.Failed;
                fire.RunFinishedAt = now;
                fire.Detail = "Its run no longer exists.";
            }
            else
            {
                fire.RunState = run.State;
                fire.RunFinishedAt = run.FinishedAt;
                if (run.State == RunState.Failed) fire.Detail = Truncate(run.Error ?? "The run failed.", 2000);
            }
            if (fire.RunState is RunState.Queued or RunState.Running) active++;
            else schedule.LastOutcome = Describe(fire);
        }
        return active;
    }

    /// <summary>A failed run is run again, with the same logical date and inputs, once its backoff has passed.</summary>
    private async Task RetryFailedAsync(Decision d, CancellationToken cancellationToken)
    {
        var failed = await db.ScheduleFires
            .Where(f => f.ScheduleId == d.Schedule.Id && f.Outcome == FireOutcome.Started && !f.RetryDecided && (f.RunState == RunState.Failed || f.RunState == RunState.Cancelled))
            .ToListAsync(cancellationToken);
        foreach (var fire in failed)
        {
            // A cancelled run was stopped on purpose: it is not retried.
            if (fire.RunState == RunState.Cancelled || fire.Attempt > d.Schedule.MaxRetries)
            {
                fire.RetryDecided = true;
                continue;
            }
            var due = (fire.RunFinishedAt ?? fire.FiredAt) + RetryDelay(d.Schedule, fire.Attempt);
            if (due > d.Now) continue;
            fire.RetryDecided = true;
            var retry = NewFire(d, FireTrigger.Retry, fire.LogicalDate);
            retry.Outcome = FireOutcome.Pending;
            retry.Attempt = fire.Attempt + 1;
            retry.RetryOfId = fire.Id;
            retry.BackfillId = fire.BackfillId;
            retry.PipelineVersionId = fire.PipelineVersionId;
            retry.PipelineVersion = fire.PipelineVersion;
            retry.InputsJson = fire.InputsJson;
            retry.InputsKey = fire.InputsKey;
            retry.Detail = $"Retry {fire.Attempt} of {d.Schedule.MaxRetries}.";
            d.Pending.Add(retry);
        }
    }

    /// <summary>Backoff before retry number <paramref name="attempt"/>: the delay, doubled for each earlier retry, at most a day.</summary>
    internal static TimeSpan RetryDelay(ScheduleEntity schedule, int attempt) =>
        TimeSpan.FromSeconds(Math.Min(86_400, schedule.RetryDelaySeconds * Math.Pow(2, attempt - 1)));

    private async Task StartPendingAsync(Decision d, CancellationToken cancellationToken)
    {
        var waiting = await db.ScheduleFires.Where(f => f.ScheduleId == d.Schedule.Id && f.Outcome == FireOutcome.Pending).ToListAsync(cancellationToken);
        waiting.AddRange(d.Pending);
        if (!d.Schedule.Enabled) return;
        // Oldest logical date first; its retries before later dates.
        foreach (var fire in waiting.OrderBy(f => f.LogicalDate).ThenBy(f => f.Attempt).ThenBy(f => f.FiredAt))
        {
            if (d.Active >= d.Schedule.MaxConcurrentRuns) break;
            await TryStartAsync(d, fire, checkUnchanged: false, waitForSlot: true, cancellationToken);
        }
    }

    private ScheduleFire NewFire(Decision d, FireTrigger trigger, DateTimeOffset logicalDate)
    {
        var fire = new ScheduleFire { ScheduleId = d.Schedule.Id, Trigger = trigger, LogicalDate = logicalDate.ToUniversalTime(), FiredAt = d.Now };
        db.ScheduleFires.Add(fire);
        return fire;
    }

    /// <summary>
    /// Resolves the fire's inputs (unless a retry carries them), then starts it unless its inputs are those of the last
    /// successful run (when asked and enabled) or the limit is reached. A pending fire at the limit stays pending.
    /// </summary>
    private async Task TryStartAsync(Decision d, ScheduleFire fire, bool checkUnchanged, bool waitForSlot, CancellationToken cancellationToken)
    {
        if (fire.InputsKey is null)
        {
            try
            {
                var (version, inputs, rendered) = await ResolveAsync(d.Schedule, fire.LogicalDate, cancellationToken);
                fire.PipelineVersionId = version.Id;
                fire.PipelineVersion = version.Number;
                fire.InputsJson = JsonSerializer.Serialize(inputs.ToDictionary(i => i.Key, i => i.Value.VersionNumber), Json);
                // A spec with placeholders computes something else for another date even on the same inputs: its rendered
                // form is part of what skip-when-unchanged compares.
                var renderedKey = rendered is null ? "" : "|" + Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(rendered)))[..32];
                fire.InputsKey = Truncate($"{version.Id:N}|{string.Join(",", inputs.OrderBy(i => i.Key, StringComparer.Ordinal).Select(i => $"{i.Key}={i.Value.VersionId:N}"))}{renderedKey}", 4000);
            }
            catch (CubeException e)
            {
                fire.Outcome = FireOutcome.Failed;
                fire.Detail = Truncate(e.Message, 2000);
                return;
            }
        }

        if (checkUnchanged && d.Schedule.SkipWhenUnchanged)
        {
            // Runs this decision just saw succeed are only in the change tracker yet; older ones are in the table.
            var stored = await db.ScheduleFires.AsNoTracking()
                .Where(f => f.ScheduleId == d.Schedule.Id && f.Outcome == FireOutcome.Started && f.RunState == RunState.Succeeded)
                .OrderByDescending(f => f.FiredAt).FirstOrDefaultAsync(cancellationToken);
            var last = db.ScheduleFires.Local
                .Where(f => f.ScheduleId == d.Schedule.Id && f.Outcome == FireOutcome.Started && f.RunState == RunState.Succeeded)
                .Append(stored).OfType<ScheduleFire>().MaxBy(f => f.FiredAt);
            if (last is not null && last.InputsKey == fire.InputsKey)
            {
                fire.Outcome = FireOutcome.SkippedUnchanged;
                fire.Detail = $"skipped: inputs unchanged (pipeline v{fire.PipelineVersion} on the inputs of run {last.RunId})";
                return;
            }
        }

        if (d.Active >= d.Schedule.MaxConcurrentRuns)
        {
            if (waitForSlot) return;
            fire.Outcome = FireOutcome.SkippedConcurrency;
            fire.Detail = $"skipped: concurrency limit ({d.Active} of {d.Schedule.MaxConcurrentRuns} runs in flight)";
            return;
        }

        fire.Outcome = FireOutcome.Started;
        d.Active++;
        d.Claims.Add((fire, new PipelineRunParameters(d.Schedule.ProjectId, d.Schedule.PipelineId, fire.PipelineVersionId!.Value, d.Schedule.OutputDataset, d.Schedule.OwnerId)
        {
            PinnedInputs = ResolvedInputs(fire),
            ScheduleId = d.Schedule.Id,
            LogicalDate = fire.LogicalDate,
            Ds = CronSchedule.Parse(d.Schedule.Cron, d.Schedule.TimeZone).Ds(fire.LogicalDate),
            Parameters = Parameters(d.Schedule) is { Count: > 0 } values ? values : null,
        }));
    }

    /// <summary>
    /// The pipeline version the schedule runs and its inputs resolved to concrete dataset versions (tags as of now), with
    /// the spec's placeholders filled for <paramref name="logicalDate"/>; the rendered spec's JSON when it had placeholders.
    /// </summary>
    private async Task<(PipelineVersion Version, IReadOnlyDictionary<string, ResolvedInput> Inputs, string? Rendered)> ResolveAsync(ScheduleEntity schedule,
        DateTimeOffset logicalDate, CancellationToken cancellationToken)
    {
        var pipeline = await db.Pipelines.AsNoTracking().FirstAsync(p => p.Id == schedule.PipelineId, cancellationToken);
        var number = schedule.PipelineVersion ?? pipeline.LatestVersion;
        var version = await db.PipelineVersions.AsNoTracking().FirstOrDefaultAsync(v => v.PipelineId == pipeline.Id && v.Number == number, cancellationToken)
            ?? throw new NotFoundException("Pipeline version", $"{pipeline.Name} v{number}");
        var template = PipelineSpec.FromJson(System.Text.Json.Nodes.JsonNode.Parse(version.SpecJson)!.AsObject());
        var ds = CronSchedule.Parse(schedule.Cron, schedule.TimeZone).Ds(logicalDate);
        var spec = SpecTemplate.Render(template, pipelines.Values(template, ds, Parameters(schedule), logicalDate));
        var overrides = Inputs(schedule);
        var missing = overrides.Keys.FirstOrDefault(k => !spec.Inputs.ContainsKey(k));
        if (missing is not null) throw new UnprocessableException($"Pipeline '{pipeline.Name}' v{number} has no input '{missing}' that the schedule overrides.");
        spec = spec with
        {
            Inputs = spec.Inputs.ToDictionary(i => i.Key,
                i => overrides.TryGetValue(i.Key, out var o) ? i.Value with { Version = o.Version, Tag = o.Version is null ? o.Tag : null } : i.Value, StringComparer.Ordinal),
        };
        return (version, await pipelines.ResolveInputsAsync(schedule.ProjectId, spec, cancellationToken), template.IsTemplated ? spec.ToJson().ToJsonString() : null);
    }

    /// <summary>Queues the runs of the slots a saved decision claimed, and records their ids.</summary>
    private async Task QueueClaimedAsync(Decision d)
    {
        if (d.Claims.Count == 0) return;
        foreach (var (fire, parameters) in d.Claims)
        {
            try
            {
                // The slot is already claimed in the database; if this process dies here, the claim is freed after LostClaimAfter.
                var run = await runs.EnqueueAsync(PipelineRunHandler.RunKind, parameters, d.Schedule.OwnerId, d.Schedule.ProjectId, CancellationToken.None);
                fire.RunId = run.Id;
                fire.RunState = RunState.Queued;
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                logger.LogWarning(e, "Schedule {ScheduleId}: the run for {LogicalDate} could not be queued", d.Schedule.Id, fire.LogicalDate);
                fire.Outcome = FireOutcome.Failed;
                fire.Detail = Truncate($"The run could not be queued: {e.Message}", 2000);
            }
        }
        // Only fire rows change here; the schedule row (and its version) is left alone.
        await db.SaveChangesAsync(CancellationToken.None);
    }
}
