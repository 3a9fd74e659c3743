using System.Security.Claims;

namespace Cube.Core.Identity;

public static class CubeClaims
{
    public const string UserId = ClaimTypes.NameIdentifier;
    public const string UserName = ClaimTypes.Name;
    public const string Admin = "cube:admin";
    public const string SecurityStamp = "cube:stamp";
    public const string TokenId = "cube:token";

    public static Guid? GetUserId(this ClaimsPrincipal principal) =>
        Guid.TryParse(principal.FindFirstValue(UserId), out var id) ? id : null;

    public static Guid RequireUserId(this ClaimsPrincipal principal) =>
        principal.GetUserId() ?? throw new InvalidOperationException("The request is not authenticated.");

    public static bool IsAdmin(this ClaimsPrincipal principal) => principal.HasClaim(Admin, "true");

    public static ClaimsIdentity CreateIdentity(User user, string authenticationType, Guid? tokenId = null)
    {
        var claims = new List<Claim>
        {
            new(UserId, user.Id.ToString()),
            new(UserName, user.UserName),
            new(SecurityStamp, user.SecurityStamp),
        };
        if (user.IsAdmin) claims.Add(new Claim(Admin, "true"));
        if (tokenId is { } t) claims.Add(new Claim(TokenId, t.ToString()));
        return new ClaimsIdentity(claims, authenticationType, UserName, ClaimTypes.Role);
    }
}
