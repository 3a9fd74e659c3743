using System.Text.Json;
using System.Text.Json.Serialization;
using Cube.Core.Errors;
using Cube.Core.Identity;
using Cube.Knowledge.Chat;
using Cube.Knowledge.Data;
using Cube.Knowledge.Indexing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Options;

namespace Cube.Knowledge.Apis;

public sealed record OpenAiMessage(string Role, string? Content);
public sealed record OpenAiChatRequest(string Model, IReadOnlyList<OpenAiMessage> Messages, bool? Stream);

/// <summary>
/// An OpenAI-compatible <c>/v1/chat/completions</c> per project, where <c>model</c> names a knowledge base, so existing
/// chat clients (pointed at <c>/api/projects/{project}/knowledge/v1</c> with a Cube API token) get grounded answers.
/// The last user message is the question, earlier turns are history; citations come back in a <c>citations</c> field.
/// </summary>
public static class OpenAiCompatibleApi
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { DefaultIgnoreCondition = JsonIgnoreCondition.Never };

    public static IEndpointRouteBuilder MapOpenAiCompatibleApi(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapPost(KnowledgeBasesApi.Route + "/v1/chat/completions", CompleteAsync).WithTags("Knowledge").WithName("KnowledgeChatCompletions")
            .WithSummary("OpenAI-compatible chat completions; 'model' is the knowledge base name or id.")
            .RequireAuthorization(CubePolicies.ProjectViewer);
        return endpoints;
    }

    private static async Task CompleteAsync(OpenAiChatRequest request, HttpContext http, KnowledgeDbContext db, ChatService chat,
        IOptions<KnowledgeOptions> options, TimeProvider time, CancellationToken cancellationToken)
    {
        if (string.IsNullOrWhiteSpace(request.Model)) throw new ValidationException("model", "Name the knowledge base in 'model'.");
        var kb = await KnowledgeBasesApi.ResolveAsync(http, db, request.Model, cancellationToken);
        var turns = (request.Messages ?? []).Where(m => m.Role is "user" or "assistant" && !string.IsNullOrWhiteSpace(m.Content)).ToList();
        if (turns.Count == 0 || turns[^1].Role != "user") throw new ValidationException("messages", "The last message must be a user message with the question.");
        var history = turns[..^1].Select(t => new ChatTurn(t.Role, t.Content!)).ToList();
        var id = "chatcmpl-" + Guid.NewGuid().ToString("N");
        var created = time.GetUtcNow().ToUnixTimeSeconds();
        var events = chat.AnswerAsync(kb, turns[^1].Content!, history, SearchMode.Hybrid, options.Value.Chat.Passages, null, cancellationToken);

        if (request.Stream != true)
        {
            ChatCompleted? done = null;
            await foreach (var e in events) done = e as ChatCompleted ?? done;
            await http.Response.WriteAsJsonAsync(new
            {
                id, @object = "chat.completion", created, model = kb.Name,
                choices = new[] { new { index = 0, message = new { role = "assistant", content = done!.Answer }, finish_reason = "stop" } },
                citations = done.Citations,
            }, Json, cancellationToken);
            return;
        }

        await using var enumerator = events.GetAsyncEnumerator(cancellationToken);
        var more = await enumerator.MoveNextAsync();
        http.Response.ContentType = "text/event-stream";
        http.Response.Headers.CacheControl = "no-cache";
        var first = true;
        while (more)
        {
            object chunk = enumerator.Current switch
            {
                ChatDelta delta => new
                {
                    id, @object = "chat.completion.chunk", created, model = kb.Name,
                    choices = new[] { new { index = 0, delta = (object)(first ? new { role = "assistant", content = delta.Text } : new { content = delta.Text }), finish_reason = (string?)null } },
                },
                ChatCompleted done => new
                {
                    id, @object = "chat.completion.chunk", created, model = kb.Name,
                    choices = new[] { new { index = 0, delta = (object)new { }, finish_reason = (string?)"stop" } },
                    citations = done.Citations,
                },
                _ => new { },
            };
            first = false;
            await http.Response.WriteAsync("data: " + JsonSerializer.Serialize(chunk, Json) + "\n\n", cancellationToken);
            await http.Response.Body.FlushAsync(cancellationToken);
            more = await enumerator.MoveNextAsync();
        }
        await http.Response.WriteAsync("data: [DONE]\n\n", cancellationToken);
    }
}
