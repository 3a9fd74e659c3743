using System.Globalization;
using System.Text.Json.Nodes;
using NJsonSchema;
using YamlDotNet.RepresentationModel;

namespace Cube.Training.Tests.Kubernetes;

/// <summary>
/// The upstream schemas in shared/schemas, each loaded once. PyTorchJob ships only as its CRD: its v1 openAPIV3Schema
/// is made strict as kubeconform does (additionalProperties false on every object with properties but the root,
/// int-or-string as oneOf).
/// </summary>
internal static class UpstreamSchemas
{
    private static readonly Lazy<JsonSchema> LazyBatchJob = new(() => Load("kubernetes/v1.32.2-standalone-strict/job-batch-v1.json"));
    private static readonly Lazy<JsonSchema> LazyService = new(() => Load("kubernetes/v1.32.2-standalone-strict/service-v1.json"));
    private static readonly Lazy<JsonSchema> LazyVolcano = new(() => Load("crds/batch.volcano.sh/job_v1alpha1.json"));
    private static readonly Lazy<JsonSchema> LazyPyTorchJob = new(LoadPyTorchJob);

    public static JsonSchema BatchJob => LazyBatchJob.Value;
    public static JsonSchema Service => LazyService.Value;
    public static JsonSchema VolcanoJob => LazyVolcano.Value;
    public static JsonSchema PyTorchJob => LazyPyTorchJob.Value;

    public static string Directory
    {
        get
        {
            // The copies shipped with the tests first; the team's shared folder beside the repository otherwise.
            var shipped = Path.Combine(AppContext.BaseDirectory, "Kubernetes", "UpstreamSchemas");
            if (System.IO.Directory.Exists(shipped)) return shipped;
            for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            {
                foreach (var candidate in new[] { Path.Combine(dir.FullName, "shared", "schemas"), Path.Combine(dir.FullName, "..", "shared", "schemas") })
                    if (System.IO.Directory.Exists(candidate)) return Path.GetFullPath(candidate);
            }
            throw new DirectoryNotFoundException("shared/schemas was not found beside the repository.");
        }
    }

    private static JsonSchema Load(string relative) =>
        JsonSchema.FromJsonAsync(File.ReadAllText(Path.Combine(Directory, relative))).GetAwaiter().GetResult();

    private static JsonSchema LoadPyTorchJob()
    {
        var yaml = new YamlStream();
        using (var reader = File.OpenText(Path.Combine(Directory, "crd-yaml/kubeflow.org/kubeflow.org_pytorchjobs.yaml")))
            yaml.Load(reader);
        var crd = (JsonObject)ToJson(yaml.Documents[0].RootNode)!;
        var version = crd["spec"]!["versions"]!.AsArray().Single(v => (string?)v!["name"] == "v1")!;
        var schema = version["schema"]!["openAPIV3Schema"]!.DeepClone().AsObject();
        Strict(schema, isRoot: true);
        return JsonSchema.FromJsonAsync(schema.ToJsonString()).GetAwaiter().GetResult();
    }

    private static void Strict(JsonNode? node, bool isRoot)
    {
        switch (node)
        {
            case JsonObject obj:
                if (obj["x-kubernetes-int-or-string"] is JsonValue flag && flag.GetValue<bool>())
                {
                    obj.Remove("type");
                    obj["oneOf"] = new JsonArray(new JsonObject { ["type"] = "string" }, new JsonObject { ["type"] = "integer" });
                }
                if (!isRoot && obj["properties"] is JsonObject && !obj.ContainsKey("additionalProperties")) obj["additionalProperties"] = false;
                foreach (var (_, child) in obj.ToList()) Strict(child, isRoot: false);
                break;
            case JsonArray array:
                foreach (var child in array) Strict(child, isRoot: false);
                break;
        }
    }

    /// <summary>YAML to JSON with plain scalars typed as YAML 1.2's core schema reads them.</summary>
    private static JsonNode? ToJson(YamlNode node) => node switch
    {
        YamlMappingNode map => new JsonObject(map.Children.Select(c => KeyValuePair.Create(((YamlScalarNode)c.Key).Value!, ToJson(c.Value)))),
        YamlSequenceNode seq => new JsonArray(seq.Children.Select(ToJson).ToArray()),
        YamlScalarNode scalar when scalar.Style == YamlDotNet.Core.ScalarStyle.Plain => scalar.Value switch
        {
            null or "null" or "~" => null,
            "true" => JsonValue.Create(true),
            "false" => JsonValue.Create(false),
            var v when long.TryParse(v, NumberStyles.Integer, CultureInfo.InvariantCulture, out var l) => JsonValue.Create(l),
            var v when double.TryParse(v, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) => JsonValue.Create(d),
            var v => JsonValue.Create(v),
        },
        YamlScalarNode scalar => JsonValue.Create(scalar.Value),
        _ => null,
    };
}
