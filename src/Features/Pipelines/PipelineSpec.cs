using System.Text.Json;
using System.Text.Json.Nodes;
using Cube.Core.Text;

namespace Cube.Features.Pipelines;

/// <summary>Where a pipeline input comes from: a dataset's table at a version number or tag (latest when neither).</summary>
public sealed record InputSpec(string? Dataset, int? Version, string? Tag, string? Table)
{
    /// <summary>The version as written when it is a placeholder (<c>"{{params.v}}"</c>); a rendered spec holds the number instead.</summary>
    public string? VersionText { get; init; }

    /// <summary>Whether the version or tag came from a placeholder, so it may name a version that does not exist yet.</summary>
    public bool Templated { get; init; }
}

/// <summary>What a run's output version is published as: a version tag pointed at it and the version's message, both templates.</summary>
public sealed record PublishSpec(string? Tag, string? Message);

/// <summary>
/// One step: a unique name, an operator, the step or input it reads (the previous step by default), for joins the step
/// or input it reads in full as its right side, and its parameters.
/// </summary>
public sealed record StepSpec(string Name, string Op, string? Input, JsonObject Params)
{
    public string? Right { get; init; }
}

/// <summary>A feature pipeline as written: named inputs, a DAG of steps, and the step whose output is the result.</summary>
public sealed record PipelineSpec(string Name, IReadOnlyDictionary<string, InputSpec> Inputs, IReadOnlyList<StepSpec> Steps, string Output)
{
    /// <summary>Declared run parameters with their defaults (as the text a placeholder becomes); runs may override them.</summary>
    public IReadOnlyDictionary<string, string> Parameters { get; init; } = new Dictionary<string, string>(StringComparer.Ordinal);

    public PublishSpec? Publish { get; init; }

    private static readonly HashSet<string> Reserved = ["name", "op", "input", "right"];

    /// <summary>
    /// True for a spec a run's values were filled into: its strings are final, so braces left in them (written as a quoted
    /// placeholder, <c>{{ '{{' }}</c>) are text, not placeholders.
    /// </summary>
    public bool Rendered { get; init; }

    /// <summary>Whether any string the run parameters fill in holds a placeholder (such specs render differently per run).</summary>
    public bool IsTemplated => !Rendered && SpecTemplate.Strings(this).Any(s => SpecTemplate.HasPlaceholder(s.Text));

    /// <summary>Parses YAML or JSON (JSON is YAML, so one parser reads both). Problems are <see cref="PipelineValidationException"/>s.</summary>
    public static PipelineSpec Parse(string text)
    {
        JsonNode? root;
        try
        {
            root = YamlJson.Parse(text);
        }
        catch (YamlJsonException e)
        {
            throw new PipelineValidationException([new PipelineError(null, e.Key, e.Key is null ? e.Message.Replace("The text does not parse", "The spec does not parse", StringComparison.Ordinal) : e.Message)]);
        }
        if (root is not JsonObject obj) throw new PipelineValidationException([new PipelineError(null, null, "The spec must be a mapping with 'name', 'inputs', 'steps' and 'output'.")]);
        if (obj.ContainsKey("rendered")) throw new PipelineValidationException([new PipelineError(null, "rendered", "'rendered' marks a spec a run filled in; it is not written by hand.")]);
        return FromJson(obj);
    }

