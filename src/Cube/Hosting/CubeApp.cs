using Cube.Core.Hosting;
using Cube.DataHub.Hosting;
using Cube.Features.Hosting;
using Cube.Knowledge.Hosting;
using Cube.Labeling.Hosting;
using Cube.Serving.Hosting;
using Cube.Training.Hosting;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Cube.Core.Errors;
using Prometheus;
using Scalar.AspNetCore;

namespace Cube.Hosting;

/// <summary>The composition root: every module in one process, as <c>cube serve</c> runs it.</summary>
public static class CubeApp
{
    public const string DefaultUrl = "http://127.0.0.1:5080";

    public static WebApplication BuildServer(string[] args)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = args, ContentRootPath = ContentRoot(args) });
        if (string.IsNullOrEmpty(builder.Configuration["urls"]) && builder.Configuration.GetSection("Kestrel:Endpoints").GetChildren().All(_ => false))
            builder.WebHost.UseUrls(DefaultUrl);
        ConfigureLogging(builder);
        AddModules(builder, HostRole.Server);

        builder.Services.AddOpenApi("v1", o => o.AddDocumentTransformer<OpenApiSecurity>());
        builder.Services.AddHealthChecks()
            .AddCheck<DatabaseReadiness>("database", tags: ["ready"])
            .AddCheck<StorageReadiness>("storage", tags: ["ready"]);
        builder.Services.AddHostedService<StartupBanner>();

        var app = builder.Build();
        app.UseCubeProblemDetails();
        app.UseHttpMetrics();
        var webRoot = app.UseWebAppFiles();
        app.UseAuthentication();
        app.UseAuthorization();

        app.MapHealthChecks("/healthz", new HealthCheckOptions { Predicate = _ => false, ResponseWriter = HealthResponses.WriteAsync }).AllowAnonymous();
        app.MapHealthChecks("/readyz", new HealthCheckOptions { Predicate = c => c.Tags.Contains("ready"), ResponseWriter = HealthResponses.WriteAsync }).AllowAnonymous();
        app.MapOpenApi("/openapi/{documentName}.json").AllowAnonymous();
        app.MapScalarApiReference("/api-reference", o => o.WithTitle("Cube API").WithOpenApiRoutePattern("/openapi/{documentName}.json")).AllowAnonymous();
        app.MapMetrics("/metrics").AllowAnonymous();

        app.MapCubeCore();
        app.MapDataHub();
        app.MapFeatures();
        app.MapLabeling();
        app.MapTraining();
        app.MapServing();
        app.MapKnowledge();
        if (webRoot is not null) app.MapWebAppFallback(webRoot);
        return app;
    }

    /// <summary>A process that only executes background runs (<c>cube worker</c>), or only runs a one-shot tool command.</summary>
    public static IHost BuildBackground(string[] args, HostRole role)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { Args = args, ContentRootPath = ContentRoot(args) });
        ConfigureLogging(builder);
        AddModules(builder, role);
        return builder.Build();
    }

    /// <summary>appsettings.json ships beside the executable; the test host passes its own content root.</summary>
    private static string? ContentRoot(string[] args) =>
        args.Any(a => a.Contains("contentRoot", StringComparison.OrdinalIgnoreCase)) ? null : AppContext.BaseDirectory;

    private static void AddModules(IHostApplicationBuilder builder, HostRole role)
    {
        builder.AddCubeCore(role);
        builder.AddDataHub();
        builder.AddFeatures();
        builder.AddLabeling();
        builder.AddTraining();
        builder.AddServing();
        builder.AddKnowledge();
    }

    private static void ConfigureLogging(IHostApplicationBuilder builder)
    {
        // Structured logs: JSON lines when asked for (log shippers), readable single lines otherwise.
        builder.Logging.ClearProviders();
        if (builder.Configuration.GetValue("Cube:Logging:Json", false))
            builder.Logging.AddJsonConsole(o => { o.IncludeScopes = true; o.UseUtcTimestamp = true; });
        else
            builder.Logging.AddSimpleConsole(o => { o.SingleLine = true; o.TimestampFormat = "HH:mm:ss "; });
        builder.Logging.AddFilter("Microsoft.EntityFrameworkCore.Database.Command", LogLevel.Warning);
        builder.Logging.AddFilter("Hangfire", LogLevel.Warning);
    }
}

/// <summary>Prints where Cube listens once Kestrel has bound its addresses.</summary>
internal sealed class StartupBanner(IServer server, IHostApplicationLifetime lifetime) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        lifetime.ApplicationStarted.Register(() =>
        {
            var addresses = server.Features.Get<IServerAddressesFeature>()?.Addresses ?? [];
            foreach (var address in addresses)
                Console.WriteLine($"Cube is ready at {address}  (API reference: {address}/api-reference)");
        });
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
