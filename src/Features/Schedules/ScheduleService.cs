using System.Text.Json;
using Cube.Core.Data;
using Cube.Core.Errors;
using Cube.Core.Runs;
using Cube.DataHub.Catalog;
using Cube.Features.Data;
using Cube.Features.Pipelines;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;

namespace Cube.Features.Schedules;

/// <summary>An override of one pipeline input for a schedule: a fixed version number or a tag resolved at every fire.</summary>
public sealed record ScheduleInput(int? Version, string? Tag);

/// <summary>What a schedule is, as validated from a request.</summary>
public sealed record ScheduleSettings(
    string Pipeline, string Cron, string? TimeZone, string OutputDataset, int? PipelineVersion, IReadOnlyDictionary<string, ScheduleInput> Inputs,
    int MaxConcurrentRuns, int MaxRetries, int RetryDelaySeconds, bool SkipWhenUnchanged, bool Enabled)
{
    /// <summary>Values for the pipeline's declared parameters on every fire.</summary>
    public IReadOnlyDictionary<string, string> Parameters { get; init; } = new Dictionary<string, string>();
}

/// <summary>
/// Schedules of feature pipelines: their definitions, and every decision that starts runs for them — cron fires,
/// "run now", backfills, retries. Each decision for one schedule loads it, refreshes the states of its runs, decides,
/// and saves with the schedule's row version as concurrency token; so processes deciding for the same schedule at the
/// same moment (two servers, the supervisor beside a cron fire) are serialised, and the concurrency limit holds.
/// </summary>
public sealed partial class ScheduleService(
    FeaturesDbContext db,
    CoreDbContext core,
    PipelineService pipelines,
    DatasetResolver datasets,
    RunService runs,
    ScheduleRegistrar registrar,
    TimeProvider time,
    ILogger<ScheduleService> logger)
{
    /// <summary>A fire that claimed a run slot but whose run was never queued (its process died) frees the slot after this.</summary>
    internal static readonly TimeSpan LostClaimAfter = TimeSpan.FromMinutes(10);

    public async Task<ScheduleEntity> FindAsync(Guid projectId, string name, CancellationToken cancellationToken) =>
        await db.Schedules.AsNoTracking().FirstOrDefaultAsync(s => s.ProjectId == projectId && s.Name == name, cancellationToken)
            ?? throw new NotFoundException("Schedule", name);

    /// <summary>Creates or replaces a schedule after checking its pipeline, version, inputs and output, and (re)registers its recurring job.</summary>
    public async Task<ScheduleEntity> SaveAsync(Guid projectId, string name, ScheduleSettings settings, Guid userId, bool create, CancellationToken cancellationToken)
    {
        var cron = CronSchedule.Parse(settings.Cron, settings.TimeZone);
        var pipeline = await db.Pipelines.AsNoTracking().FirstOrDefaultAsync(p => p.ProjectId == projectId && p.Name == settings.Pipeline, cancellationToken)
            ?? throw new ValidationException("pipeline", $"Pipeline '{settings.Pipeline}' does not exist in this project.");
        var number = settings.PipelineVersion ?? pipeline.LatestVersion;
        var version = await db.PipelineVersions.AsNoTracking().FirstOrDefaultAsync(v => v.PipelineId == pipeline.Id && v.Number == number, cancellationToken)
            ?? throw new ValidationException("pipelineVersion", $"Pipeline '{pipeline.Name}' has no version {number} (latest: {pipeline.LatestVersion}).");
        var spec = PipelineSpec.FromJson(System.Text.Json.Nodes.JsonNode.Parse(version.SpecJson)!.AsObject());
        foreach (var input in settings.Inputs.Keys.Where(k => !spec.Inputs.ContainsKey(k)))
            throw new ValidationException($"inputs.{input}", $"Pipeline '{pipeline.Name}' v{number} has no input '{input}' (inputs: {string.Join(", ", spec.Inputs.Keys)}).");
        // Undeclared names and values holding placeholders answer 400 naming parameters.NAME, as a run request does.
        SpecTemplate.Values(spec, null, time.GetUtcNow(), settings.Parameters);
        try
        {
            await datasets.DatasetAsync(projectId, settings.OutputDataset, cancellationToken);
        }
        catch (NotFoundException e)
        {
            throw new ValidationException("outputDataset", e.Message);
        }

        var now = time.GetUtcNow();
        var schedule = await db.Schedules.FirstOrDefaultAsync(s => s.ProjectId == projectId && s.Name == name, cancellationToken);
        if (create && schedule is not null) throw new ConflictException($"Schedule '{name}' already exists.");
        if (!create && schedule is null) throw new NotFoundException("Schedule", name);
        if (schedule is null)
        {
            schedule = new ScheduleEntity { ProjectId = projectId, Name = name, CreatedAt = now };
            db.Schedules.Add(schedule);
        }
        schedule.PipelineId = pipeline.Id;
        schedule.PipelineVersion = settings.PipelineVersion;
        schedule.Cron = cron.Text;
        schedule.TimeZone = cron.Zone.Id;
        schedule.OutputDataset = settings.OutputDataset;
        schedule.InputsJson = JsonSerializer.Serialize(settings.Inputs, Json);
        schedule.ParametersJson = JsonSerializer.Serialize(settings.Parameters, Json);
        schedule.MaxConcurrentRuns = settings.MaxConcurrentRuns;
        schedule.MaxRetries = settings.MaxRetries;
        schedule.RetryDelaySeconds = settings.RetryDelaySeconds;
        schedule.SkipWhenUnchanged = settings.SkipWhenUnchanged;
        schedule.Enabled = settings.Enabled;
        schedule.NextFireAt = settings.Enabled ? cron.Next(now) : null;
        schedule.OwnerId = userId;
        schedule.UpdatedAt = now;
        schedule.RowVersion++;
        try
        {
            await db.SaveChangesAsync(cancellationToken);
        }
        catch (DbUpdateException)
        {
            throw new ConflictException($"Schedule '{name}' was changed concurrently; retry.");
        }
        registrar.Register(schedule);
        return schedule;
    }

    public async Task DeleteAsync(Guid projectId, string name, CancellationToken cancellationToken)
    {
        var schedule = await FindAsync(projectId, name, cancellationToken);
        // The recurring job goes first: a fire that still slips through finds no schedule and does nothing.
        registrar.Remove(schedule.Id);
        await db.Schedules.Where(s => s.Id == schedule.Id).ExecuteDeleteAsync(cancellationToken);
    }

    /// <summary>Pauses (no cron fires; pending backfill dates and retries wait) or resumes a schedule.</summary>
    public async Task<ScheduleEntity> SetEnabledAsync(Guid projectId, string name, bool enabled, CancellationToken cancellationToken)
    {
        var id = (await FindAsync(projectId, name, cancellationToken)).Id;
        var schedule = await DecideAsync(id, d =>
        {
            d.Schedule.Enabled = enabled;
            d.Schedule.NextFireAt = enabled ? CronSchedule.Parse(d.Schedule.Cron, d.Schedule.TimeZone).Next(d.Now) : null;
            d.Schedule.UpdatedAt = d.Now;
            return Task.FromResult(d.Schedule);
        }, cancellationToken);
        registrar.Register(schedule);
        return schedule;
    }

    /// <summary>
    /// A cron fire (what the recurring job calls): the logical date is the latest occurrence at or before now. Returns
    /// null when the schedule is paused or gone, or this occurrence was already fired (the queue delivered it twice).
    /// </summary>
    public Task<ScheduleFire?> FireAsync(Guid scheduleId, CancellationToken cancellationToken) =>
        DecideAsync<ScheduleFire?>(scheduleId, async d =>
        {
            if (!d.Schedule.Enabled) return null;
            var cron = CronSchedule.Parse(d.Schedule.Cron, d.Schedule.TimeZone);
            var logicalDate = cron.Latest(d.Now) ?? d.Now;
            var key = $"cron:{logicalDate.UtcTicks}";
            if (await db.ScheduleFires.AnyAsync(f => f.ScheduleId == scheduleId && f.DedupeKey == key, cancellationToken)) return null;
            var fire = NewFire(d, FireTrigger.Cron, logicalDate);
            fire.DedupeKey = key;
            await TryStartAsync(d, fire, checkUnchanged: true, waitForSlot: false, cancellationToken);
            d.Schedule.LastFireAt = d.Now;
            d.Schedule.NextFireAt = cron.Next(d.Now);
            d.Schedule.LastOutcome = Describe(fire);
            return fire;
        }, cancellationToken);

    /// <summary>Fires now, outside the cron: the logical date is now; the concurrency limit applies, skip-when-unchanged does not.</summary>
    public Task<ScheduleFire> RunNowAsync(Guid scheduleId, CancellationToken cancellationToken) =>
        DecideAsync(scheduleId, async d =>
        {
            // Whole seconds: a logical date is compared and shown, and both databases keep that much exactly.
            var fire = NewFire(d, FireTrigger.Manual, new DateTimeOffset(d.Now.UtcTicks - d.Now.UtcTicks % TimeSpan.TicksPerSecond, TimeSpan.Zero));
            await TryStartAsync(d, fire, checkUnchanged: false, waitForSlot: false, cancellationToken);
            d.Schedule.LastFireAt = d.Now;
            d.Schedule.LastOutcome = Describe(fire);
            return fire;
        }, cancellationToken);

    /// <summary>
    /// One pending fire per cron occurrence in [<paramref name="from"/>, <paramref name="to"/>]; they start in logical-date
    /// order as the concurrency limit allows (now, and on every later decision or supervisor pass).
    /// </summary>
    public async Task<ScheduleBackfill> BackfillAsync(Guid scheduleId, DateTimeOffset from, DateTimeOffset to, Guid userId, CancellationToken cancellationToken)
    {
        if (to < from) throw new ValidationException("to", "'to' is before 'from'.");
        return await DecideAsync(scheduleId, d =>
        {
            var cron = CronSchedule.Parse(d.Schedule.Cron, d.Schedule.TimeZone);
            var dates = cron.Between(from, to);
            if (dates.Count == 0)
                throw new ValidationException("from", $"'{cron.Text}' ({cron.Zone.Id}) has no occurrence between {from:u} and {to:u}.");
            var backfill = new ScheduleBackfill
            {
                ScheduleId = scheduleId, From = from.ToUniversalTime(), To = to.ToUniversalTime(), Total = dates.Count, OwnerId = userId, CreatedAt = d.Now,
            };
            db.ScheduleBackfills.Add(backfill);
            foreach (var date in dates)
            {
                var fire = NewFire(d, FireTrigger.Backfill, date);
                fire.BackfillId = backfill.Id;
                fire.Outcome = FireOutcome.Pending;
                d.Pending.Add(fire);
            }
            return Task.FromResult(backfill);
        }, cancellationToken);
    }

    /// <summary>Refreshes run states, creates due retries and starts pending fires while slots are free.</summary>
    public Task SuperviseAsync(Guid scheduleId, CancellationToken cancellationToken) =>
        DecideAsync(scheduleId, _ => Task.FromResult(0), cancellationToken);

    /// <summary>Supervises every schedule that has pending fires, runs in flight or failed runs awaiting a retry decision.</summary>
    public async Task<int> SuperviseAllAsync(CancellationToken cancellationToken)
    {
        var ids = await db.ScheduleFires.AsNoTracking()
            .Where(f => f.Outcome == FireOutcome.Pending
                || (f.Outcome == FireOutcome.Started && (f.RunState == null || f.RunState == RunState.Queued || f.RunState == RunState.Running))
                || (f.Outcome == FireOutcome.Started && !f.RetryDecided && (f.RunState == RunState.Failed || f.RunState == RunState.Cancelled)))
            .Select(f => f.ScheduleId).Distinct().ToListAsync(cancellationToken);
        foreach (var id in ids)
        {
            try
            {
                await SuperviseAsync(id, cancellationToken);
            }
            catch (NotFoundException)
            {
                // Deleted meanwhile; its fires went with it.
            }
        }
        return ids.Count;
    }

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull };

    internal static IReadOnlyDictionary<string, ScheduleInput> Inputs(ScheduleEntity schedule) =>
        JsonSerializer.Deserialize<Dictionary<string, ScheduleInput>>(schedule.InputsJson, Json) ?? [];

    internal static IReadOnlyDictionary<string, string> Parameters(ScheduleEntity schedule) =>
        JsonSerializer.Deserialize<Dictionary<string, string>>(schedule.ParametersJson, Json) ?? [];

    internal static IReadOnlyDictionary<string, int>? ResolvedInputs(ScheduleFire fire) =>
        fire.InputsJson is null ? null : JsonSerializer.Deserialize<Dictionary<string, int>>(fire.InputsJson, Json);

    /// <summary>The schedule's last outcome line for a fire.</summary>
    internal static string Describe(ScheduleFire fire) => fire.Outcome switch
    {
        FireOutcome.Started => fire.RunState switch
        {
            RunState.Succeeded => "succeeded",
            RunState.Failed => "failed",
            RunState.Cancelled => "cancelled",
            _ => "started",
        },
        FireOutcome.SkippedUnchanged => "skipped: inputs unchanged",
        FireOutcome.SkippedConcurrency => "skipped: concurrency limit",
        FireOutcome.Pending => "pending",
        _ => Truncate($"failed to start: {fire.Detail}", 512),
    };

    private static string Truncate(string text, int length) => text.Length <= length ? text : text[..length];
}
