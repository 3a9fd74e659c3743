using System.IO.Compression;
using Cube.Labeling.Formats.Interchange;
using static Cube.Labeling.Tests.Formats.Interchange.Fixtures;

namespace Cube.Labeling.Tests.Formats.Interchange;

public sealed class YoloFormatTests
{
    internal static async Task<Dictionary<string, string>> ZipAsync(Func<ZipOutput, Task> write)
    {
        var bytes = await WriteAsync(async s =>
        {
            await using var zip = await ZipOutput.CreateAsync(s, TestContext.Current.CancellationToken);
            await write(zip);
        });
        using var archive = new ZipArchive(new MemoryStream(bytes));
        return archive.Entries.ToDictionary(e => e.FullName, e => new StreamReader(e.Open()).ReadToEnd());
    }

    [Fact]
    public async Task Write_ThenRead_RoundTripsNormalisedBoxes()
    {
        var tasks = new[] { Image("photos/a.png", 640, 480, """{"boxes":[{"label":"dog","x":10,"y":20,"width":100,"height":50}]}"""), Image("photos/b.png", 10, 10, null) };
        var files = await ZipAsync(z => YoloFormat.WriteAsync(Boxes, Cube.Labeling.Formats.Interchange.Interchange.Async(tasks), z, TestContext.Current.CancellationToken));
        Assert.Equal("cat\ndog\n", files["classes.txt"]);
        Assert.Equal("1 0.09375 0.09375 0.15625 0.1041666667\n", files["labels/a.txt"]);
        Assert.False(files.ContainsKey("labels/b.txt"));
        var read = Assert.Single(YoloFormat.Read(Boxes, files, s => s == "a" ? new YoloFormat.ImageInfo("photos/a.png", 640, 480) : null, 10));
        Assert.Equal(Canon(tasks[0].Annotations[0].Result), Canon(read.Annotations[0].Result));
    }

    [Fact]
    public async Task Read_TakesPolygonsAndConfidences_AndNamesBadLines()
    {
        var poly = Image("p.png", 100, 200, """{"polygons":[{"label":"car","points":[[10,20],[50,20],[50,100]]}]}""");
        var files = await ZipAsync(z => YoloFormat.WriteAsync(Polygons, Cube.Labeling.Formats.Interchange.Interchange.Async([poly]), z, TestContext.Current.CancellationToken));
        Assert.Equal("1 0.1 0.1 0.5 0.1 0.5 0.5\n", files["labels/p.txt"]);
        Assert.Equal(Canon(poly.Annotations[0].Result), Canon(YoloFormat.Read(Polygons, files, _ => new("p.png", 100, 200), 10)[0].Annotations[0].Result));

        var detections = new Dictionary<string, string> { ["classes.txt"] = "cat\ndog\n", ["labels/a.txt"] = "0 0.5 0.5 0.2 0.2 0.9\n1 0.5 0.5 0.2 0.2 0.7\n" };
        Assert.Equal(0.8, YoloFormat.Read(Boxes, detections, _ => new("a.png", 10, 10), 10)[0].Predictions[0].Score!.Value, 9);

        var bad = new Dictionary<string, string>
        {
            ["classes.txt"] = "cat\nhorse\n",
            ["labels/a.txt"] = "0 0.5 0.5 0.2 0.2\n5 0.5 0.5 0.2 0.2\n0 1.5 0.5 0.2 0.2\n0 0.5 x 0.2 0.2\n",
            ["labels/missing.txt"] = "0 0.5 0.5 0.2 0.2\n",
        };
        var errors = Errors(() => YoloFormat.Read(Boxes, bad, s => s == "a" ? new("a.png", 10, 10) : null, 10));
        Assert.Contains("'horse' is not a label", errors["classes.txt:2"][0]);
        Assert.Contains("not an index into classes.txt", errors["labels/a.txt:2"][0]);
        Assert.Contains("normalised to 0..1", errors["labels/a.txt:3"][0]);
        Assert.Contains("('x') is not a number", errors["labels/a.txt:4"][0]);
        Assert.Contains("No image named 'missing'", errors["labels/missing.txt"][0]);
    }
}

public sealed class VocFormatTests
{
    [Fact]
    public async Task Write_ThenRead_RoundTripsBoxes_AndNamesBadObjects()
    {
        var task = Image("photos/a.png", 640, 480, """{"boxes":[{"label":"cat","x":10.5,"y":20,"width":100,"height":50}]}""");
        var files = await YoloFormatTests.ZipAsync(z => VocFormat.WriteAsync(Boxes, Cube.Labeling.Formats.Interchange.Interchange.Async([task]), z, TestContext.Current.CancellationToken));
        var xml = files["Annotations/a.xml"];
        Assert.Contains("<xmax>110.5</xmax>", xml);
        Assert.Contains("<width>640</width>", xml);
        var read = Assert.Single(VocFormat.Read(Boxes, files, 10));
        Assert.Equal(("photos/a.png", 640, 480), (read.Image, read.Width!.Value, read.Height!.Value));
        Assert.Equal(Canon(task.Annotations[0].Result), Canon(read.Annotations[0].Result));

        var bad = new Dictionary<string, string>
        {
            ["x.xml"] = xml.Replace("<name>cat</name>", "<name>lion</name>"),
            ["y.xml"] = xml.Replace("<xmax>110.5</xmax>", "<xmax>700</xmax>"),
            ["z.xml"] = "<annotation><filename>z.png</filename><object><name>cat</name><bndbox><xmin>5</xmin></bndbox></object>",
            ["w.xml"] = xml.Replace("<xmax>110.5</xmax>", "<xmax>1</xmax>"),
        };
        var errors = Errors(() => VocFormat.Read(Boxes, bad, 10));
        Assert.Equal("Unknown label 'lion'.", Assert.Single(errors, e => e.Key.StartsWith("x.xml: object[0]", StringComparison.Ordinal)).Value[0]);
        Assert.Contains("outside the image width 640", Assert.Single(errors, e => e.Key.StartsWith("y.xml: object[0]", StringComparison.Ordinal)).Value[0]);
        Assert.Contains("Not well-formed XML", errors["z.xml"][0]);
        Assert.Contains("lie before xmin/ymin", Assert.Single(errors, e => e.Key.StartsWith("w.xml", StringComparison.Ordinal)).Value[0]);
    }
}
