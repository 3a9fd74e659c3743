using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using Cube.Core.Errors;

namespace Cube.Labeling.Configs;

/// <summary>Checks a label configuration before a project accepts it; every problem is reported under its JSON path.</summary>
public static partial class LabelConfigValidator
{
    public const int MaxLabels = 1000;

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    /// <summary>Parses and validates a configuration given as JSON; throws a 400 validation problem naming each bad field.</summary>
    public static LabelConfig Parse(JsonElement element)
    {
        LabelConfig? config;
        try
        {
            config = element.Deserialize<LabelConfig>(Json);
        }
        catch (JsonException e)
        {
            throw new ValidationException("config", $"The label configuration is not valid JSON for a configuration: {e.Message}");
        }
        if (config is null) throw new ValidationException("config", "A label configuration is required.");
        Validate(config);
        return config;
    }

    public static void Validate(LabelConfig config)
    {
        var errors = new ErrorList();
        if (!Enum.IsDefined(config.Kind)) errors.Add("config.kind", $"Unknown kind '{config.Kind}'.");
        if (config.Labels is null || config.Labels.Count == 0) errors.Add("config.labels", "At least one label is required.");
        else if (config.Labels.Count > MaxLabels) errors.Add("config.labels", $"At most {MaxLabels} labels are allowed.");
        else
        {
            var names = new HashSet<string>(StringComparer.Ordinal);
            var hotkeys = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
            for (var i = 0; i < config.Labels.Count; i++)
            {
                var label = config.Labels[i];
                var path = $"config.labels[{i}]";
                if (label is null || string.IsNullOrWhiteSpace(label.Name)) errors.Add($"{path}.name", "A label needs a name.");
                else if (label.Name.Length > 200) errors.Add($"{path}.name", "Label names are at most 200 characters.");
                else if (label.Name != label.Name.Trim()) errors.Add($"{path}.name", $"Label name '{label.Name}' has leading or trailing spaces.");
                else if (!names.Add(label.Name)) errors.Add($"{path}.name", $"Label '{label.Name}' is listed twice.");
                if (label?.Color is { } color && !ColorPattern().IsMatch(color))
                    errors.Add($"{path}.color", $"Colour '{color}' is not of the form #rrggbb.");
                if (label?.Hotkey is { } hotkey)
                {
                    if (hotkey.Length != 1 || !char.IsLetterOrDigit(hotkey[0])) errors.Add($"{path}.hotkey", $"Hotkey '{hotkey}' must be one letter or digit.");
                    else if (!hotkeys.Add(hotkey)) errors.Add($"{path}.hotkey", $"Hotkey '{hotkey}' is used by two labels.");
                }
            }
        }
        if (config.Multiple && !config.IsClassification) errors.Add("config.multiple", "Only classification configurations can be multi-label.");
        if (config.AllowOverlap && config.Kind != LabelingKind.NamedEntities) errors.Add("config.allowOverlap", "Only named-entity configurations have an overlap rule.");
        if (config.MinBoxSize is < 0 or > 100_000 || double.IsNaN(config.MinBoxSize)) errors.Add("config.minBoxSize", "The smallest box size must be between 0 and 100000 pixels.");
        if (config.MinPolygonPoints < 3) errors.Add("config.minPolygonPoints", "A polygon needs at least 3 points.");
        if (config.MaxPolygonPoints < config.MinPolygonPoints) errors.Add("config.maxPolygonPoints", "The largest point count must be at least the smallest.");
        errors.ThrowIfAny();
    }

    [GeneratedRegex("^#[0-9a-fA-F]{6}$")]
    private static partial Regex ColorPattern();
}

/// <summary>Collects field errors under JSON paths and throws them as one validation problem.</summary>
internal sealed class ErrorList
{
    private readonly Dictionary<string, List<string>> _errors = new(StringComparer.Ordinal);

    public int Count => _errors.Count;

    public void Add(string path, string message)
    {
        if (!_errors.TryGetValue(path, out var list)) _errors[path] = list = [];
        list.Add(message);
    }

    public void ThrowIfAny()
    {
        if (_errors.Count > 0) throw new ValidationException(_errors.ToDictionary(e => e.Key, e => e.Value.ToArray()));
    }

    public static string Number(double value) => value.ToString("0.###", CultureInfo.InvariantCulture);
}
