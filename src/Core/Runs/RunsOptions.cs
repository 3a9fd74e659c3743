using System.ComponentModel.DataAnnotations;

namespace Cube.Core.Runs;

/// <summary>Background work settings (section <c>Cube:Runs</c>).</summary>
public sealed class RunsOptions
{
    public const string SectionName = "Cube:Runs";

    /// <summary><c>InMemory</c> (default; workers live in the server process) or <c>PostgreSQL</c> (shared by <c>cube worker</c> processes).</summary>
    public string Queue { get; set; } = "InMemory";

    /// <summary>Connection string of the PostgreSQL queue; defaults to the metadata database's when that is PostgreSQL.</summary>
    public string? QueueConnectionString { get; set; }

    /// <summary>Whether <c>cube serve</c> executes runs itself. <c>cube worker</c> always does.</summary>
    public bool ExecuteInServer { get; set; } = true;

    /// <summary>Concurrent runs per process.</summary>
    [Range(1, 256)]
    public int WorkerCount { get; set; } = Math.Max(2, Environment.ProcessorCount);

    /// <summary>How often a running run proves its worker is alive.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "00:10:00")]
    public TimeSpan HeartbeatInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>A running run whose heartbeat is older than this is taken as orphaned by a dead worker.</summary>
    [Range(typeof(TimeSpan), "00:00:03", "01:00:00")]
    public TimeSpan OrphanAfter { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Minimum time between two progress writes of one run.</summary>
    public TimeSpan ProgressWriteInterval { get; set; } = TimeSpan.FromMilliseconds(250);

    public bool UsesPostgresQueue => string.Equals(Queue, "PostgreSQL", StringComparison.OrdinalIgnoreCase);
}
