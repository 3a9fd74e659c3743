using System.Globalization;
using System.Text.Json;
using Cube.Training.Specs;

namespace Cube.Training.Search;

/// <summary>
/// The search block's rules and its configurations: checks it field by field (<c>search.space.lr.low</c>), enumerates
/// a grid as the cartesian product, draws seeded random configurations, and plans the rungs of successive halving.
/// </summary>
public static class SearchSpace
{
    public const int MaxTrials = 1000;
    public const int MaxParallelism = 64;
    public const int MaxParameters = 32;

    public static void Validate(JobSpec spec, Action<string, string> add)
    {
        if (spec.Search is not { } search) return;
        if (!Enum.IsDefined(search.Strategy)) add("search.strategy", "Unknown strategy; use grid, random or halving.");
        if (!Enum.IsDefined(search.Goal)) add("search.goal", "Unknown goal; use minimize or maximize.");
        if (string.IsNullOrEmpty(search.Metric)) add("search.metric", "The metric that ranks trials is required (a name the trials print as 'metric name=value').");
        else if (!Execution.MetricLine.IsName(search.Metric) || search.Metric == "step")
            add("search.metric", $"'{search.Metric}' is not a metric name (1–128 letters, digits, '_', '-', '.', '/'; not 'step').");
        if (search.Parallelism is < 1 or > MaxParallelism) add("search.parallelism", $"Parallelism must be between 1 and {MaxParallelism}; got {search.Parallelism}.");

        var space = search.Space ?? new Dictionary<string, ParameterSpec>();
        if (space.Count == 0 && search.Strategy != SearchStrategy.Halving) add("search.space", "The search space needs at least one parameter.");
        if (space.Count > MaxParameters) add("search.space", $"At most {MaxParameters} parameters can be searched; got {space.Count}.");
        foreach (var (name, parameter) in space)
        {
            var path = $"search.space.{name}";
            if (!JobSpecValidator.IsHyperparameterName(name)) add(path, $"'{name}' is not a valid hyperparameter name (letters, digits, '_', '-' and '.', starting with a letter).");
            if (parameter is null)
            {
                add(path, "The parameter needs a type: choice, uniform, loguniform or int.");
                continue;
            }
            ValidateParameter(path, parameter, search.Strategy, add);
        }

        switch (search.Strategy)
        {
            case SearchStrategy.Grid:
                if (search.Trials is not null) add("search.trials", "A grid runs every combination of the space; remove trials (or use strategy random).");
                if (GridSize(space) is var size && size > MaxTrials) add("search.space", $"The grid has {size} combinations, more than the {MaxTrials} a study may run.");
                break;
            case SearchStrategy.Random or SearchStrategy.Halving:
                if (search.Trials is null) add("search.trials", $"The number of configurations to draw is required (1 to {MaxTrials}).");
                else if (search.Trials is < 1 or > MaxTrials) add("search.trials", $"Trials must be between 1 and {MaxTrials}; got {search.Trials}.");
                break;
        }

        if (search.Strategy == SearchStrategy.Halving)
        {
            if (string.IsNullOrEmpty(search.Resource)) add("search.resource", "Halving needs the integer hyperparameter that carries the budget (epochs, steps, iterations).");
            else if (!JobSpecValidator.IsHyperparameterName(search.Resource)) add("search.resource", $"'{search.Resource}' is not a valid hyperparameter name.");
            else if (space.ContainsKey(search.Resource)) add("search.resource", $"'{search.Resource}' is the budget halving sets per rung; remove it from the space.");
            if (search.MinResource is null) add("search.minResource", "Halving needs the resource of the first rung.");
            else if (search.MinResource < 1) add("search.minResource", $"The minimum resource must be at least 1; got {search.MinResource}.");
            if (search.MaxResource is null) add("search.maxResource", "Halving needs the resource of the last rung.");
            else if (search.MinResource is { } min && search.MaxResource <= min) add("search.maxResource", $"The maximum resource must be greater than the minimum ({min}); got {search.MaxResource}.");
            if (search.Eta is < 2 or > 10) add("search.eta", $"The reduction factor eta must be between 2 and 10; got {search.Eta}.");
        }
        else
        {
            if (search.Resource is not null) add("search.resource", "A resource applies only to strategy halving.");
            if (search.MinResource is not null) add("search.minResource", "A minimum resource applies only to strategy halving.");
            if (search.MaxResource is not null) add("search.maxResource", "A maximum resource applies only to strategy halving.");
        }
    }

