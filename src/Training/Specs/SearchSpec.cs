using System.Text.Json;
using System.Text.Json.Serialization;

namespace Cube.Training.Specs;

/// <summary>How a study picks the hyperparameters of its trials.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<SearchStrategy>))]
public enum SearchStrategy
{
    /// <summary>Every combination of the (discrete) space, the cartesian product.</summary>
    [JsonStringEnumMemberName("grid")] Grid,
    /// <summary><see cref="SearchSpec.Trials"/> seeded random draws from the space.</summary>
    [JsonStringEnumMemberName("random")] Random,
    /// <summary>Successive halving: random configurations on a small resource, the best 1/eta promoted with eta× the resource, rung by rung.</summary>
    [JsonStringEnumMemberName("halving")] Halving,
}

[JsonConverter(typeof(JsonStringEnumConverter<SearchGoal>))]
public enum SearchGoal
{
    [JsonStringEnumMemberName("minimize")] Minimize,
    [JsonStringEnumMemberName("maximize")] Maximize,
}

[JsonConverter(typeof(JsonStringEnumConverter<ParameterType>))]
public enum ParameterType
{
    /// <summary>One of <see cref="ParameterSpec.Values"/>.</summary>
    [JsonStringEnumMemberName("choice")] Choice,
    /// <summary>A real number drawn uniformly in [low, high].</summary>
    [JsonStringEnumMemberName("uniform")] Uniform,
    /// <summary>A positive real number drawn uniformly in log space between low and high (learning rates).</summary>
    [JsonStringEnumMemberName("loguniform")] LogUniform,
    /// <summary>An integer in [low, high] on multiples of <see cref="ParameterSpec.Step"/> from low.</summary>
    [JsonStringEnumMemberName("int")] Int,
}

/// <summary>
/// The <c>search</c> block of a job spec: the spec becomes a study whose trials are ordinary jobs with the sampled
/// hyperparameters filled in. Checked by <see cref="JobSpecValidator"/> under <c>search.*</c> paths.
/// </summary>
public sealed record SearchSpec
{
    public SearchStrategy Strategy { get; init; } = SearchStrategy.Random;
    /// <summary>Hyperparameter name to its range; names follow the hyperparameter rules.</summary>
    public IReadOnlyDictionary<string, ParameterSpec> Space { get; init; } = new Dictionary<string, ParameterSpec>();
    /// <summary>The metric the trials report (<c>metric name=value</c> lines); its last value ranks a trial.</summary>
    public string Metric { get; init; } = "";
    public SearchGoal Goal { get; init; } = SearchGoal.Minimize;
    /// <summary>Configurations to draw (random; halving's first rung). Grid runs every combination and takes none.</summary>
    public int? Trials { get; init; }
    /// <summary>Trials queued or running at once, at most.</summary>
    public int Parallelism { get; init; } = 1;
    /// <summary>Seed of the random draws; chosen and recorded at submission when absent, so a study can be repeated.</summary>
    public int? Seed { get; init; }
    /// <summary>Halving: the integer hyperparameter that carries the budget (epochs, steps, iterations).</summary>
    public string? Resource { get; init; }
    public int? MinResource { get; init; }
    public int? MaxResource { get; init; }
    /// <summary>Halving's reduction factor: the top 1/eta of a rung go on with eta times the resource.</summary>
    public int Eta { get; init; } = 3;
}

/// <summary>The range of one hyperparameter.</summary>
public sealed record ParameterSpec
{
    public ParameterType Type { get; init; }
    /// <summary>Choice: strings, numbers or booleans, passed to the trial as their text.</summary>
    public IReadOnlyList<JsonElement>? Values { get; init; }
    public double? Low { get; init; }
    public double? High { get; init; }
    /// <summary>Int: the spacing of values from low (default 1).</summary>
    public int? Step { get; init; }
}
