namespace Cube.Labeling.Quality;

/// <summary>
/// The final label of one item with the model's confidence in it, and the full distribution over labels
/// (vote shares for majority vote, posteriors for Dawid–Skene).
/// </summary>
public sealed record ConsensusLabel(string Item, string Label, double Confidence, IReadOnlyDictionary<string, double> Distribution)
{
    /// <summary>
    /// Credit for this label against the truth: labels tied at the top share it, so a two-way tie that contains
    /// the truth scores ½. This makes accuracy deterministic whatever order ties are broken in.
    /// </summary>
    public double Credit(string truth)
    {
        var top = Distribution.Values.Max();
        var tied = Distribution.Count(p => Math.Abs(p.Value - top) <= 1e-12);
        return Distribution.TryGetValue(truth, out var p) && Math.Abs(p - top) <= 1e-12 ? 1.0 / tied : 0.0;
    }
}

/// <summary>How well consensus labels match gold truth.</summary>
public sealed record ConsensusScore(double Accuracy, int Scored, int MissingFromAnswers);

/// <summary>Consensus for classification: majority vote and Dawid–Skene.</summary>
public static class ClassificationConsensus
{
    /// <summary>Each item's most voted label; confidence is its vote share; ties break by ordinal label order.</summary>
    public static List<ConsensusLabel> MajorityVote(IEnumerable<CrowdAnswer> answers)
    {
        var result = new List<ConsensusLabel>();
        foreach (var item in answers.GroupBy(a => a.Question, StringComparer.Ordinal))
        {
            var votes = item.GroupBy(a => a.Answer, StringComparer.Ordinal).ToDictionary(g => g.Key, g => (double)g.Count(), StringComparer.Ordinal);
            var total = votes.Values.Sum();
            var distribution = votes.ToDictionary(v => v.Key, v => v.Value / total, StringComparer.Ordinal);
            result.Add(Pick(item.Key, distribution));
        }
        return result;
    }

