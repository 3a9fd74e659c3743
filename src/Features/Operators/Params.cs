using System.Text.Json;
using System.Text.Json.Nodes;

namespace Cube.Features.Operators;

/// <summary>Typed access to a step's parameters; every problem is a <see cref="StepException"/> naming the field.</summary>
public sealed class Params(JsonObject values)
{
    public JsonObject Values { get; } = values;

    public bool Has(string name) => Values[name] is not null;

    public string String(string name)
    {
        if (Values[name] is not JsonValue value || value.GetValueKind() != JsonValueKind.String || string.IsNullOrWhiteSpace(value.GetValue<string>()))
            throw new StepException(name, Values[name] is null ? $"'{name}' is required." : $"'{name}' must be a non-empty string.");
        return value.GetValue<string>();
    }

    public string? OptionalString(string name) => Has(name) ? String(name) : null;

    public string Choice(string name, string fallback, params string[] allowed)
    {
        var value = OptionalString(name) ?? fallback;
        if (!allowed.Contains(value)) throw new StepException(name, $"'{name}' must be one of {string.Join(", ", allowed)}, not '{value}'.");
        return value;
    }

    public IReadOnlyList<string> Strings(string name)
    {
        if (Values[name] is JsonValue single && single.GetValueKind() == JsonValueKind.String) return [single.GetValue<string>()];
        if (Values[name] is not JsonArray array || array.Count == 0) throw new StepException(name, Values[name] is null ? $"'{name}' is required." : $"'{name}' must be a non-empty list of column names.");
        var result = new List<string>();
        foreach (var item in array)
        {
            if (item is not JsonValue v || v.GetValueKind() != JsonValueKind.String) throw new StepException(name, $"'{name}' must list strings.");
            result.Add(v.GetValue<string>());
        }
        var duplicate = result.GroupBy(x => x).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null) throw new StepException(name, $"'{name}' lists '{duplicate.Key}' twice.");
        return result;
    }

    public IReadOnlyList<KeyValuePair<string, string>> StringMap(string name)
    {
        if (Values[name] is not JsonObject map || map.Count == 0) throw new StepException(name, Values[name] is null ? $"'{name}' is required." : $"'{name}' must be a non-empty map.");
        var result = new List<KeyValuePair<string, string>>();
        foreach (var (key, value) in map)
        {
            if (value is not JsonValue v || v.GetValueKind() != JsonValueKind.String) throw new StepException($"{name}.{key}", $"'{name}.{key}' must be a string.");
            result.Add(new(key, v.GetValue<string>()));
        }
        return result;
    }

    public long Integer(string name, long? fallback, long min, long max)
    {
        if (Values[name] is null)
            return fallback ?? throw new StepException(name, $"'{name}' is required.");
        if (Values[name] is not JsonValue v || v.GetValueKind() != JsonValueKind.Number || !v.TryGetValue<long>(out var value))
            throw new StepException(name, $"'{name}' must be a whole number.");
        if (value < min || value > max) throw new StepException(name, $"'{name}' must be between {min} and {max}, not {value}.");
        return value;
    }

    public bool Boolean(string name, bool fallback)
    {
        if (Values[name] is null) return fallback;
        if (Values[name] is not JsonValue v || v.GetValueKind() is not (JsonValueKind.True or JsonValueKind.False)) throw new StepException(name, $"'{name}' must be true or false.");
        return v.GetValue<bool>();
    }

    public double Number(string name)
    {
        if (Values[name] is not JsonValue v || v.GetValueKind() != JsonValueKind.Number) throw new StepException(name, Values[name] is null ? $"'{name}' is required." : $"'{name}' must be a number.");
        return v.TryGetValue<double>(out var d) ? d : v.TryGetValue<long>(out var l) ? l : double.Parse(v.ToJsonString(), System.Globalization.CultureInfo.InvariantCulture);
    }

    public IReadOnlyList<double> Numbers(string name)
    {
        if (Values[name] is not JsonArray array || array.Count == 0) throw new StepException(name, Values[name] is null ? $"'{name}' is required." : $"'{name}' must be a non-empty list of numbers.");
        var result = new List<double>();
        foreach (var item in array)
        {
            if (item is not JsonValue v || v.GetValueKind() != JsonValueKind.Number) throw new StepException(name, $"'{name}' must list numbers.");
            result.Add(v.TryGetValue<double>(out var d) ? d : v.TryGetValue<long>(out var l) ? l : double.Parse(v.ToJsonString(), System.Globalization.CultureInfo.InvariantCulture));
        }
        return result;
    }

    public JsonNode? Raw(string name) => Values[name];
}
