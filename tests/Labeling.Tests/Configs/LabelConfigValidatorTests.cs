using System.Text.Json;
using Cube.Core.Errors;
using Cube.Labeling.Configs;

namespace Cube.Labeling.Tests.Configs;

public sealed class LabelConfigValidatorTests
{
    private static JsonElement Json(string json) => JsonDocument.Parse(json).RootElement.Clone();

    [Fact]
    public void Parse_ReadsEveryKind()
    {
        foreach (var kind in Enum.GetNames<LabelingKind>())
        {
            var config = LabelConfigValidator.Parse(Json($$"""{"kind":"{{kind}}","labels":[{"name":"a","color":"#112233","hotkey":"1"},{"name":"b"}]}"""));
            Assert.Equal(kind, config.Kind.ToString());
            Assert.Equal("#112233", config.Labels[0].Color);
        }
    }

    [Fact]
    public void Parse_ReportsEachBadField()
    {
        var errors = Assert.Throws<ValidationException>(() => LabelConfigValidator.Parse(Json(
            """{"kind":"BoundingBoxes","multiple":true,"labels":[{"name":"a","color":"red","hotkey":"a"},{"name":"a","hotkey":"A"},{"name":" "}]}"""))).Errors;
        Assert.Contains("not of the form #rrggbb", errors["config.labels[0].color"][0]);
        Assert.Contains("listed twice", errors["config.labels[1].name"][0]);
        Assert.Contains("used by two labels", errors["config.labels[1].hotkey"][0]);
        Assert.Contains("needs a name", errors["config.labels[2].name"][0]);
        Assert.Contains("Only classification", errors["config.multiple"][0]);
    }

    [Fact]
    public void Parse_RefusesUnknownKindsAndEmptyLabelLists()
    {
        Assert.Throws<ValidationException>(() => LabelConfigValidator.Parse(Json("""{"kind":"Audio","labels":[{"name":"a"}]}""")));
        Assert.Contains("At least one label", Assert.Throws<ValidationException>(() => LabelConfigValidator.Parse(Json("""{"kind":"NamedEntities","labels":[]}"""))).Errors["config.labels"][0]);
    }
}
