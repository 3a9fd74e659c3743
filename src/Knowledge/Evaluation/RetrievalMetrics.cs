namespace Cube.Knowledge.Evaluation;

/// <summary>Scores of one run over a query set, averaged over the judged queries (BEIR semantics).</summary>
public sealed record EvaluationScores(double NdcgAt10, double RecallAtK, double MrrAt10, int Queries, int K);

/// <summary>
/// Standard retrieval metrics over graded relevance judgments (qrels: query → document → grade &gt; 0 relevant).
/// Only queries that have judgments are scored, as BEIR does; a query with no results scores 0.
/// </summary>
public static class RetrievalMetrics
{
    /// <summary>nDCG@k with gain = grade and log2 discount (the trec_eval formula BEIR uses).</summary>
    public static double Ndcg(IReadOnlyList<string> ranked, IReadOnlyDictionary<string, int> judgments, int k)
    {
        var dcg = 0.0;
        for (var i = 0; i < Math.Min(k, ranked.Count); i++)
            if (judgments.TryGetValue(ranked[i], out var grade) && grade > 0) dcg += grade / Math.Log2(i + 2);
        var ideal = judgments.Values.Where(g => g > 0).OrderDescending().Take(k).Select((g, i) => g / Math.Log2(i + 2)).Sum();
        return ideal == 0 ? 0 : dcg / ideal;
    }

    public static double Recall(IReadOnlyList<string> ranked, IReadOnlyDictionary<string, int> judgments, int k)
    {
        var relevant = judgments.Where(j => j.Value > 0).Select(j => j.Key).ToHashSet(StringComparer.Ordinal);
        return relevant.Count == 0 ? 0 : (double)ranked.Take(k).Distinct(StringComparer.Ordinal).Count(relevant.Contains) / relevant.Count;
    }

    public static double ReciprocalRank(IReadOnlyList<string> ranked, IReadOnlyDictionary<string, int> judgments, int k)
    {
        for (var i = 0; i < Math.Min(k, ranked.Count); i++)
            if (judgments.TryGetValue(ranked[i], out var grade) && grade > 0) return 1.0 / (i + 1);
        return 0;
    }

    /// <summary>Averages the metrics over the queries that have judgments; <paramref name="runs"/> maps query id → ranked document ids.</summary>
    public static EvaluationScores Evaluate(IReadOnlyDictionary<string, IReadOnlyList<string>> runs, IReadOnlyDictionary<string, Dictionary<string, int>> qrels, int recallK = 100)
    {
        var judged = qrels.Where(q => q.Value.Any(j => j.Value > 0)).ToList();
        if (judged.Count == 0) return new EvaluationScores(0, 0, 0, 0, recallK);
        double ndcg = 0, recall = 0, mrr = 0;
        foreach (var (query, judgments) in judged)
        {
            var ranked = runs.TryGetValue(query, out var r) ? r : [];
            ndcg += Ndcg(ranked, judgments, 10);
            recall += Recall(ranked, judgments, recallK);
            mrr += ReciprocalRank(ranked, judgments, 10);
        }
        return new EvaluationScores(ndcg / judged.Count, recall / judged.Count, mrr / judged.Count, judged.Count, recallK);
    }

    /// <summary>Chunks to documents: the first (best-ranked) chunk of each document stands for it, as passage-level runs are scored per document.</summary>
    public static IReadOnlyList<string> Documents(IEnumerable<string> rankedChunkDocuments) => rankedChunkDocuments.Distinct(StringComparer.Ordinal).ToList();
}