    public static PipelineSpec FromJson(JsonObject obj)
    {
        var errors = new List<PipelineError>();
        var rendered = obj["rendered"] is JsonValue r && r.TryGetValue<bool>(out var flag) && flag;
        var name = Text(obj, "name") ?? "pipeline";
        var inputs = new Dictionary<string, InputSpec>(StringComparer.Ordinal);
        if (obj["inputs"] is JsonObject inputMap)
        {
            foreach (var (key, value) in inputMap)
            {
                if (value is JsonObject input)
                {
                    int? version = null;
                    string? versionText = null;
                    if (input["version"] is JsonValue v)
                    {
                        if (!rendered && v.GetValueKind() == JsonValueKind.String && SpecTemplate.HasPlaceholder(v.GetValue<string>())) versionText = v.GetValue<string>();
                        else if (v.GetValueKind() == JsonValueKind.String && int.TryParse(v.GetValue<string>(), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var parsed) && parsed > 0) version = parsed;
                        else if ((v.TryGetValue<long>(out var n) || (v.TryGetValue<int>(out var i32) && (n = i32) > 0)) && n is > 0 and < int.MaxValue) version = (int)n;
                        else errors.Add(new PipelineError(null, $"inputs.{key}.version", "'version' must be a positive whole number."));
                    }
                    inputs[key] = new InputSpec(Text(input, "dataset"), version, Text(input, "tag"), Text(input, "table")) { VersionText = versionText };
                }
                else if (value is null) inputs[key] = new InputSpec(null, null, null, null);
                else errors.Add(new PipelineError(null, $"inputs.{key}", "An input must be a mapping (dataset, version or tag, table)."));
            }
        }
        else if (obj["inputs"] is not null) errors.Add(new PipelineError(null, "inputs", "'inputs' must be a mapping of input names."));
        if (inputs.Count == 0) inputs["input"] = new InputSpec(null, null, null, null);

        var steps = new List<StepSpec>();
        if (obj["steps"] is JsonArray array)
        {
            string? previous = null;
            for (var i = 0; i < array.Count; i++)
            {
                if (array[i] is not JsonObject step)
                {
                    errors.Add(new PipelineError(null, $"steps[{i}]", "A step must be a mapping with 'name' and 'op'."));
                    continue;
                }
                var stepName = Text(step, "name") ?? $"step{i + 1}";
                var op = Text(step, "op");
                if (op is null)
                {
                    errors.Add(new PipelineError(stepName, "op", "The step has no 'op'."));
                    continue;
                }
                var input = Text(step, "input") ?? previous ?? (inputs.Count == 1 ? inputs.Keys.First() : null);
                var parameters = new JsonObject();
                foreach (var (key, value) in step)
                    if (!Reserved.Contains(key)) parameters[key] = value?.DeepClone();
                steps.Add(new StepSpec(stepName, op, input, parameters) { Right = Text(step, "right") });
                previous = stepName;
            }
        }
        else errors.Add(new PipelineError(null, "steps", "'steps' must be a list of steps."));

        var output = Text(obj, "output") ?? steps.LastOrDefault()?.Name;
        if (output is null) errors.Add(new PipelineError(null, "output", "The pipeline has no steps and no 'output'."));
        var declared = SpecTemplate.Declarations(obj["params"], errors);
        PublishSpec? publish = null;
        if (obj["publish"] is JsonObject publishNode) publish = new PublishSpec(Text(publishNode, "tag"), Text(publishNode, "message"));
        else if (obj["publish"] is not null) errors.Add(new PipelineError(null, "publish", "'publish' must be a mapping with 'tag' and/or 'message'."));
        var spec = new PipelineSpec(name, inputs, steps, output ?? "") { Parameters = declared, Publish = publish, Rendered = rendered };
        if (!rendered) errors.AddRange(SpecTemplate.Check(spec));
        if (errors.Count > 0) throw new PipelineValidationException(errors);
        return spec;
    }

    public JsonObject ToJson()
    {
        var inputs = new JsonObject();
        foreach (var (key, input) in Inputs)
            inputs[key] = new JsonObject
            {
                ["dataset"] = input.Dataset, ["version"] = input.VersionText is null ? input.Version : input.VersionText, ["tag"] = input.Tag, ["table"] = input.Table,
            };
        var steps = new JsonArray();
        foreach (var step in Steps)
        {
            var node = new JsonObject { ["name"] = step.Name, ["op"] = step.Op, ["input"] = step.Input };
            if (step.Right is not null) node["right"] = step.Right;
            foreach (var (key, value) in step.Params) node[key] = value?.DeepClone();
            steps.Add(node);
        }
        var json = new JsonObject { ["name"] = Name, ["inputs"] = inputs, ["steps"] = steps, ["output"] = Output };
        if (Parameters.Count > 0) json["params"] = new JsonObject(Parameters.Select(p => KeyValuePair.Create(p.Key, (JsonNode?)p.Value)));
        if (Publish is not null) json["publish"] = new JsonObject { ["tag"] = Publish.Tag, ["message"] = Publish.Message };
        if (Rendered) json["rendered"] = true;
        return json;
    }

    private static string? Text(JsonObject obj, string name) =>
        obj[name] is JsonValue v && v.GetValueKind() == JsonValueKind.String ? v.GetValue<string>() : obj[name] is JsonValue n ? n.ToJsonString() : null;
}

/// <summary>One validation problem: the step (null for the pipeline itself), the field within it, and what is wrong.</summary>
public sealed record PipelineError(string? Step, string? Field, string Message);

/// <summary>A pipeline that does not validate; the API answers 422 with the full list.</summary>
public sealed class PipelineValidationException : Core.Errors.CubeException
{
    public PipelineValidationException(IReadOnlyList<PipelineError> errors)
        : base(422, "The pipeline is invalid", string.Join(" ", errors.Select(e => e.Step is null ? e.Message : $"[{e.Step}{(e.Field is null ? "" : "." + e.Field)}] {e.Message}")))
    {
        Errors = errors;
        With("errors", errors);
    }

    public IReadOnlyList<PipelineError> Errors { get; }
}
