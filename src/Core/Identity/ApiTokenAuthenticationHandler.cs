using System.Text.Encodings.Web;
using Cube.Core.Data;
using Microsoft.AspNetCore.Authentication;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Cube.Core.Identity;

/// <summary>Authenticates <c>Authorization: Bearer cube_...</c> against the stored token hashes.</summary>
internal sealed class ApiTokenAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options,
    ILoggerFactory logger,
    UrlEncoder encoder,
    CoreDbContext db,
    TimeProvider time) : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    public const string SchemeName = "Bearer";

    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        string? header = Request.Headers.Authorization;
        if (header is null || !header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase)) return AuthenticateResult.NoResult();
        var token = header["Bearer ".Length..].Trim();
        // The token itself is never logged; only the hash is compared and the display prefix may appear in listings.
        if (!TokenCodec.LooksLikeToken(token)) return AuthenticateResult.Fail("Malformed bearer token.");

        var hash = TokenCodec.HashToken(token);
        var now = time.GetUtcNow();
        var row = await db.ApiTokens.AsNoTracking()
            .Where(t => t.TokenHash == hash)
            .Join(db.Users, t => t.UserId, u => u.Id, (t, u) => new { Token = t, User = u })
            .FirstOrDefaultAsync(Context.RequestAborted);
        if (row is null) return AuthenticateResult.Fail("Unknown bearer token.");
        if (!row.Token.IsActive(now)) return AuthenticateResult.Fail("The bearer token is revoked or expired.");
        if (row.User.IsDisabled) return AuthenticateResult.Fail("The user is disabled.");

        // Last-used is advisory; refreshing it at most once a minute keeps hot tokens from writing on every request.
        if (row.Token.LastUsedAt is null || now - row.Token.LastUsedAt > TimeSpan.FromMinutes(1))
        {
            await db.ApiTokens.Where(t => t.Id == row.Token.Id)
                .ExecuteUpdateAsync(s => s.SetProperty(t => t.LastUsedAt, now), Context.RequestAborted);
        }
        var principal = new System.Security.Claims.ClaimsPrincipal(CubeClaims.CreateIdentity(row.User, SchemeName, row.Token.Id));
        return AuthenticateResult.Success(new AuthenticationTicket(principal, SchemeName));
    }

    protected override Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        Response.StatusCode = 401;
        Response.Headers.WWWAuthenticate = "Bearer";
        return Task.CompletedTask;
    }
}
