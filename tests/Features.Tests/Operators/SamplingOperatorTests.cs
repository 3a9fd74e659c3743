using System.Text.Json.Nodes;
using Cube.Features.Engine;
using Cube.Features.Pipelines;

namespace Cube.Features.Tests.Operators;

public sealed class SamplingOperatorTests
{
    private static readonly Frame Table = WithIds(TestData.Table(3_000, seed: 13));

    private static Frame WithIds(Frame table) => table.With([("id", Column.OfInt64(Enumerable.Range(0, table.RowCount).Select(i => (long)i).ToArray()))]);

    private static long[] Ids(Frame frame) => frame["id"].Int64;

    [Fact]
    public void Sample_Fraction_KeepsSameRowsWhateverTheBatchSize_AndNestsSmallerFractions()
    {
        var (_, large) = OperatorTests.Run("  - op: sample\n    fraction: 0.2\n    seed: 42\n", Table, batch: 700);
        var (_, sameSeed) = OperatorTests.Run("  - op: sample\n    fraction: 0.2\n    seed: 42\n", Table, batch: 97);
        var (_, small) = OperatorTests.Run("  - op: sample\n    fraction: 0.1\n    seed: 42\n", Table, batch: 128);
        var (_, otherSeed) = OperatorTests.Run("  - op: sample\n    fraction: 0.2\n    seed: 43\n", Table, batch: 700);
        Assert.Equal(Ids(large), Ids(sameSeed));
        // Binomial(3000, 0.2): mean 600, σ ≈ 22.
        Assert.InRange(large.RowCount, 490, 710);
        Assert.InRange(small.RowCount, 220, 380);
        Assert.Subset(Ids(large).ToHashSet(), Ids(small).ToHashSet());
        Assert.NotEqual(Ids(large), Ids(otherSeed));
        Assert.Equal(Table.Schema.ToString(), large.Schema.ToString());
        foreach (var field in Table.Schema.Fields) TestData.AssertSame(Table[field.Name].Take(Ids(large).Select(i => (int)i).ToArray()), large[field.Name], field.Name);
    }

    [Fact]
    public void Sample_N_KeepsExactlyN_InBatchAndOnline()
    {
        const string yaml = "name: s\nsteps:\n  - name: pick\n    op: sample\n    n: 250\n    key: [id]\n    seed: 3\n";
        var (pipeline, output) = OperatorTests.Run(yaml["name: s\nsteps:\n".Length..], Table, batch: 700);
        var (_, other) = OperatorTests.Run(yaml["name: s\nsteps:\n".Length..], Table, batch: 61);
        Assert.Equal(250, output.RowCount);
        Assert.Equal(Ids(output), Ids(other));

        var state = FittedState.FromJson(pipeline.SaveState().ToJson());
        Assert.Equal(250, state.Steps["pick"]!["rows"]!.GetValue<long>());
        using var online = FeaturePipeline.Compile(PipelineSpec.Parse(yaml), state.InputSchemas(), state);
        var kept = RowJson.ToRows(Table).SelectMany(r => RowJson.ToRows(online.Transform(RowJson.ToFrame([JsonNode.Parse(r.ToJsonString())!.AsObject()], Table.Schema))))
            .Select(r => r["id"]!.GetValue<long>()).ToArray();
        Assert.Equal(Ids(output), kept);

        // Fewer rows than n: all of them.
        var (_, all) = OperatorTests.Run("  - op: sample\n    n: 5000\n", Table);
        Assert.Equal(Table.RowCount, all.RowCount);
    }

    [Fact]
    public void Split_Random_AssignsByRatios_WhateverTheBatchSize()
    {
        const string step = "  - op: split\n    ratios: {train: 0.7, valid: 0.2, test: 0.1}\n    seed: 9\n    key: [id]\n";
        var (pipeline, output) = OperatorTests.Run(step, Table, batch: 700);
        var (_, other) = OperatorTests.Run(step, Table, batch: 97);
        Assert.Equal(output["split"].String, other["split"].String);
        Assert.Equal(new FieldDef("split", DataKind.String), pipeline.OutputSchema.Fields[^1]);
        using var oracle = new Oracle(output);
        Assert.Equal(Table.RowCount, oracle.Scalar("SELECT count(*) FROM t WHERE split IN ('train', 'valid', 'test')"));
        // Binomial: σ ≈ 25, 22, 16 rows.
        Assert.InRange(oracle.Scalar("SELECT count(*) FROM t WHERE split = 'train'"), 1975.0, 2225.0);
        Assert.InRange(oracle.Scalar("SELECT count(*) FROM t WHERE split = 'valid'"), 490.0, 710.0);
        Assert.InRange(oracle.Scalar("SELECT count(*) FROM t WHERE split = 'test'"), 220.0, 380.0);
    }

