using Cube.Core.Data;
using Cube.Core.Identity;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Cube.Core.Hosting;

/// <summary>Before the host starts listening: migrate the embedded database and create the first administrator.</summary>
internal sealed class StartupTasks(IServiceScopeFactory scopes, IOptions<DatabaseOptions> database) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        if (database.Value.ShouldMigrateOnStartup)
            await scope.ServiceProvider.GetRequiredService<DatabaseMigrator>().MigrateAsync(cancellationToken);
        var password = await scope.ServiceProvider.GetRequiredService<AdminBootstrap>().EnsureAdminAsync(cancellationToken);
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

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
