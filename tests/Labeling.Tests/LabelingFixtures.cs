using Cube.Labeling.Data;
using Cube.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace Cube.Labeling.Tests;

/// <summary>Wall-clock time moved forward on demand, so lease expiry can be tested without waiting.</summary>
public sealed class ShiftedTime : TimeProvider
{
    private long _offsetTicks;

    public void Advance(TimeSpan by) => Interlocked.Add(ref _offsetTicks, by.Ticks);

    public override DateTimeOffset GetUtcNow() => base.GetUtcNow() + TimeSpan.FromTicks(Interlocked.Read(ref _offsetTicks));
}

/// <summary>A labeling test server on SQLite whose clock the test can move and whose database a test can watch.</summary>
public sealed class SqliteLabelingApp : SqliteCubeApp
{
    public ShiftedTime Time { get; } = new();
    public DatabaseProbe Probe { get; } = new();

    protected override void ConfigureServices(IServiceCollection services) => LabelingFixtures.Configure(services, Time, Probe);
}

/// <summary>A labeling test server on PostgreSQL whose clock the test can move and whose database a test can watch.</summary>
public sealed class PostgresLabelingApp : PostgresCubeApp
{
    public ShiftedTime Time { get; } = new();
    public DatabaseProbe Probe { get; } = new();

    protected override void ConfigureServices(IServiceCollection services) => LabelingFixtures.Configure(services, Time, Probe);
}

internal static class LabelingFixtures
{
    public static void Configure(IServiceCollection services, ShiftedTime time, DatabaseProbe probe)
    {
        services.AddKeyedSingleton<TimeProvider>(Hosting.LabelingClock.Key, time);
        services.ConfigureDbContext<SqliteLabelingDbContext>(o => o.AddInterceptors(probe.Interceptors));
        services.ConfigureDbContext<PostgresLabelingDbContext>(o => o.AddInterceptors(probe.Interceptors));
    }
}
