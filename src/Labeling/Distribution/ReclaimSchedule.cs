using System.Collections.Concurrent;

namespace Cube.Labeling.Distribution;

/// <summary>
/// When this process next has to look for expired leases in a project, so that "next task" does not query for them on
/// every call. After a pass the earliest live lease's expiry is known, and a lease taken later expires no sooner than
/// the pass's time plus the lease time; until the earlier of the two nothing can have expired, so a call before then
/// skips the query. The first call after a lease runs out still reclaims it, as when every call looked.
/// </summary>
/// <remarks>
/// A hint only: reclaiming stays safe from any number of processes (see <see cref="Distributor.ReclaimExpiredAsync"/>),
/// and a lease another process takes can only expire later than this process assumes, unless the project's lease time
/// was shortened there or the clocks disagree; <see cref="MaxInterval"/> bounds how late that reclaims.
/// </remarks>
public sealed class ReclaimSchedule
{
    /// <summary>The longest a project goes without a pass, whatever this process knows of its leases.</summary>
    public static readonly TimeSpan MaxInterval = TimeSpan.FromSeconds(60);

    private readonly ConcurrentDictionary<Guid, Project> _projects = new();

    /// <summary>Whether a pass is due for the project at <paramref name="now"/>; true also when the clock went back or the lease time shrank.</summary>
    public bool IsDue(Guid projectId, int leaseSeconds, DateTimeOffset now) =>
        !_projects.TryGetValue(projectId, out var project) || project.IsDue(leaseSeconds, now);

    /// <summary>Runs <paramref name="pass"/> unless a concurrent caller in this process ran one that covers <paramref name="now"/>; callers wait for a running pass, so none of them misses what it returns to the pool.</summary>
    public async Task RunIfDueAsync(Guid projectId, int leaseSeconds, DateTimeOffset now, Func<CancellationToken, Task<DateTimeOffset?>> pass, CancellationToken cancellationToken)
    {
        var project = _projects.GetOrAdd(projectId, _ => new Project());
        await project.Running.WaitAsync(cancellationToken);
        try
        {
            if (!project.IsDue(leaseSeconds, now)) return;
            // The pass returns the earliest expiry among the live leases it left; none live: the next lease's own.
            var earliestLive = await pass(cancellationToken);
            var due = now + TimeSpan.FromSeconds(leaseSeconds);
            if (earliestLive < due) due = earliestLive.Value;
            if (now + MaxInterval < due) due = now + MaxInterval;
            project.Set(now, due, leaseSeconds);
        }
        finally
        {
            project.Running.Release();
        }
    }

    /// <summary>A lease this process just took; brings the next pass forward if it expires before the one planned.</summary>
    public void Leased(Guid projectId, DateTimeOffset expiresAt) => _projects.GetOrAdd(projectId, _ => new Project()).Lower(expiresAt);

    private sealed class Project
    {
        private readonly Lock _lock = new();
        private DateTimeOffset _passedAt;
        private DateTimeOffset _due = DateTimeOffset.MinValue;
        private DateTimeOffset _leasedMeanwhile = DateTimeOffset.MaxValue;
        private int _leaseSeconds;

        public SemaphoreSlim Running { get; } = new(1, 1);

        public bool IsDue(int leaseSeconds, DateTimeOffset now)
        {
            lock (_lock) return now >= _due || now < _passedAt || leaseSeconds < _leaseSeconds;
        }

        public void Set(DateTimeOffset passedAt, DateTimeOffset due, int leaseSeconds)
        {
            lock (_lock)
            {
                // A lease taken while the pass ran may be missing from what it read.
                (_passedAt, _due, _leaseSeconds) = (passedAt, due < _leasedMeanwhile ? due : _leasedMeanwhile, leaseSeconds);
                _leasedMeanwhile = DateTimeOffset.MaxValue;
            }
        }

        public void Lower(DateTimeOffset due)
        {
            lock (_lock)
            {
                if (due < _due) _due = due;
                if (due < _leasedMeanwhile) _leasedMeanwhile = due;
            }
        }
    }
}
