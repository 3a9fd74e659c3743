using System.Security.Claims;
using Cube.Core.Data;
using Cube.Core.Errors;
using Cube.Core.Identity;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Microsoft.EntityFrameworkCore;

namespace Cube.Core.Apis;

public sealed record CreateTokenRequest(string Name, int? ExpiresInDays);
public sealed record TokenDto(Guid Id, string Name, string DisplayPrefix, DateTimeOffset CreatedAt, DateTimeOffset? ExpiresAt, DateTimeOffset? RevokedAt, DateTimeOffset? LastUsedAt, bool Active);
/// <summary>The only response that ever carries a token's clear text.</summary>
public sealed record CreatedTokenDto(TokenDto Token, string Secret);
public sealed record ChangePasswordRequest(string CurrentPassword, string NewPassword);
public sealed record MeDto(UserDto User, IReadOnlyList<MembershipDto> Projects);
public sealed record MembershipDto(Guid ProjectId, string Slug, string Name, string Role);

/// <summary>The caller's own account: profile, memberships, password and API tokens.</summary>
public static class MeApi
{
    public static IEndpointRouteBuilder MapMeApi(this IEndpointRouteBuilder endpoints)
    {
        var group = endpoints.MapGroup("/api/me").WithTags("Identity").RequireAuthorization(CubePolicies.User);
        group.MapGet("/", GetAsync).WithName("GetMe").WithSummary("The signed-in user and their project roles.");
        group.MapPost("/password", ChangePasswordAsync).WithName("ChangePassword").WithSummary("Changes the password; other sessions are signed out.");
        group.MapGet("/tokens", ListTokensAsync).WithName("ListTokens").WithSummary("The caller's API tokens (never their secrets).");
        group.MapPost("/tokens", CreateTokenAsync).WithName("CreateToken").WithSummary("Creates an API token; the secret is returned once.");
        group.MapDelete("/tokens/{id:guid}", RevokeTokenAsync).WithName("RevokeToken").WithSummary("Revokes an API token at once.");
        return endpoints;
    }

    internal static TokenDto ToDto(ApiToken t, DateTimeOffset now) =>
        new(t.Id, t.Name, t.DisplayPrefix, t.CreatedAt, t.ExpiresAt, t.RevokedAt, t.LastUsedAt, t.IsActive(now));

    private static async Task<Ok<MeDto>> GetAsync(ClaimsPrincipal principal, CoreDbContext db, CancellationToken cancellationToken)
    {
        var id = principal.RequireUserId();
        var user = await db.Users.AsNoTracking().FirstAsync(u => u.Id == id, cancellationToken);
        var memberships = await db.ProjectMembers.AsNoTracking().Where(m => m.UserId == id)
            .Join(db.Projects, m => m.ProjectId, p => p.Id, (m, p) => new { p.Id, p.Slug, p.Name, m.Role })
            .ToListAsync(cancellationToken);
        return TypedResults.Ok(new MeDto(UserDto.From(user),
            memberships.OrderBy(m => m.Slug, StringComparer.Ordinal).Select(m => new MembershipDto(m.Id, m.Slug, m.Name, m.Role.ToString().ToLowerInvariant())).ToList()));
    }

    private static async Task<NoContent> ChangePasswordAsync(ChangePasswordRequest request, ClaimsPrincipal principal, IdentityService identity, CancellationToken cancellationToken)
    {
        var user = await identity.CheckPasswordAsync(principal.Identity!.Name!, request.CurrentPassword, cancellationToken);
        if (user is null) throw new ForbiddenException("The current password is wrong.");
        await identity.ChangePasswordAsync(user.Id, request.NewPassword, cancellationToken);
        return TypedResults.NoContent();
    }

    private static async Task<Ok<List<TokenDto>>> ListTokensAsync(ClaimsPrincipal principal, IdentityService identity, TimeProvider time, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var tokens = await identity.ListTokensAsync(principal.RequireUserId(), cancellationToken);
        return TypedResults.Ok(tokens.Select(t => ToDto(t, now)).ToList());
    }

    private static async Task<Created<CreatedTokenDto>> CreateTokenAsync(CreateTokenRequest request, ClaimsPrincipal principal, IdentityService identity, TimeProvider time, CancellationToken cancellationToken)
    {
        var (token, secret) = await identity.CreateTokenAsync(principal.RequireUserId(), request.Name,
            request.ExpiresInDays is { } d ? TimeSpan.FromDays(d) : null, cancellationToken);
        return TypedResults.Created($"/api/me/tokens/{token.Id}", new CreatedTokenDto(ToDto(token, time.GetUtcNow()), secret));
    }

    private static async Task<NoContent> RevokeTokenAsync(Guid id, ClaimsPrincipal principal, IdentityService identity, CancellationToken cancellationToken)
    {
        await identity.RevokeTokenAsync(principal.RequireUserId(), id, cancellationToken);
        return TypedResults.NoContent();
    }
}
