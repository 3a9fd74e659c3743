using System.Text.Json;
using Cube.Core.Errors;
using Cube.Labeling.Configs;

namespace Cube.Labeling.Tests.Configs;

public sealed class AnnotationValidatorTests
{
    private static readonly LabelConfig Boxes = new(LabelingKind.BoundingBoxes, [new("cat", "#ff0000", "c"), new("dog", "#00ff00", "d")], MinBoxSize: 2);
    private static readonly LabelConfig Entities = new(LabelingKind.NamedEntities, [new("PER"), new("LOC")]);
    private static readonly TaskSubject Image = new(Width: 640, Height: 480);

    private static JsonElement Json(string json) => JsonDocument.Parse(json).RootElement.Clone();

    private static IDictionary<string, string[]> Errors(LabelConfig config, string result, TaskSubject subject) =>
        Assert.Throws<ValidationException>(() => AnnotationValidator.Validate(config, Json(result), subject)).Errors;

    [Fact]
    public void Validate_AcceptsBoxesInsideTheImage()
    {
        AnnotationValidator.Validate(Boxes, Json("""{"boxes":[{"label":"cat","x":0,"y":0,"width":640,"height":480},{"label":"dog","x":10.5,"y":20,"width":30,"height":40}]}"""), Image);
        AnnotationValidator.Validate(Boxes, Json("""{"boxes":[]}"""), Image);
    }

    [Fact]
    public void Validate_NamesTheBoxAndEdge_WhenABoxLeavesTheImage()
    {
        var errors = Errors(Boxes, """{"boxes":[{"label":"cat","x":1,"y":1,"width":5,"height":5},{"label":"cat","x":600,"y":10,"width":50,"height":10}]}""", Image);
        var message = Assert.Single(errors["result.boxes[1]"]);
        Assert.Contains("x=650", message);
        Assert.Contains("width 640", message);
        Assert.False(errors.ContainsKey("result.boxes[0]"));
    }

    [Fact]
    public void Validate_ReportsUnknownLabels_AndTooSmallBoxes()
    {
        var errors = Errors(Boxes, """{"boxes":[{"label":"bird","x":1,"y":1,"width":5,"height":5},{"label":"dog","x":1,"y":1,"width":1,"height":5}]}""", Image);
        Assert.Equal("Unknown label 'bird'.", Assert.Single(errors["result.boxes[0].label"]));
        Assert.Contains("smallest allowed is 2", Assert.Single(errors["result.boxes[1]"]));
    }

    [Fact]
    public void Validate_RefusesOverlappingSpans_WhenTheConfigurationDisallowsThem()
    {
        const string text = "Ada Lovelace lived in London.";
        var errors = Errors(Entities, """{"spans":[{"label":"PER","start":0,"end":12},{"label":"LOC","start":22,"end":28},{"label":"PER","start":4,"end":12}]}""", new TaskSubject(Text: text));
        Assert.Contains("overlaps span 0..12", Assert.Single(errors["result.spans[2]"]));
        var overlapping = Entities with { AllowOverlap = true };
        AnnotationValidator.Validate(overlapping, Json("""{"spans":[{"label":"PER","start":0,"end":12},{"label":"PER","start":4,"end":12}]}"""), new TaskSubject(Text: text));
    }

    [Fact]
    public void Validate_ChecksSpanBoundsAndQuotedText()
    {
        const string text = "Ada Lovelace";
        var errors = Errors(Entities, """{"spans":[{"label":"PER","start":0,"end":40},{"label":"PER","start":4,"end":12,"text":"Lovelace!"},{"label":"PER","start":3,"end":3}]}""", new TaskSubject(Text: text));
        Assert.Contains("past the end of the text (12 characters)", errors["result.spans[0]"][0]);
        Assert.Contains("differs", errors["result.spans[1].text"][0]);
        Assert.Contains("start < end", errors["result.spans[2]"][0]);
    }

    [Fact]
    public void Validate_EnforcesSingleAndMultiLabelClassification()
    {
        var single = new LabelConfig(LabelingKind.ImageClassification, [new("cat"), new("dog")]);
        AnnotationValidator.Validate(single, Json("""{"labels":["cat"]}"""), Image);
        Assert.Contains("takes one label; 2 were given", Errors(single, """{"labels":["cat","dog"]}""", Image)["result.labels"][0]);
        Assert.Contains("at least one", Errors(single, """{"labels":[]}""", Image)["result.labels"][0]);
        var multi = single with { Multiple = true };
        AnnotationValidator.Validate(multi, Json("""{"labels":["cat","dog"]}"""), Image);
        Assert.Contains("given twice", Errors(multi, """{"labels":["cat","cat"]}""", Image)["result.labels[1]"][0]);
        Assert.Contains("Unknown member 'boxes'", Errors(multi, """{"labels":["cat"],"boxes":[]}""", Image)["result.boxes"][0]);
    }

    [Fact]
    public void Validate_ChecksPolygonsAndKeypoints()
    {
        var polygons = new LabelConfig(LabelingKind.Polygons, [new("road")]);
        AnnotationValidator.Validate(polygons, Json("""{"polygons":[{"label":"road","points":[[0,0],[10,0],[10,10]]}]}"""), Image);
        var errors = Errors(polygons, """{"polygons":[{"label":"road","points":[[0,0],[10,0]]},{"label":"road","points":[[0,0],[700,0],[10,10]]}]}""", Image);
        Assert.Contains("has 2", errors["result.polygons[0].points"][0]);
        Assert.Contains("(700, 0) lies outside the image (640x480)", errors["result.polygons[1].points[1]"][0]);

        var keypoints = new LabelConfig(LabelingKind.Keypoints, [new("nose"), new("tail")]);
        AnnotationValidator.Validate(keypoints, Json("""{"keypoints":[{"label":"nose","x":1,"y":2},{"label":"tail","x":600,"y":400}]}"""), Image);
        var twice = Errors(keypoints, """{"keypoints":[{"label":"nose","x":1,"y":2},{"label":"nose","x":3,"y":4}]}""", Image);
        Assert.Contains("placed twice", twice["result.keypoints[1].label"][0]);
        AnnotationValidator.Validate(keypoints, Json("""{"keypoints":[{"label":"nose","x":1,"y":2,"visible":false},{"label":"tail","x":3,"y":4,"visible":true}]}"""), Image);
        var visible = Errors(keypoints, """{"keypoints":[{"label":"nose","x":1,"y":2,"visible":"no"}]}""", Image);
        Assert.Contains("'visible' is true or false", visible["result.keypoints[0].visible"][0]);
    }
}
