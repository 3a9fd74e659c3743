using System.Security.Claims;
using Cube.Core.Apis;
using Cube.Core.Errors;
using Cube.Core.Identity;
using Cube.Core.Runs;
using Cube.Labeling.Data;
using Cube.Labeling.Hosting;
using Cube.Labeling.Prelabel;
using Cube.Labeling.Projects;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Cube.Labeling.Apis;

/// <summary>
/// Registers an external model endpoint. <c>Token</c>, when given, is sent as <c>Authorization: Bearer</c>; it is stored
/// but never returned. <c>BatchSize</c> tasks go in one request (1–1000, default 50); a request that takes longer than
/// <c>TimeoutSeconds</c> (1–600, default 30) fails the run.
/// </summary>
public sealed record ModelEndpointRequest(string Url, string? Token, string? Model, int? BatchSize, int? TimeoutSeconds);

/// <summary>A registered model endpoint; the token is never returned, only whether one is stored.</summary>
public sealed record ModelEndpointDto(string Url, string Model, int BatchSize, int TimeoutSeconds, bool HasToken, DateTimeOffset UpdatedAt)
{
    public static ModelEndpointDto From(ModelEndpoint e) => new(e.Url, e.Model, e.BatchSize, e.TimeoutSeconds, e.Token is not null, e.UpdatedAt);
}

/// <summary>Pre-labeling: train the built-in text classifier, or call a registered model endpoint, as a background run.</summary>
public static class PrelabelApi
{
    public static IEndpointRouteBuilder MapPrelabelApi(this IEndpointRouteBuilder endpoints)
    {
        var group = endpoints.MapGroup(LabelingProjectsApi.Base + "/{labeling:guid}/prelabel").WithTags("Labeling");
        group.MapPost("/train", TrainAsync).WithName("TrainLabelingPrelabeler")
            .WithSummary("Trains the built-in text classifier on the accepted labels and pre-labels the unlabelled tasks, as a run (202); 422 unless text classification with labels of 2 classes.")
            .RequireAuthorization(CubePolicies.ProjectManager);
        group.MapGet("/endpoint", GetEndpointAsync).WithName("GetLabelingModelEndpoint").WithSummary("The registered model endpoint (its token masked).")
            .RequireAuthorization(CubePolicies.ProjectManager);
        group.MapPut("/endpoint", PutEndpointAsync).WithName("SetLabelingModelEndpoint")
            .WithSummary("Registers or replaces the external model endpoint; internal addresses are refused unless allow-listed (Cube:Labeling:ModelEndpoints).")
            .RequireAuthorization(CubePolicies.ProjectManager);
        group.MapDelete("/endpoint", DeleteEndpointAsync).WithName("DeleteLabelingModelEndpoint").WithSummary("Removes the model endpoint; its predictions stay.")
            .RequireAuthorization(CubePolicies.ProjectManager);
        group.MapPost("/endpoint/run", RunEndpointAsync).WithName("RunLabelingModelEndpoint")
            .WithSummary("Sends the unlabelled tasks to the model endpoint in batches and stores its valid predictions, as a run (202).")
            .RequireAuthorization(CubePolicies.ProjectManager);
        return endpoints;
    }

    private static async Task<Accepted<RunDto>> TrainAsync(Guid labeling, HttpContext http, ClaimsPrincipal user, LabelingProjects projects, LabelingDbContext db,
        RunService runs, CancellationToken cancellationToken)
    {
        var (project, found) = await ApiHelpers.ResolveAsync(http, projects, labeling);
        // Refused here, so the caller gets the reason at once; the run checks again against the labels it reads.
        Prelabeler.RequireTrainable(LabelingProjects.Config(found), await TrainingLabels.LoadAsync(db, found, cancellationToken));
        var run = await runs.EnqueueAsync(PrelabelHandler.RunKind, new PrelabelParameters(found.Id, PrelabelSource.Builtin), user.RequireUserId(), project.Id, cancellationToken);
        return TypedResults.Accepted($"/api/runs/{run.Id}", RunDto.From(run));
    }

    private static async Task<Ok<ModelEndpointDto>> GetEndpointAsync(Guid labeling, HttpContext http, LabelingProjects projects, LabelingDbContext db, CancellationToken cancellationToken)
    {
        var (_, found) = await ApiHelpers.ResolveAsync(http, projects, labeling);
        var endpoint = await db.ModelEndpoints.AsNoTracking().FirstOrDefaultAsync(e => e.LabelingProjectId == found.Id, cancellationToken)
            ?? throw new NotFoundException("Model endpoint of labeling project", found.Id.ToString());
        return TypedResults.Ok(ModelEndpointDto.From(endpoint));
    }

