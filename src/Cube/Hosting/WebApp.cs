using Microsoft.Extensions.FileProviders;
using Microsoft.Net.Http.Headers;

namespace Cube.Hosting;

/// <summary>
/// The browser app (web/, built by Vite) served by the same host as the API: its static files anonymously, and
/// index.html for every other GET that is not an API route, so client-side paths survive a reload.
/// </summary>
internal static class WebApp
{
    /// <summary>Where the built app lives; the build copies web/dist beside cube.dll as <c>web/</c>.</summary>
    public const string RootSetting = "Cube:Web:Root";

    /// <summary>Serves the static files; call before authentication so assets and the shell need no sign-in.</summary>
    public static string? UseWebAppFiles(this WebApplication app)
    {
        var root = app.Configuration[RootSetting] is { Length: > 0 } configured ? Path.GetFullPath(configured) : Path.Combine(AppContext.BaseDirectory, "web");
        if (!File.Exists(Path.Combine(root, "index.html")))
        {
            app.Logger.LogInformation("No web app at {Root}: serving the API only (build web/ with npm to get the UI)", root);
            return null;
        }
        app.UseStaticFiles(new StaticFileOptions
        {
            FileProvider = new PhysicalFileProvider(root),
            OnPrepareResponse = context =>
            {
                // Vite names assets by content hash, so they never change; index.html must always be revalidated.
                var immutable = context.Context.Request.Path.StartsWithSegments("/assets", StringComparison.Ordinal);
                context.Context.Response.Headers[HeaderNames.CacheControl] = immutable ? "public, max-age=31536000, immutable" : "no-cache";
            },
        });
        return root;
    }

    /// <summary>The SPA fallback: client routes get index.html; unknown API routes stay 404 problem details.</summary>
    public static void MapWebAppFallback(this WebApplication app, string root)
    {
        var index = Path.Combine(root, "index.html");
        app.MapFallback("{*path:nonfile}", (HttpContext http) =>
        {
            if (http.Request.Path.StartsWithSegments("/api", StringComparison.OrdinalIgnoreCase) || !HttpMethods.IsGet(http.Request.Method) && !HttpMethods.IsHead(http.Request.Method))
                return Results.Problem(statusCode: StatusCodes.Status404NotFound, title: "Not Found", detail: $"No endpoint answers {http.Request.Method} {http.Request.Path}.");
            http.Response.Headers[HeaderNames.CacheControl] = "no-cache";
            return Results.File(index, "text/html; charset=utf-8");
        })
        // GET and HEAD only: a fallback for every method would out-rank routing's own answers for real endpoints
        // (415 for a content type an endpoint does not take, 405 for a method it does not have).
        .WithMetadata(new HttpMethodMetadata([HttpMethods.Get, HttpMethods.Head]))
        .AllowAnonymous().ExcludeFromDescription();
    }
}
