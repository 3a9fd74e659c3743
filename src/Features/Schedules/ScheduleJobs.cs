using System.ComponentModel.DataAnnotations;
using Cube.Core.Errors;
using Cube.Features.Data;
using Hangfire;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Cube.Features.Schedules;

/// <summary>Schedule settings (section <c>Cube:Features:Schedules</c>).</summary>
public sealed class SchedulesOptions
{
    public const string SectionName = "Cube:Features:Schedules";

    /// <summary>Whether this process supervises schedules: follows their runs, starts retries and pending backfill dates.</summary>
    public bool Supervise { get; set; } = true;

    /// <summary>How often the supervisor looks at schedules with work in flight.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "01:00:00")]
    public TimeSpan SuperviseInterval { get; set; } = TimeSpan.FromSeconds(5);
}

/// <summary>
/// One Hangfire recurring job per enabled schedule, id <c>features-schedule-{id}</c>, in the job storage the platform
/// configures (the PostgreSQL queue keeps it across restarts; the in-process one is rebuilt from the schedules table at
/// start by <see cref="ScheduleSupervisor"/>).
/// </summary>
public sealed class ScheduleRegistrar(IRecurringJobManager jobs)
{
    public static string JobId(Guid scheduleId) => $"features-schedule-{scheduleId:N}";

    /// <summary>Adds or updates the schedule's recurring job, or removes it when the schedule is paused.</summary>
    public void Register(ScheduleEntity schedule)
    {
        if (!schedule.Enabled)
        {
            Remove(schedule.Id);
            return;
        }
        var cron = CronSchedule.Parse(schedule.Cron, schedule.TimeZone);
        var id = schedule.Id;
        jobs.AddOrUpdate<ScheduleJobs>(JobId(id), x => x.FireAsync(id, CancellationToken.None), cron.Text, new RecurringJobOptions { TimeZone = cron.Zone });
    }

    public void Remove(Guid scheduleId) => jobs.RemoveIfExists(JobId(scheduleId));
}

/// <summary>What a schedule's recurring job executes.</summary>
public sealed class ScheduleJobs(ScheduleService schedules, ScheduleRegistrar registrar, ILogger<ScheduleJobs> logger)
{
    // A fire is recorded once per logical date (the dedupe key); failed runs are retried by the schedule, not the queue.
    [AutomaticRetry(Attempts = 0)]
    public async Task FireAsync(Guid scheduleId, CancellationToken cancellationToken)
    {
        try
        {
            var fire = await schedules.FireAsync(scheduleId, cancellationToken);
            if (fire is not null) logger.LogInformation("Schedule {ScheduleId} fired for {LogicalDate}: {Outcome}", scheduleId, fire.LogicalDate, fire.Outcome);
        }
        catch (NotFoundException)
        {
            // The schedule was deleted after its job was read: the job goes too.
            registrar.Remove(scheduleId);
        }
    }
}

/// <summary>
/// In every process with the Features module: registers the recurring job of every enabled schedule at start (the
/// in-process job storage starts empty), then periodically supervises schedules with work in flight. Several
/// processes may supervise at once; each decision is serialised per schedule by <see cref="ScheduleService"/>.
/// </summary>
public sealed class ScheduleSupervisor(IServiceScopeFactory scopes, IOptions<SchedulesOptions> options, TimeProvider time, ILogger<ScheduleSupervisor> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!options.Value.Supervise) return;
        try
        {
            await RegisterAllAsync(stoppingToken);
            using var timer = new PeriodicTimer(options.Value.SuperviseInterval, time);
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                try
                {
                    await using var scope = scopes.CreateAsyncScope();
                    await scope.ServiceProvider.GetRequiredService<ScheduleService>().SuperviseAllAsync(stoppingToken);
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    // A database hiccup must not end supervision; the next pass picks up where this one stopped.
                    logger.LogWarning(e, "Supervising schedules failed; retrying in {Interval}", options.Value.SuperviseInterval);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    private async Task RegisterAllAsync(CancellationToken cancellationToken)
    {
        try
        {
            await RegisterEachAsync(cancellationToken);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // An unmigrated or unreachable database: cron fires wait for the next start or schedule change; the host keeps running.
            logger.LogWarning(e, "Registering the schedules' recurring jobs failed");
        }
    }

    private async Task RegisterEachAsync(CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<FeaturesDbContext>();
        var registrar = scope.ServiceProvider.GetRequiredService<ScheduleRegistrar>();
        foreach (var schedule in await db.Schedules.AsNoTracking().ToListAsync(cancellationToken))
        {
            try
            {
                registrar.Register(schedule);
            }
            catch (Exception e) when (e is Core.Errors.ValidationException or ArgumentException)
            {
                logger.LogWarning("Schedule {Schedule} cannot be registered: {Reason}", schedule.Name, e.Message);
            }
        }
    }
}
