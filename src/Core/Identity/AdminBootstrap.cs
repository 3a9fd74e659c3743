using System.Security.Cryptography;
using Cube.Core.Data;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Cube.Core.Identity;

/// <summary>Settings for the first administrator (section <c>Cube:Admin</c>).</summary>
public sealed class AdminOptions
{
    public const string SectionName = "Cube:Admin";
    public string UserName { get; set; } = "admin";
    /// <summary>When unset, a random one-time password is generated and printed once to the console.</summary>
    public string? Password { get; set; }
}

/// <summary>Creates the first administrator on an empty user table.</summary>
public sealed class AdminBootstrap(CoreDbContext db, IdentityService identity, IOptions<AdminOptions> options, ILogger<AdminBootstrap> logger)
{
    /// <summary>Returns the generated password when one was made, so the caller can print it once.</summary>
    public async Task<string?> EnsureAdminAsync(CancellationToken cancellationToken = default)
    {
        if (await db.Users.AnyAsync(cancellationToken)) return null;
        var configured = options.Value.Password;
        var password = configured ?? Convert.ToBase64String(RandomNumberGenerator.GetBytes(18)).Replace('+', 'x').Replace('/', 'y');
        try
        {
            await identity.CreateUserAsync(options.Value.UserName, password, isAdmin: true, "Administrator", cancellationToken);
        }
        catch (Exception e) when (e is Errors.ConflictException or DbUpdateException)
        {
            return null; // another process created it first
        }
        // The password itself never goes to the log.
        logger.LogInformation("Created the first administrator '{UserName}'", options.Value.UserName);
        return configured is null ? password : null;
    }
}
