namespace Cube.Core.Identity;

/// <summary>A person or service account. Passwords are stored only as salted PBKDF2 hashes.</summary>
public sealed class User
{
    public Guid Id { get; set; } = Guid.CreateVersion7();
    /// <summary>Login name as typed; unique case-insensitively through <see cref="NormalizedUserName"/>.</summary>
    public required string UserName { get; set; }
    public required string NormalizedUserName { get; set; }
    public string DisplayName { get; set; } = "";
    public string? PasswordHash { get; set; }
    public bool IsAdmin { get; set; }
    public bool IsDisabled { get; set; }
    /// <summary>Changes whenever credentials change, invalidating every cookie issued before.</summary>
    public string SecurityStamp { get; set; } = Guid.NewGuid().ToString("N");
    public DateTimeOffset CreatedAt { get; set; }

    public static string Normalize(string userName) => userName.Trim().ToUpperInvariant();
}

/// <summary>
/// A bearer token for scripts and the CLI. Only its SHA-256 is stored: the token has 256 bits of entropy, so a
/// fast hash is enough and lookups stay O(1). The clear text is shown once, at creation.
/// </summary>
public sealed class ApiToken
{
    public Guid Id { get; set; } = Guid.CreateVersion7();
    public Guid UserId { get; set; }
    public required string Name { get; set; }
    /// <summary>The first characters of the token, shown in listings so a person can tell tokens apart.</summary>
    public required string DisplayPrefix { get; set; }
    public required string TokenHash { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset? ExpiresAt { get; set; }
    public DateTimeOffset? RevokedAt { get; set; }
    public DateTimeOffset? LastUsedAt { get; set; }

    public bool IsActive(DateTimeOffset now) => RevokedAt is null && (ExpiresAt is null || ExpiresAt > now);
}
