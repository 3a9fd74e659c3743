using Cube.Core.Data;
using Hangfire;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Cube.Core.Runs;

/// <summary>
/// Makes sure no run silently disappears. With the in-process queue, a queued run lives in the memory of the process
/// that queued it: at start-up every queued run is queued again here, and later every run left waiting longer than
/// <see cref="RunsOptions.OrphanAfter"/> (its process may have died; if not, whichever worker claims it first runs it).
/// A running run whose heartbeat is older than <see cref="RunsOptions.OrphanAfter"/>, or whose worker was a process
/// of this machine that is gone, is re-queued when idempotent and failed with a reason otherwise. A run with a fresh
/// heartbeat belongs to a live worker, possibly another server on the same database, and is left alone.
/// </summary>
public sealed class RunRecovery(
    IServiceScopeFactory scopes,
    WorkerIdentity worker,
    LocalDispatch dispatch,
    IOptions<RunsOptions> options,
    TimeProvider time,
    ILogger<RunRecovery> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            await RecoverAsync(startup: true, stoppingToken);
            using var timer = new PeriodicTimer(options.Value.OrphanAfter / 2, time);
            while (await timer.WaitForNextTickAsync(stoppingToken))
                await RecoverAsync(startup: false, stoppingToken);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    /// <summary>One recovery pass; returns how many runs it touched.</summary>
    public async Task<int> RecoverAsync(bool startup, CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<CoreDbContext>();
        var jobs = scope.ServiceProvider.GetRequiredService<IBackgroundJobClient>();
        var inProcessQueue = !options.Value.UsesPostgresQueue;
        var staleBefore = time.GetUtcNow() - options.Value.OrphanAfter;
        var touched = 0;

        if (inProcessQueue)
        {
            var waiting = await db.Runs.AsNoTracking().Where(r => r.State == RunState.Queued && (startup || r.CreatedAt < staleBefore))
                .Select(r => r.Id).ToListAsync(cancellationToken);
            // Once per process: a run already on this process's queue is not queued here again.
            var queued = waiting.Where(dispatch.TryAdd).ToList();
            foreach (var id in queued) jobs.Enqueue<RunExecutor>(x => x.ExecuteAsync(id, CancellationToken.None));
            touched += queued.Count;
            if (queued.Count > 0 && startup) logger.LogInformation("Queued {Count} runs left waiting by a previous process", queued.Count);
            else if (queued.Count > 0) logger.LogWarning("Queued {Count} runs that waited longer than {OrphanAfter}; the process that queued them may be gone", queued.Count, options.Value.OrphanAfter);
        }

        var running = await db.Runs.AsNoTracking()
            .Where(r => r.State == RunState.Running && (startup || r.HeartbeatAt == null || r.HeartbeatAt < staleBefore))
            .ToListAsync(cancellationToken);
        var orphans = running.Where(r => r.HeartbeatAt is null || r.HeartbeatAt < staleBefore || worker.IsDeadLocalWorker(r.WorkerId)).ToList();
        foreach (var run in orphans)
        {
            var now = time.GetUtcNow();
            // Conditional on the heartbeat we read: if the worker is alive after all, or another process recovered it first, nothing changes.
            var query = db.Runs.Where(r => r.Id == run.Id && r.State == RunState.Running && r.HeartbeatAt == run.HeartbeatAt);
            int changed;
            if (run.Idempotent && !run.CancelRequested)
            {
                changed = await query.ExecuteUpdateAsync(s => s
                    .SetProperty(r => r.State, RunState.Queued)
                    .SetProperty(r => r.WorkerId, (string?)null)
                    .SetProperty(r => r.Message, $"Re-queued after its worker stopped ({run.WorkerId})"), cancellationToken);
                if (changed > 0 && (!inProcessQueue || dispatch.TryAdd(run.Id))) jobs.Enqueue<RunExecutor>(x => x.ExecuteAsync(run.Id, CancellationToken.None));
            }
            else
            {
                var reason = run.CancelRequested
                    ? "Cancelled; its worker stopped before confirming."
                    : $"Its worker ({run.WorkerId}) stopped while running it (process killed or crashed), and this kind of run is not safe to repeat.";
                changed = await query.ExecuteUpdateAsync(s => s
                    .SetProperty(r => r.State, run.CancelRequested ? RunState.Cancelled : RunState.Failed)
                    .SetProperty(r => r.Error, reason)
                    .SetProperty(r => r.Message, run.CancelRequested ? "Cancelled" : "Failed")
                    .SetProperty(r => r.FinishedAt, now), cancellationToken);
            }
            if (changed > 0)
            {
                touched++;
                logger.LogWarning("Recovered orphaned run {RunId} ({Kind}): {Outcome}", run.Id, run.Kind, run.Idempotent ? "re-queued" : "failed");
            }
        }

        return touched;
    }
}
