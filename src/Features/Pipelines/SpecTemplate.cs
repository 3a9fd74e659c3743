using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Cube.Core.Errors;
using Cube.Features.Engine;

namespace Cube.Features.Pipelines;

/// <summary>
/// What a spec's placeholders stand for in one run: <c>{{ds}}</c> the logical date (yyyy-MM-dd), <c>{{ts}}</c> the
/// logical instant (ISO 8601, UTC) and <c>{{params.NAME}}</c> each declared parameter (its default or the run's value).
/// </summary>
public sealed record RunValues(string Ds, DateTimeOffset Ts, IReadOnlyDictionary<string, string> Params)
{
    public string TsText() => Ts.ToUniversalTime().ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);
}

/// <summary>
/// Run parameters in specs. Placeholders may appear in the string values a run fills in: input datasets, tables, tags
/// and versions, step parameters (filter and derive expressions, constants, ...) and the publish tag and message; step
/// names, operators and wiring stay fixed so the DAG is the same for every run. A quoted placeholder is literal text:
/// <c>{{ '{{' }}</c> writes <c>{{</c> (in a regular expression, say).
/// </summary>
public static partial class SpecTemplate
{
    [GeneratedRegex(@"\{\{\s*(?:'(?<literal>[^']*)'|(?<name>[^{}']*?))\s*\}\}")]
    private static partial Regex Placeholder();

    [GeneratedRegex("^[A-Za-z_][A-Za-z0-9_]{0,63}$")]
    private static partial Regex ParameterName();

    private const string ParamsPrefix = "params.";

    public static bool HasPlaceholder(string text) => text.Contains("{{", StringComparison.Ordinal);

    /// <summary>A string a run fills in: the step it belongs to (null for inputs and publish), its field, and its text.</summary>
    public readonly record struct TemplateString(string? Step, string Field, string Text);

    /// <summary>Every string of the spec that placeholders may appear in.</summary>
    public static IEnumerable<TemplateString> Strings(PipelineSpec spec)
    {
        foreach (var (name, input) in spec.Inputs)
        {
            if (input.Dataset is not null) yield return new(null, $"inputs.{name}.dataset", input.Dataset);
            if (input.Table is not null) yield return new(null, $"inputs.{name}.table", input.Table);
            if (input.Tag is not null) yield return new(null, $"inputs.{name}.tag", input.Tag);
            if (input.VersionText is not null) yield return new(null, $"inputs.{name}.version", input.VersionText);
        }
        foreach (var step in spec.Steps)
            foreach (var (key, value) in step.Params)
                foreach (var (field, text) in StringsIn(value, key))
                    yield return new(step.Name, field, text);
        if (spec.Publish?.Tag is { } tag) yield return new(null, "publish.tag", tag);
        if (spec.Publish?.Message is { } message) yield return new(null, "publish.message", message);
    }

    private static IEnumerable<(string Field, string Text)> StringsIn(JsonNode? node, string path)
    {
        switch (node)
        {
            case JsonValue value when value.GetValueKind() == JsonValueKind.String:
                yield return (path, value.GetValue<string>());
                break;
            case JsonArray array:
                for (var i = 0; i < array.Count; i++)
                    foreach (var s in StringsIn(array[i], $"{path}[{i}]")) yield return s;
                break;
            case JsonObject obj:
                foreach (var (key, child) in obj)
                    foreach (var s in StringsIn(child, $"{path}.{key}")) yield return s;
                break;
        }
    }

    /// <summary>Reads the <c>params</c> mapping: each name to a scalar default, or to a mapping with <c>default</c> (and a <c>description</c>).</summary>
    public static IReadOnlyDictionary<string, string> Declarations(JsonNode? node, List<PipelineError> errors)
    {
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        if (node is null) return result;
        if (node is not JsonObject map)
        {
            errors.Add(new PipelineError(null, "params", "'params' must be a mapping of parameter names to their defaults."));
            return result;
        }
        foreach (var (name, declared) in map)
        {
            if (!ParameterName().IsMatch(name))
            {
                errors.Add(new PipelineError(null, $"params.{name}", $"'{name}' is not a parameter name: use letters, digits and '_', starting with a letter or '_'."));
                continue;
            }
            var value = declared is JsonObject full ? full["default"] : declared;
            var text = value is JsonValue v ? v.GetValueKind() switch
            {
                JsonValueKind.String => v.GetValue<string>(),
                JsonValueKind.Number => v.ToJsonString(),
                JsonValueKind.True => "true",
                JsonValueKind.False => "false",
                _ => null,
            } : null;
            if (text is null) errors.Add(new PipelineError(null, $"params.{name}", $"Parameter '{name}' needs a default: a text, number or true/false."));
            else if (HasPlaceholder(text)) errors.Add(new PipelineError(null, $"params.{name}", $"The default of '{name}' cannot hold a placeholder."));
            else result[name] = text;
        }
        return result;
    }

    /// <summary>Every placeholder that names nothing, or is not closed, as an error naming the step and field.</summary>
    public static IEnumerable<PipelineError> Check(PipelineSpec spec)
    {
        var known = new List<string> { "ds", "ts" };
        known.AddRange(spec.Parameters.Keys.Select(k => ParamsPrefix + k));
        foreach (var (step, field, text) in Strings(spec))
        {
            foreach (Match match in Placeholder().Matches(text))
            {
                if (match.Groups["literal"].Success) continue;
                var name = match.Groups["name"].Value;
                if (known.Contains(name, StringComparer.Ordinal)) continue;
                var hint = name.StartsWith(ParamsPrefix, StringComparison.Ordinal) && spec.Parameters.Count == 0
                    ? " Declare it under 'params' with a default."
                    : Suggest.Closest(name, known) is { } closest ? $" Did you mean '{{{{{closest}}}}}'?" : "";
                yield return new PipelineError(step, field, $"Unknown parameter '{{{{{name}}}}}'; the known ones are {string.Join(", ", known.Select(k => $"{{{{{k}}}}}"))}.{hint}");
            }
            if (Placeholder().Replace(text, "").Contains("{{", StringComparison.Ordinal))
                yield return new PipelineError(step, field, "A '{{' is not closed by '}}'.");
        }
    }