    [Fact]
    public void Split_Stratified_KeepsClassProportionsWithinOneRow_InBatchAndOnline()
    {
        const string yaml = "name: s\nsteps:\n  - name: parts\n    op: split\n    by: stratified\n    label: s\n    ratios: {train: 0.75, valid: 0.15, test: 0.1}\n    key: [id]\n    seed: 1\n";
        var steps = yaml["name: s\nsteps:\n".Length..];
        var (pipeline, output) = OperatorTests.Run(steps, Table, batch: 700);
        var (_, other) = OperatorTests.Run(steps, Table, batch: 89);
        Assert.Equal(output["split"].String, other["split"].String);

        using var oracle = new Oracle(Table);
        oracle.Load(new Frame(new FrameSchema([new("id", DataKind.Int64), new("part", DataKind.String)]), [output["id"], output["split"]], output.RowCount), "parts");
        var counts = oracle.Query("""
            SELECT t.s, count(*) AS n, count(*) FILTER (WHERE part = 'train') AS train, count(*) FILTER (WHERE part = 'valid') AS valid,
                   count(*) FILTER (WHERE part = 'test') AS test
            FROM t JOIN parts USING (id) GROUP BY t.s ORDER BY t.s
            """);
        var classes = oracle.Query("SELECT s, count(*) AS n FROM t GROUP BY s ORDER BY s");
        Assert.Equal(7, counts.RowCount);
        TestData.AssertSame(classes["s"], counts["s"], "classes");
        TestData.AssertSame(classes["n"], counts["n"], "class sizes");
        for (var i = 0; i < counts.RowCount; i++)
        {
            var n = counts["n"].Int64[i];
            Assert.True(Math.Abs(counts["train"].Int64[i] - 0.75 * n) <= 1, $"class {counts["s"].String[i]}: {counts["train"].Int64[i]} of {n} in train");
            Assert.True(Math.Abs(counts["valid"].Int64[i] - 0.15 * n) <= 1, $"class {counts["s"].String[i]}: {counts["valid"].Int64[i]} of {n} in valid");
            Assert.True(Math.Abs(counts["test"].Int64[i] - 0.1 * n) <= 1, $"class {counts["s"].String[i]}: {counts["test"].Int64[i]} of {n} in test");
        }

        var state = FittedState.FromJson(pipeline.SaveState().ToJson());
        using var online = FeaturePipeline.Compile(PipelineSpec.Parse(yaml), state.InputSchemas(), state);
        var onlineParts = RowJson.ToRows(Table).SelectMany(r => RowJson.ToRows(online.Transform(RowJson.ToFrame([JsonNode.Parse(r.ToJsonString())!.AsObject()], Table.Schema))))
            .Select(r => r["split"]!.GetValue<string>()).ToArray();
        Assert.Equal(output["split"].String, onlineParts);
    }

    [Fact]
    public void Split_Stratified_ReadsDictionaryEncodedLabels_AndFitsEmptyInput()
    {
        var labels = Table["s"].String;
        var distinct = labels.Where(l => l is not null).Distinct().ToList();
        var indices = new Apache.Arrow.Int32Array.Builder();
        foreach (var label in labels)
        {
            if (label is null) indices.AppendNull();
            else indices.Append(distinct.IndexOf(label));
        }
        var type = new Apache.Arrow.Types.DictionaryType(Apache.Arrow.Types.Int32Type.Default, Apache.Arrow.Types.StringType.Default, false);
        var batch = new Apache.Arrow.RecordBatch(
            new Apache.Arrow.Schema([new Apache.Arrow.Field("id", Apache.Arrow.Types.Int64Type.Default, false), new Apache.Arrow.Field("s", type, true)], null),
            [ArrowFrames.ToArrow(Table["id"]), new Apache.Arrow.DictionaryArray(type, indices.Build(), new Apache.Arrow.StringArray.Builder().AppendRange(distinct).Build())],
            Table.RowCount);
        var encoded = ArrowFrames.ToFrame(batch);
        const string step = "  - op: split\n    by: stratified\n    label: s\n    ratios: {train: 0.8, test: 0.2}\n    key: [id]\n";
        var (_, fromDictionary) = OperatorTests.Run(step, encoded, batch: 500);
        var (_, plain) = OperatorTests.Run(step, new Frame(encoded.Schema, [Table["id"], Table["s"]], Table.RowCount));
        Assert.Equal(plain["split"].String, fromDictionary["split"].String);

        var (pipeline, empty) = OperatorTests.Run(step, Frame.Empty(encoded.Schema));
        Assert.Equal(0, empty.RowCount);
        Assert.Empty(pipeline.SaveState().Steps["step1"]!["classes"]!.AsArray());
        // Classes not seen at fit time are split at random by the ratios.
        Assert.All(pipeline.Transform(encoded)["split"].String, p => Assert.Contains(p, new[] { "train", "test" }));
    }

