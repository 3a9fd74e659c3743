using Cube.Core.Projects;
using Microsoft.AspNetCore.Authorization;

namespace Cube.Core.Identity;

/// <summary>
/// Every endpoint names one of these. Project policies read the project slug from the <c>{project}</c> route value;
/// roles are ordered (viewer &lt; annotator &lt; reviewer &lt; manager) and global admins pass every policy.
/// </summary>
public static class CubePolicies
{
    public const string User = "cube:user";
    public const string Admin = "cube:admin";
    public const string ProjectViewer = "project:viewer";
    public const string ProjectAnnotator = "project:annotator";
    public const string ProjectReviewer = "project:reviewer";
    public const string ProjectManager = "project:manager";

    /// <summary>The route parameter project policies read.</summary>
    public const string ProjectRouteValue = "project";

    internal static void Configure(AuthorizationOptions options)
    {
        options.AddPolicy(User, p => p.RequireAuthenticatedUser());
        options.AddPolicy(Admin, p => p.RequireAuthenticatedUser().RequireClaim(CubeClaims.Admin, "true"));
        options.AddPolicy(ProjectViewer, p => p.RequireAuthenticatedUser().AddRequirements(new ProjectRoleRequirement(ProjectRole.Viewer)));
        options.AddPolicy(ProjectAnnotator, p => p.RequireAuthenticatedUser().AddRequirements(new ProjectRoleRequirement(ProjectRole.Annotator)));
        options.AddPolicy(ProjectReviewer, p => p.RequireAuthenticatedUser().AddRequirements(new ProjectRoleRequirement(ProjectRole.Reviewer)));
        options.AddPolicy(ProjectManager, p => p.RequireAuthenticatedUser().AddRequirements(new ProjectRoleRequirement(ProjectRole.Manager)));
        // Anything mapped without a policy still needs a signed-in user; the endpoint audit test forbids relying on this.
        options.FallbackPolicy = options.GetPolicy(User);
    }

    public static string ForRole(ProjectRole role) => role switch
    {
        ProjectRole.Viewer => ProjectViewer,
        ProjectRole.Annotator => ProjectAnnotator,
        ProjectRole.Reviewer => ProjectReviewer,
        _ => ProjectManager,
    };
}

public sealed record ProjectRoleRequirement(ProjectRole Minimum) : IAuthorizationRequirement;
