using System.Security.Claims;
using Cube.Core.Apis;
using Cube.Core.Errors;
using Cube.Core.Identity;
using Cube.DataHub.Catalog;
using Cube.DataHub.Data;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Microsoft.EntityFrameworkCore;

namespace Cube.DataHub.Apis;

public sealed record DatasetDto(
    Guid Id, string Name, string? Description, string Kind, IReadOnlyList<string> Tags, Guid OwnerId, int LatestVersion,
    bool IsArchived, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt)
{
    public static DatasetDto From(Dataset d) => new(d.Id, d.Name, d.Description, d.Kind.ToString().ToLowerInvariant(),
        d.Tags.Select(t => t.Tag).Order(StringComparer.Ordinal).ToList(), d.OwnerId, d.LatestVersion, d.IsArchived, d.CreatedAt, d.UpdatedAt);
}

public sealed record CreateDatasetRequest(string Name, string? Description, string? Kind, IReadOnlyList<string>? Tags);
public sealed record UpdateDatasetRequest(string? Name, string? Description, IReadOnlyList<string>? Tags, bool? IsArchived);

/// <summary>Datasets of a project: create, list and search, rename, tag, archive, delete.</summary>
public static class DatasetsApi
{
    public static IEndpointRouteBuilder MapDatasetsApi(this IEndpointRouteBuilder endpoints)
    {
        var group = endpoints.MapGroup("/api/projects/{project}/datasets").WithTags("Datasets");
        group.MapGet("/", ListAsync).WithName("ListDatasets").WithSummary("Lists and searches datasets by name, tag, kind and owner.")
            .RequireAuthorization(CubePolicies.ProjectViewer);
        group.MapPost("/", CreateAsync).WithName("CreateDataset").WithSummary("Creates an empty dataset.")
            .RequireAuthorization(CubePolicies.ProjectManager);
        group.MapGet("/{dataset}", GetAsync).WithName("GetDataset").WithSummary("One dataset.")
            .RequireAuthorization(CubePolicies.ProjectViewer);
        group.MapPatch("/{dataset}", UpdateAsync).WithName("UpdateDataset").WithSummary("Renames, describes, tags or archives a dataset (If-Match supported).")
            .RequireAuthorization(CubePolicies.ProjectManager);
        group.MapDelete("/{dataset}", DeleteAsync).WithName("DeleteDataset").WithSummary("Deletes a dataset; its blobs are reclaimed by garbage collection.")
            .RequireAuthorization(CubePolicies.ProjectManager);
        return endpoints;
    }

    private static async Task<Ok<Page<DatasetDto>>> ListAsync(HttpContext http, DataHubDbContext db, string? q, string? tag, string? kind, Guid? owner,
        bool? includeArchived, string? cursor, int? limit, CancellationToken cancellationToken)
    {
        var project = await http.GetProjectAsync();
        var take = Cursor.Limit(limit);
        var after = Cursor.Decode(cursor);
        var query = db.Datasets.AsNoTracking().Include(d => d.Tags).Where(d => d.ProjectId == project.Id && d.DeletedAt == null);
        if (includeArchived != true) query = query.Where(d => !d.IsArchived);
        if (!string.IsNullOrWhiteSpace(q)) query = query.Where(d => d.Name.ToLower().Contains(q.ToLower()) || (d.Description != null && d.Description.ToLower().Contains(q.ToLower())));
        if (!string.IsNullOrWhiteSpace(tag)) query = query.Where(d => d.Tags.Any(t => t.Tag == tag));
        if (!string.IsNullOrWhiteSpace(kind))
        {
            var parsed = ParseKind(kind);
            query = query.Where(d => d.Kind == parsed);
        }
        if (owner is { } o) query = query.Where(d => d.OwnerId == o);
        if (after is { } a) query = query.Where(d => d.Id > a);
        var rows = await query.OrderBy(d => d.Id).Take(take + 1).ToListAsync(cancellationToken);
        return TypedResults.Ok(Cursor.Build(rows.Select(DatasetDto.From).ToList(), take, d => d.Id));
    }

