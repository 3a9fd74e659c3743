using System.Security.Claims;
using Cube.Core.Identity;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;

namespace Cube.Core.Apis;

public sealed record SignInRequest(string UserName, string Password);
public sealed record UserDto(Guid Id, string UserName, string DisplayName, bool IsAdmin, bool IsDisabled, DateTimeOffset CreatedAt)
{
    public static UserDto From(User u) => new(u.Id, u.UserName, u.DisplayName, u.IsAdmin, u.IsDisabled, u.CreatedAt);
}

/// <summary>Browser sign-in with a cookie; scripts use API tokens instead.</summary>
public static class AuthApi
{
    public static IEndpointRouteBuilder MapAuthApi(this IEndpointRouteBuilder endpoints)
    {
        var group = endpoints.MapGroup("/api/auth").WithTags("Identity");
        group.MapPost("/sign-in", SignInAsync).WithName("SignIn").WithSummary("Signs in with user name and password and sets the session cookie.")
            .AllowAnonymous();
        group.MapPost("/sign-out", SignOutAsync).WithName("SignOut").WithSummary("Ends the cookie session.")
            .RequireAuthorization(CubePolicies.User);
        return endpoints;
    }

    private static async Task<Results<Ok<UserDto>, ProblemHttpResult>> SignInAsync(SignInRequest request, IdentityService identity, HttpContext http)
    {
        var user = await identity.CheckPasswordAsync(request.UserName, request.Password, http.RequestAborted);
        if (user is null)
            return TypedResults.Problem(statusCode: 401, title: "Sign-in failed", detail: "The user name or password is wrong, or the account is disabled.");
        var principal = new ClaimsPrincipal(CubeClaims.CreateIdentity(user, CookieAuthenticationDefaults.AuthenticationScheme));
        await http.SignInAsync(CookieAuthenticationDefaults.AuthenticationScheme, principal);
        return TypedResults.Ok(UserDto.From(user));
    }

    private static async Task<NoContent> SignOutAsync(HttpContext http, CancellationToken cancellationToken)
    {
        await http.SignOutAsync(CookieAuthenticationDefaults.AuthenticationScheme);
        return TypedResults.NoContent();
    }
}
