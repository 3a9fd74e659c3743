using System.Text.Json.Nodes;
using Cube.Labeling.Formats.Interchange;
using static Cube.Labeling.Tests.Formats.Interchange.Fixtures;

namespace Cube.Labeling.Tests.Formats.Interchange;

public sealed class CocoFormatTests
{
    [Fact]
    public async Task Write_ThenRead_RoundTripsBoxesWithCategoriesFromTheConfig()
    {
        var tasks = new[]
        {
            Image("a.png", 640, 480, """{"boxes":[{"label":"cat","x":10,"y":20,"width":100,"height":50},{"label":"dog","x":1,"y":2,"width":3,"height":4}]}"""),
            Image("b.png", 64, 64, null),
        };
        var bytes = await WriteAsync(s => CocoFormat.WriteAsync(Boxes, () => Cube.Labeling.Formats.Interchange.Interchange.Async(tasks), s, TestContext.Current.CancellationToken));
        var coco = JsonNode.Parse(bytes)!;
        Assert.Equal(["cat", "dog"], coco["categories"]!.AsArray().Select(c => c!["name"]!.GetValue<string>()));
        Assert.Single(coco["images"]!.AsArray()); // unlabelled tasks are left out
        Assert.Equal(5000, coco["annotations"]![0]!["area"]!.GetValue<double>());
        var read = Assert.Single(CocoFormat.Read(Boxes, new MemoryStream(bytes), 10));
        Assert.Equal((640, 480), (read.Width, read.Height));
        Assert.Equal(Canon(tasks[0].Annotations[0].Result), Canon(read.Annotations[0].Result));
    }

    [Fact]
    public async Task Write_ThenRead_RoundTripsPolygons_AndScoresMakePredictions()
    {
        var task = Image("p.png", 100, 100, """{"polygons":[{"label":"road","points":[[0,0],[50,0],[50,50]]}]}""");
        var bytes = await WriteAsync(s => CocoFormat.WriteAsync(Polygons, () => Cube.Labeling.Formats.Interchange.Interchange.Async([task]), s, TestContext.Current.CancellationToken));
        var coco = JsonNode.Parse(bytes)!;
        Assert.Equal(1250, coco["annotations"]![0]!["area"]!.GetValue<double>());
        Assert.Equal(Canon(task.Annotations[0].Result), Canon(Assert.Single(CocoFormat.Read(Polygons, new MemoryStream(bytes), 10)).Annotations[0].Result));

        coco["annotations"]![0]!["score"] = 0.25;
        var predicted = Assert.Single(CocoFormat.Read(Polygons, Stream(coco.ToJsonString()), 10));
        Assert.Empty(predicted.Annotations);
        Assert.Equal(0.25, Assert.Single(predicted.Predictions).Score);
    }

    [Fact]
    public void Read_NamesTheAnnotation_WhenCategoryIsUnknownOrTheBoxLeavesTheImage()
    {
        const string file = """
            {"images":[{"id":1,"file_name":"a.png","width":100,"height":50}],
             "categories":[{"id":1,"name":"cat"},{"id":2,"name":"zebra"}],
             "annotations":[{"id":1,"image_id":1,"category_id":2,"bbox":[0,0,10,10]},
                            {"id":2,"image_id":9,"category_id":1,"bbox":[0,0,10,10]},
                            {"id":3,"image_id":1,"category_id":1,"bbox":[0,0,10]}]}
            """;
        var errors = Errors(() => CocoFormat.Read(Boxes, Stream(file), 10));
        Assert.Contains("'zebra' is not a label", errors["annotations[0].category_id"][0]);
        Assert.Contains("Image 9 is not in 'images'", errors["annotations[1].image_id"][0]);
        Assert.Contains("[x, y, width, height]", errors["annotations[2].bbox"][0]);

        var outside = file.Replace("\"category_id\":2", "\"category_id\":1").Replace("\"image_id\":9", "\"image_id\":1").Replace("[0,0,10]", "[95,0,10,10]");
        errors = Errors(() => CocoFormat.Read(Boxes, Stream(outside), 10));
        Assert.Contains("outside the image width 100", errors["annotations[2]"][0]);
        Assert.Throws<Cube.Core.Errors.UnprocessableException>(() => CocoFormat.Read(Sentiment, Stream(file), 10));
    }
}
