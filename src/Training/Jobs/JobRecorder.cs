using System.Globalization;
using Cube.Core.Runs;
using Cube.Training.Data;
using Cube.Training.Execution;
using Microsoft.EntityFrameworkCore;

namespace Cube.Training.Jobs;

/// <summary>
/// Writes what a running job produces into the database: log lines (up to the configured cap), metric points, and
/// the run's progress (a <c>progress</c> metric in 0–1 sets the percentage; the message shows the latest metrics).
/// Writes are batched: a flush happens every 200 items, every 250 ms while anything is pending (<see cref="RunFlusherAsync"/>),
/// and at the end. One lock serialises the DbContext between the executor's calls and the flusher.
/// </summary>
internal sealed class JobRecorder(TrainingDbContext db, TrainingJob job, RunContext run, int maxLogLines, TimeProvider time) : IJobObserver, IDisposable
{
    private readonly SemaphoreSlim _lock = new(1, 1);
    private const int BatchSize = 200;
    private static readonly TimeSpan FlushInterval = TimeSpan.FromMilliseconds(250);
    private readonly Dictionary<string, double> _latest = new(StringComparer.Ordinal);
    private int _pending;
    private DateTimeOffset _lastFlush = time.GetUtcNow();
    private double _percent;
    private long _step;

    public async ValueTask LogAsync(string source, string line, CancellationToken cancellationToken)
    {
        await _lock.WaitAsync(CancellationToken.None);
        try
        {
            AddLog(source, line);
            await MaybeFlushAsync();
        }
        finally
        {
            _lock.Release();
        }
    }

    private void AddLog(string source, string line)
    {
        job.LogLineCount++;
        if (job.LogLineCount <= maxLogLines)
        {
            db.Logs.Add(new LogLine
            {
                JobId = job.Id,
                Sequence = job.LogLineCount,
                Source = source.Length > 128 ? source[..128] : source,
                Text = line,
                At = time.GetUtcNow(),
            });
            _pending++;
        }
    }

    public async ValueTask MetricAsync(MetricSample sample, CancellationToken cancellationToken)
    {
        await _lock.WaitAsync(CancellationToken.None);
        try
        {
            await AddMetricAsync(sample);
            await MaybeFlushAsync();
        }
        finally
        {
            _lock.Release();
        }
    }

    private async ValueTask AddMetricAsync(MetricSample sample)
    {
        db.Metrics.Add(new MetricPoint { JobId = job.Id, Name = sample.Name, Step = sample.Step, Value = sample.Value, At = time.GetUtcNow() });
        _pending++;
        _latest[sample.Name] = sample.Value;
        _step = Math.Max(_step, sample.Step);
        if (sample.Name == "progress") _percent = Math.Clamp(sample.Value, 0, 1) * 100;
        var summary = string.Join(' ', _latest.Where(m => m.Key != "progress").Take(4).Select(m => string.Create(CultureInfo.InvariantCulture, $"{m.Key}={m.Value:G4}")));
        await run.ReportAsync(_percent, $"step {_step}: {summary}");
    }

    public ValueTask StatusAsync(string message, CancellationToken cancellationToken) => ReportAsync(null, message);

    public ValueTask ProgressAsync(double fraction, string message, CancellationToken cancellationToken) => ReportAsync(fraction, message);

    /// <summary>Sets the message (and the progress, when given) on the job and its run.</summary>
    private async ValueTask ReportAsync(double? fraction, string message)
    {
        await _lock.WaitAsync(CancellationToken.None);
        try
        {
            if (fraction is { } f) _percent = Math.Clamp(f, 0, 1) * 100;
            job.Message = message.Length > 2000 ? message[..2000] : message;
            _pending++;
            await run.ReportAsync(_percent, job.Message);
            await MaybeFlushAsync();
        }
        finally
        {
            _lock.Release();
        }
    }

    /// <summary>Flushes pending writes every interval until cancelled, so a quiet job's last lines still show up live.</summary>
    public async Task RunFlusherAsync(CancellationToken cancellationToken)
    {
        try
        {
            while (true)
            {
                await Task.Delay(FlushInterval, time, cancellationToken);
                await _lock.WaitAsync(cancellationToken);
                try
                {
                    if (_pending > 0) await FlushCoreAsync();
                }
                finally
                {
                    _lock.Release();
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    private async ValueTask MaybeFlushAsync()
    {
        if (_pending >= BatchSize || time.GetUtcNow() - _lastFlush >= FlushInterval) await FlushCoreAsync();
    }

    /// <summary>Writes everything buffered. Uses no cancellation token: what the job printed is kept even when it is cancelled.</summary>
    public async Task FlushAsync()
    {
        await _lock.WaitAsync(CancellationToken.None);
        try
        {
            await FlushCoreAsync();
        }
        finally
        {
            _lock.Release();
        }
    }

    public void Dispose() => _lock.Dispose();

    private async Task FlushCoreAsync()
    {
        await db.SaveChangesAsync(CancellationToken.None);
        // Written lines and points are not needed again; keep the change tracker small on long jobs.
        foreach (var entry in db.ChangeTracker.Entries().Where(e => e.Entity is LogLine or MetricPoint).ToList()) entry.State = EntityState.Detached;
        _pending = 0;
        _lastFlush = time.GetUtcNow();
    }
}
