using System.Diagnostics;
using Cube.Core.Storage;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Cube.Core.Errors;

/// <summary>Every error leaves the API as RFC 9457 problem details, with a trace id to find it in the logs.</summary>
public static class ProblemDetailsSetup
{
    public static IServiceCollection AddCubeProblemDetails(this IServiceCollection services)
    {
        services.AddProblemDetails(options => options.CustomizeProblemDetails = context =>
        {
            context.ProblemDetails.Instance ??= context.HttpContext.Request.Path;
            context.ProblemDetails.Extensions["traceId"] = Activity.Current?.Id ?? context.HttpContext.TraceIdentifier;
        });
        services.AddExceptionHandler<CubeExceptionHandler>();
        // A body or parameter that does not bind reaches the handler below, which names what did not bind, instead of
        // ending as a bare 400 with no detail.
        services.Configure<Microsoft.AspNetCore.Routing.RouteHandlerOptions>(o => o.ThrowOnBadRequest = true);
        return services;
    }

    public static IApplicationBuilder UseCubeProblemDetails(this IApplicationBuilder app)
    {
        app.UseExceptionHandler();
        // Bodiless 401/403/404/405 from authentication and routing become problem details too.
        app.UseStatusCodePages();
        return app;
    }
}

internal sealed class CubeExceptionHandler(IProblemDetailsService problems, ILogger<CubeExceptionHandler> logger) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext httpContext, Exception exception, CancellationToken cancellationToken)
    {
        ProblemDetails? problem = exception switch
        {
            ValidationException v => new HttpValidationProblemDetails(v.Errors) { Status = v.StatusCode, Title = v.Title, Detail = v.Message },
            CubeException c => Build(c.StatusCode, c.Title, c.Message, c.Extensions),
            InvalidObjectKeyException k => Build(400, "Invalid path", k.Message, new Dictionary<string, object?> { ["reason"] = k.Reason }),
            ObjectNotFoundException n => Build(404, "Not found", n.Message, null),
            Microsoft.AspNetCore.Http.BadHttpRequestException { InnerException: System.Text.Json.JsonException j } b =>
                Build(b.StatusCode, "Bad request", $"{b.Message} {JsonReason(j)}", j.Path is null ? null : new Dictionary<string, object?> { ["path"] = j.Path }),
            Microsoft.AspNetCore.Http.BadHttpRequestException b => Build(b.StatusCode, "Bad request", b.Message, null),
            OperationCanceledException when httpContext.RequestAborted.IsCancellationRequested => null,
            _ => null,
        };
        if (problem is null)
        {
            if (httpContext.RequestAborted.IsCancellationRequested) return true; // the client left; nobody to answer
            logger.LogError(exception, "Unhandled error on {Method} {Path}", httpContext.Request.Method, httpContext.Request.Path);
            problem = Build(500, "Internal server error", "An unexpected error occurred; the trace id identifies it in the server log.", null);
        }
        httpContext.Response.StatusCode = problem.Status!.Value;
        return await problems.TryWriteAsync(new ProblemDetailsContext { HttpContext = httpContext, ProblemDetails = problem, Exception = exception });
    }

    /// <summary>The JSON error without the reader's byte positions: what failed and where in the document.</summary>
    private static string JsonReason(System.Text.Json.JsonException e)
    {
        var message = e.Message;
        var cut = message.IndexOf(" | LineNumber", StringComparison.Ordinal);
        return cut > 0 ? message[..cut] : message;
    }

    private static ProblemDetails Build(int status, string title, string detail, IDictionary<string, object?>? extensions)
    {
        var problem = new ProblemDetails { Status = status, Title = title, Detail = detail };
        if (extensions is not null)
            foreach (var (key, value) in extensions) problem.Extensions[key] = value;
        return problem;
    }
}
