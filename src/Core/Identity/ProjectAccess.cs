using System.Security.Claims;
using Cube.Core.Data;
using Cube.Core.Errors;
using Cube.Core.Projects;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.EntityFrameworkCore;

namespace Cube.Core.Identity;

/// <summary>The caller's standing in one project, resolved once per request.</summary>
public sealed record ProjectAccessInfo(Project Project, ProjectRole? Role, bool IsAdmin)
{
    public bool Has(ProjectRole minimum) => IsAdmin || (Role is { } r && r >= minimum);
}

/// <summary>Resolves projects and the caller's role in them, for policies and for resource-based checks.</summary>
public sealed class ProjectAccess(CoreDbContext db)
{
    private const string CacheKey = "cube:project-access";

    public async Task<ProjectAccessInfo?> FindAsync(ClaimsPrincipal user, string slugOrId, CancellationToken cancellationToken = default)
    {
        var project = Guid.TryParse(slugOrId, out var id)
            ? await db.Projects.AsNoTracking().FirstOrDefaultAsync(p => p.Id == id, cancellationToken)
            : await db.Projects.AsNoTracking().FirstOrDefaultAsync(p => p.Slug == slugOrId, cancellationToken);
        return project is null ? null : await DescribeAsync(user, project, cancellationToken);
    }

    public async Task<ProjectAccessInfo?> FindAsync(ClaimsPrincipal user, Guid projectId, CancellationToken cancellationToken = default)
    {
        var project = await db.Projects.AsNoTracking().FirstOrDefaultAsync(p => p.Id == projectId, cancellationToken);
        return project is null ? null : await DescribeAsync(user, project, cancellationToken);
    }

    /// <summary>
    /// The project named by the route, with the caller holding at least <paramref name="minimum"/>. Callers who are
    /// not members get 404 rather than 403, so project names do not leak; members with a lower role get 403.
    /// </summary>
    public async Task<ProjectAccessInfo> RequireAsync(HttpContext http, ProjectRole minimum)
    {
        var info = await ResolveFromRouteAsync(http) ?? throw ProjectNotFound(http);
        if (info.Has(minimum)) return info;
        if (info.Role is null) throw ProjectNotFound(http);
        throw new ForbiddenException($"This needs the {minimum.ToString().ToLowerInvariant()} role in project '{info.Project.Slug}'.");
    }

    public async Task<ProjectAccessInfo> RequireAsync(ClaimsPrincipal user, Guid projectId, ProjectRole minimum, CancellationToken cancellationToken = default)
    {
        var info = await FindAsync(user, projectId, cancellationToken);
        if (info is null || (info.Role is null && !info.IsAdmin)) throw new NotFoundException("Project", projectId.ToString());
        return info.Has(minimum) ? info : throw new ForbiddenException($"This needs the {minimum.ToString().ToLowerInvariant()} role in project '{info.Project.Slug}'.");
    }

    internal async Task<ProjectAccessInfo?> ResolveFromRouteAsync(HttpContext http)
    {
        if (http.Items.TryGetValue(CacheKey, out var cached)) return (ProjectAccessInfo?)cached;
        var slug = http.GetRouteValue(CubePolicies.ProjectRouteValue) as string;
        var info = slug is null ? null : await FindAsync(http.User, slug, http.RequestAborted);
        http.Items[CacheKey] = info;
        return info;
    }

    private async Task<ProjectAccessInfo> DescribeAsync(ClaimsPrincipal user, Project project, CancellationToken cancellationToken)
    {
        var userId = user.GetUserId();
        ProjectRole? role = userId is null
            ? null
            : await db.ProjectMembers.AsNoTracking()
                .Where(m => m.ProjectId == project.Id && m.UserId == userId)
                .Select(m => (ProjectRole?)m.Role)
                .FirstOrDefaultAsync(cancellationToken);
        return new ProjectAccessInfo(project, role, user.IsAdmin());
    }

    private static NotFoundException ProjectNotFound(HttpContext http) =>
        new("Project", http.GetRouteValue(CubePolicies.ProjectRouteValue) as string ?? "(none)");
}

/// <summary>Backs the project policies; resolves the project from the route and caches the result for the endpoint.</summary>
internal sealed class ProjectRoleHandler(ProjectAccess access) : AuthorizationHandler<ProjectRoleRequirement>
{
    protected override async Task HandleRequirementAsync(AuthorizationHandlerContext context, ProjectRoleRequirement requirement)
    {
        if (context.Resource is not HttpContext http) return;
        if (context.User.IsAdmin())
        {
            context.Succeed(requirement);
            return;
        }
        var info = await access.ResolveFromRouteAsync(http);
        if (info is not null && info.Has(requirement.Minimum)) context.Succeed(requirement);
    }
}

public static class ProjectAccessHttpExtensions
{
    /// <summary>The project of the current route, already authorised by a project policy.</summary>
    public static async Task<Project> GetProjectAsync(this HttpContext http)
    {
        var access = http.RequestServices.GetService(typeof(ProjectAccess)) as ProjectAccess
            ?? throw new InvalidOperationException("ProjectAccess is not registered.");
        var info = await access.ResolveFromRouteAsync(http);
        return info?.Project ?? throw new NotFoundException("Project", http.GetRouteValue(CubePolicies.ProjectRouteValue) as string ?? "(none)");
    }
}