    /// <summary>
    /// Dawid–Skene: each worker has a confusion matrix (probability of answering l when the truth is k); EM alternates
    /// estimating the true-label posteriors and the matrices, starting from majority-vote shares. Deterministic.
    /// </summary>
    /// <remarks><paramref name="smoothing"/> is a pseudo-count added to every confusion cell so a worker seen once is not certain.</remarks>
    public static List<ConsensusLabel> DawidSkene(IEnumerable<CrowdAnswer> answers, int maxIterations = 200, double tolerance = 1e-7, double smoothing = 0.01)
    {
        var list = answers as IReadOnlyList<CrowdAnswer> ?? [.. answers];
        var labels = list.Select(a => a.Answer).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToArray();
        var items = list.Select(a => a.Question).Distinct(StringComparer.Ordinal).ToArray();
        var workers = list.Select(a => a.Worker).Distinct(StringComparer.Ordinal).ToArray();
        if (items.Length == 0) return [];
        var labelIndex = Index(labels);
        var itemIndex = Index(items);
        var workerIndex = Index(workers);
        int k = labels.Length, n = items.Length, w = workers.Length;

        // Answers as index triples; a worker answering the same item twice counts twice, as in majority vote.
        var triples = list.Select(a => (Item: itemIndex[a.Question], Worker: workerIndex[a.Worker], Label: labelIndex[a.Answer])).ToArray();
        // Answers grouped by item in flat arrays (offsets per item), so the E-step walks memory in order.
        var offsets = new int[n + 1];
        foreach (var t in triples) offsets[t.Item + 1]++;
        for (var i = 0; i < n; i++) offsets[i + 1] += offsets[i];
        var cursor = (int[])offsets.Clone();
        var answerWorker = new int[triples.Length];
        var answerLabel = new int[triples.Length];
        foreach (var t in triples)
        {
            var at = cursor[t.Item]++;
            answerWorker[at] = t.Worker;
            answerLabel[at] = t.Label;
        }

        var posterior = new double[n, k];
        foreach (var t in triples) posterior[t.Item, t.Label] += 1;
        for (var i = 0; i < n; i++) Normalise(posterior, i, k);

        var prior = new double[k];
        var confusion = new double[w, k, k];
        var logConfusion = new double[w * k * k];
        for (var iteration = 0; iteration < maxIterations; iteration++)
        {
            // M-step: class priors and each worker's confusion matrix from the current posteriors.
            Array.Clear(prior);
            for (var i = 0; i < n; i++) for (var c = 0; c < k; c++) prior[c] += posterior[i, c];
            for (var c = 0; c < k; c++) prior[c] /= n;
            for (var j = 0; j < w; j++) for (var c = 0; c < k; c++) for (var l = 0; l < k; l++) confusion[j, c, l] = smoothing;
            foreach (var t in triples) for (var c = 0; c < k; c++) confusion[t.Worker, c, t.Label] += posterior[t.Item, c];
            for (var j = 0; j < w; j++)
                for (var c = 0; c < k; c++)
                {
                    var row = 0.0;
                    for (var l = 0; l < k; l++) row += confusion[j, c, l];
                    for (var l = 0; l < k; l++) logConfusion[(j * k + c) * k + l] = Math.Log(confusion[j, c, l] /= row);
                }

            // E-step: posteriors in log space (products of many small probabilities underflow).
            var change = 0.0;
            var logs = new double[k];
            for (var i = 0; i < n; i++)
            {
                for (var c = 0; c < k; c++)
                {
                    var log = Math.Log(Math.Max(prior[c], 1e-300));
                    for (var a = offsets[i]; a < offsets[i + 1]; a++) log += logConfusion[(answerWorker[a] * k + c) * k + answerLabel[a]];
                    logs[c] = log;
                }
                var max = logs.Max();
                var sum = 0.0;
                for (var c = 0; c < k; c++) sum += logs[c] = Math.Exp(logs[c] - max);
                for (var c = 0; c < k; c++)
                {
                    var p = logs[c] / sum;
                    change = Math.Max(change, Math.Abs(p - posterior[i, c]));
                    posterior[i, c] = p;
                }
            }
            if (change < tolerance) break;
        }

        var result = new List<ConsensusLabel>(n);
        for (var i = 0; i < n; i++)
        {
            var distribution = new Dictionary<string, double>(StringComparer.Ordinal);
            for (var c = 0; c < k; c++) distribution[labels[c]] = posterior[i, c];
            result.Add(Pick(items[i], distribution));
        }
        return result;
    }

    /// <summary>Accuracy over the truth's items that have answers, with tied labels sharing credit.</summary>
    public static ConsensusScore Score(IEnumerable<ConsensusLabel> labels, IReadOnlyDictionary<string, string> truth)
    {
        var byItem = labels.ToDictionary(l => l.Item, StringComparer.Ordinal);
        double credit = 0;
        int scored = 0, missing = 0;
        foreach (var (item, answer) in truth)
        {
            if (!byItem.TryGetValue(item, out var label)) { missing++; continue; }
            credit += label.Credit(answer);
            scored++;
        }
        return new ConsensusScore(scored == 0 ? 0 : credit / scored, scored, missing);
    }

    private static ConsensusLabel Pick(string item, Dictionary<string, double> distribution)
    {
        var best = distribution.OrderByDescending(p => p.Value).ThenBy(p => p.Key, StringComparer.Ordinal).First();
        return new ConsensusLabel(item, best.Key, best.Value, distribution);
    }

    private static Dictionary<string, int> Index(string[] values)
    {
        var index = new Dictionary<string, int>(values.Length, StringComparer.Ordinal);
        for (var i = 0; i < values.Length; i++) index[values[i]] = i;
        return index;
    }

    private static void Normalise(double[,] rows, int row, int width)
    {
        var sum = 0.0;
        for (var c = 0; c < width; c++) sum += rows[row, c];
        for (var c = 0; c < width; c++) rows[row, c] /= sum;
    }
}
