using System.Globalization;
using System.Text.Json;
using Cube.Training.Search;
using Cube.Training.Specs;

namespace Cube.Training.Tests.Search;

public sealed class SearchSpaceTests
{
    private static JsonElement[] Values(params object[] values) => values.Select(v => JsonSerializer.SerializeToElement(v)).ToArray();

    private static JobSpec Spec(SearchSpec search) => new()
    {
        Name = "sweep",
        Command = ["/bin/sh", "-c", "true"],
        Search = search,
    };

    private static SearchSpec Random(int trials, int seed) => new()
    {
        Strategy = SearchStrategy.Random,
        Metric = "loss",
        Trials = trials,
        Seed = seed,
        Space = new Dictionary<string, ParameterSpec>
        {
            ["lr"] = new() { Type = ParameterType.LogUniform, Low = 1e-5, High = 1e-1 },
            ["dropout"] = new() { Type = ParameterType.Uniform, Low = 0.1, High = 0.5 },
            ["layers"] = new() { Type = ParameterType.Int, Low = 2, High = 10, Step = 2 },
            ["optimizer"] = new() { Type = ParameterType.Choice, Values = Values("sgd", "adam", 0.5, true) },
        },
    };

    [Fact]
    public void Configurations_EnumerateTheCartesianProduct_WhenTheStrategyIsGrid()
    {
        var search = new SearchSpec
        {
            Strategy = SearchStrategy.Grid,
            Metric = "loss",
            Space = new Dictionary<string, ParameterSpec>
            {
                ["optimizer"] = new() { Type = ParameterType.Choice, Values = Values("sgd", "adam") },
                ["batch"] = new() { Type = ParameterType.Choice, Values = Values(32, 64, 128) },
                ["layers"] = new() { Type = ParameterType.Int, Low = 1, High = 5, Step = 2 },
            },
        };
        Assert.Empty(JobSpecValidator.Validate(Spec(search)));
        var configurations = SearchSpace.Configurations(search, seed: 0);

        Assert.Equal(2 * 3 * 3, configurations.Count);
        Assert.Equal(18L, SearchSpace.GridSize(search.Space));
        var expected = from b in new[] { "32", "64", "128" } from l in new[] { "1", "3", "5" } from o in new[] { "sgd", "adam" } select (b, l, o);
        Assert.Equal(expected, configurations.Select(c => (c["batch"], c["layers"], c["optimizer"])));
    }

    [Fact]
    public void Configurations_AreReproducibleAndWithinBounds_WhenTheStrategyIsRandom()
    {
        var first = SearchSpace.Configurations(Random(400, seed: 42), 42);
        Assert.Equal(first, SearchSpace.Configurations(Random(400, seed: 42), 42));
        Assert.NotEqual(first, SearchSpace.Configurations(Random(400, seed: 43), 43));
        Assert.Equal(400, first.Count);

        static double D(string s) => double.Parse(s, CultureInfo.InvariantCulture);
        foreach (var c in first)
        {
            Assert.InRange(D(c["lr"]), 1e-5, 1e-1);
            Assert.InRange(D(c["dropout"]), 0.1, 0.5);
            Assert.Contains(c["layers"], new[] { "2", "4", "6", "8", "10" });
            Assert.Contains(c["optimizer"], new[] { "sgd", "adam", "0.5", "true" });
        }
        // Every int and choice value comes up in 400 draws.
        Assert.Equal(5, first.Select(c => c["layers"]).Distinct().Count());
        Assert.Equal(4, first.Select(c => c["optimizer"]).Distinct().Count());

        // Loguniform is uniform in log space: each of the four decades between 1e-5 and 1e-1 gets about a quarter of the
        // draws (a linear draw would put ~90% in the last decade).
        var decades = first.GroupBy(c => (int)Math.Floor(Math.Log10(D(c["lr"])))).ToDictionary(g => g.Key, g => g.Count());
        foreach (var decade in new[] { -5, -4, -3, -2 }) Assert.InRange(decades.GetValueOrDefault(decade), 60, 140);
        // Uniform is linear: the lower half of [0.1, 0.5] gets about half.
        Assert.InRange(first.Count(c => D(c["dropout"]) < 0.3), 160, 240);
    }

    [Fact]
    public void Rungs_MultiplyTheResourceByEtaAndKeepATopThird_UpToTheMaximum()
    {
        var search = new SearchSpec { Strategy = SearchStrategy.Halving, Metric = "loss", Trials = 27, Eta = 3, Resource = "epochs", MinResource = 1, MaxResource = 27 };
        Assert.Equal([(1, 27), (3, 9), (9, 3), (27, 1)], SearchSpace.Rungs(search));
        Assert.Equal([(2, 10), (4, 5), (5, 2)], SearchSpace.Rungs(search with { Trials = 10, Eta = 2, MinResource = 2, MaxResource = 5 }));
    }

