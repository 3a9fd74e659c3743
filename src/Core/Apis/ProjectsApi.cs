using System.Security.Claims;
using System.Text.RegularExpressions;
using Cube.Core.Data;
using Cube.Core.Errors;
using Cube.Core.Identity;
using Cube.Core.Projects;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Microsoft.EntityFrameworkCore;

namespace Cube.Core.Apis;

public sealed record ProjectDto(Guid Id, string Slug, string Name, string? Description, bool IsArchived, DateTimeOffset CreatedAt, string? MyRole);
public sealed record CreateProjectRequest(string Slug, string Name, string? Description);
public sealed record UpdateProjectRequest(string? Name, string? Description, bool? IsArchived);
public sealed record MemberDto(Guid UserId, string UserName, string DisplayName, string Role, DateTimeOffset AddedAt);
public sealed record SetMemberRequest(string Role);

/// <summary>Projects and their members. Creating a project makes the creator its manager.</summary>
public static partial class ProjectsApi
{
    [GeneratedRegex("^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$")]
    private static partial Regex SlugPattern();

    public static IEndpointRouteBuilder MapProjectsApi(this IEndpointRouteBuilder endpoints)
    {
        var group = endpoints.MapGroup("/api/projects").WithTags("Projects");
        group.MapGet("/", ListAsync).WithName("ListProjects").WithSummary("Projects the caller belongs to (all of them for admins).")
            .RequireAuthorization(CubePolicies.User);
        group.MapPost("/", CreateAsync).WithName("CreateProject").WithSummary("Creates a project; the caller becomes its manager.")
            .RequireAuthorization(CubePolicies.User);
        group.MapGet("/{project}", GetAsync).WithName("GetProject").WithSummary("One project.")
            .RequireAuthorization(CubePolicies.ProjectViewer);
        group.MapPatch("/{project}", UpdateAsync).WithName("UpdateProject").WithSummary("Renames, describes or archives a project (If-Match supported).")
            .RequireAuthorization(CubePolicies.ProjectManager);
        group.MapGet("/{project}/members", ListMembersAsync).WithName("ListMembers").WithSummary("Members and their roles.")
            .RequireAuthorization(CubePolicies.ProjectViewer);
        group.MapPut("/{project}/members/{userName}", SetMemberAsync).WithName("SetMember").WithSummary("Adds a member or changes their role (manager, reviewer, annotator, viewer).")
            .RequireAuthorization(CubePolicies.ProjectManager);
        group.MapDelete("/{project}/members/{userName}", RemoveMemberAsync).WithName("RemoveMember").WithSummary("Removes a member.")
            .RequireAuthorization(CubePolicies.ProjectManager);
        return endpoints;
    }

    private static async Task<Ok<Page<ProjectDto>>> ListAsync(ClaimsPrincipal user, CoreDbContext db, string? cursor, int? limit, CancellationToken cancellationToken)
    {
        var take = Cursor.Limit(limit);
        var after = Cursor.Decode(cursor);
        var userId = user.RequireUserId();
        var query = from p in db.Projects.AsNoTracking()
                    join m in db.ProjectMembers.Where(m => m.UserId == userId) on p.Id equals m.ProjectId into ms
                    from m in ms.DefaultIfEmpty()
                    select new { Project = p, Role = (ProjectRole?)m.Role };
        if (!user.IsAdmin()) query = query.Where(x => x.Role != null);
        if (after is { } a) query = query.Where(x => x.Project.Id > a);
        var rows = await query.OrderBy(x => x.Project.Id).Take(take + 1).ToListAsync(cancellationToken);
        return TypedResults.Ok(Cursor.Build(rows.Select(x => ToDto(x.Project, x.Role)).ToList(), take, p => p.Id));
    }

    private static async Task<Created<ProjectDto>> CreateAsync(CreateProjectRequest request, ClaimsPrincipal user, CoreDbContext db, TimeProvider time, CancellationToken cancellationToken)
    {
        var errors = new Dictionary<string, string[]>();
        if (!SlugPattern().IsMatch(request.Slug ?? ""))
            errors["slug"] = ["A slug is 1 to 64 lowercase letters, digits or '-', not starting or ending with '-'."];
        if (string.IsNullOrWhiteSpace(request.Name) || request.Name.Length > 200)
            errors["name"] = ["A name is 1 to 200 characters."];
        if (errors.Count > 0) throw new ValidationException(errors);
        if (await db.Projects.AnyAsync(p => p.Slug == request.Slug, cancellationToken))
            throw new ConflictException($"A project with slug '{request.Slug}' already exists.");

        var now = time.GetUtcNow();
        var project = new Project { Slug = request.Slug!, Name = request.Name.Trim(), Description = request.Description, CreatedBy = user.RequireUserId(), CreatedAt = now };
        db.Projects.Add(project);
        db.ProjectMembers.Add(new ProjectMember { ProjectId = project.Id, UserId = project.CreatedBy, Role = ProjectRole.Manager, AddedAt = now });
        try
        {
            await db.SaveChangesAsync(cancellationToken);
        }
        catch (DbUpdateException)
        {
            throw new ConflictException($"A project with slug '{request.Slug}' already exists.");
        }
        return TypedResults.Created($"/api/projects/{project.Slug}", ToDto(project, ProjectRole.Manager));
    }

