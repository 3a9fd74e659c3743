using System.Security.Claims;
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
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Cube.Knowledge.Apis;

public sealed record CreateChatSessionRequest(string? Title);
public sealed record ChatSessionDto(Guid Id, Guid KnowledgeBaseId, string? Title, int MessageCount, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt);
public sealed record ChatMessageDto(int Ordinal, string Role, string Content, IReadOnlyList<Citation>? Citations, bool Extractive, DateTimeOffset CreatedAt);
public sealed record ChatSessionDetailDto(ChatSessionDto Session, IReadOnlyList<ChatMessageDto> Messages);
public sealed record SessionQuestionRequest(string Question, string? Mode, int? Passages, IReadOnlyList<string>? Tags,
    double? VectorWeight = null, bool? Rerank = null);

/// <summary>
/// Chat sessions: conversations kept on the server, so a client sends only the new question and the history (with
/// the citations of earlier answers) survives reloads and devices. A session belongs to the user who opened it;
/// other members of the project, managers included, get 404 for it.
/// </summary>
public static class ChatSessionsApi
{
    /// <summary>Earlier turns sent to the model with a new question.</summary>
    internal const int HistoryTurns = 20;

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public static IEndpointRouteBuilder MapChatSessionsApi(this IEndpointRouteBuilder endpoints)
    {
        var group = endpoints.MapGroup(KnowledgeBasesApi.Route + "/{kb}/sessions").WithTags("Knowledge").RequireAuthorization(CubePolicies.ProjectViewer);
        group.MapPost("/", CreateAsync).WithName("CreateChatSession").WithSummary("Opens a chat session with the knowledge base.");
        group.MapGet("/", ListAsync).WithName("ListChatSessions").WithSummary("The caller's chat sessions with the knowledge base, most recent first.");
        group.MapGet("/{session:guid}", GetAsync).WithName("GetChatSession").WithSummary("A session with its messages and their citations.");
        group.MapDelete("/{session:guid}", DeleteAsync).WithName("DeleteChatSession").WithSummary("Deletes a session and its messages.");
        group.MapPost("/{session:guid}/messages", AskAsync).WithName("AskInChatSession")
            .WithSummary("Asks a question in the session: the answer streams as server-sent events (delta, then done) and both turns are kept.");
        return endpoints;
    }

    private static ChatSessionDto Dto(ChatSession s) => new(s.Id, s.KnowledgeBaseId, s.Title, s.MessageCount, s.CreatedAt, s.UpdatedAt);

    private static async Task<ChatSession> FindAsync(KnowledgeDbContext db, KnowledgeBase kb, Guid session, ClaimsPrincipal user, CancellationToken cancellationToken)
    {
        var owner = user.RequireUserId();
        return await db.ChatSessions.FirstOrDefaultAsync(s => s.Id == session && s.KnowledgeBaseId == kb.Id && s.OwnerId == owner, cancellationToken)
            ?? throw new NotFoundException("Chat session", session.ToString());
    }

    private static string? CheckTitle(string? title)
    {
        var trimmed = title?.Trim();
        if (trimmed is { Length: > 200 } || (trimmed?.Any(char.IsControl) ?? false))
            throw new ValidationException("title", "A session title has at most 200 characters and no control characters.");
        return string.IsNullOrEmpty(trimmed) ? null : trimmed;
    }

    private static async Task<Created<ChatSessionDto>> CreateAsync(string kb, CreateChatSessionRequest request, HttpContext http, ClaimsPrincipal user,
        KnowledgeDbContext db, TimeProvider time, CancellationToken cancellationToken)
    {
        var found = await KnowledgeBasesApi.ResolveAsync(http, db, kb, cancellationToken);
        var now = time.GetUtcNow();
        var session = new ChatSession { KnowledgeBaseId = found.Id, OwnerId = user.RequireUserId(), Title = CheckTitle(request.Title), CreatedAt = now, UpdatedAt = now };
        db.ChatSessions.Add(session);
        await db.SaveChangesAsync(cancellationToken);
        return TypedResults.Created($"{http.Request.Path.Value?.TrimEnd('/')}/{session.Id}", Dto(session));
    }

    private static async Task<Ok<List<ChatSessionDto>>> ListAsync(string kb, HttpContext http, ClaimsPrincipal user, KnowledgeDbContext db, CancellationToken cancellationToken)
    {
        var found = await KnowledgeBasesApi.ResolveAsync(http, db, kb, cancellationToken);
        var owner = user.RequireUserId();
        var sessions = await db.ChatSessions.AsNoTracking().Where(s => s.KnowledgeBaseId == found.Id && s.OwnerId == owner)
            .OrderByDescending(s => s.UpdatedAt).ThenByDescending(s => s.Id).Take(500).ToListAsync(cancellationToken);
        return TypedResults.Ok(sessions.Select(Dto).ToList());
    }

