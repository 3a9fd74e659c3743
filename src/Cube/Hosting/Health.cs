using System.Text.Json;
using Cube.Core.Data;
using Cube.Core.Storage;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Cube.Hosting;

internal sealed class DatabaseReadiness(DatabaseMigrator migrator) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(5));
        var problem = await migrator.CheckAsync(timeout.Token);
        return problem is null ? HealthCheckResult.Healthy("metadata database reachable and migrated") : HealthCheckResult.Unhealthy(problem);
    }
}

internal sealed class StorageReadiness(IObjectStore store) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(5));
        try
        {
            await store.CheckHealthAsync(timeout.Token);
            return HealthCheckResult.Healthy($"{store.Kind} object store reachable and writable");
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return HealthCheckResult.Unhealthy($"{store.Kind} object store did not answer within 5 s");
        }
        catch (Exception e)
        {
            return HealthCheckResult.Unhealthy($"{store.Kind} object store: {e.Message}");
        }
    }
}

internal static class HealthResponses
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { WriteIndented = true };

    /// <summary>{"status":"ready"|"unready", "checks":{name:{status, detail}}}: the reason is readable without the logs.</summary>
    public static Task WriteAsync(HttpContext http, HealthReport report)
    {
        http.Response.ContentType = "application/json";
        var body = new
        {
            status = report.Status == HealthStatus.Healthy ? (report.Entries.Count == 0 ? "live" : "ready") : "unready",
            checks = report.Entries.ToDictionary(e => e.Key, e => new { status = e.Value.Status.ToString().ToLowerInvariant(), detail = e.Value.Description }),
        };
        return http.Response.WriteAsync(JsonSerializer.Serialize(body, Json));
    }
}
