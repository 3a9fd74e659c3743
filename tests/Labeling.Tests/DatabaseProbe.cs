using System.Collections.Concurrent;
using System.Data.Common;
using Microsoft.EntityFrameworkCore.Diagnostics;

namespace Cube.Labeling.Tests;

/// <summary>
/// Looks into a test server's labeling database from inside one test: which commands a call sends, and a commit that
/// reaches the database but whose process "dies" at that instant (nothing after the commit runs). It acts only in the
/// async flow that started a <see cref="Watch"/>, so other tests on the same server are untouched.
/// </summary>
public sealed class DatabaseProbe
{
    private readonly AsyncLocal<Watch?> _current = new();

    public IInterceptor[] Interceptors => [new Commands(this), new Transactions(this)];

    /// <summary>Records the commands sent from here on in this flow; with <paramref name="dieAfterCommit"/>, every commit then throws once it is durable.</summary>
    public Watch Start(bool dieAfterCommit = false) => _current.Value = new Watch(this, dieAfterCommit);

    public sealed class Watch(DatabaseProbe probe, bool dieAfterCommit) : IDisposable
    {
        private readonly ConcurrentQueue<string> _commands = new();

        public IReadOnlyList<string> Commands => [.. _commands];

        internal bool DieAfterCommit => dieAfterCommit;

        internal void Add(string command) => _commands.Enqueue(command);

        public void Dispose() => probe._current.Value = null;
    }

    /// <summary>What a commit that "died" throws: the transaction is committed, the code after it never ran.</summary>
    public sealed class ProcessDiedException() : Exception("The process died right after the commit.");

    private sealed class Commands(DatabaseProbe probe) : DbCommandInterceptor
    {
        private DbCommand Record(DbCommand command)
        {
            probe._current.Value?.Add(command.CommandText);
            return command;
        }

        public override InterceptionResult<DbDataReader> ReaderExecuting(DbCommand command, CommandEventData eventData, InterceptionResult<DbDataReader> result)
        {
            Record(command);
            return result;
        }

        public override ValueTask<InterceptionResult<DbDataReader>> ReaderExecutingAsync(DbCommand command, CommandEventData eventData,
            InterceptionResult<DbDataReader> result, CancellationToken cancellationToken = default)
        {
            Record(command);
            return ValueTask.FromResult(result);
        }

        public override InterceptionResult<int> NonQueryExecuting(DbCommand command, CommandEventData eventData, InterceptionResult<int> result)
        {
            Record(command);
            return result;
        }

        public override ValueTask<InterceptionResult<int>> NonQueryExecutingAsync(DbCommand command, CommandEventData eventData, InterceptionResult<int> result,
            CancellationToken cancellationToken = default)
        {
            Record(command);
            return ValueTask.FromResult(result);
        }

        public override InterceptionResult<object> ScalarExecuting(DbCommand command, CommandEventData eventData, InterceptionResult<object> result)
        {
            Record(command);
            return result;
        }

        public override ValueTask<InterceptionResult<object>> ScalarExecutingAsync(DbCommand command, CommandEventData eventData, InterceptionResult<object> result,
            CancellationToken cancellationToken = default)
        {
            Record(command);
            return ValueTask.FromResult(result);
        }
    }

    private sealed class Transactions(DatabaseProbe probe) : DbTransactionInterceptor
    {
        public override void TransactionCommitted(DbTransaction transaction, TransactionEndEventData eventData)
        {
            if (probe._current.Value?.DieAfterCommit == true) throw new ProcessDiedException();
        }

        public override Task TransactionCommittedAsync(DbTransaction transaction, TransactionEndEventData eventData, CancellationToken cancellationToken = default)
        {
            if (probe._current.Value?.DieAfterCommit == true) throw new ProcessDiedException();
            return Task.CompletedTask;
        }
    }
}