    [Fact]
    public void Split_Time_MatchesDuckDbCutoffs()
    {
        var ts = (long[])Table["ts"].Timestamp.Clone();
        var valid = Enumerable.Range(0, ts.Length).Select(i => i % 37 != 5).ToArray();
        // Rows exactly at the cutoffs belong to the part the cutoff opens.
        ts[0] = (new DateTime(2024, 5, 1, 0, 0, 0, DateTimeKind.Utc).Ticks - DateTime.UnixEpoch.Ticks) / 10;
        ts[1] = (new DateTime(2024, 10, 1, 12, 0, 0, DateTimeKind.Utc).Ticks - DateTime.UnixEpoch.Ticks) / 10;
        var table = Table.With([("ts", Column.OfTimestamp(ts, valid))]);
        var (_, output) = OperatorTests.Run("  - op: split\n    by: time\n    time: ts\n    cutoffs: ['2024-05-01', '2024-10-01T12:00:00Z']\n    output: fold\n", table, batch: 333);
        using var oracle = new Oracle(table);
        var expected = oracle.Query("""
            SELECT CASE WHEN ts IS NULL THEN NULL WHEN ts < TIMESTAMP '2024-05-01' THEN 'train'
                        WHEN ts < TIMESTAMP '2024-10-01 12:00:00' THEN 'validation' ELSE 'test' END AS fold FROM t ORDER BY rowid
            """);
        TestData.AssertSame(expected["fold"], output["fold"], "fold");
        Assert.Equal("validation", output["fold"].String[0]);
        Assert.Equal("test", output["fold"].String[1]);
        Assert.Contains(output["fold"].String, f => f is null);
    }

    [Theory]
    [InlineData("op: split\n    ratios: {train: 0.8, test: 0.3}", "ratios")]
    [InlineData("op: split\n    ratios: {train: 0.8, test: -0.2}", "ratios.test")]
    [InlineData("op: split\n    by: stratified\n    ratios: {train: 0.8, test: 0.2}", "label")]
    [InlineData("op: split\n    by: stratified\n    label: nope\n    ratios: {train: 0.8, test: 0.2}", "label")]
    [InlineData("op: split\n    by: time\n    time: ts\n    cutoffs: ['2024-05-01', '2024-01-01']", "cutoffs")]
    [InlineData("op: split\n    by: time\n    time: ts\n    cutoffs: ['2024-05-01']\n    names: [a, b, c]", "names")]
    [InlineData("op: split\n    by: time\n    time: x\n    cutoffs: ['2024-05-01']", "time")]
    [InlineData("op: sample\n    fraction: 0.5\n    n: 10", "fraction")]
    [InlineData("op: sample\n    fraction: 1.5", "fraction")]
    [InlineData("op: sample\n    n: 10\n    key: [missing]", "key")]
    public void Sample_And_Split_RejectBadParameters_NamingStepAndField(string step, string field)
    {
        var error = Assert.Throws<PipelineValidationException>(() =>
            FeaturePipeline.Compile(PipelineSpec.Parse($"steps:\n  - name: bad\n    {step}\n"), new Dictionary<string, FrameSchema> { ["input"] = Table.Schema }));
        var problem = Assert.Single(error.Errors);
        Assert.Equal("bad", problem.Step);
        Assert.Equal(field, problem.Field);
    }
}
