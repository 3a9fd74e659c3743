using System.Security.Claims;
using Cube.Core.Errors;
using Cube.Core.Identity;
using Cube.Core.Projects;
using Cube.Knowledge.Data;
using Cube.Knowledge.Embeddings;
using Cube.Knowledge.Indexing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Cube.Knowledge.Apis;

public sealed record KnowledgeBaseDto(Guid Id, string Name, string? Description, string EmbeddingModel, int Documents, int Chunks, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt,
    IReadOnlyDictionary<string, string>? AccessRules = null);
public sealed record CreateKnowledgeBaseRequest(string Name, string? Description);
/// <summary>Tag → least project role (viewer, annotator, reviewer, manager) that sees documents with the tag; replaces all rules.</summary>
public sealed record SetAccessRulesRequest(IReadOnlyDictionary<string, string>? Rules);

/// <summary>Knowledge bases of a project: create, list, read, delete. Viewers read; managers create and delete.</summary>
public static class KnowledgeBasesApi
{
    public const string Route = "/api/projects/{project}/knowledge";

    public static IEndpointRouteBuilder MapKnowledgeBasesApi(this IEndpointRouteBuilder endpoints)
    {
        var group = endpoints.MapGroup(Route).WithTags("Knowledge");
        group.MapGet("/", ListAsync).WithName("ListKnowledgeBases").WithSummary("Lists the project's knowledge bases.")
            .RequireAuthorization(CubePolicies.ProjectViewer);
        group.MapPost("/", CreateAsync).WithName("CreateKnowledgeBase").WithSummary("Creates an empty knowledge base.")
            .RequireAuthorization(CubePolicies.ProjectManager);
        group.MapGet("/{kb}", GetAsync).WithName("GetKnowledgeBase").WithSummary("One knowledge base, by id or name.")
            .RequireAuthorization(CubePolicies.ProjectViewer);
        group.MapPut("/{kb}/access-rules", SetAccessRulesAsync).WithName("SetKnowledgeAccessRules")
            .WithSummary("Sets which project role sees documents with which tag; hidden documents are pre-filtered out of search and chat.")
            .RequireAuthorization(CubePolicies.ProjectManager);
        group.MapDelete("/{kb}", DeleteAsync).WithName("DeleteKnowledgeBase").WithSummary("Deletes a knowledge base, its documents and its index.")
            .RequireAuthorization(CubePolicies.ProjectManager);
        return endpoints;
    }

    /// <summary>
    /// The knowledge base named by the route, inside the route's (already authorised) project, with
    /// <see cref="KnowledgeBase.HiddenTags"/> set for the caller: every API reaches knowledge bases through here.
    /// </summary>
    public static async Task<KnowledgeBase> ResolveAsync(HttpContext http, KnowledgeDbContext db, string kb, CancellationToken cancellationToken)
    {
        var caller = await http.RequestServices.GetRequiredService<ProjectAccess>().RequireAsync(http, ProjectRole.Viewer);
        var query = db.KnowledgeBases.Where(k => k.ProjectId == caller.Project.Id);
        var found = (Guid.TryParse(kb, out var id)
            ? await query.FirstOrDefaultAsync(k => k.Id == id, cancellationToken)
            : await query.FirstOrDefaultAsync(k => k.Name == kb, cancellationToken)) ?? throw new NotFoundException("Knowledge base", kb);
        found.HiddenTags = AccessRules.HiddenFrom(found, caller);
        return found;
    }

    private static async Task<Ok<KnowledgeBaseDto>> SetAccessRulesAsync(string kb, SetAccessRulesRequest request, HttpContext http, KnowledgeDbContext db,
        TimeProvider time, CancellationToken cancellationToken)
    {
        var found = await ResolveAsync(http, db, kb, cancellationToken);
        found.AccessRulesJson = AccessRules.Normalise(request.Rules);
        found.UpdatedAt = time.GetUtcNow();
        await db.SaveChangesAsync(cancellationToken);
        return TypedResults.Ok(await DescribeAsync(db, found, cancellationToken));
    }

    private static async Task<KnowledgeBaseDto> DescribeAsync(KnowledgeDbContext db, KnowledgeBase kb, CancellationToken cancellationToken)
    {
        var documents = await db.Documents.CountAsync(d => d.KnowledgeBaseId == kb.Id, cancellationToken);
        var chunks = await db.Chunks.CountAsync(c => c.KnowledgeBaseId == kb.Id, cancellationToken);
        return new KnowledgeBaseDto(kb.Id, kb.Name, kb.Description, kb.EmbeddingModel, documents, chunks, kb.CreatedAt, kb.UpdatedAt, AccessRules.Describe(kb.AccessRulesJson));
    }

    private static async Task<Ok<List<KnowledgeBaseDto>>> ListAsync(HttpContext http, KnowledgeDbContext db, CancellationToken cancellationToken)
    {
        var project = await http.GetProjectAsync();
        var bases = await db.KnowledgeBases.AsNoTracking().Where(k => k.ProjectId == project.Id).OrderBy(k => k.Name).ToListAsync(cancellationToken);
        var result = new List<KnowledgeBaseDto>(bases.Count);
        foreach (var kb in bases) result.Add(await DescribeAsync(db, kb, cancellationToken));
        return TypedResults.Ok(result);
    }

    private static async Task<Created<KnowledgeBaseDto>> CreateAsync(CreateKnowledgeBaseRequest request, HttpContext http, ClaimsPrincipal user,
        KnowledgeDbContext db, KnowledgeAi ai, TimeProvider time, CancellationToken cancellationToken)
    {
        var project = await http.GetProjectAsync();
        var name = (request.Name ?? "").Trim();
        if (name.Length is 0 or > 128 || Guid.TryParse(name, out _) || name.Any(c => char.IsControl(c) || c is '/' or '\\'))
            throw new ValidationException("name", "A knowledge base name has 1 to 128 characters, no slashes or control characters, and is not a GUID.");
        if (request.Description is { Length: > 4000 }) throw new ValidationException("description", "The description is longer than 4,000 characters.");
        if (await db.KnowledgeBases.AnyAsync(k => k.ProjectId == project.Id && k.Name == name, cancellationToken))
            throw new ConflictException($"Project '{project.Slug}' already has a knowledge base named '{name}'.");
        var now = time.GetUtcNow();
        var kb = new KnowledgeBase
        {
            ProjectId = project.Id, Name = name, Description = request.Description, EmbeddingModel = ai.EmbeddingModel,
            CreatedBy = user.RequireUserId(), CreatedAt = now, UpdatedAt = now,
        };
        db.KnowledgeBases.Add(kb);
        await db.SaveChangesAsync(cancellationToken);
        return TypedResults.Created($"{Route.Replace("{project}", project.Slug, StringComparison.Ordinal)}/{kb.Id}", await DescribeAsync(db, kb, cancellationToken));
    }

    private static async Task<Ok<KnowledgeBaseDto>> GetAsync(string kb, HttpContext http, KnowledgeDbContext db, CancellationToken cancellationToken) =>
        TypedResults.Ok(await DescribeAsync(db, await ResolveAsync(http, db, kb, cancellationToken), cancellationToken));

    private static async Task<NoContent> DeleteAsync(string kb, HttpContext http, KnowledgeDbContext db, IKnowledgeIndex index, CancellationToken cancellationToken)
    {
        var found = await ResolveAsync(http, db, kb, cancellationToken);
        await index.DropAsync(found.Id, cancellationToken);
        db.KnowledgeBases.Remove(found);
        await db.SaveChangesAsync(cancellationToken);
        return TypedResults.NoContent();
    }
}
