namespace Cube.Core.Projects;

/// <summary>The tenancy unit: datasets, labeling work, runs and models hang on a project, and roles are granted per project.</summary>
public sealed class Project
{
    public Guid Id { get; set; } = Guid.CreateVersion7();
    /// <summary>URL-safe unique name used in routes (<c>/api/projects/{slug}/...</c>).</summary>
    public required string Slug { get; set; }
    public required string Name { get; set; }
    public string? Description { get; set; }
    public Guid CreatedBy { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public bool IsArchived { get; set; }
    /// <summary>Optimistic concurrency; exposed as the ETag.</summary>
    public long Version { get; set; } = 1;
}

public sealed class ProjectMember
{
    public Guid ProjectId { get; set; }
    public Guid UserId { get; set; }
    public ProjectRole Role { get; set; }
    public DateTimeOffset AddedAt { get; set; }
}

/// <summary>Per-project roles, from most to least privileged.</summary>
public enum ProjectRole
{
    Viewer = 0,
    Annotator = 1,
    Reviewer = 2,
    Manager = 3,
}
