using Cube.Labeling.Quality;

namespace Cube.Labeling.Tests.Quality;

public sealed class CrowdCsvTests
{
    [Theory]
    [InlineData("\r\n")]
    [InlineData("\r")]
    [InlineData("\n")]
    public void ReadAnswers_ReadsEveryRow_WhenLinesEndIn(string newline)
    {
        var csv = string.Join(newline, "question,worker,answer", "q1,w1,cat", "q1,w2,dog", "q2,w1,cat") + newline;

        var answers = CrowdCsv.ReadAnswers(new StringReader(csv));

        Assert.Equal([new("q1", "w1", "cat"), new("q1", "w2", "dog"), new("q2", "w1", "cat")], answers);
    }

    [Fact]
    public void ReadAnswers_FindsColumnsByName_WhenReorderedQuotedAndMixedEndings()
    {
        var csv = "\uFEFFAnswer,Worker,Question\r\n\"a, b\",w1,007\n\"say \"\"hi\"\"\",w2,7\r\"multi\nline\",w3,7";

        var answers = CrowdCsv.ReadAnswers(new StringReader(csv));

        Assert.Equal([new("007", "w1", "a, b"), new("7", "w2", "say \"hi\""), new("7", "w3", "multi\nline")], answers);
    }

    [Fact]
    public void ReadAnswers_NamesTheLine_WhenARowHasTooFewFields()
    {
        var error = Assert.Throws<CrowdCsvException>(() => CrowdCsv.ReadAnswers(new StringReader("question,worker,answer\nq1,w1,a\nq2,w2\n"), "answers.csv"));

        Assert.Equal(3, error.Line);
        Assert.Contains("answers.csv:3", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ReadAnswers_NamesTheMissingColumn_WhenHeaderLacksIt()
    {
        var error = Assert.Throws<CrowdCsvException>(() => CrowdCsv.ReadAnswers(new StringReader("question,annotator,answer\nq,w,a\n")));

        Assert.Contains("'worker'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ReadTruth_Refuses_WhenAQuestionHasTwoTruths()
    {
        Assert.Throws<CrowdCsvException>(() => CrowdCsv.ReadTruth(new StringReader("question,truth\nq,1\nq,0\n")));
    }

    [Fact]
    public void WriteConsensus_QuotesFieldsThatNeedIt_AndRoundTrips()
    {
        var writer = new StringWriter();
        CrowdCsv.WriteConsensus(writer, [new ConsensusLabel("q,1", "say \"x\"", 0.75, new Dictionary<string, double>())]);

        Assert.Equal("question,label,confidence\n\"q,1\",\"say \"\"x\"\"\",0.75\n", writer.ToString());
    }
}
