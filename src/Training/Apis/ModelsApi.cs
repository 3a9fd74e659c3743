using System.Security.Claims;
using System.Text.Json;
using Cube.Core.Errors;
using Cube.Core.Identity;
using Cube.Core.Storage;
using Cube.Training.Data;
using Cube.Training.Registry;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Microsoft.EntityFrameworkCore;

namespace Cube.Training.Apis;

public sealed record CreateModelRequest(string Name, string? Description);
public sealed record RegisterVersionRequest(Guid JobId, string ArtifactPath, string Flavor, string? Description);
public sealed record PromoteRequest(string Stage);
public sealed record ModelDto(Guid Id, string Name, string Description, int LatestVersion, IReadOnlyDictionary<string, int> Aliases, DateTimeOffset CreatedAt);
public sealed record LineageDto(string Dataset, int Version, Guid DatasetVersionId);
public sealed record ModelVersionDto(
    Guid Id, int Number, string Flavor, string ArtifactPath, string Sha256, long Size, Guid JobId, Guid RunId, JsonElement Metrics,
    IReadOnlyList<LineageDto> Lineage, IReadOnlyList<string> Aliases, string Description, DateTimeOffset CreatedAt, JsonElement? Signature);

/// <summary>The model registry of a project: models, versions from job artifacts with lineage, stages/aliases.</summary>
public static class ModelsApi
{
    public static IEndpointRouteBuilder MapModelsApi(this IEndpointRouteBuilder endpoints)
    {
        var group = endpoints.MapGroup("/api/projects/{project}/training/models").WithTags("Model registry");
        group.MapPost("/", CreateAsync).WithName("CreateModel").WithSummary("Creates an empty registered model.").RequireAuthorization(CubePolicies.ProjectManager);
        group.MapGet("/", ListAsync).WithName("ListModels").WithSummary("Registered models with their aliases.").RequireAuthorization(CubePolicies.ProjectViewer);
        group.MapPost("/{model}/versions", RegisterAsync).WithName("RegisterModelVersion")
            .WithSummary("Registers a job artifact as the next version (creating the model on first use).").RequireAuthorization(CubePolicies.ProjectManager);
        group.MapGet("/{model}/versions", VersionsAsync).WithName("ListModelVersions").WithSummary("Versions, newest first, with metrics and lineage.").RequireAuthorization(CubePolicies.ProjectViewer);
        group.MapGet("/{model}/versions/{version}", VersionAsync).WithName("GetModelVersion").WithSummary("One version by number, 'v3', alias or 'latest'.").RequireAuthorization(CubePolicies.ProjectViewer);
        group.MapGet("/{model}/versions/{version}/artifact", ArtifactAsync).WithName("DownloadModelArtifact").WithSummary("Streams the version's artifact.").RequireAuthorization(CubePolicies.ProjectViewer);
        group.MapPost("/{model}/versions/{version}/promote", PromoteAsync).WithName("PromoteModelVersion")
            .WithSummary("Points a stage or alias (staging, production, ...) at this version.").RequireAuthorization(CubePolicies.ProjectManager);
        return endpoints;
    }

    private static async Task<Created<ModelDto>> CreateAsync(CreateModelRequest request, HttpContext http, ModelRegistry registry, CancellationToken cancellationToken)
    {
        var project = await http.GetProjectAsync();
        var model = await registry.CreateAsync(project.Id, request.Name, request.Description, cancellationToken);
        return TypedResults.Created($"/api/projects/{project.Slug}/training/models/{model.Name}", new ModelDto(model.Id, model.Name, model.Description, 0, new Dictionary<string, int>(), model.CreatedAt));
    }

    private static async Task<Ok<IReadOnlyList<ModelDto>>> ListAsync(HttpContext http, TrainingDbContext db, CancellationToken cancellationToken)
    {
        var project = await http.GetProjectAsync();
        var models = await db.Models.AsNoTracking().Where(m => m.ProjectId == project.Id).OrderBy(m => m.Name).ToListAsync(cancellationToken);
        var ids = models.Select(m => m.Id).ToList();
        var aliases = await (from a in db.ModelAliases.AsNoTracking()
                             join v in db.ModelVersions.AsNoTracking() on a.VersionId equals v.Id
                             where ids.Contains(a.ModelId)
                             select new { a.ModelId, a.Alias, v.Number }).ToListAsync(cancellationToken);
        IReadOnlyList<ModelDto> result = models.Select(m => new ModelDto(m.Id, m.Name, m.Description, m.LatestVersion,
            aliases.Where(a => a.ModelId == m.Id).ToDictionary(a => a.Alias, a => a.Number), m.CreatedAt)).ToList();
        return TypedResults.Ok(result);
    }

