using Cube.Labeling.Quality;

namespace Cube.Labeling.Tests.Quality;

public sealed class ClassificationConsensusTests
{
    internal static string Bluebirds(string file) => Path.Combine(AppContext.BaseDirectory, "Quality", "Data", "bluebirds", file);

    private static (List<CrowdAnswer> Answers, Dictionary<string, string> Truth) LoadBluebirds()
    {
        using var answers = File.OpenText(Bluebirds("answer.csv"));
        using var truth = File.OpenText(Bluebirds("truth.csv"));
        return (CrowdCsv.ReadAnswers(answers), CrowdCsv.ReadTruth(truth));
    }

    [Fact]
    public void MajorityVote_ScoresThePublishedAccuracy_OnBluebirds()
    {
        var (answers, truth) = LoadBluebirds();
        Assert.Equal(4212, answers.Count);
        Assert.Equal(108, truth.Count);

        var score = ClassificationConsensus.Score(ClassificationConsensus.MajorityVote(answers), truth);

        Assert.Equal(108, score.Scored);
        Assert.Equal(0.7593, score.Accuracy, 4);
    }

    [Fact]
    public void DawidSkene_BeatsMajorityVote_OnBluebirds()
    {
        var (answers, truth) = LoadBluebirds();

        var labels = ClassificationConsensus.DawidSkene(answers);
        var score = ClassificationConsensus.Score(labels, truth);

        Assert.True(score.Accuracy >= 0.89, $"Dawid–Skene accuracy {score.Accuracy:F4}");
        Assert.All(labels, l => Assert.InRange(l.Confidence, 0.5, 1.0));
        Assert.All(labels, l => Assert.Equal(1.0, l.Distribution.Values.Sum(), 9));
    }

    [Fact]
    public void MajorityVote_SharesCredit_WhenLabelsTie()
    {
        CrowdAnswer[] answers = [new("q", "w1", "b"), new("q", "w2", "a"), new("r", "w1", "a"), new("r", "w2", "a"), new("r", "w3", "b")];

        var labels = ClassificationConsensus.MajorityVote(answers).ToDictionary(l => l.Item);

        Assert.Equal("a", labels["q"].Label); // ties break by ordinal label order
        Assert.Equal(0.5, labels["q"].Confidence);
        Assert.Equal(2.0 / 3, labels["r"].Confidence, 9);
        var score = ClassificationConsensus.Score(labels.Values, new Dictionary<string, string> { ["q"] = "b", ["r"] = "a", ["gone"] = "a" });
        Assert.Equal((0.5 + 1) / 2, score.Accuracy);
        Assert.Equal(1, score.MissingFromAnswers);
    }

    [Fact]
    public void DawidSkene_DiscountsSpammers_WhereMajorityVoteFollowsThem()
    {
        // Two careful workers always answer the truth; three spammers answer at random. Majority vote is wrong
        // whenever all three spammers agree on the wrong label; Dawid–Skene learns the spammers are uninformative.
        var random = new Random(42);
        var truth = Enumerable.Range(0, 200).ToDictionary(i => $"q{i}", i => i % 3 == 0 ? "yes" : "no");
        var answers = new List<CrowdAnswer>();
        foreach (var (item, label) in truth)
        {
            answers.Add(new(item, "careful1", label));
            answers.Add(new(item, "careful2", label));
            foreach (var spammer in new[] { "spam1", "spam2", "spam3" })
                answers.Add(new(item, spammer, random.Next(2) == 0 ? "yes" : "no"));
        }

        var mv = ClassificationConsensus.Score(ClassificationConsensus.MajorityVote(answers), truth);
        var ds = ClassificationConsensus.Score(ClassificationConsensus.DawidSkene(answers), truth);

        Assert.InRange(mv.Accuracy, 0.75, 0.95);
        Assert.Equal(1.0, ds.Accuracy);
    }

    [Fact]
    public void DawidSkene_ReturnsNothing_ForNoAnswers() => Assert.Empty(ClassificationConsensus.DawidSkene([]));
}
