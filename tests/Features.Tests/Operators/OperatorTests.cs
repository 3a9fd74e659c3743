using System.Text.Json.Nodes;
using Cube.Features.Engine;
using Cube.Features.Operators;
using Cube.Features.Pipelines;

namespace Cube.Features.Tests.Operators;

public sealed class OperatorTests
{
    private static readonly Frame Table = TestData.Table(3_000, seed: 11);

    /// <summary>Fits and runs a one-step pipeline over the table split into batches of <paramref name="batch"/> rows.</summary>
    internal static (FeaturePipeline Pipeline, Frame Output) Run(string stepYaml, Frame table, int batch = 700)
    {
        var spec = PipelineSpec.Parse($"name: t\nsteps:\n{stepYaml}");
        var pipeline = FeaturePipeline.Compile(spec, new Dictionary<string, FrameSchema> { ["input"] = table.Schema });
        pipeline.FitAsync((_, _) => Batches(table, batch)).GetAwaiter().GetResult();
        var outputs = new List<Frame>();
        for (var offset = 0; offset < table.RowCount; offset += batch)
            outputs.Add(pipeline.Transform(table.Slice(offset, Math.Min(batch, table.RowCount - offset))));
        return (pipeline, Frame.Concat(pipeline.OutputSchema, outputs));
    }

    internal static async IAsyncEnumerable<Frame> Batches(Frame table, int batch)
    {
        await Task.Yield();
        for (var offset = 0; offset < table.RowCount; offset += batch)
            yield return table.Slice(offset, Math.Min(batch, table.RowCount - offset));
    }

    [Theory]
    [InlineData("mean", "coalesce(CASE WHEN isnan(x) THEN NULL ELSE x END, (SELECT avg(x) FROM t WHERE NOT isnan(x)))")]
    [InlineData("median", "coalesce(CASE WHEN isnan(x) THEN NULL ELSE x END, (SELECT median(x) FROM t WHERE NOT isnan(x)))")]
    public void Impute_MatchesDuckDb_WhenFittedOverBatches(string strategy, string sql)
    {
        var (_, output) = Run($"  - op: impute\n    columns: [x, a]\n    strategy: {strategy}\n", Table);
        using var oracle = new Oracle(Table);
        TestData.AssertSame(oracle.Query($"SELECT {sql} FROM t").Columns[0], output["x"], $"impute {strategy} x");
        var intSql = strategy == "mean" ? "coalesce(a, (SELECT avg(a) FROM t))" : "coalesce(a, (SELECT median(a) FROM t))";
        TestData.AssertSame(oracle.Query($"SELECT {intSql}::DOUBLE FROM t").Columns[0], output["a"], $"impute {strategy} a");
    }

    [Fact]
    public void Impute_FillsModeAndConstant()
    {
        var (_, mode) = Run("  - op: impute\n    columns: [s]\n    strategy: mode\n", Table);
        using var oracle = new Oracle(Table);
        TestData.AssertSame(oracle.Query("SELECT coalesce(s, (SELECT mode(s) FROM t)) FROM t").Columns[0], mode["s"], "mode");
        var (_, constant) = Run("  - op: impute\n    columns: [a]\n    strategy: constant\n    value: -1\n", Table);
        TestData.AssertSame(oracle.Query("SELECT coalesce(a, -1) FROM t").Columns[0], constant["a"], "constant");
    }

    [Fact]
    public void Standardize_MatchesDuckDb()
    {
        var (_, output) = Run("  - op: standardize\n    columns: [x, b]\n", Table);
        using var oracle = new Oracle(Table);
        TestData.AssertSame(oracle.Query("SELECT (x - (SELECT avg(x) FROM t WHERE NOT isnan(x))) / (SELECT stddev_pop(x) FROM t WHERE NOT isnan(x)) FROM t").Columns[0], output["x"], "x");
        TestData.AssertSame(oracle.Query("SELECT (b - (SELECT avg(b) FROM t)) / (SELECT stddev_pop(b) FROM t) FROM t").Columns[0], output["b"], "b");
    }

