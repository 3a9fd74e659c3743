using System.Text;
using System.Text.Json.Nodes;
using Cube.Core.Errors;
using Cube.Labeling.Configs;
using Cube.Labeling.Formats.Interchange;

namespace Cube.Labeling.Tests.Formats.Interchange;

internal static class Fixtures
{
    public static readonly LabelConfig Boxes = new(LabelingKind.BoundingBoxes, [new("cat"), new("dog")]);
    public static readonly LabelConfig Polygons = new(LabelingKind.Polygons, [new("road"), new("car")]);
    public static readonly LabelConfig Entities = new(LabelingKind.NamedEntities, [new("PER"), new("LOC"), new("ORG")]);
    public static readonly LabelConfig Sentiment = new(LabelingKind.TextClassification, [new("positive"), new("negative")]);

    public static JsonObject Obj(string json) => (JsonObject)JsonNode.Parse(json)!;

    public static InterchangeTask Image(string path, int w, int h, string? result, string? prediction = null, double? score = null) => new(
        Obj($$"""{"image":"{{path}}","width":{{w}},"height":{{h}}}"""),
        result is null ? [] : [new InterchangeResult(Obj(result), "ann-1")],
        prediction is null ? [] : [new InterchangeResult(Obj(prediction), "yolo-v8", score)], Key: path);

    public static InterchangeTask Text(string text, string? result, string key = "t") => new(new JsonObject { ["text"] = text },
        result is null ? [] : [new InterchangeResult(Obj(result), "ann-1")], [], Key: key);

    public static async Task<byte[]> WriteAsync(Func<Stream, Task> write)
    {
        using var stream = new MemoryStream();
        await write(stream);
        return stream.ToArray();
    }

    public static MemoryStream Stream(string text) => new(Encoding.UTF8.GetBytes(text));

    public static Dictionary<string, string[]> Errors(Action read)
    {
        var e = Assert.Throws<UnprocessableException>(read);
        return Assert.IsType<Dictionary<string, string[]>>(e.Extensions["errors"]);
    }

    /// <summary>Results compared as JSON text with numbers normalised, so 10 and 10.0 are equal.</summary>
    public static string Canon(JsonNode? node) => node switch
    {
        JsonObject o => "{" + string.Join(",", o.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => $"\"{p.Key}\":{Canon(p.Value)}")) + "}",
        JsonArray a => "[" + string.Join(",", a.Select(Canon)) + "]",
        JsonValue v when Cube.Labeling.Formats.Interchange.Interchange.Double(v) is { } d => Math.Round(d, 4).ToString(System.Globalization.CultureInfo.InvariantCulture),
        null => "null",
        _ => node.ToJsonString(),
    };
}
