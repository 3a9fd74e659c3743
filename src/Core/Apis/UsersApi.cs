using Cube.Core.Data;
using Cube.Core.Errors;
using Cube.Core.Identity;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Microsoft.EntityFrameworkCore;

namespace Cube.Core.Apis;

public sealed record CreateUserRequest(string UserName, string Password, string? DisplayName, bool IsAdmin);
public sealed record UpdateUserRequest(bool? IsAdmin, bool? IsDisabled, string? DisplayName);

/// <summary>User administration (global admins only).</summary>
public static class UsersApi
{
    public static IEndpointRouteBuilder MapUsersApi(this IEndpointRouteBuilder endpoints)
    {
        var group = endpoints.MapGroup("/api/users").WithTags("Identity");
        group.MapGet("/", ListAsync).WithName("ListUsers").WithSummary("Lists users, for picking project members.")
            .RequireAuthorization(CubePolicies.User);
        group.MapPost("/", CreateAsync).WithName("CreateUser").WithSummary("Creates a user.")
            .RequireAuthorization(CubePolicies.Admin);
        group.MapPatch("/{id:guid}", UpdateAsync).WithName("UpdateUser").WithSummary("Grants or removes admin, disables or enables a user.")
            .RequireAuthorization(CubePolicies.Admin);
        return endpoints;
    }

    private static async Task<Ok<Page<UserDto>>> ListAsync(CoreDbContext db, string? search, string? cursor, int? limit, CancellationToken cancellationToken)
    {
        var take = Cursor.Limit(limit);
        var after = Cursor.Decode(cursor);
        var query = db.Users.AsNoTracking();
        if (!string.IsNullOrWhiteSpace(search))
        {
            var normalized = User.Normalize(search);
            query = query.Where(u => u.NormalizedUserName.Contains(normalized));
        }
        if (after is { } a) query = query.Where(u => u.Id > a);
        var rows = await query.OrderBy(u => u.Id).Take(take + 1).ToListAsync(cancellationToken);
        return TypedResults.Ok(Cursor.Build(rows.Select(UserDto.From).ToList(), take, u => u.Id));
    }

    private static async Task<Created<UserDto>> CreateAsync(CreateUserRequest request, IdentityService identity, CancellationToken cancellationToken)
    {
        var user = await identity.CreateUserAsync(request.UserName, request.Password, request.IsAdmin, request.DisplayName, cancellationToken);
        return TypedResults.Created($"/api/users/{user.Id}", UserDto.From(user));
    }

    private static async Task<Ok<UserDto>> UpdateAsync(Guid id, UpdateUserRequest request, CoreDbContext db, HttpContext http, CancellationToken cancellationToken)
    {
        var user = await db.Users.FirstOrDefaultAsync(u => u.Id == id, cancellationToken) ?? throw new NotFoundException("User", id.ToString());
        if (user.Id == http.User.GetUserId() && (request.IsAdmin == false || request.IsDisabled == true))
            throw new ConflictException("Administrators cannot demote or disable themselves; ask another administrator.");
        if (request.IsAdmin is { } admin) user.IsAdmin = admin;
        if (request.IsDisabled is { } disabled) user.IsDisabled = disabled;
        if (request.DisplayName is { } name) user.DisplayName = name.Trim();
        user.SecurityStamp = Guid.NewGuid().ToString("N");
        await db.SaveChangesAsync(cancellationToken);
        return TypedResults.Ok(UserDto.From(user));
    }
}
