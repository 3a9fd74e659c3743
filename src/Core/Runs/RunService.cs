using System.Text.Json;
using Cube.Core.Data;
using Cube.Core.Errors;
using Hangfire;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Cube.Core.Runs;

/// <summary>Creates runs, queues them and answers questions about them.</summary>
public sealed class RunService(CoreDbContext db, IBackgroundJobClient jobs, RunHandlerRegistry handlers, LocalDispatch dispatch, IOptions<RunsOptions> options, TimeProvider time)
{
    /// <summary>Records a queued run and hands its id to the job queue. The row is committed first, so a lost queue entry is recoverable.</summary>
    public async Task<Run> EnqueueAsync(string kind, object parameters, Guid? ownerId, Guid? projectId, CancellationToken cancellationToken = default)
    {
        var handler = handlers.Get(kind);
        var run = new Run
        {
            Kind = kind,
            ParametersJson = JsonSerializer.Serialize(parameters, RunJson.Options),
            OwnerId = ownerId,
            ProjectId = projectId,
            SubjectId = (parameters as IRunSubject)?.SubjectId,
            Idempotent = handler.Idempotent,
            CreatedAt = time.GetUtcNow(),
            Message = "Queued",
        };
        db.Runs.Add(run);
        await db.SaveChangesAsync(cancellationToken);
        if (!options.Value.UsesPostgresQueue) dispatch.TryAdd(run.Id);
        jobs.Enqueue<RunExecutor>(x => x.ExecuteAsync(run.Id, CancellationToken.None));
        return run;
    }

    public Task<Run?> FindAsync(Guid id, CancellationToken cancellationToken = default) =>
        db.Runs.AsNoTracking().FirstOrDefaultAsync(r => r.Id == id, cancellationToken);

    /// <summary>Asks a run to stop. A queued run is cancelled at once; a running one sees its token cancelled at the next heartbeat.</summary>
    public async Task<Run> CancelAsync(Guid id, CancellationToken cancellationToken = default)
    {
        var now = time.GetUtcNow();
        var cancelledWhileQueued = await db.Runs
            .Where(r => r.Id == id && r.State == RunState.Queued)
            .ExecuteUpdateAsync(s => s
                .SetProperty(r => r.State, RunState.Cancelled)
                .SetProperty(r => r.CancelRequested, true)
                .SetProperty(r => r.FinishedAt, now)
                .SetProperty(r => r.Message, "Cancelled before it started"), cancellationToken);
        if (cancelledWhileQueued == 0)
        {
            await db.Runs.Where(r => r.Id == id && r.State == RunState.Running)
                .ExecuteUpdateAsync(s => s.SetProperty(r => r.CancelRequested, true).SetProperty(r => r.Message, "Cancelling"), cancellationToken);
        }
        return await FindAsync(id, cancellationToken) ?? throw new NotFoundException("Run", id.ToString());
    }
}

/// <summary>All registered handlers by kind.</summary>
public sealed class RunHandlerRegistry(IEnumerable<IRunHandler> handlers)
{
    private readonly Dictionary<string, IRunHandler> _byKind = handlers.ToDictionary(h => h.Kind, StringComparer.Ordinal);

    public IRunHandler Get(string kind) =>
        _byKind.TryGetValue(kind, out var handler) ? handler : throw new InvalidOperationException($"No run handler is registered for kind '{kind}'.");

    public bool TryGet(string kind, out IRunHandler handler) => _byKind.TryGetValue(kind, out handler!);

    /// <summary>The kinds this process can run (an array, so queries can take it as a parameter).</summary>
    public string[] Kinds { get; } = handlers.Select(h => h.Kind).Distinct(StringComparer.Ordinal).ToArray();
}