    private static void ValidateParameter(string path, ParameterSpec p, SearchStrategy strategy, Action<string, string> add)
    {
        switch (p.Type)
        {
            case ParameterType.Choice:
                if (p.Values is not { Count: > 0 } values)
                {
                    add($"{path}.values", "A choice needs at least one value.");
                    break;
                }
                for (var i = 0; i < values.Count; i++)
                    if (Text(values[i]) is null) add($"{path}.values[{i}]", "Choice values are strings, numbers or booleans.");
                if (p.Low is not null || p.High is not null || p.Step is not null) add(path, "A choice takes only values (no low, high or step).");
                break;
            case ParameterType.Uniform or ParameterType.LogUniform or ParameterType.Int:
                var type = Name(p.Type);
                if (p.Values is not null) add($"{path}.values", $"A {type} range takes low and high, not values.");
                if (p.Low is not { } low || !double.IsFinite(low)) add($"{path}.low", $"A {type} range needs its lower bound.");
                if (p.High is not { } high || !double.IsFinite(high)) add($"{path}.high", $"A {type} range needs its upper bound.");
                if (p.Type == ParameterType.LogUniform && p.Low is <= 0) add($"{path}.low", $"A loguniform range is sampled in log space: low must be greater than 0; got {Format(p.Low.Value)}.");
                if (p.Low is { } l && p.High is { } h && h < l) add($"{path}.high", $"The upper bound ({Format(h)}) is below the lower bound ({Format(l)}).");
                if (p.Low is { } l2 && p.High is { } h2 && h2 == l2 && p.Type != ParameterType.Int) add($"{path}.high", "The range is empty: low and high are equal; use a choice of one value.");
                if (p.Type == ParameterType.Int)
                {
                    if (p.Low is { } il && il != Math.Floor(il)) add($"{path}.low", $"An int range needs integer bounds; got {Format(il)}.");
                    if (p.High is { } ih && ih != Math.Floor(ih)) add($"{path}.high", $"An int range needs integer bounds; got {Format(ih)}.");
                    if (p.Low is { } al && Math.Abs(al) > 1e12 || p.High is { } ah && Math.Abs(ah) > 1e12) add(path, "Int bounds must lie within ±10^12.");
                    if (p.Step is < 1) add($"{path}.step", $"The step must be at least 1; got {p.Step}.");
                }
                else if (p.Step is not null) add($"{path}.step", $"A step applies only to int ranges, not {type}.");
                if (strategy == SearchStrategy.Grid && p.Type != ParameterType.Int)
                    add($"{path}.type", $"A grid needs discrete parameters; '{type}' is continuous: use choice or int, or strategy random.");
                break;
            default:
                add($"{path}.type", "Unknown parameter type; use choice, uniform, loguniform or int.");
                break;
        }
    }

    /// <summary>Combinations a grid over <paramref name="space"/> has (saturating, so a huge grid cannot overflow).</summary>
    public static long GridSize(IReadOnlyDictionary<string, ParameterSpec> space)
    {
        long size = 1;
        foreach (var p in space.Values)
        {
            if (p is null) continue;
            var count = p.Type switch
            {
                ParameterType.Choice => p.Values?.Count ?? 0,
                ParameterType.Int when p.Low is { } low && p.High is { } high && high >= low && Math.Abs(low) <= 1e12 && Math.Abs(high) <= 1e12 =>
                    (long)((high - low) / Math.Max(1, p.Step ?? 1)) + 1,
                _ => 1,
            };
            size = Math.Min(size * Math.Max(count, 1), long.MaxValue / (MaxTrials + 1));
        }
        return size;
    }

