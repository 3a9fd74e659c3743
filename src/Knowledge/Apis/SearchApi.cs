using System.Text.Json;
using Cube.Core.Errors;
using Cube.Core.Identity;
using Cube.Knowledge.Chat;
using Cube.Knowledge.Data;
using Cube.Knowledge.Retrieval;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Options;

namespace Cube.Knowledge.Apis;

/// <summary>
/// A search. <c>VectorWeight</c> (hybrid only) fuses by (1 − w)·BM25 + w·vector over normalised scores instead of
/// reciprocal rank; <c>Rerank</c> rescores a wider candidate set with the configured reranker (null: the configured default).
/// </summary>
public sealed record SearchRequest(string Query, string? Mode, int? K, IReadOnlyList<Guid>? Documents, IReadOnlyList<string>? Tags,
    double? VectorWeight = null, bool? Rerank = null);
public sealed record SearchResponse(string Mode, IReadOnlyList<RetrievedChunk> Hits);
public sealed record ChatRequest(string Question, string? Mode, int? Passages, IReadOnlyList<ChatTurn>? History, IReadOnlyList<string>? Tags,
    double? VectorWeight = null, bool? Rerank = null);

/// <summary>Retrieval (BM25, vector, hybrid) and chat with citations over a knowledge base; both need only the viewer role.</summary>
public static class SearchApi
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public static IEndpointRouteBuilder MapSearchApi(this IEndpointRouteBuilder endpoints)
    {
        var group = endpoints.MapGroup(KnowledgeBasesApi.Route + "/{kb}").WithTags("Knowledge");
        group.MapPost("/search", SearchAsync).WithName("SearchKnowledgeBase").WithSummary("Ranked chunks for a query: mode bm25, vector or hybrid (RRF with k=60, or weighted), optionally reranked.")
            .RequireAuthorization(CubePolicies.ProjectViewer);
        group.MapPost("/chat", ChatAsync).WithName("ChatWithKnowledgeBase")
            .WithSummary("Answers a question from the knowledge base, streamed as server-sent events (delta, then done with citations).")
            .RequireAuthorization(CubePolicies.ProjectViewer);
        return endpoints;
    }

    private static async Task<Ok<SearchResponse>> SearchAsync(string kb, SearchRequest request, HttpContext http, KnowledgeDbContext db, Retriever retriever, CancellationToken cancellationToken)
    {
        var found = await KnowledgeBasesApi.ResolveAsync(http, db, kb, cancellationToken);
        var mode = Retriever.ParseMode(request.Mode);
        var hits = await retriever.SearchAsync(found, request.Query, mode, request.K ?? 10, request.Documents, request.Tags, cancellationToken,
            new SearchTuning(request.VectorWeight, request.Rerank));
        return TypedResults.Ok(new SearchResponse(mode.ToString().ToLowerInvariant(), hits));
    }

    private static async Task ChatAsync(string kb, ChatRequest request, HttpContext http, KnowledgeDbContext db, ChatService chat,
        IOptions<KnowledgeOptions> options, CancellationToken cancellationToken)
    {
        var found = await KnowledgeBasesApi.ResolveAsync(http, db, kb, cancellationToken);
        var passages = CheckQuestion(request.Question, request.Passages, options.Value);
        var history = request.History ?? [];
        if (history.Any(t => t.Role is not ("user" or "assistant"))) throw new ValidationException("history", "History roles are 'user' or 'assistant'.");
        var mode = Retriever.ParseMode(request.Mode);
        await StreamAsync(http, chat.AnswerAsync(found, request.Question, history, mode, passages, request.Tags, cancellationToken,
            new SearchTuning(request.VectorWeight, request.Rerank)), cancellationToken);
    }

    /// <summary>Checks a question and the number of passages asked for; returns that number (the configured default when absent).</summary>
    internal static int CheckQuestion(string? question, int? passages, KnowledgeOptions options)
    {
        if (string.IsNullOrWhiteSpace(question)) throw new ValidationException("question", "The question is empty.");
        if (question.Length > 8000) throw new ValidationException("question", "The question is longer than 8,000 characters.");
        var count = passages ?? options.Chat.Passages;
        if (count is < 1 or > 50) throw new ValidationException("passages", "passages must be between 1 and 50.");
        return count;
    }

    /// <summary>
    /// Writes an answer as server-sent events (<c>delta</c> pieces, then <c>done</c>) and returns the final event.
    /// The first step retrieves and opens the model stream before any byte is written, so its errors still become problem details.
    /// </summary>
    internal static async Task<ChatCompleted?> StreamAsync(HttpContext http, IAsyncEnumerable<ChatEvent> answer, CancellationToken cancellationToken)
    {
        await using var events = answer.GetAsyncEnumerator(cancellationToken);
        var more = await events.MoveNextAsync();
        http.Response.ContentType = "text/event-stream";
        http.Response.Headers.CacheControl = "no-cache";
        http.Response.Headers["X-Accel-Buffering"] = "no";
        ChatCompleted? completed = null;
        while (more)
        {
            var (name, payload) = events.Current switch
            {
                ChatDelta delta => ("delta", JsonSerializer.Serialize(new { text = delta.Text }, Json)),
                ChatCompleted done => ("done", JsonSerializer.Serialize(completed = done, Json)),
                _ => ("unknown", "{}"),
            };
            await http.Response.WriteAsync($"event: {name}\ndata: {payload}\n\n", cancellationToken);
            await http.Response.Body.FlushAsync(cancellationToken);
            more = await events.MoveNextAsync();
        }
        return completed;
    }
}