    private static async Task<Ok<ProjectDto>> GetAsync(HttpContext http, ProjectAccess access)
    {
        var info = await access.RequireAsync(http, ProjectRole.Viewer);
        ETags.Set(http, info.Project.Version);
        return TypedResults.Ok(ToDto(info.Project, info.Role));
    }

    private static async Task<Ok<ProjectDto>> UpdateAsync(UpdateProjectRequest request, HttpContext http, ProjectAccess access, CoreDbContext db, CancellationToken cancellationToken)
    {
        var info = await access.RequireAsync(http, ProjectRole.Manager);
        var project = await db.Projects.FirstAsync(p => p.Id == info.Project.Id, cancellationToken);
        ETags.CheckIfMatch(http, project.Version);
        if (request.Name is { } name)
        {
            if (string.IsNullOrWhiteSpace(name) || name.Length > 200) throw new ValidationException("name", "A name is 1 to 200 characters.");
            project.Name = name.Trim();
        }
        if (request.Description is { } description) project.Description = description;
        if (request.IsArchived is { } archived) project.IsArchived = archived;
        project.Version++;
        try
        {
            await db.SaveChangesAsync(cancellationToken);
        }
        catch (DbUpdateConcurrencyException)
        {
            throw new PreconditionFailedException("The project changed while this update ran; read it again and retry.");
        }
        ETags.Set(http, project.Version);
        return TypedResults.Ok(ToDto(project, info.Role));
    }

    private static async Task<Ok<List<MemberDto>>> ListMembersAsync(HttpContext http, CoreDbContext db, CancellationToken cancellationToken)
    {
        var project = await http.GetProjectAsync();
        var members = await db.ProjectMembers.AsNoTracking().Where(m => m.ProjectId == project.Id)
            .Join(db.Users, m => m.UserId, u => u.Id, (m, u) => new { m, u })
            .ToListAsync(cancellationToken);
        return TypedResults.Ok(members.OrderBy(x => x.u.UserName, StringComparer.Ordinal)
            .Select(x => new MemberDto(x.u.Id, x.u.UserName, x.u.DisplayName, x.m.Role.ToString().ToLowerInvariant(), x.m.AddedAt)).ToList());
    }

    private static async Task<Ok<MemberDto>> SetMemberAsync(string userName, SetMemberRequest request, HttpContext http, CoreDbContext db, IdentityService identity, TimeProvider time, CancellationToken cancellationToken)
    {
        var project = await http.GetProjectAsync();
        if (!Enum.TryParse<ProjectRole>(request.Role, ignoreCase: true, out var role) || !Enum.IsDefined(role) || int.TryParse(request.Role, out _))
            throw new ValidationException("role", "A role is one of manager, reviewer, annotator, viewer.");
        var user = await identity.FindUserAsync(userName, cancellationToken) ?? throw new NotFoundException("User", userName);
        var member = await db.ProjectMembers.FirstOrDefaultAsync(m => m.ProjectId == project.Id && m.UserId == user.Id, cancellationToken);
        if (member is null)
        {
            member = new ProjectMember { ProjectId = project.Id, UserId = user.Id, Role = role, AddedAt = time.GetUtcNow() };
            db.ProjectMembers.Add(member);
        }
        else
        {
            if (member.Role == ProjectRole.Manager && role != ProjectRole.Manager) await EnsureAnotherManagerAsync(db, project.Id, user.Id, cancellationToken);
            member.Role = role;
        }
        await db.SaveChangesAsync(cancellationToken);
        return TypedResults.Ok(new MemberDto(user.Id, user.UserName, user.DisplayName, role.ToString().ToLowerInvariant(), member.AddedAt));
    }

    private static async Task<NoContent> RemoveMemberAsync(string userName, HttpContext http, CoreDbContext db, IdentityService identity, CancellationToken cancellationToken)
    {
        var project = await http.GetProjectAsync();
        var user = await identity.FindUserAsync(userName, cancellationToken) ?? throw new NotFoundException("User", userName);
        var member = await db.ProjectMembers.FirstOrDefaultAsync(m => m.ProjectId == project.Id && m.UserId == user.Id, cancellationToken)
            ?? throw new NotFoundException("Member", userName);
        if (member.Role == ProjectRole.Manager) await EnsureAnotherManagerAsync(db, project.Id, user.Id, cancellationToken);
        db.ProjectMembers.Remove(member);
        await db.SaveChangesAsync(cancellationToken);
        return TypedResults.NoContent();
    }

    private static async Task EnsureAnotherManagerAsync(CoreDbContext db, Guid projectId, Guid leaving, CancellationToken cancellationToken)
    {
        if (!await db.ProjectMembers.AnyAsync(m => m.ProjectId == projectId && m.Role == ProjectRole.Manager && m.UserId != leaving, cancellationToken))
            throw new ConflictException("A project keeps at least one manager; make someone else manager first.");
    }

    private static ProjectDto ToDto(Project p, ProjectRole? role) =>
        new(p.Id, p.Slug, p.Name, p.Description, p.IsArchived, p.CreatedAt, role?.ToString().ToLowerInvariant());
}