    [Fact]
    public void MinMax_MatchesDuckDb()
    {
        var (_, output) = Run("  - op: minmax\n    columns: [x]\n", Table);
        using var oracle = new Oracle(Table);
        TestData.AssertSame(oracle.Query(
            "WITH s AS (SELECT min(x) lo, max(x) hi FROM t WHERE NOT isnan(x)) SELECT (x - lo) / (hi - lo) FROM t, s").Columns[0], output["x"], "x");
    }

    [Fact]
    public void Scale_GivesZero_WhenColumnIsConstant()
    {
        var frame = new Frame(new FrameSchema([new("v", DataKind.Float64)]), [Column.OfFloat64([3, 3, 3], [true, false, true])], 3);
        var (_, output) = Run("  - op: standardize\n    columns: [v]\n", frame);
        Assert.Equal(0, output["v"].Float64[0]);
        Assert.False(output["v"].IsValid(1));
    }

    [Fact]
    public void Filter_MatchesDuckDb()
    {
        var (_, output) = Run("  - op: filter\n    expr: x > 5 and (s in ('a', 'b') or a is null)\n", Table);
        using var oracle = new Oracle(Table);
        var expected = oracle.Query("SELECT * FROM t WHERE x > 5 AND (s IN ('a', 'b') OR a IS NULL)");
        Assert.Equal(expected.RowCount, output.RowCount);
        foreach (var field in Table.Schema.Fields) TestData.AssertSame(expected[field.Name], output[field.Name], field.Name);
    }

    [Fact]
    public void OneHot_MatchesDuckDb_AndOrdersByFrequency()
    {
        var (pipeline, output) = Run("  - op: onehot\n    column: s\n    maxCategories: 4\n    unknown: other\n", Table);
        using var oracle = new Oracle(Table);
        var top = oracle.Query("SELECT s FROM t WHERE s IS NOT NULL GROUP BY s ORDER BY count(*) DESC, s LIMIT 4").Columns[0].String;
        var vocabulary = pipeline.SaveState().Steps["step1"]!.AsArray().Select(v => v!.GetValue<string>()).ToArray();
        Assert.Equal(top, vocabulary);
        foreach (var category in top)
            TestData.AssertSame(oracle.Query($"SELECT CASE WHEN s = '{category}' THEN 1 ELSE 0 END FROM t").Columns[0], output[$"s_{category}"], category!);
        var inList = string.Join(", ", top.Select(c => $"'{c}'"));
        TestData.AssertSame(oracle.Query($"SELECT CASE WHEN s IS NOT NULL AND s NOT IN ({inList}) THEN 1 ELSE 0 END FROM t").Columns[0], output["s__other"], "other");
        Assert.Null(output.Schema.Find("s"));
    }

    [Theory]
    [InlineData("boolean", DataKind.Boolean, "BOOLEAN")]
    [InlineData("float64", DataKind.Float64, "DOUBLE")]
    [InlineData("int64", DataKind.Int64, "BIGINT")]
    public void OneHot_WritesTheAskedType_MatchingDuckDb(string dtype, DataKind kind, string sqlType)
    {
        var (pipeline, output) = Run($"  - op: onehot\n    column: s\n    maxCategories: 3\n    unknown: other\n    dtype: {dtype}\n", Table);
        using var oracle = new Oracle(Table);
        var vocabulary = pipeline.SaveState().Steps["step1"]!.AsArray().Select(v => v!.GetValue<string>()).ToArray();
        foreach (var category in vocabulary)
        {
            Assert.Equal(kind, output.Schema.Find($"s_{category}")!.Kind);
            TestData.AssertSame(oracle.Query($"SELECT (s IS NOT NULL AND s = '{category}')::{sqlType} FROM t").Columns[0], output[$"s_{category}"], category);
        }
        var inList = string.Join(", ", vocabulary.Select(c => $"'{c}'"));
        TestData.AssertSame(oracle.Query($"SELECT (s IS NOT NULL AND s NOT IN ({inList}))::{sqlType} FROM t").Columns[0], output["s__other"], "other");
        // What the fitted schema promises is what a transform gives, in batch and for one row.
        Assert.Equal(pipeline.OutputSchema.Fields, output.Schema.Fields);
    }

