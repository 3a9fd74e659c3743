using Hangfire.Logging;
using Microsoft.Extensions.Logging;
using HangfireLevel = Hangfire.Logging.LogLevel;
using LogLevel = Microsoft.Extensions.Logging.LogLevel;

namespace Cube.Core.Runs;

/// <summary>
/// Hangfire's log output into the host's logging. Hangfire keeps one log provider for the whole process, and the
/// provider it installs itself holds the host's logger factory: once that host is disposed (a restarted host, a
/// second host in the same process), Hangfire's next new logger throws ObjectDisposedException from inside
/// <c>Enqueue</c>. This bridge creates loggers lazily and treats a disposed factory as "not logging", so logging can
/// never fail a job's creation.
/// </summary>
internal sealed class HangfireLogBridge(ILoggerFactory factory) : ILogProvider
{
    public ILog GetLogger(string name) => new BridgedLog(factory, name);

    private sealed class BridgedLog(ILoggerFactory factory, string name) : ILog
    {
        private Microsoft.Extensions.Logging.ILogger? _logger;

        public bool Log(HangfireLevel logLevel, Func<string>? messageFunc, Exception? exception = null)
        {
            var level = logLevel switch
            {
                HangfireLevel.Trace => LogLevel.Trace,
                HangfireLevel.Debug => LogLevel.Debug,
                HangfireLevel.Info => LogLevel.Information,
                HangfireLevel.Warn => LogLevel.Warning,
                HangfireLevel.Error => LogLevel.Error,
                _ => LogLevel.Critical,
            };
            try
            {
                var logger = _logger ??= factory.CreateLogger(name);
                if (!logger.IsEnabled(level)) return false;
                if (messageFunc is null) return true;
#pragma warning disable CA1848, CA2254 // Hangfire hands over finished messages; there is no template to cache.
                logger.Log(level, exception, messageFunc());
#pragma warning restore CA1848, CA2254
                return true;
            }
            catch (ObjectDisposedException)
            {
                return false;
            }
        }
    }
}
