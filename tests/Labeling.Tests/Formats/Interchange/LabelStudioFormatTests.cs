using System.Text;
using System.Text.Json.Nodes;
using Cube.Labeling.Formats.Interchange;
using static Cube.Labeling.Tests.Formats.Interchange.Fixtures;

namespace Cube.Labeling.Tests.Formats.Interchange;

public sealed class LabelStudioFormatTests
{
    [Fact]
    public async Task Write_ThenRead_RoundTripsBoxesAnnotationsAndPredictions()
    {
        var tasks = new[]
        {
            Image("photos/a.png", 640, 480, """{"boxes":[{"label":"cat","x":10,"y":20,"width":100,"height":50}]}""",
                """{"boxes":[{"label":"dog","x":320,"y":240,"width":64,"height":48}]}""", 0.42),
            Image("photos/b.png", 200, 100, """{"boxes":[]}"""),
        };
        var bytes = await WriteAsync(s => LabelStudioFormat.WriteAsync(Boxes, Cube.Labeling.Formats.Interchange.Interchange.Async(tasks), s, TestContext.Current.CancellationToken));
        var file = JsonNode.Parse(bytes)!.AsArray();
        var region = file[0]!["annotations"]![0]!["result"]![0]!;
        Assert.Equal(("rectanglelabels", 640, 1.5625), (region["type"]!.GetValue<string>(), region["original_width"]!.GetValue<int>(), region["value"]!["x"]!.GetValue<double>()));
        Assert.Equal(0.42, file[0]!["predictions"]![0]!["score"]!.GetValue<double>());

        var read = LabelStudioFormat.Read(Boxes, new MemoryStream(bytes), 100);
        Assert.Equal(2, read.Count);
        Assert.Equal(Canon(tasks[0].Annotations[0].Result), Canon(read[0].Annotations[0].Result));
        Assert.Equal(Canon(tasks[0].Predictions[0].Result), Canon(read[0].Predictions[0].Result));
        Assert.Equal(("yolo-v8", 0.42, "ann-1"), (read[0].Predictions[0].Source, read[0].Predictions[0].Score, read[0].Annotations[0].Source));
        Assert.Equal("photos/a.png", read[0].Image);
    }

    [Fact]
    public async Task Write_ThenRead_RoundTripsSpansAndClassification()
    {
        var text = Text("Ada Lovelace lived in London", """{"spans":[{"label":"PER","start":0,"end":12},{"label":"LOC","start":22,"end":28}]}""");
        var bytes = await WriteAsync(s => LabelStudioFormat.WriteAsync(Entities, Cube.Labeling.Formats.Interchange.Interchange.Async([text]), s, TestContext.Current.CancellationToken));
        Assert.Contains("\"text\":\"London\"", Encoding.UTF8.GetString(bytes));
        var read = Assert.Single(LabelStudioFormat.Read(Entities, new MemoryStream(bytes), 10));
        Assert.Equal(Canon(Obj("""{"spans":[{"label":"PER","start":0,"end":12,"text":"Ada Lovelace"},{"label":"LOC","start":22,"end":28,"text":"London"}]}""")), Canon(read.Annotations[0].Result));

        var choice = Text("great", """{"labels":["positive"]}""");
        var classified = await WriteAsync(s => LabelStudioFormat.WriteAsync(Sentiment, Cube.Labeling.Formats.Interchange.Interchange.Async([choice]), s, TestContext.Current.CancellationToken));
        Assert.Equal("""{"labels":["positive"]}""", Assert.Single(LabelStudioFormat.Read(Sentiment, new MemoryStream(classified), 10)).Annotations[0].Result.ToJsonString());
    }

    [Fact]
    public void Read_ReportsEachBadRegionAtItsPlace_WhenLabelsAreUnknownOrBoxesLeaveTheImage()
    {
        const string file = """
            [{"id": 7, "data": {"image": "a.png"}, "annotations": [{"result": [
               {"type": "rectanglelabels", "original_width": 100, "original_height": 100, "value": {"x": 10, "y": 10, "width": 20, "height": 20, "rectanglelabels": ["horse"]}},
               {"type": "rectanglelabels", "original_width": 100, "original_height": 100, "value": {"x": 90, "y": 10, "width": 20, "height": 20, "rectanglelabels": ["cat"]}},
               {"type": "polygonlabels", "value": {"points": [], "polygonlabels": ["cat"]}}]}]},
             {"data": {"text": "no image"}}]
            """;
        var errors = Errors(() => LabelStudioFormat.Read(Boxes, Stream(file), 10));
        Assert.Contains("does not fit a BoundingBoxes configuration", errors["tasks[0].annotations[0].result[2].type"][0]);
        Assert.Contains("needs 'data.image'", errors["tasks[1].data.image"][0]);

        var second = """[{"data": {"image": "a.png"}, "predictions": [{"score": 0.5, "result": [""" +
            """{"type": "rectanglelabels", "original_width": 100, "original_height": 100, "value": {"x": 10, "y": 10, "width": 20, "height": 20, "rectanglelabels": ["horse"]}},""" +
            """{"type": "rectanglelabels", "original_width": 100, "original_height": 100, "value": {"x": 90, "y": 10, "width": 20, "height": 20, "rectanglelabels": ["cat"]}}]}]}]""";
        errors = Errors(() => LabelStudioFormat.Read(Boxes, Stream(second), 10));
        Assert.Equal("Unknown label 'horse'.", errors["tasks[0].predictions[0].result[0].label"][0]);
        Assert.Contains("outside the image width 100", errors["tasks[0].predictions[0].result[1]"][0]);
        Assert.Contains("not valid JSON", Assert.Throws<Cube.Core.Errors.UnprocessableException>(() => LabelStudioFormat.Read(Boxes, Stream("[{"), 10)).Message);
    }
}