    private static async Task<Ok<ModelEndpointDto>> PutEndpointAsync(Guid labeling, ModelEndpointRequest request, HttpContext http, ClaimsPrincipal user, LabelingProjects projects,
        LabelingDbContext db, IOptions<LabelingOptions> options, [FromKeyedServices(LabelingClock.Key)] TimeProvider time, IDataProtectionProvider protection,
        CancellationToken cancellationToken)
    {
        var (_, found) = await ApiHelpers.ResolveAsync(http, projects, labeling);
        var errors = new Dictionary<string, string[]>();
        Uri? url = null;
        if (string.IsNullOrWhiteSpace(request.Url) || request.Url.Length > 2048 || !Uri.TryCreate(request.Url.Trim(), UriKind.Absolute, out url))
            errors["url"] = ["An absolute http or https URL of at most 2048 characters is required."];
        var token = string.IsNullOrEmpty(request.Token) ? null : request.Token;
        if (token is { Length: > 2048 } || (token is not null && token.Any(char.IsControl))) errors["token"] = ["A token is at most 2048 characters, without control characters."];
        var model = string.IsNullOrWhiteSpace(request.Model) ? "endpoint" : request.Model.Trim();
        if (model.Length > 200) errors["model"] = ["A model name is at most 200 characters."];
        if (request.BatchSize is < 1 or > 1000) errors["batchSize"] = ["batchSize is between 1 and 1000 tasks."];
        if (request.TimeoutSeconds is < 1 or > 600) errors["timeoutSeconds"] = ["timeoutSeconds is between 1 and 600."];
        if (errors.Count > 0) throw new ValidationException(errors);
        await Prelabeler.Guard(options.Value.ModelEndpoints).CheckAsync(url!, cancellationToken);

        var endpoint = await db.ModelEndpoints.FirstOrDefaultAsync(e => e.LabelingProjectId == found.Id, cancellationToken);
        if (endpoint is null)
        {
            endpoint = new ModelEndpoint { LabelingProjectId = found.Id, Url = "", Model = "" };
            db.ModelEndpoints.Add(endpoint);
        }
        endpoint.Url = url!.ToString();
        // Encrypted at rest with the deployment's data-protection keys; sent in clear only to the endpoint.
        endpoint.Token = token is null ? null : protection.CreateProtector(ModelEndpointClient.TokenPurpose).Protect(token);
        endpoint.Model = model;
        endpoint.BatchSize = request.BatchSize ?? 50;
        endpoint.TimeoutSeconds = request.TimeoutSeconds ?? 30;
        endpoint.UpdatedBy = user.RequireUserId();
        endpoint.UpdatedAt = time.GetUtcNow();
        try
        {
            await db.SaveChangesAsync(cancellationToken);
        }
        catch (DbUpdateException)
        {
            throw new ConflictException("The model endpoint was registered by another request meanwhile; send it again.");
        }
        return TypedResults.Ok(ModelEndpointDto.From(endpoint));
    }

    private static async Task<NoContent> DeleteEndpointAsync(Guid labeling, HttpContext http, LabelingProjects projects, LabelingDbContext db, CancellationToken cancellationToken)
    {
        var (_, found) = await ApiHelpers.ResolveAsync(http, projects, labeling);
        if (await db.ModelEndpoints.Where(e => e.LabelingProjectId == found.Id).ExecuteDeleteAsync(cancellationToken) == 0)
            throw new NotFoundException("Model endpoint of labeling project", found.Id.ToString());
        return TypedResults.NoContent();
    }

    private static async Task<Accepted<RunDto>> RunEndpointAsync(Guid labeling, HttpContext http, ClaimsPrincipal user, LabelingProjects projects, LabelingDbContext db,
        RunService runs, CancellationToken cancellationToken)
    {
        var (project, found) = await ApiHelpers.ResolveAsync(http, projects, labeling);
        if (!await db.ModelEndpoints.AnyAsync(e => e.LabelingProjectId == found.Id, cancellationToken))
            throw new UnprocessableException("This labeling project has no model endpoint registered; register one first (PUT .../prelabel/endpoint).");
        var run = await runs.EnqueueAsync(PrelabelHandler.RunKind, new PrelabelParameters(found.Id, PrelabelSource.Endpoint), user.RequireUserId(), project.Id, cancellationToken);
        return TypedResults.Accepted($"/api/runs/{run.Id}", RunDto.From(run));
    }
}
