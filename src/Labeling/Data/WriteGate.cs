using Microsoft.EntityFrameworkCore;

namespace Cube.Labeling.Data;

/// <summary>
/// SQLite takes one writer at a time and makes the others retry with sleeps, which turns many concurrent annotators
/// into long tail latencies. On SQLite, labeling's write transactions queue here first, in order and without sleeping.
/// PostgreSQL needs no gate. Correctness never depends on it: the database's conditional updates and indexes do.
/// </summary>
public sealed class WriteGate : IDisposable
{
    private readonly SemaphoreSlim _sqlite = new(1, 1);

    public async ValueTask<IDisposable> EnterAsync(DbContext db, CancellationToken cancellationToken)
    {
        if (!db.Database.IsSqlite()) return Released.Instance;
        await _sqlite.WaitAsync(cancellationToken);
        return new Holder(_sqlite);
    }

    public void Dispose() => _sqlite.Dispose();

    private sealed class Holder(SemaphoreSlim semaphore) : IDisposable
    {
        private int _released;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _released, 1) == 0) semaphore.Release();
        }
    }

    private sealed class Released : IDisposable
    {
        public static readonly Released Instance = new();

        public void Dispose() { }
    }
}
