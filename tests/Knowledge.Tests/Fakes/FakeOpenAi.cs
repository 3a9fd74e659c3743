using System.Text.Json;
using System.Text.RegularExpressions;
using Cube.Testing;
using Microsoft.AspNetCore.Http;

namespace Cube.Knowledge.Tests.Fakes;

/// <summary>
/// A stand-in for an OpenAI-compatible chat server: it streams <c>/v1/chat/completions</c> chunks as SSE. Its answer
/// cites the passage whose text contains "retention lock" (found by parsing the prompt, like a model reading it) and
/// also an out-of-range passage number, so citation validation has something to reject.
/// </summary>
public static partial class FakeOpenAi
{
    public static Task<FakeHttpServer> StartAsync() => FakeHttpServer.StartAsync(HandleAsync);

    private static async Task HandleAsync(HttpContext context, RecordedRequest request)
    {
        if (request.PathAndQuery.StartsWith("/v1/rerank", StringComparison.Ordinal))
        {
            await RerankAsync(context, request);
            return;
        }
        if (!request.PathAndQuery.StartsWith("/v1/chat/completions", StringComparison.Ordinal))
        {
            await FakeHttpServer.Json(context, 404, """{"error":{"message":"not found","type":"invalid_request_error"}}""");
            return;
        }
        using var json = JsonDocument.Parse(request.Body);
        var prompt = json.RootElement.GetProperty("messages").EnumerateArray().Last().GetProperty("content").ToString();
        var cited = PassagePattern().Matches(prompt).FirstOrDefault(m => m.Groups[2].Value.Contains("retention lock", StringComparison.OrdinalIgnoreCase))?.Groups[1].Value;
        var answer = cited is null
            ? "I do not know."
            : $"The export fails because the bucket's retention lock is active [{cited}]. Remove the lock and retry [{cited}][99].";
        context.Response.ContentType = "text/event-stream";
        var pieces = Regex.Split(answer, @"(?<= )");
        var first = true;
        foreach (var piece in pieces)
        {
            var delta = first ? new Dictionary<string, string> { ["role"] = "assistant", ["content"] = piece } : new Dictionary<string, string> { ["content"] = piece };
            first = false;
            await WriteAsync(context, new { id = "chatcmpl-1", @object = "chat.completion.chunk", created = 1_700_000_000, model = "fake", choices = new[] { new { index = 0, delta, finish_reason = (string?)null } } });
        }
        await WriteAsync(context, new { id = "chatcmpl-1", @object = "chat.completion.chunk", created = 1_700_000_000, model = "fake", choices = new[] { new { index = 0, delta = new Dictionary<string, string>(), finish_reason = "stop" } } });
        await context.Response.WriteAsync("data: [DONE]\n\n");
    }

    /// <summary>A cross-encoder stand-in: passages about the second region are relevant, whatever the query; answered out of order.</summary>
    private static Task RerankAsync(HttpContext context, RecordedRequest request)
    {
        using var json = JsonDocument.Parse(request.Body);
        var documents = json.RootElement.GetProperty("documents").EnumerateArray().Select(d => d.GetString()!).ToList();
        var results = documents.Select((text, index) => new { index, relevance_score = text.Contains("second region", StringComparison.Ordinal) ? 0.95 : 0.05 })
            .Reverse().ToList();
        return FakeHttpServer.Json(context, 200, JsonSerializer.Serialize(new { id = "rerank-1", results }));
    }

    private static async Task WriteAsync(HttpContext context, object chunk)
    {
        await context.Response.WriteAsync("data: " + JsonSerializer.Serialize(chunk) + "\n\n");
        await context.Response.Body.FlushAsync();
    }

    [GeneratedRegex("<passage n=\"(\\d+)\"[^>]*>(.*?)</passage>", RegexOptions.Singleline)]
    private static partial Regex PassagePattern();
}
