using Apache.Arrow;
using Cube.Features.Engine;
using Cube.Features.Pipelines;
using Column = Cube.Features.Engine.Column;

namespace Cube.Features.Tests.Operators;

public sealed class JoinOperatorTests
{
    private static readonly Frame Left = WithId(TestData.Table(2_500, seed: 5), "lid");
    private static readonly Frame Right = WithId(TestData.Table(600, seed: 9), "rid");
    private static readonly DateTime Start = new(2024, 1, 1, 0, 0, 0, DateTimeKind.Utc);

    internal static Frame WithId(Frame frame, string name) =>
        frame.With([(name, Column.OfInt64(Enumerable.Range(0, frame.RowCount).Select(i => (long)i).ToArray()))]);

    /// <summary>Fits and runs a pipeline over named inputs, the output's source in batches of <paramref name="batch"/> rows.</summary>
    internal static (FeaturePipeline Pipeline, Frame Output) Run(string yaml, IReadOnlyDictionary<string, Frame> tables, int batch = 700)
    {
        var pipeline = FeaturePipeline.Compile(PipelineSpec.Parse(yaml), tables.ToDictionary(t => t.Key, t => t.Value.Schema));
        pipeline.FitAsync((name, _) => OperatorTests.Batches(tables[name], batch)).GetAwaiter().GetResult();
        var source = tables[pipeline.OutputSource];
        var outputs = new List<Frame>();
        for (var offset = 0; offset < source.RowCount; offset += batch)
            outputs.Add(pipeline.Transform(source.Slice(offset, Math.Min(batch, source.RowCount - offset))));
        return (pipeline, outputs.Count == 0 ? Frame.Empty(pipeline.OutputSchema) : Frame.Concat(pipeline.OutputSchema, outputs));
    }

    private static string JoinSpec(string how, string extra = "") => $"""
        inputs:
          l: {"{}"}
          r: {"{}"}
        steps:
          - name: j
            op: join
            input: l
            right: r
            on: [a, s]
            how: {how}
        {extra}
        output: j
        """;

    [Theory]
    [InlineData("inner", "JOIN")]
    [InlineData("left", "LEFT JOIN")]
    public void Join_MatchesDuckDb_OnTwoKeysWithNulls(string how, string sql)
    {
        var (pipeline, output) = Run(JoinSpec(how), new Dictionary<string, Frame> { ["l"] = Left, ["r"] = Right });
        Assert.Equal("a, b, x, s, ts, flag, lid, b_right, x_right, ts_right, flag_right, rid", string.Join(", ", pipeline.OutputSchema.Names));
        using var oracle = new Oracle(Left, "l");
        oracle.Load(Right, "r");
        var expected = oracle.Query($"""
            SELECT l.lid, l.a, l.s, l.x, r.rid, r.b AS b_right, r.x AS x_right, r.ts AS ts_right, r.flag AS flag_right
            FROM l {sql} r ON l.a = r.a AND l.s = r.s ORDER BY l.lid, r.rid NULLS FIRST
            """);
        Assert.True(expected.RowCount > Left.RowCount, $"only {expected.RowCount} rows");
        Assert.Equal(expected.RowCount, output.RowCount);
        foreach (var name in new[] { "lid", "a", "s", "x", "rid", "b_right", "x_right", "ts_right", "flag_right" })
            TestData.AssertSame(expected[name], output[name], name);
    }

    [Fact]
    public void Join_MatchesDuckDb_WhenRightStringsAreDictionaryEncoded()
    {
        var right = ArrowFrames.ToFrame(DictionaryEncoded(ArrowFrames.ToRecordBatch(Right), "s"));
        var (_, output) = Run(JoinSpec("left").Replace("on: [a, s]", "on: [s]\n    rightOn: [s]"), new Dictionary<string, Frame> { ["l"] = Left.Slice(0, 300), ["r"] = right });
        using var oracle = new Oracle(Left.Slice(0, 300), "l");
        oracle.Load(Right, "r");
        var expected = oracle.Query("SELECT l.lid, r.rid FROM l LEFT JOIN r ON l.s = r.s ORDER BY l.lid, r.rid NULLS FIRST");
        Assert.Equal(expected.RowCount, output.RowCount);
        TestData.AssertSame(expected["lid"], output["lid"], "lid");
        TestData.AssertSame(expected["rid"], output["rid"], "rid");
    }

