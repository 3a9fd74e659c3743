using Cube.Core.Errors;
using Cube.Labeling.Data;
using Cube.Labeling.Hosting;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Cube.Labeling.Distribution;

/// <summary>A task leased to an annotator.</summary>
public sealed record Lease(Assignment Assignment, LabelingTask Task);

/// <summary>
/// Hands out tasks under leases. Guarantees, each enforced by the database rather than by this process (so they hold
/// with several server processes on one PostgreSQL):
/// <list type="bullet">
/// <item>a task never holds more slots than its overlap k: the conditional <c>Reserved + 1 WHERE Reserved &lt; Required</c>
/// update plus a check constraint;</item>
/// <item>no annotator gets the same task twice: the unique index on (task, annotator);</item>
/// <item>a lease belongs to one annotator and an annotator holds one live lease per project: the partial unique index
/// on active assignments; expiry and submit race through conditional updates on the assignment's status.</item>
/// </list>
/// </summary>
public sealed class Distributor(LabelingDbContext db, [FromKeyedServices(LabelingClock.Key)] TimeProvider time, History history, WriteGate gate,
    ReclaimSchedule reclaims)
{
    private const int CandidateBatch = 8;
    private const int ReclaimBatch = 200;
    /// <summary>The top score given to tasks without a scored prediction: above any score (the check constraint caps scores at 1), so they come last.</summary>
    private const double Unscored = 2;

    // The reads every "next" makes, compiled once: building and hashing the LINQ expression on each call cost more
    // CPU than running the query.
    private static readonly PerModel<Func<LabelingDbContext, Guid, Guid, CancellationToken, Task<Lease?>>> HeldQuery = new(() => EF.CompileAsyncQuery(
        (LabelingDbContext db, Guid projectId, Guid annotatorId, CancellationToken _) => db.Assignments.AsNoTracking()
            .Where(a => a.LabelingProjectId == projectId && a.AnnotatorId == annotatorId && (a.Status == AssignmentStatus.Active || a.Status == AssignmentStatus.Returned))
            .Join(db.Tasks.AsNoTracking(), a => a.TaskId, t => t.Id, (a, t) => new { Assignment = a, Task = t })
            .OrderBy(h => h.Assignment.Status == AssignmentStatus.Active ? 0 : 1).ThenBy(h => h.Assignment.FinishedAt)
            .Select(h => new Lease(h.Assignment, h.Task))
            .FirstOrDefault()));

    private static readonly PerModel<Func<LabelingDbContext, Guid, Guid, bool, IAsyncEnumerable<LabelingTask>>> SequentialCandidates = new(() => EF.CompileAsyncQuery(
        (LabelingDbContext db, Guid projectId, Guid annotatorId, bool gold) => db.Tasks.AsNoTracking()
            .Where(t => t.LabelingProjectId == projectId && t.IsGold == gold && t.Reserved < t.Required)
            .Where(t => !db.Assignments.Any(a => a.TaskId == t.Id && a.AnnotatorId == annotatorId))
            .OrderBy(t => t.Ordinal).Take(CandidateBatch)));

    private static readonly PerModel<Func<LabelingDbContext, Guid, Guid, bool, IAsyncEnumerable<LabelingTask>>> RandomCandidates = new(() => EF.CompileAsyncQuery(
        (LabelingDbContext db, Guid projectId, Guid annotatorId, bool gold) => db.Tasks.AsNoTracking()
            .Where(t => t.LabelingProjectId == projectId && t.IsGold == gold && t.Reserved < t.Required)
            .Where(t => !db.Assignments.Any(a => a.TaskId == t.Id && a.AnnotatorId == annotatorId))
            .OrderBy(t => t.RandomKey).ThenBy(t => t.Ordinal).Take(CandidateBatch)));

    private static readonly PerModel<Func<LabelingDbContext, Guid, Guid, bool, IAsyncEnumerable<LabelingTask>>> PriorityCandidates = new(() => EF.CompileAsyncQuery(
        (LabelingDbContext db, Guid projectId, Guid annotatorId, bool gold) => db.Tasks.AsNoTracking()
            .Where(t => t.LabelingProjectId == projectId && t.IsGold == gold && t.Reserved < t.Required)
            .Where(t => !db.Assignments.Any(a => a.TaskId == t.Id && a.AnnotatorId == annotatorId))
            .OrderByDescending(t => t.Priority).ThenBy(t => t.Ordinal).Take(CandidateBatch)));

    /// <summary>The annotator's current lease, their returned work, or a fresh task; null when nothing is left for them.</summary>
    public async Task<Lease?> NextAsync(LabelingProject project, Guid annotatorId, CancellationToken cancellationToken)
    {
        if (project.State == LabelingProjectState.Paused) throw new ConflictException($"Labeling project '{project.Name}' is paused.");
        var now = time.GetUtcNow();
        // Expired leases go back to the pool before a task is chosen; the schedule skips the look when none can have expired yet.
        if (reclaims.IsDue(project.Id, project.LeaseSeconds, now))
            await reclaims.RunIfDueAsync(project.Id, project.LeaseSeconds, now, ct => ReclaimPassAsync(project.Id, now, ct), cancellationToken);

        // One read finds the live lease or, failing that, the oldest work a reviewer returned.
        var held = await HeldQuery.For(db)(db, project.Id, annotatorId, cancellationToken);
        if (held?.Assignment.Status == AssignmentStatus.Active) return held;
        if (held is not null && await ResumeReturnedAsync(project, held.Assignment.Id, annotatorId, now, cancellationToken) is { } returned) return returned;

        // Gold tasks come at the configured rate, counted over the annotator's own assignments so the mix is exact
        // (every fourth task at 0.25) and indistinguishable from ordinary ones in what the annotator receives.
        var wantGold = false;
        if (project.GoldRate > 0)
        {
            var taken = await db.Assignments.CountAsync(a => a.LabelingProjectId == project.Id && a.AnnotatorId == annotatorId, cancellationToken);
            wantGold = Math.Floor((taken + 1) * project.GoldRate) > Math.Floor(taken * project.GoldRate);
        }
        var lease = wantGold
            ? await TryLeaseAsync(project, annotatorId, gold: true, now, cancellationToken) ?? await TryLeaseAsync(project, annotatorId, gold: false, now, cancellationToken)
            : await TryLeaseAsync(project, annotatorId, gold: false, now, cancellationToken);
        // Nothing left in the pool for this annotator, unless a concurrent call of theirs just took the last task.
        return lease ?? await CurrentAsync(project.Id, annotatorId, cancellationToken);
    }

    /// <summary>Extends a live lease by the project's lease time; 409 when it has already run out.</summary>
    public async Task<Assignment> HeartbeatAsync(LabelingProject project, Guid leaseId, Guid annotatorId, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var expires = now.AddSeconds(project.LeaseSeconds);
        var extended = await db.Assignments
            .Where(a => a.Id == leaseId && a.LabelingProjectId == project.Id && a.AnnotatorId == annotatorId && a.Status == AssignmentStatus.Active && a.ExpiresAt >= now)
            .ExecuteUpdateAsync(s => s.SetProperty(a => a.ExpiresAt, expires), cancellationToken);
        var lease = await db.Assignments.AsNoTracking().FirstOrDefaultAsync(a => a.Id == leaseId && a.LabelingProjectId == project.Id && a.AnnotatorId == annotatorId, cancellationToken)
            ?? throw new NotFoundException("Lease", leaseId.ToString());
        if (extended == 0) throw new ConflictException("The lease has expired or ended; ask for the next task.").With("status", lease.Status.ToString().ToLowerInvariant());
        return lease;
    }

    /// <summary>Ends leases whose time ran out and returns their slots to the pool. Safe to run from any number of processes.</summary>
    public async Task<int> ReclaimExpiredAsync(Guid projectId, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var expired = await db.Assignments.AsNoTracking()
            .Where(a => a.LabelingProjectId == projectId && a.Status == AssignmentStatus.Active && a.ExpiresAt < now)
            .OrderBy(a => a.ExpiresAt)
            .Select(a => new { a.Id, a.TaskId, a.AnnotatorId })
            .Take(ReclaimBatch)
            .ToListAsync(cancellationToken);
        var reclaimed = 0;
        foreach (var lease in expired)
        {
            using var gated = await gate.EnterAsync(db, cancellationToken);
            await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
            // Only the one caller whose update flips the status gives the slot back; a racing submit or another
            // reclaimer finds the status changed and does nothing.
            var ended = await db.Assignments.Where(a => a.Id == lease.Id && a.Status == AssignmentStatus.Active && a.ExpiresAt < now)
                .ExecuteUpdateAsync(s => s.SetProperty(a => a.Status, AssignmentStatus.Expired).SetProperty(a => a.FinishedAt, now), cancellationToken);
            if (ended == 0) continue;
            await db.Tasks.Where(t => t.Id == lease.TaskId).ExecuteUpdateAsync(s => s.SetProperty(t => t.Reserved, t => t.Reserved - 1), cancellationToken);
            history.Add(projectId, lease.TaskId, null, lease.AnnotatorId, "lease-expired", new { leaseId = lease.Id });
            await db.SaveChangesAsync(cancellationToken);
            await transaction.CommitAsync(cancellationToken);
            reclaimed++;
        }
        return reclaimed;
    }

    /// <summary>Reclaims what has expired, then reads when the earliest lease still live runs out (null: none is live).</summary>
    private async Task<DateTimeOffset?> ReclaimPassAsync(Guid projectId, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await ReclaimExpiredAsync(projectId, now, cancellationToken);
        var earliest = await db.Assignments.AsNoTracking()
            .Where(a => a.LabelingProjectId == projectId && a.Status == AssignmentStatus.Active)
            .OrderBy(a => a.ExpiresAt)
            .Select(a => new { a.ExpiresAt })
            .FirstOrDefaultAsync(cancellationToken);
        return earliest?.ExpiresAt;
    }

    private async Task<Lease?> CurrentAsync(Guid projectId, Guid annotatorId, CancellationToken cancellationToken)
    {
        var current = await db.Assignments.AsNoTracking()
            .Where(a => a.LabelingProjectId == projectId && a.AnnotatorId == annotatorId && a.Status == AssignmentStatus.Active)
            .Join(db.Tasks.AsNoTracking(), a => a.TaskId, t => t.Id, (a, t) => new { Assignment = a, Task = t })
            .FirstOrDefaultAsync(cancellationToken);
        return current is null ? null : new Lease(current.Assignment, current.Task);
    }

    private async Task<Lease?> ResumeReturnedAsync(LabelingProject project, Guid returned, Guid annotatorId, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var expires = now.AddSeconds(project.LeaseSeconds);
        try
        {
            // The slot was kept for this annotator when the work was rejected, so no capacity check is needed.
            var resumed = await db.Assignments.Where(a => a.Id == returned && a.Status == AssignmentStatus.Returned)
                .ExecuteUpdateAsync(s => s.SetProperty(a => a.Status, AssignmentStatus.Active).SetProperty(a => a.LeasedAt, now).SetProperty(a => a.ExpiresAt, expires), cancellationToken);
            if (resumed == 0) return await CurrentAsync(project.Id, annotatorId, cancellationToken);
            reclaims.Leased(project.Id, expires);
        }
        catch (DbUpdateException)
        {
            // A concurrent "next" of the same annotator won the one-active-lease index.
            return await CurrentAsync(project.Id, annotatorId, cancellationToken);
        }
        return await CurrentAsync(project.Id, annotatorId, cancellationToken);
    }

    private async Task<Lease?> TryLeaseAsync(LabelingProject project, Guid annotatorId, bool gold, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var postgres = db.Database.IsNpgsql();
        for (var attempt = 0; attempt < 20; attempt++)
        {
            // A lease lost to a power failure costs nothing (the annotator asks again), so its commit need not wait for the disk.
            using var gated = await gate.EnterUnsyncedAsync(db, cancellationToken);
            await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
            // On SQLite the transaction starts IMMEDIATE (one writer at a time), so this read is current. On PostgreSQL the
            // first attempts lock one candidate row and let concurrent callers skip it instead of queueing behind it;
            // later attempts read without locking and let the conditional update wait and re-check. The candidates are
            // whole rows, so the leased task needs no second read.
            var candidates = postgres && attempt < 3
                ? await CandidatesLockedAsync(project, annotatorId, gold, cancellationToken)
                : await CandidatesAsync(project, annotatorId, gold, cancellationToken);
            if (candidates.Count == 0)
            {
                if (!postgres || attempt >= 3 || !await Candidates(project, annotatorId, gold).AnyAsync(cancellationToken)) return null;
                continue; // every candidate was locked by a concurrent caller
            }
            Assignment? lease = null;
            LabelingTask? leased = null;
            foreach (var task in candidates)
            {
                // The overlap guarantee: a slot is taken only while fewer than Required are taken; the check constraint backs it.
                var taken = await db.Tasks.Where(t => t.Id == task.Id && t.Reserved < t.Required)
                    .ExecuteUpdateAsync(s => s.SetProperty(t => t.Reserved, t => t.Reserved + 1), cancellationToken);
                if (taken == 0) continue;
                task.Reserved++;
                leased = task;
                lease = new Assignment
                {
                    LabelingProjectId = project.Id, TaskId = task.Id, AnnotatorId = annotatorId, Status = AssignmentStatus.Active,
                    LeasedAt = now, ExpiresAt = now.AddSeconds(project.LeaseSeconds),
                };
                break;
            }
            if (lease is null || leased is null) continue;
            db.Assignments.Add(lease);
            history.Add(project.Id, lease.TaskId, null, annotatorId, "leased", new { leaseId = lease.Id, expiresAt = lease.ExpiresAt });
            try
            {
                await db.SaveChangesAsync(cancellationToken);
                await transaction.CommitAsync(cancellationToken);
            }
            catch (DbUpdateException)
            {
                // The unique indexes refused the lease: the same annotator asked twice at once (one live lease each) or
                // already holds this task. The slot update rolls back with it.
                db.ChangeTracker.Clear();
                await transaction.RollbackAsync(cancellationToken);
                var current = await CurrentAsync(project.Id, annotatorId, cancellationToken);
                if (current is not null) return current;
                continue;
            }
            db.ChangeTracker.Clear();
            reclaims.Leased(project.Id, lease.ExpiresAt);
            return new Lease(lease, leased);
        }
        throw new CubeException(503, "Service unavailable", "Too many annotators are asking for tasks at once; retry shortly.").With("retryAfterSeconds", 1);
    }

    /// <summary>The first <see cref="CandidateBatch"/> of <see cref="Candidates"/>, through a compiled query where the order has one.</summary>
    private async Task<List<LabelingTask>> CandidatesAsync(LabelingProject project, Guid annotatorId, bool gold, CancellationToken cancellationToken)
    {
        var compiled = project.Ordering switch
        {
            TaskOrdering.Sequential => SequentialCandidates.For(db),
            TaskOrdering.Random => RandomCandidates.For(db),
            TaskOrdering.Priority => PriorityCandidates.For(db),
            _ => null,
        };
        if (compiled is null) return await Candidates(project, annotatorId, gold).Take(CandidateBatch).ToListAsync(cancellationToken);
        var candidates = new List<LabelingTask>(CandidateBatch);
        await foreach (var task in compiled(db, project.Id, annotatorId, gold).WithCancellation(cancellationToken)) candidates.Add(task);
        return candidates;
    }

    /// <summary>
    /// The tasks this annotator may take, in the project's order. Sequential, random and priority order each walk their
    /// open-task index from the front (see LabelingDbContext), so a call reads about as many rows as the annotator has
    /// already seen near the front, whatever the project's size or progress.
    /// </summary>
    private IQueryable<LabelingTask> Candidates(LabelingProject project, Guid annotatorId, bool gold)
    {
        var pool = db.Tasks.AsNoTracking()
            .Where(t => t.LabelingProjectId == project.Id && t.IsGold == gold && t.Reserved < t.Required)
            .Where(t => !db.Assignments.Any(a => a.TaskId == t.Id && a.AnnotatorId == annotatorId));
        var ordered = project.Ordering switch
        {
            TaskOrdering.Random => pool.OrderBy(t => t.RandomKey).ThenBy(t => t.Ordinal),
            TaskOrdering.Priority => pool.OrderByDescending(t => t.Priority).ThenBy(t => t.Ordinal),
            // One correlated MAX per candidate over the predictions' task index; the database sorts, nothing is loaded here.
            TaskOrdering.Uncertainty => pool.OrderBy(t => db.Predictions.Where(p => p.TaskId == t.Id).Max(p => p.Score) ?? Unscored).ThenBy(t => t.Ordinal),
            _ => pool.OrderBy(t => t.Ordinal),
        };
        return ordered;
    }

    private async Task<IReadOnlyList<LabelingTask>> CandidatesLockedAsync(LabelingProject project, Guid annotatorId, bool gold, CancellationToken cancellationToken)
    {
        var order = project.Ordering switch
        {
            TaskOrdering.Random => "t.\"RandomKey\", t.\"Ordinal\"",
            TaskOrdering.Priority => "t.\"Priority\" DESC, t.\"Ordinal\"",
            TaskOrdering.Uncertainty => "COALESCE((SELECT MAX(p.\"Score\") FROM labeling_predictions p WHERE p.\"TaskId\" = t.\"Id\"), 2), t.\"Ordinal\"",
            _ => "t.\"Ordinal\"",
        };
        // FOR UPDATE SKIP LOCKED: concurrent "next" calls each lock a different candidate instead of all contending for
        // the first; the conditional slot update still decides, so the guarantee does not rest on the lock.
#pragma warning disable EF1002 // The interpolated part is one of four constant ORDER BY clauses above; values are parameters.
        return await db.Tasks.FromSqlRaw(
            $"""
            SELECT t.* FROM labeling_tasks t
            WHERE t."LabelingProjectId" = @p0 AND t."IsGold" = @p1 AND t."Reserved" < t."Required"
              AND NOT EXISTS (SELECT 1 FROM labeling_assignments a WHERE a."TaskId" = t."Id" AND a."AnnotatorId" = @p2)
            ORDER BY {order}
            LIMIT 1 FOR UPDATE OF t SKIP LOCKED
            """,
            new Npgsql.NpgsqlParameter("p0", project.Id), new Npgsql.NpgsqlParameter("p1", gold), new Npgsql.NpgsqlParameter("p2", annotatorId))
            .AsNoTracking().ToListAsync(cancellationToken);
#pragma warning restore EF1002
    }
}