    [Fact]
    public void OneHot_FailsNamingRow_WhenUnknownCategoryAndPolicyIsError()
    {
        var train = new Frame(new FrameSchema([new("c", DataKind.String)]), [Column.OfString(["x", "y"])], 2);
        var (pipeline, _) = Run("  - name: enc\n    op: onehot\n    column: c\n    unknown: error\n", train);
        var error = Assert.Throws<TransformException>(() => pipeline.Transform(new Frame(train.Schema, [Column.OfString(["y", "z"])], 2)));
        Assert.Equal("enc", error.Step);
        Assert.Equal(1, error.Row);
        Assert.Contains("'z'", error.Message);
    }

    [Fact]
    public void Ordinal_MatchesDuckDbDenseRank()
    {
        var (_, output) = Run("  - op: ordinal\n    column: s\n    output: s_code\n", Table);
        using var oracle = new Oracle(Table);
        TestData.AssertSame(oracle.Query("SELECT CASE WHEN s IS NULL THEN NULL ELSE dense_rank() OVER (ORDER BY s) - 1 END AS r, rowid FROM t ORDER BY rowid").Columns[0], output["s_code"], "ordinal");
    }

    [Fact]
    public void Bucketize_MatchesDuckDbQuantiles()
    {
        var (pipeline, output) = Run("  - op: bucketize\n    column: x\n    quantiles: 4\n", Table);
        using var oracle = new Oracle(Table);
        var edges = pipeline.SaveState().Steps["step1"]!.AsArray().Select(e => e!.GetValue<double>()).ToArray();
        var expectedEdges = oracle.Query("SELECT unnest(quantile_cont(x, [0.25, 0.5, 0.75])) FROM t WHERE NOT isnan(x)").Columns[0].Float64;
        Assert.Equal(expectedEdges.Length, edges.Length);
        for (var i = 0; i < edges.Length; i++) Assert.Equal(expectedEdges[i], edges[i], 9);
        TestData.AssertSame(oracle.Query(
            $"SELECT CASE WHEN isnan(x) THEN NULL ELSE (x >= {edges[0]:R})::INT + (x >= {edges[1]:R})::INT + (x >= {edges[2]:R})::INT END FROM t").Columns[0],
            output["x_bucket"], "buckets");
    }

    [Fact]
    public void Bucketize_UsesFixedEdges()
    {
        var (_, output) = Run("  - op: bucketize\n    column: b\n    edges: [-1, 0, 2]\n    output: bb\n", Table);
        using var oracle = new Oracle(Table);
        TestData.AssertSame(oracle.Query("SELECT (b >= -1)::INT + (b >= 0)::INT + (b >= 2)::INT FROM t").Columns[0], output["bb"], "edges");
    }

    [Fact]
    public void Hash_IsStableAndWithinBuckets()
    {
        var (_, first) = Run("  - op: hash\n    columns: [s, a]\n    buckets: 16\n", Table);
        var (_, second) = Run("  - op: hash\n    columns: [s, a]\n    buckets: 16\n", Table, batch: 128);
        var values = first["s_a_hash"].Int64;
        Assert.All(values, v => Assert.InRange(v, 0, 15));
        Assert.Equal(values, second["s_a_hash"].Int64);
        Assert.True(values.Distinct().Count() > 8);
    }

    [Fact]
    public void DatetimeParts_MatchDuckDb()
    {
        var (_, output) = Run("  - op: datetime_parts\n    column: ts\n    parts: [year, month, day, hour, minute, dayofweek, dayofyear, epoch]\n", Table);
        using var oracle = new Oracle(Table);
        foreach (var part in new[] { "year", "month", "day", "hour", "minute", "dayofweek", "dayofyear", "epoch" })
            TestData.AssertSame(oracle.Query($"SELECT {part}(ts)::BIGINT FROM t").Columns[0], output[$"ts_{part}"], part);
    }

    [Fact]
    public void Tokenize_SplitsLowercasesAndBuildsNgrams()
    {
        var frame = new Frame(new FrameSchema([new("text", DataKind.String)]), [Column.OfString(["Hello, World! Big-data", null, ""])], 3);
        var (_, output) = Run("  - op: tokenize\n    column: text\n    ngrams: 2\n", frame);
        Assert.Equal(["hello", "world", "big", "data", "hello world", "world big", "big data"], output["text_tokens"].StringList[0]!);
        Assert.False(output["text_tokens"].IsValid(1));
        Assert.Empty(output["text_tokens"].StringList[2]!);
    }

