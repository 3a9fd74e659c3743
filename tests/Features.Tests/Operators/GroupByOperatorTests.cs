using Cube.Features.Engine;
using Cube.Features.Pipelines;

namespace Cube.Features.Tests.Operators;

public sealed class GroupByOperatorTests
{
    private static readonly Frame Table = TestData.Table(3_000, seed: 41);
    private static readonly Dictionary<string, FrameSchema> Inputs = new() { ["input"] = Table.Schema };

    /// <summary>Fits over batches and reads the output through the pipeline from its source (an input or a group-by result).</summary>
    private static (FeaturePipeline Pipeline, Frame Output) Run(string yaml, Frame table, int batch = 450)
    {
        var pipeline = FeaturePipeline.Compile(PipelineSpec.Parse(yaml), new Dictionary<string, FrameSchema> { ["input"] = table.Schema });
        pipeline.FitAsync((_, _) => OperatorTests.Batches(table, batch)).GetAwaiter().GetResult();
        var source = pipeline.Reduced.TryGetValue(pipeline.OutputSource, out var reduced) ? reduced : table;
        var outputs = FeaturePipeline.Slices(source, batch).Select(f => pipeline.Transform(f)).ToList();
        return (pipeline, outputs.Count == 0 ? Frame.Empty(pipeline.OutputSchema) : Frame.Concat(pipeline.OutputSchema, outputs));
    }

    private const string Aggregates = """
        steps:
          - name: g
            op: groupby
            by: [s, flag]
            aggregates:
              n: count()
              na: count(a)
              total: sum(x)
              avg_a: mean(a)
              lo: min(x)
              hi: max(x)
              top: max(a)
              first_ts: min(ts)
              kinds: distinct_count(b)
              xs: distinct_count(x)
              last_a: last(a)
              last_s: last(s)
        """;

    [Theory]
    [InlineData(450, false)]
    [InlineData(3_000, true)]
    public void GroupBy_MatchesDuckDb_WithNullKeysNaNAndDictionaryStrings(int batch, bool dictionary)
    {
        var table = dictionary ? ArrowFrames.ToFrame(JoinOperatorTests.DictionaryEncoded(ArrowFrames.ToRecordBatch(Table), "s")) : Table;
        var (pipeline, output) = Run(Aggregates, table, batch);
        Assert.Equal("s:String, flag:Boolean, n:Int64, na:Int64, total:Float64, avg_a:Float64, lo:Float64, hi:Float64, top:Int64, first_ts:Timestamp, kinds:Int64, xs:Int64, last_a:Int64, last_s:String",
            pipeline.OutputSchema.ToString());
        using var oracle = new Oracle(Table);
        var expected = oracle.Query("""
            SELECT s, flag, count(*) n, count(a) na, sum(x) total, avg(a) avg_a, min(x) lo, max(x) hi, max(a) top, min(ts) first_ts,
                   count(DISTINCT b) kinds, count(DISTINCT x) xs,
                   last(a ORDER BY rowid) FILTER (WHERE a IS NOT NULL) last_a, last(s ORDER BY rowid) FILTER (WHERE s IS NOT NULL) last_s
            FROM t GROUP BY s, flag ORDER BY min(rowid)
            """);
        Assert.Equal(expected.RowCount, output.RowCount);
        foreach (var field in pipeline.OutputSchema.Fields) TestData.AssertSame(expected[field.Name], output[field.Name], field.Name);
    }

    [Fact]
    public void GroupBy_FeedsFittedStepsAndJoinsBackToRows()
    {
        const string yaml = """
            steps:
              - name: g
                op: groupby
                by: [s]
                aggregates: {n: count(), spent: sum(b)}
              - name: scaled
                op: standardize
                columns: [spent]
              - name: back
                op: join
                input: input
                right: scaled
                on: [s]
                how: left
            output: back
            """;
        var (pipeline, output) = Run(yaml, Table);
        Assert.Equal("input", pipeline.OutputSource);
        Assert.Equal(Table.RowCount, output.RowCount);
        using var oracle = new Oracle(Table);
        TestData.AssertSame(oracle.Query("SELECT CASE WHEN s IS NOT NULL THEN count(*) OVER (PARTITION BY s) END FROM t ORDER BY rowid").Columns[0], output["n"], "n");
        var state = pipeline.SaveState().Steps["scaled"]!["spent"]!;
        Assert.Equal(oracle.Scalar("SELECT avg(spent) FROM (SELECT sum(b) spent FROM t GROUP BY s)"), state["offset"]!.GetValue<double>(), 9);
        Assert.Contains(pipeline.OnlineRefusals(), r => r.Step == "g");
    }

    [Fact]
    public void GroupBy_GivesNoRows_WhenInputIsEmpty()
    {
        var (_, output) = Run(Aggregates, Frame.Empty(Table.Schema));
        Assert.Equal(0, output.RowCount);
    }

    [Theory]
    [InlineData("{m: median(a)}", "aggregates.m", "Unknown aggregate 'median'")]
    [InlineData("{m: sum(s)}", "aggregates.m", "needs numbers")]
    [InlineData("{m: sum}", "aggregates.m", "not an aggregate")]
    [InlineData("{m: max(aa)}", "aggregates.m", "did you mean 'a'")]
    [InlineData("{s: count()}", "aggregates.s", "already a column")]
    public void Compile_RejectsBadAggregates(string aggregates, string field, string message)
    {
        var error = Assert.Throws<PipelineValidationException>(() => FeaturePipeline.Compile(PipelineSpec.Parse($"steps:\n  - op: groupby\n    by: [s]\n    aggregates: {aggregates}\n"), Inputs));
        Assert.Contains(error.Errors, e => e.Field == field && e.Message.Contains(message));
    }
}