    private static async Task<Created<ModelVersionDto>> RegisterAsync(string model, RegisterVersionRequest request, HttpContext http, ModelRegistry registry, TrainingDbContext db, ClaimsPrincipal user, CancellationToken cancellationToken)
    {
        var project = await http.GetProjectAsync();
        if (string.IsNullOrEmpty(request.ArtifactPath)) throw new ValidationException("artifactPath", "The path of the job artifact to register is required.");
        if (string.IsNullOrEmpty(request.Flavor)) throw new ValidationException("flavor", $"The flavour is required: one of {string.Join(", ", ModelRegistry.Flavors)}.");
        var version = await registry.RegisterAsync(project.Id, model, request.JobId, request.ArtifactPath, request.Flavor, request.Description, user.GetUserId(), cancellationToken);
        return TypedResults.Created($"/api/projects/{project.Slug}/training/models/{model}/versions/{version.Number}", (await DescribeAsync(db, [version], cancellationToken))[0]);
    }

    private static async Task<Ok<IReadOnlyList<ModelVersionDto>>> VersionsAsync(string model, HttpContext http, ModelRegistry registry, TrainingDbContext db, CancellationToken cancellationToken)
    {
        var project = await http.GetProjectAsync();
        var found = await registry.FindAsync(project.Id, model, cancellationToken);
        var versions = await db.ModelVersions.AsNoTracking().Where(v => v.ModelId == found.Id).OrderByDescending(v => v.Number).ToListAsync(cancellationToken);
        return TypedResults.Ok(await DescribeAsync(db, versions, cancellationToken));
    }

    private static async Task<Ok<ModelVersionDto>> VersionAsync(string model, string version, HttpContext http, ModelRegistry registry, TrainingDbContext db, CancellationToken cancellationToken)
    {
        var project = await http.GetProjectAsync();
        var found = await registry.FindAsync(project.Id, model, cancellationToken);
        return TypedResults.Ok((await DescribeAsync(db, [await registry.VersionAsync(found, version, cancellationToken)], cancellationToken))[0]);
    }

    private static async Task<IResult> ArtifactAsync(string model, string version, HttpContext http, ModelRegistry registry, IObjectStore store, CancellationToken cancellationToken)
    {
        var project = await http.GetProjectAsync();
        var found = await registry.VersionAsync(await registry.FindAsync(project.Id, model, cancellationToken), version, cancellationToken);
        return TypedResults.Stream(await store.GetAsync(found.ObjectKey, null, cancellationToken), "application/octet-stream", Path.GetFileName(found.ArtifactPath));
    }

    private static async Task<Ok<ModelVersionDto>> PromoteAsync(string model, string version, PromoteRequest request, HttpContext http, ModelRegistry registry, TrainingDbContext db, CancellationToken cancellationToken)
    {
        var project = await http.GetProjectAsync();
        var found = await registry.FindAsync(project.Id, model, cancellationToken);
        var target = await registry.VersionAsync(found, version, cancellationToken);
        await registry.PromoteAsync(found, target, request.Stage ?? "", cancellationToken);
        return TypedResults.Ok((await DescribeAsync(db, [target], cancellationToken))[0]);
    }

    private static async Task<IReadOnlyList<ModelVersionDto>> DescribeAsync(TrainingDbContext db, IReadOnlyList<ModelVersion> versions, CancellationToken cancellationToken)
    {
        var ids = versions.Select(v => v.Id).ToList();
        var lineage = await db.ModelLineage.AsNoTracking().Where(l => ids.Contains(l.ModelVersionId)).ToListAsync(cancellationToken);
        var aliases = await db.ModelAliases.AsNoTracking().Where(a => ids.Contains(a.VersionId)).ToListAsync(cancellationToken);
        return versions.Select(v =>
        {
            using var metrics = JsonDocument.Parse(v.MetricsJson);
            using var signature = v.SignatureJson is null ? null : JsonDocument.Parse(v.SignatureJson);
            return new ModelVersionDto(v.Id, v.Number, v.Flavor, v.ArtifactPath, v.Sha256, v.Size, v.JobId, v.RunId, metrics.RootElement.Clone(),
                lineage.Where(l => l.ModelVersionId == v.Id).OrderBy(l => l.Dataset).Select(l => new LineageDto(l.Dataset, l.VersionNumber, l.DatasetVersionId)).ToList(),
                aliases.Where(a => a.VersionId == v.Id).Select(a => a.Alias).Order(StringComparer.Ordinal).ToList(), v.Description, v.CreatedAt,
                signature?.RootElement.Clone());
        }).ToList();
    }
}