    [Fact]
    public void Sql_RunsRowWiseQueryThroughDuckDb()
    {
        var (pipeline, output) = Run("  - op: sql\n    query: SELECT a, x * 2 AS x2, upper(s) AS su FROM input WHERE b > 0\n", Table);
        using var oracle = new Oracle(Table);
        var expected = oracle.Query("SELECT a, x * 2 AS x2, upper(s) AS su FROM t WHERE b > 0");
        Assert.Equal(["a", "x2", "su"], pipeline.OutputSchema.Names);
        Assert.Equal(expected.RowCount, output.RowCount);
        foreach (var name in new[] { "a", "x2", "su" }) TestData.AssertSame(expected[name], output[name], name);
    }

    [Fact]
    public void Derive_Cast_Rename_Select_Drop_ComposeWithSchemaPropagation()
    {
        var (pipeline, output) = Run("""
              - op: derive
                columns: {ratio: "x / nullif(b, 0)", big: "a > 10"}
              - op: cast
                columns: {a: string, big: int64}
              - op: rename
                columns: {a: a_text}
              - op: drop
                columns: [ts, flag]
              - op: select
                columns: [a_text, ratio, big, s]
              - op: lowercase
                columns: [s]
            """, Table);
        Assert.Equal("a_text:String, ratio:Float64, big:Int64, s:String", pipeline.OutputSchema.ToString());
        using var oracle = new Oracle(Table);
        var expected = oracle.Query("SELECT CAST(a AS VARCHAR) a_text, x / nullif(b, 0) ratio, CAST(a > 10 AS BIGINT) big, lower(s) s FROM t");
        foreach (var name in new[] { "a_text", "ratio", "big", "s" }) TestData.AssertSame(expected[name], output[name], name);
    }

    [Fact]
    public void Operators_HandleEmptyBatches()
    {
        var empty = Frame.Empty(Table.Schema);
        var (pipeline, output) = Run("""
              - op: impute
                columns: [x]
              - op: standardize
                columns: [x]
              - op: onehot
                column: s
              - op: filter
                expr: x > 0
            """, empty);
        Assert.Equal(0, output.RowCount);
        Assert.Equal(0, pipeline.Transform(empty).RowCount);
        var state = pipeline.SaveState();
        Assert.Null(state.Steps["step1"]!["x"]);
    }

    [Fact]
    public void ArrowFrames_ReadDictionaryEncodedStrings()
    {
        var dictionary = new Apache.Arrow.StringArray.Builder().Append("red").Append("blue").Build();
        var indices = new Apache.Arrow.Int32Array.Builder().Append(1).Append(0).AppendNull().Append(1).Build();
        var type = new Apache.Arrow.Types.DictionaryType(Apache.Arrow.Types.Int32Type.Default, Apache.Arrow.Types.StringType.Default, false);
        var array = new Apache.Arrow.DictionaryArray(type, indices, dictionary);
        var batch = new Apache.Arrow.RecordBatch(new Apache.Arrow.Schema([new Apache.Arrow.Field("color", type, true)], null), [array], 4);
        var frame = ArrowFrames.ToFrame(batch);
        Assert.Equal(DataKind.String, frame.Schema.Fields[0].Kind);
        Assert.Equal("blue|red||blue", string.Join("|", frame["color"].String));
        Assert.False(frame["color"].IsValid(2));
        var (_, output) = Run("  - op: onehot\n    column: color\n", frame);
        Assert.Equal([1L, 0, 0, 1], output["color_blue"].Int64);
        var roundTrip = ArrowFrames.ToFrame(ArrowFrames.ToRecordBatch(output));
        Assert.Equal(output.Schema.ToString(), roundTrip.Schema.ToString());
        Assert.Equal(output["color_red"].Int64, roundTrip["color_red"].Int64);
    }

    [Fact]
    public void Params_RejectUnknownParameterWithSuggestion()
    {
        var error = Assert.Throws<StepException>(() => OperatorCatalog.Create("impute", new Params(new JsonObject { ["columns"] = new JsonArray("x"), ["strategie"] = "mean" })));
        Assert.Equal("strategie", error.Field);
        Assert.Contains("did you mean 'strategy'", error.Message);
    }
}
