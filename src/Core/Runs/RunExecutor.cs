using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.Json;
using Cube.Core.Data;
using Cube.Core.Errors;
using Hangfire;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Cube.Core.Runs;

/// <summary>Identifies this process in <see cref="Run.WorkerId"/>.</summary>
public sealed class WorkerIdentity
{
    public string Id { get; } = $"{Environment.MachineName}/{Environment.ProcessId}/{Guid.NewGuid().ToString("N")[..8]}";

    /// <summary>
    /// Whether the worker that wrote <paramref name="workerId"/> is provably gone: it ran on this machine in a process
    /// that no longer exists. Anything else (another machine, a live process, a reused process id such as a restarted
    /// container's) has to be judged by its heartbeat.
    /// </summary>
    public bool IsDeadLocalWorker(string? workerId)
    {
        if (workerId is null || workerId == Id) return false;
        var parts = workerId.Split('/');
        if (parts.Length != 3 || parts[0] != Environment.MachineName || !int.TryParse(parts[1], out var pid)) return false;
        // Two hosts in one process (tests, a server beside a worker) share the pid; a live process is judged by its heartbeat.
        if (pid == Environment.ProcessId) return false;
        try
        {
            using var process = Process.GetProcessById(pid);
            return process.HasExited;
        }
        catch (ArgumentException)
        {
            return true;
        }
        catch (InvalidOperationException)
        {
            return true;
        }
    }
}

/// <summary>
/// Runs this process has put on its in-process queue that no worker has taken yet. With the in-process queue a run
/// is only as safe as the process that queued it; recovery in every process re-queues runs left waiting too long
/// (their process may be gone), once per process, and this set keeps it from queuing the same run twice.
/// </summary>
public sealed class LocalDispatch
{
    private readonly ConcurrentDictionary<Guid, byte> _pending = new();

    /// <summary>Marks a run as on this process's queue; false when it already is.</summary>
    public bool TryAdd(Guid runId) => _pending.TryAdd(runId, 0);

    public void Taken(Guid runId) => _pending.TryRemove(runId, out _);
}

