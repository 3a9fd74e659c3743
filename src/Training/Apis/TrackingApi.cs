using System.Security.Claims;
using Cube.Core.Errors;
using Cube.Training.Data;
using Cube.Training.Execution;
using Cube.Training.Tracking;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;

namespace Cube.Training.Apis;

public sealed record ReportedMetric(string Name, double Value, long? Step);

public sealed record ReportMetricsRequest(IReadOnlyList<ReportedMetric> Metrics);

public sealed record ReportedDto(Guid JobId, int Accepted);

/// <summary>
/// Where a running job reports over REST, authenticated by its own job token (<c>CUBE_TRACKING_TOKEN</c>), so any
/// language with an HTTP client can report; the stdout <c>metric …</c> lines are the other way.
/// </summary>
public static class TrackingApi
{
    public const int MaxMetricsPerRequest = 10_000;

    public static IEndpointRouteBuilder MapTrackingApi(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapPost("/api/training/tracking/metrics", ReportAsync).WithTags("Training").WithName("ReportTrainingMetrics")
            .WithSummary("A running job reports metric values (step defaults to 0); authenticated with the job's CUBE_TRACKING_TOKEN.")
            .RequireAuthorization(JobTokens.Policy);
        return endpoints;
    }

    private static async Task<Ok<ReportedDto>> ReportAsync(ReportMetricsRequest request, ClaimsPrincipal user, TrainingDbContext db, TimeProvider time,
        CancellationToken cancellationToken)
    {
        var jobId = Guid.Parse(user.FindFirstValue(JobTokens.JobClaim)!);
        if (request.Metrics is not { Count: > 0 and <= MaxMetricsPerRequest })
            throw new ValidationException("metrics", $"Send 1 to {MaxMetricsPerRequest:N0} metric values.");
        var errors = new Dictionary<string, string[]>();
        for (var i = 0; i < request.Metrics.Count; i++)
        {
            var m = request.Metrics[i];
            if (m.Name is null || !MetricLine.IsName(m.Name)) errors[$"metrics[{i}].name"] = ["A metric name is 1 to 128 letters, digits, '_', '-', '.' or '/'."];
            else if (!double.IsFinite(m.Value)) errors[$"metrics[{i}].value"] = ["The value must be a finite number."];
            else if (m.Step is < 0) errors[$"metrics[{i}].step"] = ["The step must be 0 or more."];
        }
        if (errors.Count > 0) throw new ValidationException(errors);
        var now = time.GetUtcNow();
        db.Metrics.AddRange(request.Metrics.Select(m => new MetricPoint { JobId = jobId, Name = m.Name, Step = m.Step ?? 0, Value = m.Value, At = now }));
        await db.SaveChangesAsync(cancellationToken);
        return TypedResults.Ok(new ReportedDto(jobId, request.Metrics.Count));
    }
}
