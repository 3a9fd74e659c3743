using Cube.Labeling.Quality;

namespace Cube.Labeling.Tests.Quality;

public sealed class AgreementTests
{
    [Fact]
    public void CohenKappa_MatchesTheTextbookExample()
    {
        // 50 items: both yes 20, A yes/B no 5, A no/B yes 10, both no 15 → p_o = 0.7, p_e = 0.5, κ = 0.4.
        var ratings = new List<CrowdAnswer>();
        void Add(int count, string a, string b)
        {
            for (var i = 0; i < count; i++)
            {
                var item = $"i{ratings.Count}";
                ratings.Add(new(item, "A", a));
                ratings.Add(new(item, "B", b));
            }
        }
        Add(20, "yes", "yes");
        Add(5, "yes", "no");
        Add(10, "no", "yes");
        Add(15, "no", "no");

        var pair = Agreement.CohenKappa(ratings, "A", "B");

        Assert.Equal(50, pair.Items);
        Assert.Equal(0.7, pair.ObservedAgreement, 9);
        Assert.Equal(0.4, pair.Kappa, 9);
    }

    [Fact]
    public void FleissKappa_MatchesThePublishedExample()
    {
        // Ten subjects, fourteen raters, five categories: the standard worked example, κ = 0.210.
        int[][] counts =
        [
            [0, 0, 0, 0, 14], [0, 2, 6, 4, 2], [0, 0, 3, 5, 6], [0, 3, 9, 2, 0], [2, 2, 8, 1, 1],
            [7, 7, 0, 0, 0], [3, 2, 6, 3, 0], [2, 5, 3, 2, 2], [6, 5, 2, 1, 0], [0, 2, 2, 3, 7],
        ];
        var ratings = new List<CrowdAnswer>();
        for (var s = 0; s < counts.Length; s++)
        {
            var rater = 0;
            for (var c = 0; c < 5; c++)
                for (var k = 0; k < counts[s][c]; k++) ratings.Add(new($"s{s}", $"r{rater++}", $"c{c}"));
        }

        Assert.Equal(0.210, Agreement.FleissKappa(ratings), 3);
    }

    [Fact]
    public void KrippendorffAlpha_MatchesThePublishedNominalExample()
    {
        // Four observers, twelve units, missing values: Krippendorff's worked example, nominal α = 0.743.
        string?[][] data =
        [
            ["1", "2", "3", "3", "2", "1", "4", "1", "2", null, null, null],
            ["1", "2", "3", "3", "2", "2", "4", "1", "2", "5", null, "3"],
            [null, "3", "3", "3", "2", "3", "4", "2", "2", "5", "1", null],
            ["1", "2", "3", "3", "2", "4", "4", "1", "2", "5", "1", null],
        ];
        var ratings = new List<CrowdAnswer>();
        for (var o = 0; o < data.Length; o++)
            for (var u = 0; u < data[o].Length; u++)
                if (data[o][u] is { } value) ratings.Add(new($"u{u}", $"o{o}", value));

        Assert.Equal(0.743, Agreement.KrippendorffAlpha(ratings), 3);
    }

    [Fact]
    public void Report_GivesPerfectAgreement_WhenEveryoneAgrees_AndNaN_WhenNoItemHasTwoRaters()
    {
        CrowdAnswer[] agree = [new("a", "x", "cat"), new("a", "y", "cat"), new("b", "x", "dog"), new("b", "y", "dog")];
        var report = Agreement.Report(agree);
        Assert.Equal(1, report.FleissKappa, 9);
        Assert.Equal(1, report.KrippendorffAlpha, 9);
        Assert.Equal(1, Assert.Single(report.Pairs).Kappa, 9);
        Assert.Equal(1, report.FleissKappaPerLabel["cat"], 9);

        var lonely = Agreement.Report([new("a", "x", "cat"), new("b", "y", "dog")]);
        Assert.Equal(0, lonely.Items);
        Assert.True(double.IsNaN(lonely.FleissKappa));
        Assert.True(double.IsNaN(lonely.KrippendorffAlpha));
    }

    [Fact]
    public void Report_SinglesOutTheAnnotatorWhoDisagrees()
    {
        var ratings = new List<CrowdAnswer>();
        for (var i = 0; i < 30; i++)
        {
            var truth = i % 2 == 0 ? "pos" : "neg";
            ratings.Add(new($"t{i}", "ann", truth));
            ratings.Add(new($"t{i}", "bob", truth));
            ratings.Add(new($"t{i}", "eve", i % 3 == 0 ? "pos" : "neg"));
        }

        var report = Agreement.Report(ratings);

        Assert.Equal(3, report.Pairs.Count);
        Assert.Equal(1, report.Pairs.Single(p => p is { A: "ann", B: "bob" }).Kappa, 9);
        Assert.True(report.MeanPairKappaPerAnnotator["eve"] < report.MeanPairKappaPerAnnotator["ann"]);
        Assert.InRange(report.FleissKappa, 0, 1);
    }
}
