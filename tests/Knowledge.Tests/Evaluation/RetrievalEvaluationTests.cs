using Cube.Knowledge.Embeddings;
using Cube.Knowledge.Evaluation;
using Cube.Knowledge.Indexing;
using Microsoft.Extensions.Options;

namespace Cube.Knowledge.Tests.Evaluation;

public sealed class RetrievalEvaluationTests(ITestOutputHelper output)
{
    private static readonly Dictionary<string, int> OneRelevant = new() { ["d2"] = 1 };

    [Fact]
    public void Metrics_MatchHandComputedValues()
    {
        Assert.Equal(1.0, RetrievalMetrics.Ndcg(["d2", "d1"], OneRelevant, 10));
        Assert.Equal(1 / Math.Log2(3), RetrievalMetrics.Ndcg(["d1", "d2"], OneRelevant, 10), 12);
        Assert.Equal(0.0, RetrievalMetrics.Ndcg(["d1", "d3"], OneRelevant, 10));
        Assert.Equal(0.5, RetrievalMetrics.ReciprocalRank(["d1", "d2"], OneRelevant, 10));
        Assert.Equal(0.0, RetrievalMetrics.ReciprocalRank(["d1", "d2"], OneRelevant, 1));
        var graded = new Dictionary<string, int> { ["a"] = 2, ["b"] = 1, ["c"] = 0 };
        // DCG = 1/log2(2)·0 + 1/log2(3)·1 + 2/log2(4); IDCG = 2 + 1/log2(3).
        Assert.Equal((1 / Math.Log2(3) + 2 / Math.Log2(4)) / (2 + 1 / Math.Log2(3)), RetrievalMetrics.Ndcg(["c", "b", "a"], graded, 10), 12);
        Assert.Equal(0.5, RetrievalMetrics.Recall(["a", "c"], graded, 100));
    }

    [Fact]
    public void Evaluate_ScoresOnlyJudgedQueries_AndMissingRunsAsZero()
    {
        var qrels = new Dictionary<string, Dictionary<string, int>> { ["q1"] = OneRelevant, ["q2"] = new() { ["x"] = 1 } };
        var runs = new Dictionary<string, IReadOnlyList<string>> { ["q1"] = ["d2"], ["q-unjudged"] = ["d9"] };
        var scores = RetrievalMetrics.Evaluate(runs, qrels);
        Assert.Equal(2, scores.Queries);
        Assert.Equal(0.5, scores.NdcgAt10, 12);
        Assert.Equal(0.5, scores.MrrAt10, 12);
    }

    /// <summary>
    /// The fixture collection (tests/Knowledge.Tests/Fixtures/eval, BEIR format) mixes queries with misspellings and
    /// word-form changes, which the sub-word vectors catch and BM25 misses, with queries whose rare exact terms BM25
    /// ranks best; fused ranking must be at least as good as either ranker alone on it.
    /// </summary>
    [Fact]
    public async Task Hybrid_IsAtLeastAsGoodAsBm25AndVector_OnTheFixtureCollection()
    {
        var dataset = BeirDataset.Load(Path.Combine(AppContext.BaseDirectory, "Fixtures", "eval"));
        var root = Path.Combine(Path.GetTempPath(), "cube-kb-eval-" + Guid.NewGuid().ToString("N"));
        try
        {
            using var index = new EmbeddedIndex(root);
            using var ai = new KnowledgeAi(Options.Create(new KnowledgeOptions()));
            var evaluator = new BeirEvaluator(index, ai, new ChunkingOptions());
            var kb = Guid.NewGuid();
            await evaluator.IngestAsync(kb, dataset);

            var bm25 = await evaluator.EvaluateAsync(kb, dataset, SearchMode.Bm25);
            var vector = await evaluator.EvaluateAsync(kb, dataset, SearchMode.Vector);
            var hybrid = await evaluator.EvaluateAsync(kb, dataset, SearchMode.Hybrid);
            foreach (var (name, s) in new[] { ("bm25", bm25), ("vector", vector), ("hybrid", hybrid) })
                output.WriteLine($"{name}: nDCG@10 {s.NdcgAt10:F4}  Recall@100 {s.RecallAtK:F4}  MRR@10 {s.MrrAt10:F4}");

            Assert.Equal(dataset.Qrels.Count, hybrid.Queries);
            Assert.True(hybrid.NdcgAt10 >= bm25.NdcgAt10 && hybrid.NdcgAt10 >= vector.NdcgAt10, $"nDCG@10 hybrid {hybrid.NdcgAt10:F4}, bm25 {bm25.NdcgAt10:F4}, vector {vector.NdcgAt10:F4}");
            Assert.True(hybrid.MrrAt10 >= bm25.MrrAt10 && hybrid.MrrAt10 >= vector.MrrAt10, $"MRR@10 hybrid {hybrid.MrrAt10:F4}, bm25 {bm25.MrrAt10:F4}, vector {vector.MrrAt10:F4}");
            Assert.True(hybrid.RecallAtK >= Math.Max(bm25.RecallAtK, vector.RecallAtK));
            // Neither ranker alone is perfect on this collection, so the comparison means something.
            Assert.True(bm25.NdcgAt10 < 1 && vector.NdcgAt10 < 1, $"bm25 {bm25.NdcgAt10:F4}, vector {vector.NdcgAt10:F4}");
        }
        finally
        {
            if (Directory.Exists(root)) Directory.Delete(root, recursive: true);
        }
    }
}