    [Fact]
    public void Join_JoinsStepOutputs_AndHandlesEmptyRightSide()
    {
        const string yaml = """
            inputs:
              l: {}
              r: {}
            steps:
              - name: few
                op: filter
                input: r
                expr: rid < 0
              - name: j
                op: join
                input: l
                right: few
                on: [a]
                how: left
                onClash: suffix
                suffix: _r
              - name: inner
                op: join
                input: l
                right: few
                on: [a]
              - name: total
                op: derive
                input: j
                columns: {has: "rid is not null"}
            output: total
            """;
        var (pipeline, output) = Run(yaml, new Dictionary<string, Frame> { ["l"] = Left, ["r"] = Right });
        Assert.Equal(Left.RowCount, output.RowCount);
        Assert.Equal(Left.RowCount, output["rid"].NullCount);
        Assert.Contains("x_r", pipeline.OutputSchema.Names);
        Assert.All(output["has"].Boolean, v => Assert.False(v));
        Assert.Equal(0, pipeline.TransformAll("l", Left, new Dictionary<string, StepStats>())["inner"].RowCount);
        Assert.Equal(0, pipeline.Transform(Frame.Empty(Left.Schema)).RowCount);
    }

    [Theory]
    [InlineData(null, "LEFT")]
    [InlineData("3d", "LEFT")]
    [InlineData(null, "INNER")]
    public void AsOfJoin_MatchesDuckDbAsofJoin(string? tolerance, string how)
    {
        var (features, events) = TimeSeries();
        var yaml = $"""
            inputs:
              events: {"{}"}
              features: {"{}"}
            steps:
              - name: pit
                op: asof_join
                input: events
                right: features
                on: [k]
                time: ts
                how: {how.ToLowerInvariant()}
            {(tolerance is null ? "" : $"    tolerance: {tolerance}")}
            output: pit
            """;
        var (pipeline, output) = Run(yaml, new Dictionary<string, Frame> { ["events"] = events, ["features"] = features }, batch: 450);
        Assert.Equal("k, ts, amount, lid, ts_right, v, label, rid", string.Join(", ", pipeline.OutputSchema.Names));
        using var oracle = new Oracle(events, "l");
        oracle.Load(features, "r");
        // DuckDB's ASOF matches a null left time with the key's latest right row; the engine keeps SQL semantics (a null
        // time matches nothing), so the oracle spells that out.
        var within = tolerance is null ? "l.ts IS NOT NULL" : "l.ts - r.ts <= INTERVAL 3 DAY";
        var expected = oracle.Query($"""
            SELECT l.lid, CASE WHEN {within} THEN r.rid END AS rid, CASE WHEN {within} THEN r.v END AS v,
                   CASE WHEN {within} THEN r.label END AS label, CASE WHEN {within} THEN r.ts END AS ts_right
            FROM l ASOF {(how == "LEFT" ? "LEFT " : "")}JOIN r ON l.k = r.k AND l.ts >= r.ts
            {(how == "LEFT" ? "" : "WHERE l.ts IS NOT NULL")} ORDER BY l.lid
            """);
        Assert.Equal(expected.RowCount, output.RowCount);
        foreach (var name in new[] { "lid", "rid", "v", "label", "ts_right" }) TestData.AssertSame(expected[name], output[name], name);
        Assert.True(output["rid"].NullCount < output.RowCount / 2);
        if (how == "LEFT") Assert.True(output["rid"].NullCount > 0);
    }

    /// <summary>Features per entity at unique times (some null keys, times and values, NaN), and events at random times, some exactly on a feature time.</summary>
    private static (Frame Features, Frame Events) TimeSeries()
    {
        var random = new Random(3);
        const int n = 1_500, m = 3_000;
        var k = new long[n];
        var kValid = new bool[n];
        var ts = new long[n];
        var tsValid = new bool[n];
        var v = new double[n];
        var vValid = new bool[n];
        var label = new string?[n];
        for (var i = 0; i < n; i++)
        {
            k[i] = random.Next(0, 50);
            kValid[i] = random.NextDouble() > 0.02;
            ts[i] = Micros(Start.AddMinutes((i * 7919L % n) * 97));
            tsValid[i] = random.NextDouble() > 0.02;
            v[i] = random.NextDouble() < 0.03 ? double.NaN : Math.Round(random.NextDouble() * 100, 2);
            vValid[i] = random.NextDouble() > 0.05;
            label[i] = random.NextDouble() < 0.05 ? null : $"L{random.Next(0, 7)}";
        }
        var features = WithId(new Frame(new FrameSchema([new("k", DataKind.Int64), new("ts", DataKind.Timestamp), new("v", DataKind.Float64), new("label", DataKind.String)]),
            [Column.OfInt64(k, kValid), Column.OfTimestamp(ts, tsValid), Column.OfFloat64(v, vValid), Column.OfString(label)], n), "rid");
        var ek = new long[m];
        var ekValid = new bool[m];
        var ets = new long[m];
        var etsValid = new bool[m];
        var amount = new double[m];
        for (var i = 0; i < m; i++)
        {
            ek[i] = random.Next(-2, 52);
            ekValid[i] = random.NextDouble() > 0.03;
            var exact = random.NextDouble() < 0.1;
            var j = random.Next(n);
            ets[i] = exact ? ts[j] : Micros(Start.AddMinutes(random.Next(-2_000, n * 97 + 2_000)));
            if (exact) ek[i] = k[j];
            etsValid[i] = random.NextDouble() > 0.02;
            amount[i] = random.Next(0, 1000);
        }
        var events = WithId(new Frame(new FrameSchema([new("k", DataKind.Int64), new("ts", DataKind.Timestamp), new("amount", DataKind.Float64)]),
            [Column.OfInt64(ek, ekValid), Column.OfTimestamp(ets, etsValid), Column.OfFloat64(amount)], m), "lid");
        return (features, events);
    }

