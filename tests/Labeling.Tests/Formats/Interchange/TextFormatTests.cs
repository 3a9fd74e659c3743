using System.Text;
using Cube.Labeling.Formats.Interchange;
using static Cube.Labeling.Tests.Formats.Interchange.Fixtures;

namespace Cube.Labeling.Tests.Formats.Interchange;

public sealed class ConllFormatTests
{
    [Fact]
    public async Task Write_ThenRead_RoundTripsSpansWithTokenOffsets()
    {
        var tasks = new[]
        {
            Text("Ada Lovelace met Charles Babbage in London .\nShe wrote notes .", """{"spans":[{"label":"PER","start":0,"end":12},{"label":"PER","start":17,"end":32},{"label":"LOC","start":36,"end":42}]}"""),
            Text("Nothing here", """{"spans":[]}"""),
        };
        var bytes = await WriteAsync(s => ConllFormat.WriteAsync(Entities, Cube.Labeling.Formats.Interchange.Interchange.Async(tasks), s, TestContext.Current.CancellationToken));
        var text = Encoding.UTF8.GetString(bytes);
        Assert.Contains("Ada -X- _ B-PER\nLovelace -X- _ I-PER\nmet -X- _ O\nCharles -X- _ B-PER\n", text);
        Assert.Contains("London -X- _ B-LOC\n. -X- _ O\n\nShe -X- _ O", text);
        var read = ConllFormat.Read(Entities, new MemoryStream(bytes), TagScheme.Bio, 10);
        Assert.Equal(2, read.Count);
        Assert.Equal(tasks[0].Text, read[0].Text);
        Assert.Equal(Canon(tasks[0].Annotations[0].Result), Canon(read[0].Annotations[0].Result));
    }

    [Fact]
    public void Read_Iob1StartsSpansWithI_AndBioRefusesItWithTheLine()
    {
        const string iob1 = "EU NNP B-NP I-ORG\nrejects VBZ B-VP O\nGerman JJ B-NP I-MISC\n\nPeter NNP B-NP I-PER\nI-PER NNP B-NP B-PER\n";
        var config = Entities with { Labels = [.. Entities.Labels, new("MISC")] };
        var read = ConllFormat.Read(config, Stream(iob1), TagScheme.Iob1, 10);
        Assert.Equal(2, read.Count); // no -DOCSTART-: each sentence is a task
        Assert.Equal("""{"spans":[{"label":"ORG","start":0,"end":2},{"label":"MISC","start":11,"end":17}]}""", read[0].Annotations[0].Result.ToJsonString());
        Assert.Equal(2, read[1].Annotations[0].Result["spans"]!.AsArray().Count);

        var errors = Errors(() => ConllFormat.Read(config, Stream(iob1), TagScheme.Bio, 10));
        Assert.Contains("in BIO a span starts with B-ORG", errors["line 1"][0]);
        errors = Errors(() => ConllFormat.Read(Entities, Stream("Paris B-CITY\nis X-Y\nnice\n"), TagScheme.Bio, 10));
        Assert.Equal("Unknown label 'CITY'.", errors["line 1.label"][0]);
        Assert.Contains("neither O nor", errors["line 2"][0]);
        Assert.Contains("token and its tag", errors["line 3"][0]);
    }
}

public sealed class JsonLinesFormatTests
{
    [Fact]
    public async Task Write_ThenRead_RoundTrips_AndReadsFlatLines()
    {
        var task = Text("Ada in London", """{"spans":[{"label":"PER","start":0,"end":3}]}""", key: "k1");
        var withPrediction = task with { Predictions = [new InterchangeResult(Obj("""{"spans":[{"label":"LOC","start":7,"end":13}]}"""), "ner-1", 0.6)] };
        var bytes = await WriteAsync(s => JsonLinesFormat.WriteAsync(Cube.Labeling.Formats.Interchange.Interchange.Async([withPrediction]), s, TestContext.Current.CancellationToken));
        var read = Assert.Single(JsonLinesFormat.Read(Entities, new MemoryStream(bytes), 10));
        Assert.Equal(("k1", "Ada in London", "ner-1", 0.6), (read.Key, read.Text, read.Predictions[0].Source, read.Predictions[0].Score!.Value));
        Assert.Equal(Canon(task.Annotations[0].Result), Canon(read.Annotations[0].Result));

        var flat = JsonLinesFormat.Read(Sentiment, Stream("{\"text\":\"good\",\"label\":\"positive\"}\n\n{\"text\":\"bad\",\"labels\":[\"negative\"],\"model\":\"m\",\"score\":0.3}\n{\"text\":\"unlabelled\"}\n"), 10);
        Assert.Equal(3, flat.Count);
        Assert.Equal(("""{"labels":["positive"]}""", 0.3, 0), (flat[0].Annotations[0].Result.ToJsonString(), flat[1].Predictions[0].Score!.Value, flat[2].Annotations.Count + flat[2].Predictions.Count));
    }