    private static async Task<Created<DatasetDto>> CreateAsync(CreateDatasetRequest request, HttpContext http, ClaimsPrincipal user, DataHubDbContext db, TimeProvider time, CancellationToken cancellationToken)
    {
        var project = await http.GetProjectAsync();
        var name = Names.Dataset(request.Name);
        var tags = (request.Tags ?? []).Select(t => Names.Tag(t)).Distinct(StringComparer.Ordinal).ToList();
        var now = time.GetUtcNow();
        var dataset = new Dataset
        {
            ProjectId = project.Id, Name = name, Description = request.Description, Kind = request.Kind is null ? DatasetKind.Mixed : ParseKind(request.Kind),
            OwnerId = user.RequireUserId(), CreatedAt = now, UpdatedAt = now,
            Tags = tags.Select(t => new DatasetTag { Tag = t }).ToList(),
        };
        if (await db.Datasets.AnyAsync(d => d.ProjectId == project.Id && d.Name == name, cancellationToken))
            throw new ConflictException($"Project '{project.Slug}' already has a dataset named '{name}'.");
        db.Datasets.Add(dataset);
        try
        {
            await db.SaveChangesAsync(cancellationToken);
        }
        catch (DbUpdateException)
        {
            throw new ConflictException($"Project '{project.Slug}' already has a dataset named '{name}'.");
        }
        return TypedResults.Created($"/api/projects/{project.Slug}/datasets/{name}", DatasetDto.From(dataset));
    }

    private static async Task<Ok<DatasetDto>> GetAsync(string dataset, HttpContext http, DatasetResolver resolver, CancellationToken cancellationToken)
    {
        var project = await http.GetProjectAsync();
        var found = await resolver.DatasetAsync(project.Id, dataset, cancellationToken);
        ETags.Set(http, found.RowVersion);
        return TypedResults.Ok(DatasetDto.From(found));
    }

    private static async Task<Ok<DatasetDto>> UpdateAsync(string dataset, UpdateDatasetRequest request, HttpContext http, DatasetResolver resolver, DataHubDbContext db, TimeProvider time, CancellationToken cancellationToken)
    {
        var project = await http.GetProjectAsync();
        var found = await resolver.DatasetAsync(project.Id, dataset, cancellationToken, tracking: true);
        ETags.CheckIfMatch(http, found.RowVersion);
        if (request.Name is { } name && name != found.Name)
        {
            Names.Dataset(name);
            if (await db.Datasets.AnyAsync(d => d.ProjectId == project.Id && d.Name == name, cancellationToken))
                throw new ConflictException($"Project '{project.Slug}' already has a dataset named '{name}'.");
            found.Name = name;
        }
        if (request.Description is { } description) found.Description = description;
        if (request.IsArchived is { } archived) found.IsArchived = archived;
        if (request.Tags is { } tags)
        {
            var wanted = tags.Select(t => Names.Tag(t)).ToHashSet(StringComparer.Ordinal);
            found.Tags.RemoveAll(t => !wanted.Contains(t.Tag));
            foreach (var t in wanted.Where(w => found.Tags.All(x => x.Tag != w))) found.Tags.Add(new DatasetTag { DatasetId = found.Id, Tag = t });
        }
        found.UpdatedAt = time.GetUtcNow();
        found.RowVersion++;
        try
        {
            await db.SaveChangesAsync(cancellationToken);
        }
        catch (DbUpdateConcurrencyException)
        {
            throw new PreconditionFailedException("The dataset changed while this update ran; read it again and retry.");
        }
        ETags.Set(http, found.RowVersion);
        return TypedResults.Ok(DatasetDto.From(found));
    }

    private static async Task<NoContent> DeleteAsync(string dataset, HttpContext http, DatasetResolver resolver, DataHubDbContext db, TimeProvider time, CancellationToken cancellationToken)
    {
        var project = await http.GetProjectAsync();
        var found = await resolver.DatasetAsync(project.Id, dataset, cancellationToken, tracking: true);
        ETags.CheckIfMatch(http, found.RowVersion);
        found.DeletedAt = time.GetUtcNow();
        // Free the name at once; the row stays for lineage until garbage collection purges it.
        found.Name = $"{found.Name[..Math.Min(found.Name.Length, 86)]}.deleted-{found.Id:N}";
        found.RowVersion++;
        await db.SaveChangesAsync(cancellationToken);
        return TypedResults.NoContent();
    }

    internal static DatasetKind ParseKind(string kind) =>
        Enum.TryParse<DatasetKind>(kind, ignoreCase: true, out var k) && Enum.IsDefined(k) && !int.TryParse(kind, out _)
            ? k
            : throw new ValidationException("kind", "A kind is one of tabular, image, text, mixed.");
}
