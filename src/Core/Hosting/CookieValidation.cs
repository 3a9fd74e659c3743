using Cube.Core.Data;
using Cube.Core.Identity;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Cube.Core.Hosting;

/// <summary>Rejects a cookie whose user was disabled or whose credentials changed since it was issued.</summary>
internal static class CookieValidation
{
    public static async Task ValidateAsync(CookieValidatePrincipalContext context)
    {
        var userId = context.Principal?.GetUserId();
        var stamp = context.Principal?.FindFirst(CubeClaims.SecurityStamp)?.Value;
        if (userId is null || stamp is null)
        {
            context.RejectPrincipal();
            return;
        }
        var db = context.HttpContext.RequestServices.GetRequiredService<CoreDbContext>();
        var current = await db.Users.AsNoTracking().Where(u => u.Id == userId)
            .Select(u => new { u.SecurityStamp, u.IsDisabled, u.IsAdmin })
            .FirstOrDefaultAsync(context.HttpContext.RequestAborted);
        if (current is null || current.IsDisabled || current.SecurityStamp != stamp || current.IsAdmin != context.Principal!.IsAdmin())
        {
            context.RejectPrincipal();
            await context.HttpContext.SignOutAsync(CookieAuthenticationDefaults.AuthenticationScheme);
        }
    }
}
