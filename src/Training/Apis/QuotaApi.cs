using Cube.Core.Identity;
using Cube.Core.Errors;
using Cube.Training.Data;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Microsoft.EntityFrameworkCore;

namespace Cube.Training.Apis;

public sealed record SetQuotaRequest(int? MaxGpus);
public sealed record QuotaDto(int? MaxGpus, int InUse, int Waiting);

/// <summary>A project's GPU quota: read by its members, set by administrators (it divides a shared cluster between teams).</summary>
public static class QuotaApi
{
    public static IEndpointRouteBuilder MapQuotaApi(this IEndpointRouteBuilder endpoints)
    {
        var group = endpoints.MapGroup("/api/projects/{project}/training/quota").WithTags("Training");
        group.MapGet("/", GetAsync).WithName("GetGpuQuota").WithSummary("The project's GPU quota, GPUs in use and jobs waiting.").RequireAuthorization(CubePolicies.ProjectViewer);
        group.MapPut("/", SetAsync).WithName("SetGpuQuota").WithSummary("Sets (or with null removes) the project's GPU quota.").RequireAuthorization(CubePolicies.Admin);
        return endpoints;
    }

    private static async Task<Ok<QuotaDto>> GetAsync(HttpContext http, TrainingDbContext db, CancellationToken cancellationToken)
    {
        var project = await http.GetProjectAsync();
        return TypedResults.Ok(await DescribeAsync(db, project.Id, cancellationToken));
    }

    private static async Task<Ok<QuotaDto>> SetAsync(SetQuotaRequest request, HttpContext http, TrainingDbContext db, TimeProvider time, CancellationToken cancellationToken)
    {
        var project = await http.GetProjectAsync();
        if (request.MaxGpus is < 0 or > 100_000) throw new ValidationException("maxGpus", "The quota must be between 0 and 100,000 GPUs, or null for no quota.");
        var quota = await db.Quotas.FirstOrDefaultAsync(q => q.ProjectId == project.Id, cancellationToken);
        if (request.MaxGpus is null)
        {
            if (quota is not null) db.Quotas.Remove(quota);
        }
        else if (quota is null)
        {
            db.Quotas.Add(new GpuQuota { ProjectId = project.Id, MaxGpus = request.MaxGpus.Value, UpdatedAt = time.GetUtcNow() });
        }
        else
        {
            quota.MaxGpus = request.MaxGpus.Value;
            quota.UpdatedAt = time.GetUtcNow();
        }
        await db.SaveChangesAsync(cancellationToken);
        return TypedResults.Ok(await DescribeAsync(db, project.Id, cancellationToken));
    }

    private static async Task<QuotaDto> DescribeAsync(TrainingDbContext db, Guid projectId, CancellationToken cancellationToken)
    {
        var quota = await db.Quotas.AsNoTracking().FirstOrDefaultAsync(q => q.ProjectId == projectId, cancellationToken);
        var inUse = await db.Jobs.AsNoTracking().Where(j => j.ProjectId == projectId && j.State == JobState.Running).SumAsync(j => j.Gpus, cancellationToken);
        var waiting = await db.Jobs.AsNoTracking().CountAsync(j => j.ProjectId == projectId && j.State == JobState.Queued && j.Gpus > 0, cancellationToken);
        return new QuotaDto(quota?.MaxGpus, inUse, waiting);
    }
}
