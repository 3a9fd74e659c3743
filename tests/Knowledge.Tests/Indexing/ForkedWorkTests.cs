using Cube.Knowledge.Indexing;

namespace Cube.Knowledge.Tests.Indexing;

public sealed class ForkedWorkTests
{
    [Fact]
    public void Join_RunsTheWorkOnTheJoiningThread_WhenNoThreadTookTheOffer()
    {
        // A starved pool: the offer is queued and never picked up, or picked up only after the join.
        ForkedWork<int>? queued = null;
        var forked = ForkedWork<int>.Start(() => Environment.CurrentManagedThreadId, f => queued = f);

        Assert.Equal(Environment.CurrentManagedThreadId, forked.Join());
        Assert.False(forked.RanElsewhere);
        queued!.RunOffered(); // the late pool thread finds it done and returns
        Assert.Equal(Environment.CurrentManagedThreadId, forked.Join());
    }

    [Fact]
    public void Join_WaitsForAThreadThatStarted_AndRethrowsItsError()
    {
        using var running = new ManualResetEventSlim();
        var forked = ForkedWork<int>.Start(() =>
        {
            running.Set();
            Thread.Sleep(50);
            return 42;
        }, f => new Thread(f.RunOffered).Start());
        Assert.True(running.Wait(TimeSpan.FromSeconds(30)));
        Assert.Equal(42, forked.Join());
        Assert.True(forked.RanElsewhere);

        var failing = ForkedWork<int>.Start(() => throw new InvalidOperationException("ranking failed"));
        Assert.Equal("ranking failed", Assert.Throws<InvalidOperationException>(() => failing.Join()).Message);
    }

    [Fact]
    public void Settle_KeepsUnstartedWorkFromEverRunning_AndWaitsForStartedWork()
    {
        var ran = 0;
        ForkedWork<int>? queued = null;
        var unstarted = ForkedWork<int>.Start(() => Interlocked.Increment(ref ran), f => queued = f);
        unstarted.Settle();
        queued!.RunOffered();
        Assert.Equal(0, ran);

        using var running = new ManualResetEventSlim();
        var finished = false;
        var started = ForkedWork<int>.Start(() =>
        {
            running.Set();
            Thread.Sleep(50);
            finished = true;
            throw new InvalidOperationException("dropped");
        }, f => new Thread(f.RunOffered).Start());
        Assert.True(running.Wait(TimeSpan.FromSeconds(30)));
        started.Settle();
        Assert.True(finished);
    }
}
