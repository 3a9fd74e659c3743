using System.Data.Common;
using Cube.Core.Data;
using Cube.Core.Identity;
using Cube.Core.Storage;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Cube.Core.Hosting;

/// <summary>Before the host starts listening: migrate the embedded database and create the first administrator.</summary>
internal sealed class StartupTasks(IServiceScopeFactory scopes, IOptions<DatabaseOptions> database, IObjectStore store, ILogger<StartupTasks> logger) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        // Prepares the store (an S3 bucket is created when configured so). An unreachable store does not stop the
        // start: /readyz reports it with the reason, and the platform recovers by itself once the store is back.
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(TimeSpan.FromSeconds(10));
            await store.CheckHealthAsync(timeout.Token);
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            logger.LogWarning("Object store ({Kind}) is not ready: {Reason}", store.Kind, e.Message);
        }

        await using var scope = scopes.CreateAsyncScope();
        string? password;
        try
        {
            if (database.Value.ShouldMigrateOnStartup())
                await scope.ServiceProvider.GetRequiredService<DatabaseMigrator>().MigrateAsync(cancellationToken);
            password = await scope.ServiceProvider.GetRequiredService<AdminBootstrap>().EnsureAdminAsync(cancellationToken);
        }
        catch (Exception e) when (e is DbException or InvalidOperationException or System.Net.Sockets.SocketException or TimeoutException)
        {
            throw new StartupException($"Cube:Database: cannot use the {database.Value.Provider} metadata database ({Where()}): {e.GetBaseException().Message}", e);
        }
        if (password is not null)
        {
            // Printed once to the console for the person who started Cube; it is never logged or stored in clear.
            var name = scope.ServiceProvider.GetRequiredService<IOptions<AdminOptions>>().Value.UserName;
            Console.WriteLine();
            Console.WriteLine("  ┌──────────────────────────────────────────────────────────────");
            Console.WriteLine($"  │ First start: administrator '{name}' created.");
            Console.WriteLine($"  │ One-time password: {password}");
            Console.WriteLine("  │ Sign in and change it; it will not be shown again.");
            Console.WriteLine("  └──────────────────────────────────────────────────────────────");
            Console.WriteLine();
        }
    }

    private string Where()
    {
        if (database.Value.GetProvider() == DatabaseProvider.Sqlite) return "SQLite file under the data directory";
        var builder = new Npgsql.NpgsqlConnectionStringBuilder(database.Value.ConnectionString);
        return $"host {builder.Host}, port {builder.Port}, database {builder.Database ?? builder.Username}";
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}

/// <summary>The platform cannot start; the message says which setting or server is at fault.</summary>
public sealed class StartupException(string message, Exception inner) : Exception(message, inner);
