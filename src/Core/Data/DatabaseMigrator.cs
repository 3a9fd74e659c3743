using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Cube.Core.Data;

/// <summary>Applies every module's migrations (for <c>cube migrate</c> and start-up) and reports pending ones (for <c>/readyz</c>).</summary>
public sealed class DatabaseMigrator(IServiceScopeFactory scopes, IEnumerable<ModuleDbContextRegistration> modules, IOptions<DatabaseOptions> options, IOptions<CubeOptions> cube, ILogger<DatabaseMigrator> logger)
{
    public async Task MigrateAsync(CancellationToken cancellationToken = default)
    {
        if (options.Value.GetProvider() == DatabaseProvider.Sqlite) Directory.CreateDirectory(cube.Value.DataPath);
        await using var scope = scopes.CreateAsyncScope();
        foreach (var module in modules)
        {
            var db = (DbContext)scope.ServiceProvider.GetRequiredService(module.ContextType);
            var pending = (await db.Database.GetPendingMigrationsAsync(cancellationToken)).ToList();
            if (pending.Count == 0) continue;
            logger.LogInformation("Applying {Count} migration(s) to module {Module}: {Migrations}", pending.Count, module.Module, string.Join(", ", pending));
            await db.Database.MigrateAsync(cancellationToken);
        }
        if (options.Value.GetProvider() == DatabaseProvider.Sqlite)
        {
            var db = (DbContext)scope.ServiceProvider.GetRequiredService(modules.First().ContextType);
            // WAL lets readers proceed while one writer commits; the setting persists in the database file.
            await db.Database.ExecuteSqlRawAsync("PRAGMA journal_mode=WAL;", cancellationToken);
        }
    }

    /// <summary>Null when the database is reachable and up to date; otherwise what is wrong.</summary>
    public async Task<string?> CheckAsync(CancellationToken cancellationToken = default)
    {
        try
        {
            await using var scope = scopes.CreateAsyncScope();
            foreach (var module in modules)
            {
                var db = (DbContext)scope.ServiceProvider.GetRequiredService(module.ContextType);
                if (!await db.Database.CanConnectAsync(cancellationToken))
                    return $"cannot connect to the {options.Value.Provider} metadata database";
                var pending = (await db.Database.GetPendingMigrationsAsync(cancellationToken)).ToList();
                if (pending.Count > 0) return $"module '{module.Module}' has {pending.Count} pending migration(s); run 'cube migrate'";
            }
            return null;
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            return $"{options.Value.Provider} metadata database error: {e.Message}";
        }
    }
}