    [Fact]
    public void Read_NamesTheLine_OfOverlappingSpansBadJsonAndUnknownLabels()
    {
        const string file = "{\"text\":\"Ada Lovelace\",\"spans\":[{\"label\":\"PER\",\"start\":0,\"end\":12},{\"label\":\"PER\",\"start\":4,\"end\":12}]}\n{oops\n{\"text\":\"x\",\"spans\":[{\"label\":\"GPE\",\"start\":0,\"end\":1}]}\n{\"text\":\"xy\",\"spans\":[{\"label\":\"PER\",\"start\":1,\"end\":5}]}\n";
        var errors = Errors(() => JsonLinesFormat.Read(Entities, Stream(file), 10));
        Assert.Contains("Not valid JSON", errors["line 2"][0]);
        errors = Errors(() => JsonLinesFormat.Read(Entities, Stream(file.Replace("{oops\n", "")), 10));
        Assert.Contains("overlaps span 0..12", errors["line 1: spans[1]"][0]);
        Assert.Equal("Unknown label 'GPE'.", errors["line 2: spans[0].label"][0]);
        Assert.Contains("past the end of the text", errors["line 3: spans[0]"][0]);
    }
}

public sealed class CsvFormatTests
{
    [Fact]
    public async Task Write_ThenRead_RoundTripsAnnotationsPerTask()
    {
        var multi = Sentiment with { Multiple = true };
        var task = new InterchangeTask(Obj("""{"text":"fine, \"really\""}"""),
            [new InterchangeResult(Obj("""{"labels":["positive"]}"""), "a"), new InterchangeResult(Obj("""{"labels":["positive","negative"]}"""), "b")], [], Key: "t1");
        var bytes = await WriteAsync(s => CsvFormat.WriteAsync(multi, Cube.Labeling.Formats.Interchange.Interchange.Async([task]), s, TestContext.Current.CancellationToken));
        Assert.Equal("task,item,annotator,labels\nt1,\"fine, \"\"really\"\"\",a,positive\nt1,\"fine, \"\"really\"\"\",b,positive|negative\n", Encoding.UTF8.GetString(bytes));
        var read = Assert.Single(CsvFormat.Read(multi, new MemoryStream(bytes), 10));
        Assert.Equal(("fine, \"really\"", "b", """{"labels":["positive","negative"]}"""), (read.Text, read.Annotations[1].Source, read.Annotations[1].Result.ToJsonString()));
    }

    [Fact]
    public void Read_TakesPredictions_AndNamesTheLineOfEachProblem()
    {
        var read = CsvFormat.Read(Sentiment, Stream("text,label,model,score\r\ngood,positive,m1,0.9\r\nmeh,,,\r\n"), 10);
        Assert.Equal((2, 0.9), (read.Count, read[0].Predictions[0].Score!.Value));
        var errors = Errors(() => CsvFormat.Read(Sentiment, Stream("text,label\ngood,happy\n\"unterminated,x\nbad,positive|negative\n"), 10));
        Assert.Single(errors); // the open quote swallows the rest: one error for the whole record
        errors = Errors(() => CsvFormat.Read(Sentiment, Stream("text,label\ngood,happy\nbad,positive|negative\nx,y,z\n"), 10));
        Assert.Equal("Unknown label 'happy'.", errors["line 2: label 'happy'"][0]);
        Assert.Contains("takes one label; 2 were given", errors["line 3: labels"][0]);
        Assert.Contains("Expected 2 fields, found 3", errors["line 4"][0]);
        Assert.Contains("needs a column 'text'", Assert.Throws<Cube.Core.Errors.UnprocessableException>(() => CsvFormat.Read(Sentiment, Stream("review,label\nx,positive\n"), 10)).Message);
    }
}