/// <summary>
/// The job the queue executes: claims the run, runs its handler with heartbeat, progress and cancellation, and
/// records the outcome. Delivery is at-least-once; the claim makes execution at-most-once per queued state.
/// </summary>
public sealed class RunExecutor(
    IServiceScopeFactory scopes,
    IServiceProvider services,
    RunHandlerRegistry handlers,
    WorkerIdentity worker,
    LocalDispatch dispatch,
    IOptions<RunsOptions> options,
    TimeProvider time,
    ILogger<RunExecutor> logger)
{
    // The run row decides retries (see RunRecovery); the queue must not repeat work on its own.
    [AutomaticRetry(Attempts = 0)]
    public async Task ExecuteAsync(Guid runId, CancellationToken cancellationToken)
    {
        dispatch.Taken(runId);
        var now = time.GetUtcNow();
        // Exactly one worker moves a run out of Queued; a duplicate queue entry finds nothing to claim and returns. Only
        // kinds this process has a handler for are claimed: a run of another kind (an older version beside a newer one)
        // stays queued for a process that can run it.
        var kinds = handlers.Kinds;
        var claimed = await UpdateAsync(db => db.Runs
            .Where(r => r.Id == runId && r.State == RunState.Queued && !r.CancelRequested && kinds.Contains(r.Kind))
            .ExecuteUpdateAsync(s => s
                .SetProperty(r => r.State, RunState.Running)
                .SetProperty(r => r.WorkerId, worker.Id)
                .SetProperty(r => r.StartedAt, now)
                .SetProperty(r => r.HeartbeatAt, now)
                .SetProperty(r => r.Attempt, r => r.Attempt + 1)
                .SetProperty(r => r.Message, "Running"), CancellationToken.None));
        if (claimed == 0) return;

        var run = await UpdateAsync(db => db.Runs.AsNoTracking().FirstAsync(r => r.Id == runId));
        var handler = handlers.Get(run.Kind);

        using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var cancelRequested = false;
        var leaseLost = false;
        using var heartbeatStop = new CancellationTokenSource();
        var heartbeat = Task.Run(async () =>
        {
            using var timer = new PeriodicTimer(options.Value.HeartbeatInterval, time);
            while (await timer.WaitForNextTickAsync(heartbeatStop.Token).ConfigureAwait(false))
            {
                var beat = time.GetUtcNow();
                var (owned, requested) = await UpdateAsync(async db =>
                {
                    var beats = await db.Runs.Where(r => r.Id == runId && r.WorkerId == worker.Id && r.State == RunState.Running)
                        .ExecuteUpdateAsync(s => s.SetProperty(r => r.HeartbeatAt, beat), heartbeatStop.Token);
                    return (beats > 0, await db.Runs.Where(r => r.Id == runId).Select(r => r.CancelRequested).FirstAsync(heartbeatStop.Token));
                }).ConfigureAwait(false);
                if (!owned)
                {
                    // Recovery gave the run to another worker (this one looked dead): stop, so the work never runs twice at once.
                    leaseLost = true;
                    await cts.CancelAsync().ConfigureAwait(false);
                    return;
                }
                if (requested)
                {
                    cancelRequested = true;
                    await cts.CancelAsync().ConfigureAwait(false);
                }
            }
        });

        var lastWrite = DateTimeOffset.MinValue;
        var progressLock = new SemaphoreSlim(1, 1);
        async ValueTask Report(double percent, string? message)
        {
            var at = time.GetUtcNow();
            if (percent < 100 && at - lastWrite < options.Value.ProgressWriteInterval) return;
            if (!await progressLock.WaitAsync(0).ConfigureAwait(false)) return;
            try
            {
                lastWrite = at;
                await UpdateAsync(db => db.Runs.Where(r => r.Id == runId && r.State == RunState.Running)
                    .ExecuteUpdateAsync(s => s.SetProperty(r => r.Progress, percent).SetProperty(r => r.Message, message ?? "Running"), CancellationToken.None)).ConfigureAwait(false);
            }
            finally
            {
                progressLock.Release();
            }
        }

        try
        {
            await using var scope = services.CreateAsyncScope();
            var result = await handler.ExecuteAsync(new RunContext(run, scope.ServiceProvider, Report), cts.Token);
            await FinishAsync(runId, RunState.Succeeded, result is null ? null : JsonSerializer.Serialize(result, RunJson.Options), null);
        }
        catch (OperationCanceledException) when (leaseLost)
        {
            logger.LogWarning("Run {RunId} ({Kind}) was taken over by another worker; this one stopped", runId, run.Kind);
        }
        catch (OperationCanceledException) when (cancelRequested)
        {
            await FinishAsync(runId, RunState.Cancelled, null, null);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // The process is stopping. Repeatable work goes back to the queue; anything else fails with the reason.
            if (run.Idempotent)
                await UpdateAsync(db => db.Runs.Where(r => r.Id == runId && r.WorkerId == worker.Id)
                    .ExecuteUpdateAsync(s => s.SetProperty(r => r.State, RunState.Queued).SetProperty(r => r.WorkerId, (string?)null)
                        .SetProperty(r => r.Message, "Re-queued: the worker shut down while running it"), CancellationToken.None));
            else
                await FinishAsync(runId, RunState.Failed, null, "The worker shut down while running it, and this kind of run is not safe to repeat.");
            throw;
        }
        catch (Exception e)
        {
            logger.LogWarning(e, "Run {RunId} ({Kind}) failed", runId, run.Kind);
            var reason = e is CubeException ? e.Message : $"{e.GetType().Name}: {e.Message}";
            // A client-caused failure keeps its problem shape (status, title, file/row/column...) for whoever waits on the run.
            var problem = e is CubeException c
                ? JsonSerializer.Serialize(new RunProblem(c.StatusCode, c.Title, c.Message, c.Extensions), RunJson.Options)
                : null;
            await FinishAsync(runId, RunState.Failed, problem, reason);
        }
        finally
        {
            await heartbeatStop.CancelAsync();
            try { await heartbeat; } catch (OperationCanceledException) { }
            progressLock.Dispose();
        }
    }

    private Task FinishAsync(Guid runId, RunState state, string? resultJson, string? error)
    {
        var at = time.GetUtcNow();
        var message = state switch
        {
            RunState.Succeeded => "Succeeded",
            RunState.Cancelled => "Cancelled",
            _ => "Failed",
        };
        return UpdateAsync(db => db.Runs.Where(r => r.Id == runId && r.WorkerId == worker.Id)
            .ExecuteUpdateAsync(s => s
                .SetProperty(r => r.State, state)
                .SetProperty(r => r.FinishedAt, at)
                .SetProperty(r => r.ResultJson, resultJson)
                .SetProperty(r => r.Error, error == null ? null : error.Length > 8000 ? error.Substring(0, 8000) : error)
                .SetProperty(r => r.Progress, r => state == RunState.Succeeded ? 100 : r.Progress)
                .SetProperty(r => r.Message, message), CancellationToken.None));
    }

    /// <summary>Each write uses its own short-lived context: heartbeat, progress and handler run concurrently.</summary>
    private async Task<T> UpdateAsync<T>(Func<CoreDbContext, Task<T>> action)
    {
        await using var scope = scopes.CreateAsyncScope();
        return await action(scope.ServiceProvider.GetRequiredService<CoreDbContext>());
    }
}