    [Fact]
    public void TrialSpec_FillsInTheSampledValues_AndNamesTheJobAfterTheStudy()
    {
        var spec = Spec(Random(3, 1)) with { Name = new string('a', 40), Hyperparameters = new Dictionary<string, string> { ["fixed"] = "1" } };
        var trial = StudyService.TrialSpec(spec, new Dictionary<string, string> { ["lr"] = "0.01" }, 123);
        Assert.Equal(new string('a', 36) + "-123", trial.Name);
        Assert.Equal(new string('a', 40), trial.Experiment);
        Assert.Null(trial.Search);
        Assert.Equal(new Dictionary<string, string> { ["fixed"] = "1", ["lr"] = "0.01" }, trial.Hyperparameters);
        Assert.Empty(JobSpecValidator.Validate(trial));
    }

    public static TheoryData<string, Func<SearchSpec, SearchSpec>> Mistakes() => new()
    {
        { "search.space.lr.low", s => s with { Space = new Dictionary<string, ParameterSpec> { ["lr"] = new() { Type = ParameterType.LogUniform, Low = 0, High = 1 } } } },
        { "search.space.lr.high", s => s with { Space = new Dictionary<string, ParameterSpec> { ["lr"] = new() { Type = ParameterType.Uniform, Low = 2, High = 1 } } } },
        { "search.space.n.low", s => s with { Space = new Dictionary<string, ParameterSpec> { ["n"] = new() { Type = ParameterType.Int, Low = 1.5, High = 4 } } } },
        { "search.space.n.step", s => s with { Space = new Dictionary<string, ParameterSpec> { ["n"] = new() { Type = ParameterType.Int, Low = 1, High = 4, Step = 0 } } } },
        { "search.space.opt.values", s => s with { Space = new Dictionary<string, ParameterSpec> { ["opt"] = new() { Type = ParameterType.Choice, Values = [] } } } },
        { "search.space.opt.values[1]", s => s with { Space = new Dictionary<string, ParameterSpec> { ["opt"] = new() { Type = ParameterType.Choice, Values = Values("a", new[] { 1 }) } } } },
        { "search.space.lr.type", s => s with { Strategy = SearchStrategy.Grid, Trials = null } },
        { "search.space", s => s with { Space = new Dictionary<string, ParameterSpec>() } },
        { "search.trials", s => s with { Trials = 0 } },
        { "search.metric", s => s with { Metric = "" } },
        { "search.parallelism", s => s with { Parallelism = 0 } },
        { "search.resource", s => s with { Strategy = SearchStrategy.Halving, MinResource = 1, MaxResource = 9 } },
        { "search.maxResource", s => s with { Strategy = SearchStrategy.Halving, Resource = "epochs", MinResource = 9, MaxResource = 3 } },
        { "search.eta", s => s with { Strategy = SearchStrategy.Halving, Resource = "epochs", MinResource = 1, MaxResource = 9, Eta = 1 } },
        { "search.minResource", s => s with { Resource = "epochs" } with { Strategy = SearchStrategy.Halving, MaxResource = 9 } },
    };

    [Theory]
    [MemberData(nameof(Mistakes))]
    public void Validate_NamesTheSearchField_WhenOneIsWrong(string field, Func<SearchSpec, SearchSpec> change)
    {
        var valid = new SearchSpec
        {
            Strategy = SearchStrategy.Random, Metric = "loss", Trials = 4,
            Space = new Dictionary<string, ParameterSpec> { ["lr"] = new() { Type = ParameterType.LogUniform, Low = 1e-4, High = 1e-1 } },
        };
        Assert.Empty(JobSpecValidator.Validate(Spec(valid)));
        var errors = JobSpecValidator.Validate(Spec(change(valid)));
        Assert.True(errors.ContainsKey(field), $"no error for {field}: {string.Join("; ", errors.Select(e => $"{e.Key}: {string.Join(" ", e.Value)}"))}");
    }

    [Fact]
    public void Validate_RefusesAGridOverTheLimit_AndASearchedParameterThatIsAlsoFixed()
    {
        var big = new SearchSpec
        {
            Strategy = SearchStrategy.Grid, Metric = "loss",
            Space = new Dictionary<string, ParameterSpec>
            {
                ["a"] = new() { Type = ParameterType.Int, Low = 1, High = 100 },
                ["b"] = new() { Type = ParameterType.Int, Low = 1, High = 100 },
            },
        };
        Assert.Contains("10000 combinations", Assert.Single(JobSpecValidator.Validate(Spec(big))["search.space"]));
        var fixedToo = Spec(big with { Space = new Dictionary<string, ParameterSpec> { ["a"] = big.Space["a"] } }) with { Hyperparameters = new Dictionary<string, string> { ["a"] = "3" } };
        Assert.True(JobSpecValidator.Validate(fixedToo).ContainsKey("search.space.a"));
    }
}
