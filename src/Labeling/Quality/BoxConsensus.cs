namespace Cube.Labeling.Quality;

/// <summary>An axis-aligned labelled box in pixels: top-left corner, width and height.</summary>
public readonly record struct LabeledBox(string Label, double X, double Y, double Width, double Height)
{
    public double Area => Math.Max(0, Width) * Math.Max(0, Height);

    /// <summary>Intersection over union; 0 for disjoint or degenerate boxes. The label is not compared.</summary>
    public double IoU(LabeledBox other)
    {
        var w = Math.Min(X + Width, other.X + other.Width) - Math.Max(X, other.X);
        var h = Math.Min(Y + Height, other.Y + other.Height) - Math.Max(Y, other.Y);
        if (w <= 0 || h <= 0) return 0;
        var intersection = w * h;
        var union = Area + other.Area - intersection;
        return union <= 0 ? 0 : intersection / union;
    }
}

/// <summary>A consensus box: the mean of the boxes that agreed, and the share of annotators who drew it.</summary>
public sealed record ConsensusBox(LabeledBox Box, double Confidence, int Votes);

/// <summary>Boxes of one annotator on one item.</summary>
public sealed record AnnotatorBoxes(string Annotator, IReadOnlyList<LabeledBox> Boxes);

/// <summary>Box matching, agreement and consensus for object-detection labels.</summary>
public static class BoxConsensus
{
    /// <summary>
    /// Greedy one-to-one matching of same-label boxes, best IoU first, keeping pairs at or above <paramref name="threshold"/>.
    /// Returns (index in a, index in b, IoU).
    /// </summary>
    public static List<(int A, int B, double IoU)> Match(IReadOnlyList<LabeledBox> a, IReadOnlyList<LabeledBox> b, double threshold)
    {
        var candidates = new List<(int A, int B, double IoU)>();
        for (var i = 0; i < a.Count; i++)
            for (var j = 0; j < b.Count; j++)
                if (a[i].Label == b[j].Label && a[i].IoU(b[j]) is var iou && iou >= threshold && iou > 0)
                    candidates.Add((i, j, iou));
        var usedA = new HashSet<int>();
        var usedB = new HashSet<int>();
        var matches = new List<(int, int, double)>();
        foreach (var c in candidates.OrderByDescending(c => c.IoU).ThenBy(c => c.A).ThenBy(c => c.B))
            if (!usedA.Contains(c.A) && !usedB.Contains(c.B))
            {
                usedA.Add(c.A);
                usedB.Add(c.B);
                matches.Add(c);
            }
        return matches;
    }

    /// <summary>
    /// Mean IoU of two annotators' boxes on one item: matched pairs contribute their IoU, every unmatched box on
    /// either side contributes 0. Two empty sets agree perfectly (1).
    /// </summary>
    public static double MeanIoU(IReadOnlyList<LabeledBox> a, IReadOnlyList<LabeledBox> b)
    {
        if (a.Count == 0 && b.Count == 0) return 1;
        var matches = Match(a, b, threshold: 0);
        var unmatched = a.Count + b.Count - 2 * matches.Count;
        return matches.Sum(m => m.IoU) / (matches.Count + unmatched);
    }

    /// <summary>Precision/recall F1 of <paramref name="predicted"/> against <paramref name="truth"/> at an IoU threshold.</summary>
    public static double F1(IReadOnlyList<LabeledBox> truth, IReadOnlyList<LabeledBox> predicted, double threshold)
    {
        if (truth.Count == 0 && predicted.Count == 0) return 1;
        var matched = Match(truth, predicted, threshold).Count;
        return 2.0 * matched / (truth.Count + predicted.Count);
    }

    /// <summary>
    /// IoU clustering with voting: boxes of the same label whose IoU with a cluster's running mean is at least
    /// <paramref name="threshold"/> join it (one box per annotator per cluster); a cluster becomes a consensus box when
    /// more than <paramref name="minShare"/> of the annotators drew it. Deterministic: annotators in ordinal order.
    /// </summary>
    public static List<ConsensusBox> Aggregate(IReadOnlyList<AnnotatorBoxes> annotations, double threshold = 0.5, double minShare = 0.5)
    {
        var clusters = new List<(string Label, List<(string Who, LabeledBox Box)> Members)>();
        foreach (var annotator in annotations.OrderBy(a => a.Annotator, StringComparer.Ordinal))
            foreach (var box in annotator.Boxes)
            {
                var best = -1;
                var bestIoU = 0.0;
                for (var c = 0; c < clusters.Count; c++)
                {
                    var cluster = clusters[c];
                    if (cluster.Label != box.Label || cluster.Members.Any(m => m.Who == annotator.Annotator)) continue;
                    var iou = Mean(cluster.Members).IoU(box);
                    if (iou >= threshold && iou > bestIoU) (best, bestIoU) = (c, iou);
                }
                if (best >= 0) clusters[best].Members.Add((annotator.Annotator, box));
                else clusters.Add((box.Label, [(annotator.Annotator, box)]));
            }

        var voters = annotations.Select(a => a.Annotator).Distinct(StringComparer.Ordinal).Count();
        return [.. clusters
            .Where(c => (double)c.Members.Count / voters > minShare)
            .Select(c => new ConsensusBox(Mean(c.Members), (double)c.Members.Count / voters, c.Members.Count))];
    }

    private static LabeledBox Mean(List<(string Who, LabeledBox Box)> members) => new(
        members[0].Box.Label,
        members.Average(m => m.Box.X), members.Average(m => m.Box.Y),
        members.Average(m => m.Box.Width), members.Average(m => m.Box.Height));
}
