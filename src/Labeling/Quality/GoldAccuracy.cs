namespace Cube.Labeling.Quality;

/// <summary>One annotator's score on one gold task, between 0 and 1, filed under the gold label(s) it tested.</summary>
public readonly record struct GoldScore(string Annotator, string Label, double Score);

/// <summary>An annotator's accuracy on gold tasks, overall and per label.</summary>
public sealed record AnnotatorAccuracy(string Annotator, int GoldTasks, double Accuracy, IReadOnlyDictionary<string, double> PerLabel);

/// <summary>What a quality policy says about an annotator.</summary>
public enum QualityVerdict
{
    /// <summary>Too few gold answers yet to judge, or accuracy at or above the flag threshold.</summary>
    Ok,

    /// <summary>Below the flag threshold: reviewers should look at this annotator's work.</summary>
    Flag,

    /// <summary>Below the pause threshold: the annotator gets no more tasks until a manager resumes them.</summary>
    Pause,
}

/// <summary>Thresholds on gold accuracy; nothing is judged before <see cref="MinGoldTasks"/> gold answers.</summary>
public sealed record QualityPolicy(int MinGoldTasks = 5, double FlagBelow = 0.8, double PauseBelow = 0.6)
{
    public QualityVerdict Judge(AnnotatorAccuracy accuracy) =>
        accuracy.GoldTasks < MinGoldTasks ? QualityVerdict.Ok
        : accuracy.Accuracy < PauseBelow ? QualityVerdict.Pause
        : accuracy.Accuracy < FlagBelow ? QualityVerdict.Flag
        : QualityVerdict.Ok;
}

/// <summary>Scores annotators' answers to gold tasks by task type.</summary>
public static class GoldAccuracy
{
    /// <summary>Classification: 1 when the answer equals the gold label, filed under the gold label.</summary>
    public static GoldScore Classification(string annotator, string gold, string answer) =>
        new(annotator, gold, gold == answer ? 1 : 0);

    /// <summary>Multi-label classification: Jaccard similarity of the label sets, filed under each gold label.</summary>
    public static IEnumerable<GoldScore> MultiLabel(string annotator, IReadOnlyCollection<string> gold, IReadOnlyCollection<string> answer)
    {
        var g = gold.ToHashSet(StringComparer.Ordinal);
        var union = g.Union(answer, StringComparer.Ordinal).Count();
        var score = union == 0 ? 1 : (double)g.Intersect(answer, StringComparer.Ordinal).Count() / union;
        return g.Count == 0 ? [new GoldScore(annotator, "", score)] : g.Select(label => new GoldScore(annotator, label, score));
    }

    /// <summary>Boxes: per gold label, the F1 of the annotator's boxes of that label at the IoU threshold.</summary>
    public static IEnumerable<GoldScore> Boxes(string annotator, IReadOnlyList<LabeledBox> gold, IReadOnlyList<LabeledBox> answer, double iouThreshold = 0.5) =>
        gold.Select(b => b.Label).Concat(answer.Select(b => b.Label)).Distinct(StringComparer.Ordinal).Select(label =>
            new GoldScore(annotator, label, BoxConsensus.F1([.. gold.Where(b => b.Label == label)], [.. answer.Where(b => b.Label == label)], iouThreshold)));

    /// <summary>Spans: per label, the F1 of the annotator's spans under exact or overlap matching.</summary>
    public static IEnumerable<GoldScore> Spans(string annotator, IReadOnlyList<LabeledSpan> gold, IReadOnlyList<LabeledSpan> answer, SpanMatch match) =>
        gold.Select(s => s.Label).Concat(answer.Select(s => s.Label)).Distinct(StringComparer.Ordinal).Select(label =>
            new GoldScore(annotator, label, SpanConsensus.F1([.. gold.Where(s => s.Label == label)], [.. answer.Where(s => s.Label == label)], match)));

    /// <summary>
    /// Per-annotator accuracy. Overall accuracy weighs every gold task equally: a task's scores (one per label) are
    /// averaged first, so a task with many labels does not count many times.
    /// </summary>
    public static List<AnnotatorAccuracy> Summarise(IEnumerable<(string Task, GoldScore Score)> scores) =>
    [
        .. scores.GroupBy(s => s.Score.Annotator, StringComparer.Ordinal).OrderBy(g => g.Key, StringComparer.Ordinal).Select(g =>
        {
            var perTask = g.GroupBy(s => s.Task, StringComparer.Ordinal).Select(t => t.Average(s => s.Score.Score)).ToList();
            var perLabel = g.GroupBy(s => s.Score.Label, StringComparer.Ordinal)
                .ToDictionary(l => l.Key, l => l.Average(s => s.Score.Score), StringComparer.Ordinal);
            return new AnnotatorAccuracy(g.Key, perTask.Count, perTask.Average(), perLabel);
        }),
    ];
}