    /// <summary>
    /// The configurations of a study, each a parameter-name → text map: the grid's every combination (names in ordinal
    /// order, the last name varying fastest), else <see cref="SearchSpec.Trials"/> draws from one seeded generator.
    /// </summary>
    public static List<Dictionary<string, string>> Configurations(SearchSpec search, int seed)
    {
        var parameters = search.Space.OrderBy(p => p.Key, StringComparer.Ordinal).ToList();
        var result = new List<Dictionary<string, string>>();
        if (search.Strategy == SearchStrategy.Grid)
        {
            var axes = parameters.Select(p => (p.Key, Values: Discrete(p.Value))).ToList();
            var combination = new Dictionary<string, string>(StringComparer.Ordinal);
            void Walk(int axis)
            {
                if (axis == axes.Count)
                {
                    result.Add(new Dictionary<string, string>(combination, StringComparer.Ordinal));
                    return;
                }
                foreach (var value in axes[axis].Values)
                {
                    combination[axes[axis].Key] = value;
                    Walk(axis + 1);
                }
            }
            Walk(0);
            return result;
        }
        // System.Random with a seed is a fixed algorithm across runtimes and platforms: the same seed draws the same study.
        var random = new Random(seed);
        for (var i = 0; i < (search.Trials ?? 0); i++)
            result.Add(parameters.ToDictionary(p => p.Key, p => Draw(p.Value, random), StringComparer.Ordinal));
        return result;
    }

    private static List<string> Discrete(ParameterSpec p) => p.Type == ParameterType.Choice
        ? p.Values!.Select(v => Text(v)!).ToList()
        : Enumerable.Range(0, (int)((p.High!.Value - p.Low!.Value) / (p.Step ?? 1)) + 1).Select(i => Format((long)p.Low.Value + (long)i * (p.Step ?? 1))).ToList();

    private static string Draw(ParameterSpec p, Random random)
    {
        switch (p.Type)
        {
            case ParameterType.Choice:
                return Text(p.Values![random.Next(p.Values.Count)])!;
            case ParameterType.Int:
                var step = p.Step ?? 1;
                var count = (long)((p.High!.Value - p.Low!.Value) / step) + 1;
                return Format((long)p.Low.Value + random.NextInt64(count) * step);
            case ParameterType.LogUniform:
                var (logLow, logHigh) = (Math.Log(p.Low!.Value), Math.Log(p.High!.Value));
                return Format(Math.Clamp(Math.Exp(logLow + random.NextDouble() * (logHigh - logLow)), p.Low.Value, p.High.Value));
            default:
                return Format(Math.Clamp(p.Low!.Value + random.NextDouble() * (p.High!.Value - p.Low.Value), p.Low.Value, p.High.Value));
        }
    }

    /// <summary>Halving's rungs: resource min, min·eta, min·eta², … capped at max; each keeps the top 1/eta (at least one) of the one before.</summary>
    public static List<(int Resource, int Trials)> Rungs(SearchSpec search)
    {
        var rungs = new List<(int, int)>();
        long resource = search.MinResource!.Value;
        var trials = search.Trials!.Value;
        while (true)
        {
            rungs.Add(((int)Math.Min(resource, search.MaxResource!.Value), trials));
            if (resource >= search.MaxResource.Value) return rungs;
            resource *= search.Eta;
            trials = Math.Max(1, trials / search.Eta);
        }
    }

    /// <summary>A choice value as the trial receives it; null for arrays, objects and nulls.</summary>
    public static string? Text(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.String => value.GetString(),
        JsonValueKind.Number => value.GetRawText(),
        JsonValueKind.True => "true",
        JsonValueKind.False => "false",
        _ => null,
    };

    public static string Format(double value) => value.ToString("R", CultureInfo.InvariantCulture);

    public static string Format(long value) => value.ToString(CultureInfo.InvariantCulture);

    public static string Name(ParameterType type) => type.ToString().ToLowerInvariant();
}
