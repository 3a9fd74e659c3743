using Cube.Core.Errors;
using Cube.Core.Hosting;
using Cube.Hosting;
using Microsoft.Extensions.Options;

namespace Cube.Cli;

/// <summary>Runs hosts and tool commands, turning configuration and input errors into one clear line and an exit code.</summary>
internal static class HostRunner
{
    public const int ConfigurationError = 2;

    public static Task<int> RunServerAsync(string[] args) => RunAsync(() => CubeApp.BuildServer(args), CancellationToken.None);

    public static async Task<int> RunAsync(Func<IHost> build, CancellationToken cancellationToken)
    {
        try
        {
            // Not disposed here: the test host (WebApplicationFactory) captures the built host and owns its lifetime.
            var host = build();
            await host.RunAsync(cancellationToken);
            return 0;
        }
        catch (Exception e) when (Describe(e) is { } message)
        {
            Console.Error.WriteLine($"cube: {message}");
            return ConfigurationError;
        }
    }

    public static async Task<int> RunToolAsync(string[] args, Func<IServiceProvider, Task<int>> action)
    {
        try
        {
            using var host = CubeApp.BuildBackground(args, HostRole.Tool);
            await using var scope = host.Services.CreateAsyncScope();
            return await action(scope.ServiceProvider);
        }
        catch (Exception e) when (Describe(e) is { } message)
        {
            Console.Error.WriteLine($"cube: {message}");
            return ConfigurationError;
        }
    }

    private static string? Describe(Exception e) => e switch
    {
        OptionsValidationException o => "invalid configuration: " + string.Join(" ", o.Failures),
        ValidationException v => string.Join(" ", v.Errors.SelectMany(x => x.Value)),
        CubeException c => c.Message,
        StartupException s => s.Message,
        AggregateException { InnerExceptions.Count: 1 } a => Describe(a.InnerException!),
        _ => null,
    };
}