    /// <summary>
    /// The values for one run: the declared defaults with <paramref name="overrides"/> applied. An override the spec does
    /// not declare, or a logical date that is not yyyy-MM-dd, is a <see cref="ValidationException"/> naming it.
    /// </summary>
    public static RunValues Values(PipelineSpec spec, string? ds, DateTimeOffset ts, IReadOnlyDictionary<string, string>? overrides)
    {
        var errors = new Dictionary<string, string[]>();
        var values = new Dictionary<string, string>(spec.Parameters, StringComparer.Ordinal);
        foreach (var (name, value) in overrides ?? new Dictionary<string, string>())
        {
            if (!spec.Parameters.ContainsKey(name))
            {
                var declared = spec.Parameters.Count == 0 ? "it declares none" : $"declared: {string.Join(", ", spec.Parameters.Keys)}";
                var closest = Suggest.Closest(name, spec.Parameters.Keys);
                errors[$"parameters.{name}"] = [$"Pipeline '{spec.Name}' has no parameter '{name}' ({declared}).{(closest is null ? "" : $" Did you mean '{closest}'?")}"];
            }
            else if (value is null) errors[$"parameters.{name}"] = [$"Parameter '{name}' needs a value."];
            else if (HasPlaceholder(value)) errors[$"parameters.{name}"] = [$"The value of '{name}' cannot hold a placeholder."];
            else values[name] = value;
        }
        if (ds is not null && !DateOnly.TryParseExact(ds, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out _))
            errors["ds"] = [$"'{ds}' is not a logical date: write it as yyyy-MM-dd."];
        if (errors.Count > 0) throw new ValidationException(errors);
        return new RunValues(ds ?? ts.ToUniversalTime().ToString("yyyy-MM-dd", CultureInfo.InvariantCulture), ts, values);
    }

    /// <summary>The spec with every placeholder replaced by its value for the run; the result holds no placeholder.</summary>
    public static PipelineSpec Render(PipelineSpec spec, RunValues values)
    {
        string Fill(string text) => Placeholder().Replace(text, m => m.Groups["literal"].Success ? m.Groups["literal"].Value : m.Groups["name"].Value switch
        {
            "ds" => values.Ds,
            "ts" => values.TsText(),
            var name when name.StartsWith(ParamsPrefix, StringComparison.Ordinal) && values.Params.TryGetValue(name[ParamsPrefix.Length..], out var v) => v,
            // Check refuses unknown names before a spec is stored or run; this guards against a spec that skipped it.
            var name => throw new PipelineValidationException([new PipelineError(null, null, $"Unknown parameter '{{{{{name}}}}}'.")]),
        });

        var templated = new HashSet<string>(StringComparer.Ordinal);
        var inputs = new JsonObject();
        foreach (var (name, input) in spec.Inputs)
        {
            if ((input.Tag is not null && HasPlaceholder(input.Tag)) || input.VersionText is not null) templated.Add(name);
            var version = input.VersionText is null ? (JsonNode?)input.Version : Fill(input.VersionText);
            inputs[name] = new JsonObject
            {
                ["dataset"] = input.Dataset is null ? null : Fill(input.Dataset), ["version"] = version,
                ["tag"] = input.Tag is null ? null : Fill(input.Tag), ["table"] = input.Table is null ? null : Fill(input.Table),
            };
        }
        var json = spec.ToJson();
        json["inputs"] = inputs;
        json["rendered"] = true;
        foreach (var step in json["steps"]!.AsArray().OfType<JsonObject>())
            foreach (var key in step.Select(p => p.Key).Where(k => k is not ("name" or "op" or "input" or "right")).ToList())
                step[key] = FillNode(step[key], Fill);
        if (json["publish"] is JsonObject publish)
            foreach (var key in new[] { "tag", "message" })
                if (publish[key] is JsonValue v && v.GetValueKind() == JsonValueKind.String) publish[key] = Fill(v.GetValue<string>());
        var rendered = PipelineSpec.FromJson(json);
        if (rendered.Publish?.Tag is { } tag)
        {
            try
            {
                DataHub.Catalog.Names.Tag(tag, "publish.tag");
            }
            catch (ValidationException e)
            {
                throw new PipelineValidationException([new PipelineError(null, "publish.tag", $"With ds={values.Ds}: {e.Message}")]);
            }
        }
        return rendered with
        {
            Inputs = rendered.Inputs.ToDictionary(i => i.Key, i => templated.Contains(i.Key) ? i.Value with { Templated = true } : i.Value, StringComparer.Ordinal),
        };
    }

    private static JsonNode? FillNode(JsonNode? node, Func<string, string> fill) => node switch
    {
        JsonValue value when value.GetValueKind() == JsonValueKind.String => JsonValue.Create(fill(value.GetValue<string>())),
        JsonArray array => new JsonArray(array.Select(n => FillNode(n, fill)).ToArray()),
        JsonObject obj => new JsonObject(obj.Select(p => KeyValuePair.Create(p.Key, FillNode(p.Value, fill)))),
        _ => node?.DeepClone(),
    };
}
