namespace Cube.Knowledge.Indexing;

/// <summary>
/// Work offered to a pool thread while the offering thread does something else, and run by the offering thread itself
/// when no pool thread has started it by the time the result is needed. Waiting on a plain <c>Task.Run</c> from a pool
/// thread can starve the pool under load (every thread waiting on work queued behind it); here a thread only ever
/// waits on work that is already running.
/// </summary>
internal sealed class ForkedWork<T>
{
    private readonly Func<T> _work;
    private readonly TaskCompletionSource<T> _done = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _claimed;

    private ForkedWork(Func<T> work) => _work = work;

    /// <summary>Offers <paramref name="work"/> to the thread pool.</summary>
    public static ForkedWork<T> Start(Func<T> work) =>
        Start(work, static forked => ThreadPool.UnsafeQueueUserWorkItem(static f => f.TryRun(), forked, preferLocal: false));

    /// <summary>Offers <paramref name="work"/> through <paramref name="offer"/>, which may run the offer's callback later or never.</summary>
    internal static ForkedWork<T> Start(Func<T> work, Action<ForkedWork<T>> offer)
    {
        var forked = new ForkedWork<T>(work);
        offer(forked);
        return forked;
    }

    /// <summary>What a thread that took the offer calls.</summary>
    internal void RunOffered() => TryRun();

    /// <summary>Whether the work ran (or runs) on a thread other than the one that joined it.</summary>
    public bool RanElsewhere { get; private set; }

    /// <summary>The result: computed here if no pool thread took the work, else awaited from the thread running it.</summary>
    public T Join()
    {
        if (!TryRun()) RanElsewhere = true;
        return _done.Task.GetAwaiter().GetResult();
    }

    /// <summary>Makes sure the work is not running and will not start (waits if a pool thread is running it); errors are dropped.</summary>
    public void Settle()
    {
        if (Interlocked.Exchange(ref _claimed, 1) == 0)
        {
            _done.TrySetCanceled();
            return;
        }
        try
        {
            _done.Task.Wait();
        }
        catch (AggregateException)
        {
        }
    }

    /// <summary>Runs the work unless someone claimed it first; true when this call ran it.</summary>
    private bool TryRun()
    {
        if (Interlocked.Exchange(ref _claimed, 1) != 0) return false;
        try
        {
            _done.SetResult(_work());
        }
        catch (Exception e)
        {
            _done.SetException(e);
        }
        return true;
    }
}
