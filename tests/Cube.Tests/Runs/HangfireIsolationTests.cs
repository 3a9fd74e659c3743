using Cube.Core.Runs;
using Hangfire;
using Hangfire.Logging;

namespace Cube.Tests.Runs;

/// <summary>
/// Hangfire keeps process-wide state (job storage, log provider). Two hosts in one process — a test run, or a server
/// restarted in place — must not reach each other's, and a disposed host must not break the next one.
/// </summary>
public sealed class HangfireIsolationTests(SqliteCubeApp app) : IClassFixture<SqliteCubeApp>
{
    [Fact]
    public async Task AHostDisposedAfterAnother_LeavesHangfireUsable_AndEachHostHasItsOwnQueue()
    {
        await using var survivor = app.WithSettings(new Dictionary<string, string?>());
        var survivorStorage = survivor.Services.GetRequiredService<JobStorage>();
        _ = survivor.Services.GetRequiredService<IBackgroundJobClient>();

        var gone = app.WithSettings(new Dictionary<string, string?>());
        var goneStorage = gone.Services.GetRequiredService<JobStorage>();
        _ = gone.Services.GetRequiredService<IBackgroundJobClient>(); // the last host configured wins Hangfire's globals
        await gone.DisposeAsync();

        Assert.NotSame(survivorStorage, goneStorage);
        // Hangfire's first logger for a new name goes through the process-wide provider, now the disposed host's.
        var log = LogProvider.GetLogger("cube-test-" + Guid.NewGuid().ToString("N"));
        var exception = Record.Exception(() => log.Log(Hangfire.Logging.LogLevel.Info, () => "after a host was disposed"));
        Assert.Null(exception);

        // The surviving host still queues and runs work.
        using var scope = survivor.Services.CreateScope();
        var run = await scope.ServiceProvider.GetRequiredService<RunService>().EnqueueAsync("datahub.gc", new { }, null, null);
        Assert.Equal(RunState.Queued, run.State);
    }

    [Fact]
    public async Task EachHost_ActivatesJobsFromItsOwnContainer_WhateverHostConfiguredHangfireLast()
    {
        // No server in this host, so nothing resolves its job activator while it starts; it does configure Hangfire...
        await using var first = app.WithSettings(new Dictionary<string, string?> { ["Cube:Runs:ExecuteInServer"] = "false" });
        _ = first.Services.GetRequiredService<IBackgroundJobClient>();
        // ...and a second host configures Hangfire's process-wide globals after it.
        await using var second = app.WithSettings(new Dictionary<string, string?>());
        _ = second.Services.GetRequiredService<IBackgroundJobClient>();

        var activator = first.Services.GetRequiredService<JobActivator>();
        using var connection = first.Services.GetRequiredService<JobStorage>().GetConnection();
        var job = new BackgroundJob("1", Hangfire.Common.Job.FromExpression<RunExecutor>(x => x.ExecuteAsync(Guid.Empty, CancellationToken.None)), DateTime.UtcNow);
        using var scope = activator.BeginScope(new JobActivatorContext(connection, job, new JobCancellationToken(false)));
        // The executor a job of the first host runs must see the first host's services (its database, its worker id).
        Assert.Same(first.Services.GetRequiredService<WorkerIdentity>(), scope.Resolve(typeof(WorkerIdentity)));
        Assert.NotSame(second.Services.GetRequiredService<WorkerIdentity>(), scope.Resolve(typeof(WorkerIdentity)));
    }
}