    private static async Task<Ok<ChatSessionDetailDto>> GetAsync(string kb, Guid session, HttpContext http, ClaimsPrincipal user, KnowledgeDbContext db,
        CancellationToken cancellationToken)
    {
        var found = await FindAsync(db, await KnowledgeBasesApi.ResolveAsync(http, db, kb, cancellationToken), session, user, cancellationToken);
        var messages = await db.ChatMessages.AsNoTracking().Where(m => m.SessionId == found.Id).OrderBy(m => m.Ordinal).ToListAsync(cancellationToken);
        return TypedResults.Ok(new ChatSessionDetailDto(Dto(found), messages.Select(m => new ChatMessageDto(m.Ordinal, m.Role, m.Content,
            m.CitationsJson is null ? null : JsonSerializer.Deserialize<List<Citation>>(m.CitationsJson, Json), m.Extractive, m.CreatedAt)).ToList()));
    }

    private static async Task<NoContent> DeleteAsync(string kb, Guid session, HttpContext http, ClaimsPrincipal user, KnowledgeDbContext db, CancellationToken cancellationToken)
    {
        var found = await FindAsync(db, await KnowledgeBasesApi.ResolveAsync(http, db, kb, cancellationToken), session, user, cancellationToken);
        db.ChatSessions.Remove(found);
        await db.SaveChangesAsync(cancellationToken);
        return TypedResults.NoContent();
    }

    private static async Task AskAsync(string kb, Guid session, SessionQuestionRequest request, HttpContext http, ClaimsPrincipal user,
        KnowledgeDbContext db, ChatService chat, IOptions<KnowledgeOptions> options, TimeProvider time, CancellationToken cancellationToken)
    {
        var knowledgeBase = await KnowledgeBasesApi.ResolveAsync(http, db, kb, cancellationToken);
        var found = await FindAsync(db, knowledgeBase, session, user, cancellationToken);
        var passages = SearchApi.CheckQuestion(request.Question, request.Passages, options.Value);
        var mode = Retriever.ParseMode(request.Mode);
        var earlier = await db.ChatMessages.AsNoTracking().Where(m => m.SessionId == found.Id)
            .OrderByDescending(m => m.Ordinal).Take(HistoryTurns).ToListAsync(cancellationToken);
        var history = earlier.OrderBy(m => m.Ordinal).Select(m => new ChatTurn(m.Role, m.Content)).ToList();

        var done = await SearchApi.StreamAsync(http, chat.AnswerAsync(knowledgeBase, request.Question, history, mode, passages, request.Tags, cancellationToken,
            new SearchTuning(request.VectorWeight, request.Rerank)), cancellationToken);
        if (done is null) return;
        // Both turns are kept once the answer is complete, in one transaction; an answer cut off by the client is not kept.
        // The request token may already be cancelled by a client that hung up after the last event: the save must not depend on it.
        await AppendAsync(db, found.Id, request.Question, done, time, CancellationToken.None);
    }

    private static async Task AppendAsync(KnowledgeDbContext db, Guid sessionId, string question, ChatCompleted done, TimeProvider time, CancellationToken cancellationToken)
    {
        for (var attempt = 0; ; attempt++)
        {
            db.ChangeTracker.Clear();
            var session = await db.ChatSessions.FirstAsync(s => s.Id == sessionId, cancellationToken);
            var next = await db.ChatMessages.Where(m => m.SessionId == sessionId).MaxAsync(m => (int?)m.Ordinal, cancellationToken) + 1 ?? 0;
            var now = time.GetUtcNow();
            db.ChatMessages.Add(new ChatSessionMessage { SessionId = sessionId, Ordinal = next, Role = "user", Content = question, CreatedAt = now });
            db.ChatMessages.Add(new ChatSessionMessage
            {
                SessionId = sessionId, Ordinal = next + 1, Role = "assistant", Content = done.Answer,
                CitationsJson = JsonSerializer.Serialize(done.Citations, Json), Extractive = done.Extractive, CreatedAt = now,
            });
            session.MessageCount = next + 2;
            session.UpdatedAt = now;
            session.Title ??= question.Length <= 80 ? question.Trim() : question[..80].TrimEnd() + "…";
            try
            {
                await db.SaveChangesAsync(cancellationToken);
                return;
            }
            catch (DbUpdateException) when (attempt < 3)
            {
                // Another answer in the same session took these positions first: append after it.
            }
        }
    }
}
