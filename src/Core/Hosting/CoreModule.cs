using Cube.Core.Data;
using Cube.Core.Errors;
using Cube.Core.Identity;
using Cube.Core.Runs;
using Cube.Core.Storage;
using Cube.Core.Webhooks;
using Hangfire;
using Hangfire.AspNetCore;
using Hangfire.InMemory;
using Hangfire.PostgreSql;
using Hangfire.PostgreSql.Factories;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Cube.Core.Hosting;

/// <summary>How the process takes part: serving HTTP, executing runs, or both.</summary>
public enum HostRole
{
    Server,
    Worker,
    /// <summary>One-shot commands (<c>cube migrate</c>, <c>cube user add</c>): no queue server, no background services.</summary>
    Tool,
}

/// <summary>Registers the platform's foundation: options, metadata database, object store, identity, background runs.</summary>
public static class CoreModule
{
    public const string AuthenticationScheme = "Cube";

    public static IHostApplicationBuilder AddCubeCore(this IHostApplicationBuilder builder, HostRole role)
    {
        var services = builder.Services;
        // The first hosted service: everything after it (key ring, queue, recovery) expects a migrated database.
        if (role != HostRole.Tool) services.AddHostedService<StartupTasks>();
        services.AddOptions<CubeOptions>().BindConfiguration(CubeOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<DatabaseOptions>().BindConfiguration(DatabaseOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<StorageOptions>().BindConfiguration(StorageOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<RunsOptions>().BindConfiguration(RunsOptions.SectionName).ValidateDataAnnotations()
            .Validate(o => o.UsesPostgresQueue || string.Equals(o.Queue, "InMemory", StringComparison.OrdinalIgnoreCase),
                "Cube:Runs:Queue is unknown; use 'InMemory' or 'PostgreSQL'.")
            .ValidateOnStart();
        services.AddOptions<AdminOptions>().BindConfiguration(AdminOptions.SectionName);
        services.AddOptions<WebhookOptions>().BindConfiguration(WebhookOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        services.TryAddSingleton(TimeProvider.System);

        // Metadata database.
        services.AddModuleDbContext<CoreDbContext, SqliteCoreDbContext, PostgresCoreDbContext>("core");
        services.AddSingleton<DatabaseMigrator>();

        // Object storage: one instance per process, adapters are thread-safe.
        services.AddSingleton<IObjectStore>(ObjectStoreFactory.Create);

        // Identity.
        services.AddDataProtection().SetApplicationName("cube").PersistKeysToDbContext<CoreDbContext>();
        services.AddSingleton(new PasswordHasher());
        services.AddScoped<IdentityService>();
        services.AddScoped<AdminBootstrap>();
        services.AddScoped<ProjectAccess>();
        services.AddScoped<IAuthorizationHandler, ProjectRoleHandler>();
        services.AddAuthorization(CubePolicies.Configure);
        services.AddAuthentication(AuthenticationScheme)
            .AddPolicyScheme(AuthenticationScheme, "Cookie or bearer token", o => o.ForwardDefaultSelector = context =>
                context.Request.Headers.Authorization.ToString().StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase)
                    ? ApiTokenAuthenticationHandler.SchemeName
                    : CookieAuthenticationDefaults.AuthenticationScheme)
            .AddScheme<AuthenticationSchemeOptions, ApiTokenAuthenticationHandler>(ApiTokenAuthenticationHandler.SchemeName, null)
            .AddCookie(CookieAuthenticationDefaults.AuthenticationScheme, o =>
            {
                o.Cookie.Name = "cube.auth";
                o.Cookie.HttpOnly = true;
                o.Cookie.SameSite = SameSiteMode.Lax;
                o.Cookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
                o.ExpireTimeSpan = TimeSpan.FromHours(12);
                o.SlidingExpiration = true;
                // An API answers 401/403; it never redirects to a login page.
                o.Events.OnRedirectToLogin = c => { c.Response.StatusCode = StatusCodes.Status401Unauthorized; return Task.CompletedTask; };
                o.Events.OnRedirectToAccessDenied = c => { c.Response.StatusCode = StatusCodes.Status403Forbidden; return Task.CompletedTask; };
                o.Events.OnValidatePrincipal = CookieValidation.ValidateAsync;
            });
        services.AddCubeProblemDetails();

        // Webhooks: modules add events to their transactions through the outbox; the dispatcher sends them.
        services.AddSingleton<WebhookSignal>();
        services.AddSingleton<WebhookOutbox>();
        if (role != HostRole.Tool) services.AddHostedService<WebhookDispatcher>();

        // Background runs.
        services.AddSingleton<WorkerIdentity>();
        services.AddSingleton<LocalDispatch>();
        services.AddSingleton<RunHandlerRegistry>();
        services.AddScoped<RunService>();
        services.AddTransient<RunExecutor>();
        // The job storage is one instance per container, registered before AddHangfire (which only adds its own when
        // none is there). Hangfire's configuration callback would otherwise set the process-wide JobStorage.Current,
        // and two hosts in one process (tests, or a server beside a worker) would share or swap queues.
        services.AddSingleton<JobStorage>(sp =>
        {
            var runs = sp.GetRequiredService<IOptions<RunsOptions>>().Value;
            if (!runs.UsesPostgresQueue) return new InMemoryStorage();
            var connection = runs.QueueConnectionString ?? sp.GetRequiredService<IOptions<DatabaseOptions>>().Value.ConnectionString
                ?? throw new InvalidOperationException("Cube:Runs:QueueConnectionString is required for the PostgreSQL queue.");
            var options = new PostgreSqlStorageOptions { SchemaName = "cube_jobs", PrepareSchemaIfNecessary = true };
            return new PostgreSqlStorage(new NpgsqlConnectionFactory(connection, options), options);
        });
        // Same for the job activator: Hangfire registers the process-wide JobActivator.Current, which is whichever host
        // configured Hangfire last. A host that resolved it after another host started would execute its own jobs in the
        // other host's container: the executor then claims the run in the wrong database, finds nothing, and the run
        // stays queued forever. Each container activates jobs from its own services.
        services.AddSingleton<JobActivator>(sp => new AspNetCoreJobActivator(sp.GetRequiredService<IServiceScopeFactory>()));
        services.AddHangfire((sp, config) => config.UseSimpleAssemblyNameTypeSerializer().UseRecommendedSerializerSettings()
            .UseLogProvider(new HangfireLogBridge(sp.GetRequiredService<ILoggerFactory>())));
        var executes = role == HostRole.Worker || (role == HostRole.Server && builder.Configuration.GetValue($"{RunsOptions.SectionName}:ExecuteInServer", true));
        if (executes)
        {
            services.AddHangfireServer((sp, o) =>
            {
                o.WorkerCount = sp.GetRequiredService<IOptions<RunsOptions>>().Value.WorkerCount;
                o.ServerName = sp.GetRequiredService<WorkerIdentity>().Id;
                o.ShutdownTimeout = TimeSpan.FromSeconds(10);
                o.Activator = sp.GetRequiredService<JobActivator>();
            });
            services.AddHostedService<RunRecovery>();
        }
        return builder;
    }
}
