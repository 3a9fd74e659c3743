using Cube.Features.Engine;
using Cube.Features.Operators;
using Cube.Features.Pipelines;

namespace Cube.Features.Tests.Operators;

public sealed class TimeSeriesOperatorTests
{
    private static readonly Frame Table = Series(3_000, seed: 31);

    /// <summary>Rows in strictly increasing time, entities with null keys, values with nulls and NaN.</summary>
    internal static Frame Series(int rows, int seed)
    {
        var random = new Random(seed);
        var start = new DateTime(2024, 3, 1, 0, 0, 0, DateTimeKind.Utc);
        var k = new long[rows];
        var kValid = new bool[rows];
        var ts = new long[rows];
        var x = new double[rows];
        var xValid = new bool[rows];
        var a = new long[rows];
        var aValid = new bool[rows];
        var s = new string?[rows];
        string[] names = ["red", "green", "blue", "cyan", "teal"];
        for (var i = 0; i < rows; i++)
        {
            k[i] = random.Next(0, 40);
            kValid[i] = random.NextDouble() > 0.03;
            ts[i] = (start.AddMinutes(i * 17L + random.Next(0, 17)).Ticks - DateTime.UnixEpoch.Ticks) / 10;
            x[i] = random.NextDouble() < 0.02 ? double.NaN : Math.Round(random.NextDouble() * 200 - 50, 2);
            xValid[i] = random.NextDouble() > 0.06;
            a[i] = random.Next(-100, 100);
            aValid[i] = random.NextDouble() > 0.1;
            s[i] = random.NextDouble() < 0.04 ? null : names[random.Next(names.Length)];
        }
        var schema = new FrameSchema([new("k", DataKind.Int64), new("ts", DataKind.Timestamp), new("x", DataKind.Float64), new("a", DataKind.Int64), new("s", DataKind.String)]);
        return new Frame(schema, [Column.OfInt64(k, kValid), Column.OfTimestamp(ts), Column.OfFloat64(x, xValid), Column.OfInt64(a, aValid), Column.OfString(s)], rows);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    public void Lag_MatchesDuckDbLag_AcrossBatches(int n)
    {
        var (pipeline, output) = OperatorTests.Run($"  - op: lag\n    columns: [x, s, ts]\n    n: {n}\n    by: [k]\n    time: ts\n", Table, batch: 97);
        Assert.Equal(DataKind.Timestamp, pipeline.OutputSchema.Find($"ts_lag{n}")!.Kind);
        using var oracle = new Oracle(Table);
        var expected = oracle.Query($"""
            SELECT lag(x, {n}) OVER w AS x_lag, lag(s, {n}) OVER w AS s_lag, lag(ts, {n}) OVER w AS ts_lag FROM t
            WINDOW w AS (PARTITION BY k ORDER BY ts) ORDER BY t.ts
            """);
        foreach (var name in new[] { "x", "s", "ts" }) TestData.AssertSame(expected[$"{name}_lag"], output[$"{name}_lag{n}"], name);
    }

    [Fact]
    public void Rolling_MatchesDuckDbRangeWindow_PerEntity()
    {
        var (pipeline, output) = OperatorTests.Run("  - op: rolling\n    columns: [x, a]\n    aggregates: [count, sum, mean, min, max]\n    window: 7d\n    by: [k]\n    time: ts\n", Table, batch: 250);
        Assert.Equal(DataKind.Int64, pipeline.OutputSchema.Find("x_count_7d")!.Kind);
        using var oracle = new Oracle(Table);
        foreach (var column in new[] { "x", "a" })
        {
            var expected = oracle.Query($"""
                SELECT count({column}) OVER w AS count, (sum({column}) OVER w)::DOUBLE AS sum, avg({column}) OVER w AS mean,
                       min({column}) OVER w AS min, max({column}) OVER w AS max FROM t
                WINDOW w AS (PARTITION BY k ORDER BY ts RANGE BETWEEN INTERVAL 7 DAY PRECEDING AND CURRENT ROW) ORDER BY ts
                """);
            foreach (var aggregate in new[] { "count", "sum", "mean", "min", "max" })
                TestData.AssertSame(expected[aggregate], output[$"{column}_{aggregate}_7d"], $"{column} {aggregate}");
        }
    }

    [Fact]
    public void Rolling_MatchesDuckDb_ByDictionaryEncodedText_AndWithoutEntity()
    {
        var encoded = ArrowFrames.ToFrame(JoinOperatorTests.DictionaryEncoded(ArrowFrames.ToRecordBatch(Table), "s"));
        var (_, output) = OperatorTests.Run("""
              - op: rolling
                columns: [x]
                aggregates: [sum, max]
                window: 36h
                by: [s]
                time: ts
              - op: rolling
                columns: [a]
                aggregates: [mean]
                window: 90m
                time: ts
            """, encoded, batch: 400);
        using var oracle = new Oracle(Table);
        var expected = oracle.Query("""
            SELECT sum(x) OVER (PARTITION BY s ORDER BY ts RANGE BETWEEN INTERVAL 36 HOUR PRECEDING AND CURRENT ROW) AS sum,
                   max(x) OVER (PARTITION BY s ORDER BY ts RANGE BETWEEN INTERVAL 36 HOUR PRECEDING AND CURRENT ROW) AS max,
                   avg(a) OVER (ORDER BY ts RANGE BETWEEN INTERVAL 90 MINUTE PRECEDING AND CURRENT ROW) AS mean
            FROM t ORDER BY ts
            """);
        TestData.AssertSame(expected["sum"], output["x_sum_36h"], "sum");
        TestData.AssertSame(expected["max"], output["x_max_36h"], "max");
        TestData.AssertSame(expected["mean"], output["a_mean_90m"], "mean");
    }

    [Fact]
    public void History_FailsNamingRow_WhenTimeGoesBackWithinEntity()
    {
        var frame = new Frame(new FrameSchema([new("k", DataKind.Int64), new("ts", DataKind.Timestamp), new("x", DataKind.Float64)]),
            [Column.OfInt64([1, 2, 2, 1]), Column.OfTimestamp([10, 5, 6, 9]), Column.OfFloat64([1, 2, 3, 4])], 4);
        var pipeline = FeaturePipeline.Compile(PipelineSpec.Parse("steps:\n  - name: roll\n    op: rolling\n    columns: [x]\n    window: 1h\n    by: [k]\n    time: ts\n"),
            new Dictionary<string, FrameSchema> { ["input"] = frame.Schema });
        var error = Assert.Throws<TransformException>(() => pipeline.Transform(frame));
        Assert.Equal("roll", error.Step);
        Assert.Equal(3, error.Row);
        Assert.Equal("ts", error.Column);
        Assert.Equal("roll", Assert.Single(pipeline.OnlineRefusals()).Step);
    }

    [Fact]
    public void History_StartsAgain_OnEveryPass()
    {
        // A fitted step after the lag makes the fit read the input once more; the transform must not see that pass's history.
        var (_, output) = OperatorTests.Run("  - op: lag\n    columns: [x]\n    by: [k]\n    time: ts\n  - op: impute\n    columns: [a]\n", Table, batch: 500);
        using var oracle = new Oracle(Table);
        TestData.AssertSame(oracle.Query("SELECT lag(x) OVER (PARTITION BY k ORDER BY ts) FROM t ORDER BY ts").Columns[0], output["x_lag1"], "lag");
        var (_, empty) = OperatorTests.Run("  - op: lag\n    columns: [x]\n    time: ts\n  - op: rolling\n    columns: [x]\n    window: 1d\n    time: ts\n", Frame.Empty(Table.Schema));
        Assert.Equal(0, empty.RowCount);
        Assert.Contains("x_mean_1d", empty.Schema.Names);
    }

    [Theory]
    [InlineData("  - op: rolling\n    columns: [x]\n    window: 7 days\n    time: ts\n", "window", "not a duration")]
    [InlineData("  - op: rolling\n    columns: [x]\n    aggregates: [median]\n    window: 7d\n    time: ts\n", "aggregates", "Unknown aggregate 'median'")]
    [InlineData("  - op: rolling\n    columns: [s]\n    window: 7d\n    time: ts\n", "columns", "String")]
    [InlineData("  - op: lag\n    columns: [x]\n    by: [x]\n    time: ts\n", "by", "Float64")]
    [InlineData("  - op: lag\n    columns: [x]\n    time: tss\n", "time", "did you mean 'ts'")]
    [InlineData("  - op: lag\n    columns: [x]\n    n: 0\n    time: ts\n", "n", "between 1 and 1000")]
    public void Compile_RejectsBadParameters(string steps, string field, string message)
    {
        var error = Assert.Throws<PipelineValidationException>(() => FeaturePipeline.Compile(PipelineSpec.Parse($"steps:\n{steps}"), new Dictionary<string, FrameSchema> { ["input"] = Table.Schema }));
        Assert.Contains(error.Errors, e => e.Field == field && e.Message.Contains(message));
    }
}
