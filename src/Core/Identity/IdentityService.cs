using System.Text.RegularExpressions;
using Cube.Core.Data;
using Cube.Core.Errors;
using Microsoft.EntityFrameworkCore;

namespace Cube.Core.Identity;

/// <summary>Users and API tokens: creation, password checks, token issue and revocation.</summary>
public sealed partial class IdentityService(CoreDbContext db, PasswordHasher hasher, TimeProvider time)
{
    public const int MinPasswordLength = 10;

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9._-]{1,63}$")]
    private static partial Regex UserNamePattern();

    public async Task<User> CreateUserAsync(string userName, string password, bool isAdmin, string? displayName = null, CancellationToken cancellationToken = default)
    {
        var errors = new Dictionary<string, string[]>();
        if (!UserNamePattern().IsMatch(userName ?? ""))
            errors["userName"] = ["A user name is 2 to 64 letters, digits, '.', '_' or '-', starting with a letter or digit."];
        if ((password ?? "").Length < MinPasswordLength)
            errors["password"] = [$"A password has at least {MinPasswordLength} characters."];
        if (errors.Count > 0) throw new ValidationException(errors);

        var normalized = User.Normalize(userName!);
        if (await db.Users.AnyAsync(u => u.NormalizedUserName == normalized, cancellationToken))
            throw new ConflictException($"User '{userName}' already exists.");
        var user = new User
        {
            UserName = userName!,
            NormalizedUserName = normalized,
            DisplayName = displayName ?? userName!,
            PasswordHash = hasher.Hash(password!),
            IsAdmin = isAdmin,
            CreatedAt = time.GetUtcNow(),
        };
        db.Users.Add(user);
        await db.SaveChangesAsync(cancellationToken);
        return user;
    }

    /// <summary>The user when the password matches and the account is enabled; otherwise null (never says which part was wrong).</summary>
    public async Task<User?> CheckPasswordAsync(string userName, string password, CancellationToken cancellationToken = default)
    {
        var normalized = User.Normalize(userName ?? "");
        var user = await db.Users.AsNoTracking().FirstOrDefaultAsync(u => u.NormalizedUserName == normalized, cancellationToken);
        // Hash even for unknown users so response time does not reveal which names exist.
        var ok = hasher.Verify(password ?? "", user?.PasswordHash ?? DummyHash);
        return ok && user is { IsDisabled: false } ? user : null;
    }

    public async Task ChangePasswordAsync(Guid userId, string newPassword, CancellationToken cancellationToken = default)
    {
        if ((newPassword ?? "").Length < MinPasswordLength)
            throw new ValidationException("password", $"A password has at least {MinPasswordLength} characters.");
        var user = await db.Users.FirstOrDefaultAsync(u => u.Id == userId, cancellationToken) ?? throw new NotFoundException("User", userId.ToString());
        user.PasswordHash = hasher.Hash(newPassword!);
        user.SecurityStamp = Guid.NewGuid().ToString("N");
        await db.SaveChangesAsync(cancellationToken);
    }

    public async Task<(ApiToken Token, string ClearText)> CreateTokenAsync(Guid userId, string name, TimeSpan? lifetime, CancellationToken cancellationToken = default)
    {
        if (string.IsNullOrWhiteSpace(name) || name.Length > 100)
            throw new ValidationException("name", "A token name is 1 to 100 characters.");
        if (lifetime is { } l && (l <= TimeSpan.Zero || l > TimeSpan.FromDays(3660)))
            throw new ValidationException("expiresInDays", "A token lives between 1 day and 10 years.");
        if (!await db.Users.AnyAsync(u => u.Id == userId, cancellationToken)) throw new NotFoundException("User", userId.ToString());
        var clear = TokenCodec.NewToken();
        var now = time.GetUtcNow();
        var token = new ApiToken
        {
            UserId = userId,
            Name = name.Trim(),
            DisplayPrefix = TokenCodec.DisplayPrefix(clear),
            TokenHash = TokenCodec.HashToken(clear),
            CreatedAt = now,
            ExpiresAt = lifetime is { } life ? now + life : null,
        };
        db.ApiTokens.Add(token);
        await db.SaveChangesAsync(cancellationToken);
        return (token, clear);
    }

    public Task<List<ApiToken>> ListTokensAsync(Guid userId, CancellationToken cancellationToken = default) =>
        db.ApiTokens.AsNoTracking().Where(t => t.UserId == userId).OrderBy(t => t.Id).ToListAsync(cancellationToken);

    public async Task RevokeTokenAsync(Guid userId, Guid tokenId, CancellationToken cancellationToken = default)
    {
        var token = await db.ApiTokens.FirstOrDefaultAsync(t => t.Id == tokenId && t.UserId == userId, cancellationToken)
            ?? throw new NotFoundException("Token", tokenId.ToString());
        token.RevokedAt ??= time.GetUtcNow();
        await db.SaveChangesAsync(cancellationToken);
    }

    public Task<User?> FindUserAsync(string userName, CancellationToken cancellationToken = default)
    {
        var normalized = User.Normalize(userName);
        return db.Users.AsNoTracking().FirstOrDefaultAsync(u => u.NormalizedUserName == normalized, cancellationToken);
    }

    private static readonly string DummyHash = new PasswordHasher().Hash("not-a-real-password-0");
}
