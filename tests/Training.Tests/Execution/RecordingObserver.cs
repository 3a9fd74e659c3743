using System.Collections.Concurrent;
using Cube.Training.Execution;

namespace Cube.Training.Tests.Execution;

/// <summary>Keeps everything an executor reports, and lets a test wait for a status or log line.</summary>
internal sealed class RecordingObserver : IJobObserver
{
    private readonly ConcurrentQueue<(string Source, string Line)> _logs = new();
    private readonly ConcurrentQueue<MetricSample> _metrics = new();
    private readonly ConcurrentQueue<string> _statuses = new();
    private readonly List<(Func<string, bool> Match, TaskCompletionSource Done)> _waiters = [];
    private int _calls;
    private int _concurrent;

    public IReadOnlyList<(string Source, string Line)> Logs => _logs.ToList();
    public IReadOnlyList<MetricSample> Metrics => _metrics.ToList();
    public IReadOnlyList<string> Statuses => _statuses.ToList();
    /// <summary>True if two calls ever overlapped; executors promise one call at a time.</summary>
    public bool Overlapped { get; private set; }

    public Task WaitForAsync(Func<string, bool> match)
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_waiters)
        {
            if (_logs.Any(l => match(l.Line)) || _statuses.Any(match)) done.TrySetResult();
            else _waiters.Add((match, done));
        }
        return done.Task.WaitAsync(TimeSpan.FromSeconds(30));
    }

    public ValueTask LogAsync(string source, string line, CancellationToken cancellationToken) => Record(() => _logs.Enqueue((source, line)), line);

    public ValueTask MetricAsync(MetricSample sample, CancellationToken cancellationToken) => Record(() => _metrics.Enqueue(sample), null);

    public ValueTask StatusAsync(string message, CancellationToken cancellationToken) => Record(() => _statuses.Enqueue(message), message);

    private async ValueTask Record(Action add, string? text)
    {
        if (Interlocked.Increment(ref _concurrent) > 1) Overlapped = true;
        Interlocked.Increment(ref _calls);
        add();
        await Task.Yield();
        Interlocked.Decrement(ref _concurrent);
        if (text is null) return;
        lock (_waiters)
        {
            foreach (var waiter in _waiters.Where(w => w.Match(text)).ToList())
            {
                waiter.Done.TrySetResult();
                _waiters.Remove(waiter);
            }
        }
    }
}
