using Cube.Labeling.Quality;

namespace Cube.Labeling.Tests.Quality;

public sealed class BoxAndSpanConsensusTests
{
    [Fact]
    public void IoU_IsIntersectionOverUnion()
    {
        var a = new LabeledBox("car", 0, 0, 10, 10);

        Assert.Equal(1, a.IoU(a));
        Assert.Equal(50.0 / 150, a.IoU(new LabeledBox("car", 5, 0, 10, 10)), 9);
        Assert.Equal(0, a.IoU(new LabeledBox("car", 10, 0, 10, 10))); // touching edges share no area
        Assert.Equal(0, a.IoU(new LabeledBox("car", 0, 0, 0, 10)));
    }

    [Fact]
    public void Aggregate_AveragesAgreeingBoxes_AndDropsWhatAMinorityDrew()
    {
        AnnotatorBoxes[] annotations =
        [
            new("a", [new("car", 10, 10, 100, 50), new("person", 200, 20, 30, 80)]),
            new("b", [new("car", 12, 8, 98, 54)]),
            new("c", [new("car", 8, 12, 102, 46), new("person", 400, 20, 30, 80)]),
        ];

        var boxes = BoxConsensus.Aggregate(annotations, threshold: 0.5);

        var car = Assert.Single(boxes);
        Assert.Equal("car", car.Box.Label);
        Assert.Equal(3, car.Votes);
        Assert.Equal(1, car.Confidence);
        Assert.Equal(10, car.Box.X, 9);
        Assert.Equal(100, car.Box.Width, 9);
    }

    [Fact]
    public void MeanIoU_CountsUnmatchedBoxesAsZero_AndLabelsMustAgree()
    {
        LabeledBox[] a = [new("car", 0, 0, 10, 10), new("car", 50, 50, 10, 10)];
        LabeledBox[] b = [new("car", 0, 0, 10, 10), new("bus", 50, 50, 10, 10)];

        Assert.Equal(1.0 / 3, BoxConsensus.MeanIoU(a, b), 9);
        Assert.Equal(1, BoxConsensus.MeanIoU([], []));
        Assert.Equal(2.0 / 3, BoxConsensus.F1([a[0]], [a[0], b[1]], threshold: 0.5), 9);
    }

    [Fact]
    public void SpanF1_DiffersBetweenExactAndOverlapMatching()
    {
        LabeledSpan[] gold = [new("PER", 0, 10), new("LOC", 20, 26)];
        LabeledSpan[] answer = [new("PER", 0, 8), new("LOC", 20, 26), new("ORG", 30, 33)];

        Assert.Equal(2.0 * 1 / 5, SpanConsensus.F1(gold, answer, SpanMatch.Exact), 9);
        Assert.Equal(2.0 * 2 / 5, SpanConsensus.F1(gold, answer, SpanMatch.Overlap), 9);
    }

    [Fact]
    public void SpanAggregate_KeepsMajoritySpans_WithoutOverlaps()
    {
        (string, IReadOnlyList<LabeledSpan>)[] annotations =
        [
            ("a", [new("PER", 0, 10), new("LOC", 20, 26)]),
            ("b", [new("PER", 0, 10), new("LOC", 20, 26)]),
            ("c", [new("PER", 0, 12), new("ORG", 20, 26)]),
        ];

        var spans = SpanConsensus.Aggregate(annotations);

        Assert.Equal([new LabeledSpan("PER", 0, 10), new LabeledSpan("LOC", 20, 26)], spans.Select(s => s.Span));
        Assert.All(spans, s => Assert.Equal(2.0 / 3, s.Confidence, 9));
    }

    [Fact]
    public void GoldAccuracy_WeighsTasksEqually_AndThePolicyFlagsThenPauses()
    {
        var scores = new List<(string, GoldScore)>
        {
            ("t1", GoldAccuracy.Classification("ann", "cat", "cat")),
            ("t2", GoldAccuracy.Classification("ann", "dog", "cat")),
        };
        scores.AddRange(GoldAccuracy.Boxes("ann", [new("car", 0, 0, 10, 10), new("bus", 50, 50, 10, 10)], [new("car", 1, 1, 10, 10)]).Select(s => ("t3", s)));
        scores.AddRange(GoldAccuracy.Spans("bob", [new("PER", 0, 5)], [new("PER", 0, 4)], SpanMatch.Overlap).Select(s => ("t4", s)));

        var accuracy = GoldAccuracy.Summarise(scores).ToDictionary(a => a.Annotator);

        Assert.Equal(3, accuracy["ann"].GoldTasks);
        Assert.Equal((1 + 0 + 0.5) / 3, accuracy["ann"].Accuracy, 9); // t3: car found (1), bus missed (0)
        Assert.Equal(0, accuracy["ann"].PerLabel["dog"]);
        Assert.Equal(1, accuracy["bob"].Accuracy);

        var policy = new QualityPolicy(MinGoldTasks: 3, FlagBelow: 0.8, PauseBelow: 0.4);
        Assert.Equal(QualityVerdict.Flag, policy.Judge(accuracy["ann"]));
        Assert.Equal(QualityVerdict.Ok, policy.Judge(accuracy["bob"])); // one gold task is too few to judge
        Assert.Equal(QualityVerdict.Pause, policy.Judge(accuracy["ann"] with { Accuracy = 0.3 }));
    }
}