    private static long Micros(DateTime time) => (time.Ticks - DateTime.UnixEpoch.Ticks) / 10;

    internal static RecordBatch DictionaryEncoded(RecordBatch batch, string column)
    {
        var index = batch.Schema.GetFieldIndex(column);
        var strings = (StringArray)batch.Column(index);
        var entries = new List<string>();
        var codes = new Dictionary<string, int>(StringComparer.Ordinal);
        var indices = new Int32Array.Builder();
        for (var i = 0; i < strings.Length; i++)
        {
            if (!strings.IsValid(i))
            {
                indices.AppendNull();
                continue;
            }
            var value = strings.GetString(i);
            if (!codes.TryGetValue(value, out var code))
            {
                codes[value] = code = entries.Count;
                entries.Add(value);
            }
            indices.Append(code);
        }
        var dictionary = new StringArray.Builder().AppendRange(entries).Build();
        var type = new Apache.Arrow.Types.DictionaryType(Apache.Arrow.Types.Int32Type.Default, Apache.Arrow.Types.StringType.Default, false);
        var fields = batch.Schema.FieldsList.ToList();
        fields[index] = new Field(column, type, true);
        var arrays = Enumerable.Range(0, fields.Count).Select(i => i == index ? new DictionaryArray(type, indices.Build(), dictionary) : batch.Column(i)).ToList();
        return new RecordBatch(new Schema(fields, null), arrays, batch.Length);
    }

    [Fact]
    public void Compile_RejectsBadJoins_NamingStepAndField()
    {
        var inputs = new Dictionary<string, FrameSchema> { ["l"] = Left.Schema, ["r"] = Right.Schema };
        const string yaml = """
            inputs:
              l: {}
              r: {}
            steps:
              - name: types
                op: join
                input: l
                right: r
                on: [a]
                rightOn: [s]
              - name: noright
                op: join
                input: l
                on: [a]
              - name: unknown
                op: join
                input: l
                right: rr
                on: [a]
              - name: clash
                op: join
                input: l
                right: r
                on: [a]
                onClash: error
              - name: loop1
                op: join
                input: l
                right: loop2
                on: [a]
              - name: loop2
                op: select
                input: loop1
                columns: [a]
              - name: onright
                op: filter
                input: l
                right: r
                expr: a > 1
              - name: float
                op: asof_join
                input: l
                right: r
                on: [x]
                time: ts
                tolerance: 3 weeks
            output: types
            """;
        var errors = Assert.Throws<PipelineValidationException>(() => FeaturePipeline.Compile(PipelineSpec.Parse(yaml), inputs)).Errors;
        Assert.Contains(errors, e => e is { Step: "types", Field: "on" } && e.Message.Contains("Int64 on the left") && e.Message.Contains("String on the right"));
        Assert.Contains(errors, e => e is { Step: "noright", Field: "right" } && e.Message.Contains("needs 'right'"));
        Assert.Contains(errors, e => e is { Step: "unknown", Field: "right" } && e.Message.Contains("did you mean 'r'"));
        Assert.Contains(errors, e => e is { Step: "clash", Field: "onClash" } && e.Message.Contains("'b'"));
        Assert.Contains(errors, e => e.Field == "input" && e.Message.Contains("cycle") && e.Message.Contains("loop1"));
        Assert.Contains(errors, e => e is { Step: "onright", Field: "right" } && e.Message.Contains("Only join steps"));
        Assert.Contains(errors, e => e is { Step: "float", Field: "tolerance" } && e.Message.Contains("not a duration"));
    }

    [Fact]
    public void OnlineRefusals_NameJoinSteps_ButNotOneInputPipelines()
    {
        var (joined, _) = Run(JoinSpec("left"), new Dictionary<string, Frame> { ["l"] = Left.Slice(0, 10), ["r"] = Right });
        Assert.Equal("j", Assert.Single(joined.OnlineRefusals()).Step);
        var (plain, _) = OperatorTests.Run("  - op: impute\n    columns: [x]\n", Left.Slice(0, 10));
        Assert.Empty(plain.OnlineRefusals());
    }
}
