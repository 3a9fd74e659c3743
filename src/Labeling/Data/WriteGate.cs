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
        return new Holder(_sqlite, null);
    }

    /// <summary>
    /// Like <see cref="EnterAsync"/>, for a write that may be lost to a power failure (not to a crash of this process):
    /// on SQLite its commit does not wait for the disk. The write-ahead log keeps commits in order, so the next commit
    /// that waits (every submit does) makes this one durable too; after a power failure the database is as of some
    /// commit, never one without its predecessors. Only for writes whose loss is harmless, such as a lease.
    /// </summary>
    public async ValueTask<IDisposable> EnterUnsyncedAsync(DbContext db, CancellationToken cancellationToken)
    {
        if (!db.Database.IsSqlite()) return Released.Instance;
        await _sqlite.WaitAsync(cancellationToken);
        try
        {
            // One connection for the setting, the transaction and the reset: the setting belongs to the connection.
            await db.Database.OpenConnectionAsync(cancellationToken);
            Synchronous(db, "NORMAL");
            return new Holder(_sqlite, db);
        }
        catch
        {
            _sqlite.Release();
            throw;
        }
    }

    public void Dispose() => _sqlite.Dispose();

    private static void Synchronous(DbContext db, string level)
    {
        using var command = db.Database.GetDbConnection().CreateCommand();
        command.CommandText = $"PRAGMA synchronous = {level};";
        command.ExecuteNonQuery();
    }

    private sealed class Holder(SemaphoreSlim semaphore, DbContext? unsynced) : IDisposable
    {
        private int _released;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _released, 1) != 0) return;
            try
            {
                if (unsynced is not null)
                {
                    var connection = unsynced.Database.GetDbConnection();
                    try
                    {
                        // Back to waiting for the disk before the pooled connection serves a write that must be durable.
                        Synchronous(unsynced, "FULL");
                    }
                    catch
                    {
                        // Never hand a connection that does not wait for the disk back to the pool.
                        if (connection is Microsoft.Data.Sqlite.SqliteConnection sqlite) Microsoft.Data.Sqlite.SqliteConnection.ClearPool(sqlite);
                        throw;
                    }
                    finally
                    {
                        unsynced.Database.CloseConnection();
                    }
                }
            }
            finally
            {
                semaphore.Release();
            }
        }
    }

    private sealed class Released : IDisposable
    {
        public static readonly Released Instance = new();

        public void Dispose() { }
    }
}
