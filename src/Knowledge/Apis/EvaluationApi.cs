using Cube.Core.Errors;
using Cube.Core.Identity;
using Cube.Knowledge.Data;
using Cube.Knowledge.Evaluation;
using Cube.Knowledge.Retrieval;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;

namespace Cube.Knowledge.Apis;

public sealed record EvaluationQuery(string Id, string Text);
/// <summary>A relevance judgment: <paramref name="Document"/> is a document name of the knowledge base; grade &gt; 0 is relevant.</summary>
public sealed record EvaluationJudgment(string QueryId, string Document, int Grade);
public sealed record EvaluateRequest(string? Mode, int? K, IReadOnlyList<EvaluationQuery> Queries, IReadOnlyList<EvaluationJudgment> Judgments);
public sealed record EvaluateResponse(string Mode, double NdcgAt10, double RecallAtK, double MrrAt10, int Queries, int K);

/// <summary>Measures retrieval on an existing knowledge base with the team's own queries and judgments (BEIR semantics).</summary>
public static class EvaluationApi
{
    public const int MaxQueries = 2000;

    public static IEndpointRouteBuilder MapEvaluationApi(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapPost(KnowledgeBasesApi.Route + "/{kb}/evaluate", EvaluateAsync).WithTags("Knowledge").WithName("EvaluateKnowledgeBase")
            .WithSummary("nDCG@10, Recall@k and MRR@10 of a search mode over uploaded queries and document-level judgments.")
            .RequireAuthorization(CubePolicies.ProjectViewer);
        return endpoints;
    }

    private static async Task<Ok<EvaluateResponse>> EvaluateAsync(string kb, EvaluateRequest request, HttpContext http, KnowledgeDbContext db, Retriever retriever, CancellationToken cancellationToken)
    {
        var found = await KnowledgeBasesApi.ResolveAsync(http, db, kb, cancellationToken);
        var mode = Retriever.ParseMode(request.Mode);
        var k = request.K ?? Retriever.MaxK;
        if (request.Queries is not { Count: > 0 } queries) throw new ValidationException("queries", "Send at least one query.");
        if (queries.Count > MaxQueries) throw new ValidationException("queries", $"At most {MaxQueries} queries per evaluation.");
        if (request.Judgments is not { Count: > 0 } judgments) throw new ValidationException("judgments", "Send at least one judgment.");
        var byId = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var query in queries)
            if (!byId.TryAdd(query.Id, query.Text)) throw new ValidationException("queries", $"Query id '{query.Id}' appears twice.");
        var qrels = new Dictionary<string, Dictionary<string, int>>(StringComparer.Ordinal);
        foreach (var judgment in judgments)
        {
            if (!byId.ContainsKey(judgment.QueryId)) throw new ValidationException("judgments", $"Judgment for unknown query '{judgment.QueryId}'.");
            if (!qrels.TryGetValue(judgment.QueryId, out var grades)) qrels[judgment.QueryId] = grades = new Dictionary<string, int>(StringComparer.Ordinal);
            grades[judgment.Document] = judgment.Grade;
        }
        var runs = new Dictionary<string, IReadOnlyList<string>>(StringComparer.Ordinal);
        foreach (var (id, _) in qrels)
        {
            var hits = await retriever.SearchAsync(found, byId[id], mode, k, null, null, cancellationToken);
            runs[id] = RetrievalMetrics.Documents(hits.Select(h => h.Document));
        }
        var scores = RetrievalMetrics.Evaluate(runs, qrels, k);
        return TypedResults.Ok(new EvaluateResponse(mode.ToString().ToLowerInvariant(), scores.NdcgAt10, scores.RecallAtK, scores.MrrAt10, scores.Queries, k));
    }
}
