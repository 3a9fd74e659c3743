using System.Collections.Concurrent;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Cube.Testing;

public sealed record RecordedRequest(string Method, string PathAndQuery, string Body, string? ContentType, string? Authorization,
    IReadOnlyDictionary<string, string> Headers);

/// <summary>A real HTTP server on a loopback port that records every request and answers through a handler.</summary>
public sealed class FakeHttpServer : IAsyncDisposable
{
    private readonly WebApplication _app;

    private FakeHttpServer(WebApplication app, string url)
    {
        _app = app;
        Url = url;
    }

    public string Url { get; }
    public ConcurrentQueue<RecordedRequest> Requests { get; } = new();

    public static async Task<FakeHttpServer> StartAsync(Func<HttpContext, RecordedRequest, Task> handler)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        FakeHttpServer? server = null;
        app.Run(async context =>
        {
            using var reader = new StreamReader(context.Request.Body);
            var body = await reader.ReadToEndAsync();
            var request = new RecordedRequest(context.Request.Method, context.Request.Path + context.Request.QueryString, body,
                context.Request.ContentType, context.Request.Headers.Authorization.ToString(),
                context.Request.Headers.ToDictionary(h => h.Key, h => h.Value.ToString(), StringComparer.OrdinalIgnoreCase));
            server!.Requests.Enqueue(request);
            await handler(context, request);
        });
        await app.StartAsync();
        server = new FakeHttpServer(app, app.Urls.First());
        return server;
    }

    public static Task Json(HttpContext context, int status, string json)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json";
        return context.Response.WriteAsync(json);
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
