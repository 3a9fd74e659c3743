namespace Cube.Labeling.Quality;

/// <summary>A labelled span of text as character offsets, end exclusive.</summary>
public readonly record struct LabeledSpan(string Label, int Start, int End)
{
    public bool Overlaps(LabeledSpan other) => Start < other.End && other.Start < End;
}

/// <summary>How spans count as the same entity.</summary>
public enum SpanMatch
{
    /// <summary>Same label, same start and end.</summary>
    Exact,

    /// <summary>Same label and at least one shared character.</summary>
    Overlap,
}

/// <summary>A consensus span with the share of annotators who marked exactly it.</summary>
public sealed record ConsensusSpan(LabeledSpan Span, double Confidence, int Votes);

/// <summary>Span agreement (F1) and span voting for named-entity labels.</summary>
public static class SpanConsensus
{
    /// <summary>F1 of <paramref name="predicted"/> against <paramref name="truth"/>; two empty sets score 1.</summary>
    public static double F1(IReadOnlyList<LabeledSpan> truth, IReadOnlyList<LabeledSpan> predicted, SpanMatch match)
    {
        if (truth.Count == 0 && predicted.Count == 0) return 1;
        var used = new bool[predicted.Count];
        var matched = 0;
        foreach (var t in truth.OrderBy(s => s.Start).ThenBy(s => s.End))
            for (var j = 0; j < predicted.Count; j++)
            {
                if (used[j] || predicted[j].Label != t.Label) continue;
                if (match == SpanMatch.Exact ? predicted[j] == t : predicted[j].Overlaps(t))
                {
                    used[j] = true;
                    matched++;
                    break;
                }
            }
        return 2.0 * matched / (truth.Count + predicted.Count);
    }

    /// <summary>
    /// Span voting: a span (label, start, end) is kept when more than <paramref name="minShare"/> of the annotators
    /// marked exactly it. Of kept spans that overlap, the one with more votes (then the earlier, then the longer) wins,
    /// so the result is a valid non-overlapping entity list.
    /// </summary>
    public static List<ConsensusSpan> Aggregate(IReadOnlyList<(string Annotator, IReadOnlyList<LabeledSpan> Spans)> annotations, double minShare = 0.5)
    {
        var voters = annotations.Select(a => a.Annotator).Distinct(StringComparer.Ordinal).Count();
        if (voters == 0) return [];
        var votes = annotations
            .SelectMany(a => a.Spans.Distinct().Select(s => (a.Annotator, Span: s)))
            .GroupBy(v => v.Span)
            .Select(g => (Span: g.Key, Votes: g.Select(v => v.Annotator).Distinct(StringComparer.Ordinal).Count()))
            .Where(v => (double)v.Votes / voters > minShare)
            .OrderByDescending(v => v.Votes).ThenBy(v => v.Span.Start).ThenByDescending(v => v.Span.End - v.Span.Start).ThenBy(v => v.Span.Label, StringComparer.Ordinal);
        var kept = new List<ConsensusSpan>();
        foreach (var (span, count) in votes)
            if (!kept.Any(k => k.Span.Overlaps(span)))
                kept.Add(new ConsensusSpan(span, (double)count / voters, count));
        return [.. kept.OrderBy(k => k.Span.Start)];
    }
}
