using System.Text.Json.Nodes;
using Cube.Features.Engine;
using Cube.Features.Pipelines;

namespace Cube.Features.Tests.Operators;

public sealed class NumericOperatorTests
{
    private static readonly Frame Table = TestData.Table(3_000, seed: 17);

    [Fact]
    public void Clip_MatchesDuckDb_KeepingNaNAndIntegerKind()
    {
        var (pipeline, output) = OperatorTests.Run("  - op: clip\n    columns: [x, a]\n    min: -10\n    max: 50\n  - op: clip\n    columns: [b]\n    min: 0.5\n", Table);
        Assert.Equal(DataKind.Int64, pipeline.OutputSchema.Find("a")!.Kind);
        Assert.Equal(DataKind.Float64, pipeline.OutputSchema.Find("b")!.Kind);
        using var oracle = new Oracle(Table);
        // DuckDB's least/greatest skip nulls, so the oracle keeps them explicitly.
        TestData.AssertSame(oracle.Query("SELECT CASE WHEN x IS NULL OR isnan(x) THEN x ELSE least(greatest(x, -10), 50) END FROM t").Columns[0], output["x"], "x");
        TestData.AssertSame(oracle.Query("SELECT CASE WHEN a IS NOT NULL THEN least(greatest(a, -10), 50) END FROM t").Columns[0], output["a"], "a");
        TestData.AssertSame(oracle.Query("SELECT greatest(b, 0.5)::DOUBLE FROM t").Columns[0], output["b"], "b");
        Assert.Contains(output["x"].Float64, double.IsNaN);
    }

    [Fact]
    public void Log1p_MatchesDuckDb_WithNullOutsideDomain()
    {
        var (_, output) = OperatorTests.Run("  - op: log1p\n    columns: [x, a]\n", Table);
        using var oracle = new Oracle(Table);
        TestData.AssertSame(oracle.Query("SELECT CASE WHEN x > -1 THEN ln(1 + x) END FROM t").Columns[0], output["x"], "x");
        TestData.AssertSame(oracle.Query("SELECT CASE WHEN a > -1 THEN ln(1 + a) END FROM t").Columns[0], output["a"], "a");
    }

    [Fact]
    public void RobustScale_MatchesDuckDb_AndSavesMedianAndIqr()
    {
        var (pipeline, output) = OperatorTests.Run("  - op: robust_scale\n    columns: [x, b]\n", Table, batch: 333);
        using var oracle = new Oracle(Table);
        var state = pipeline.SaveState().Steps["step1"]!;
        Assert.Equal(oracle.Scalar("SELECT median(x) FROM t WHERE NOT isnan(x)"), state["x"]!["offset"]!.GetValue<double>(), 9);
        Assert.Equal(oracle.Scalar("SELECT quantile_cont(x, 0.75) - quantile_cont(x, 0.25) FROM t WHERE NOT isnan(x)"), state["x"]!["scale"]!.GetValue<double>(), 9);
        TestData.AssertSame(oracle.Query("""
            WITH s AS (SELECT median(x) m, quantile_cont(x, 0.75) - quantile_cont(x, 0.25) iqr FROM t WHERE NOT isnan(x))
            SELECT (x - m) / iqr FROM t, s
            """).Columns[0], output["x"], "x");
        TestData.AssertSame(oracle.Query("""
            WITH s AS (SELECT median(b) m, quantile_cont(b, 0.75) - quantile_cont(b, 0.25) iqr FROM t)
            SELECT (b - m) / iqr FROM t, s
            """).Columns[0], output["b"], "b");
    }

    [Theory]
    [InlineData("  - op: clip\n    columns: [x, a]\n    min: 0\n    max: 25.5\n")]
    [InlineData("  - op: log1p\n    columns: [x, b]\n")]
    [InlineData("  - op: robust_scale\n    columns: [x, a]\n  - op: clip\n    columns: [x]\n    max: 1\n")]
    public async Task Transform_GivesIdenticalResults_InBatchAndOnline(string steps)
    {
        var yaml = $"name: t\nsteps:\n{steps}";
        var table = Table.Slice(0, 400);
        using var fitted = FeaturePipeline.Compile(PipelineSpec.Parse(yaml), new Dictionary<string, FrameSchema> { ["input"] = table.Schema });
        var state = FittedState.FromJson((await fitted.FitAsync((_, _) => OperatorTests.Batches(table, 128))).ToJson());
        var batch = RowJson.ToRows(fitted.Transform(table)).Select(r => r.ToJsonString()).ToList();
        using var online = FeaturePipeline.Compile(PipelineSpec.Parse(yaml), state.InputSchemas(), state);
        var rows = RowJson.ToRows(table).Select(r => RowJson.ToRows(online.Transform(RowJson.ToFrame([JsonNode.Parse(r.ToJsonString())!.AsObject()], table.Schema)))[0].ToJsonString());
        Assert.Equal(batch, rows);
    }

    [Theory]
    [InlineData("  - op: clip\n    columns: [x]\n", "min", "Give 'min', 'max'")]
    [InlineData("  - op: clip\n    columns: [x]\n    min: 3\n    max: 1\n", "max", "must not be below")]
    [InlineData("  - op: clip\n    columns: [s]\n    min: 3\n", "columns", "String")]
    [InlineData("  - op: log1p\n    columns: [xx]\n", "columns", "did you mean 'x'")]
    [InlineData("  - op: robust_scale\n    columns: [ts]\n", "columns", "Timestamp")]
    public void Compile_RejectsBadParameters(string steps, string field, string message)
    {
        var error = Assert.Throws<PipelineValidationException>(() => FeaturePipeline.Compile(PipelineSpec.Parse($"steps:\n{steps}"), new Dictionary<string, FrameSchema> { ["input"] = Table.Schema }));
        Assert.Contains(error.Errors, e => e.Field == field && e.Message.Contains(message));
    }
}
