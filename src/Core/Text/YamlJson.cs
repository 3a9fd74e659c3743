using System.Globalization;
using System.Text.Json.Nodes;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Cube.Core.Text;

/// <summary>A YAML (or JSON) text that cannot become a JSON document; <see cref="Key"/> names a duplicated key.</summary>
public sealed class YamlJsonException(string message, string? key = null) : FormatException(message)
{
    public string? Key => key;
}

/// <summary>
/// Reads YAML or JSON (JSON is YAML, so one parser reads both) into JSON nodes with the YAML 1.2 core schema: plain
/// scalars that look like numbers, booleans or null are typed; quoted and block scalars stay strings. Specs written by
/// people (pipelines, training jobs) go through here, so every module reads them the same way.
/// </summary>
public static class YamlJson
{
    /// <summary>The first document, or null for an empty text.</summary>
    public static JsonNode? Parse(string text)
    {
        try
        {
            var stream = new YamlStream();
            stream.Load(new StringReader(text));
            return stream.Documents.Count == 0 ? null : ToJson(stream.Documents[0].RootNode);
        }
        catch (YamlException e)
        {
            throw new YamlJsonException($"The text does not parse at line {e.Start.Line}, column {e.Start.Column}: {e.InnerException?.Message ?? e.Message}");
        }
    }

    private static JsonNode? ToJson(YamlNode node)
    {
        switch (node)
        {
            case YamlMappingNode map:
            {
                var obj = new JsonObject();
                foreach (var (key, value) in map.Children)
                {
                    var name = ((YamlScalarNode)key).Value ?? "";
                    if (obj.ContainsKey(name)) throw new YamlJsonException($"The key '{name}' appears twice (line {key.Start.Line}).", name);
                    obj[name] = ToJson(value);
                }
                return obj;
            }
            case YamlSequenceNode sequence:
                return new JsonArray(sequence.Children.Select(ToJson).ToArray());
            case YamlScalarNode scalar:
            {
                var value = scalar.Value ?? "";
                if (scalar.Style is ScalarStyle.SingleQuoted or ScalarStyle.DoubleQuoted or ScalarStyle.Literal or ScalarStyle.Folded) return JsonValue.Create(value);
                switch (value)
                {
                    case "" or "~" or "null" or "Null" or "NULL": return null;
                    case "true" or "True" or "TRUE": return JsonValue.Create(true);
                    case "false" or "False" or "FALSE": return JsonValue.Create(false);
                }
                if (long.TryParse(value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var whole)) return JsonValue.Create(whole);
                if (double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var number) && double.IsFinite(number)) return JsonValue.Create(number);
                return JsonValue.Create(value);
            }
            default:
                return null;
        }
    }
}
