using System.Text.Json.Nodes;
using Cube.Features.Engine;
using Cube.Features.Pipelines;
using Cube.Features.Tests.Operators;

namespace Cube.Features.Tests.Pipelines;

public sealed class PipelineTests
{
    private static readonly Frame Table = TestData.Table(4_000, seed: 23);
    private static readonly Dictionary<string, FrameSchema> Inputs = new() { ["events"] = Table.Schema };

    private const string FullPipeline = """
        name: churn
        inputs:
          events: {dataset: sales, version: 2, table: events.csv}
        steps:
          - name: clean
            op: filter
            input: events
            expr: a is null or a > -15
          - name: fill
            op: impute
            columns: [x]
            strategy: median
          - name: fill_s
            op: impute
            columns: [s]
            strategy: mode
          - name: scaled
            op: standardize
            columns: [x, b]
          - name: ranged
            op: minmax
            columns: [a]
          - name: encode
            op: onehot
            column: s
            unknown: other
          - name: code
            op: ordinal
            input: encode
            column: flag
            output: flag_code
          - name: buckets
            op: bucketize
            column: x
            quantiles: 5
          - name: hashed
            op: hash
            columns: [flag, flag_code]
            buckets: 32
          - name: parts
            op: datetime_parts
            column: ts
            parts: [month, dayofweek, hour]
          - name: derived
            op: derive
            columns:
              score: "coalesce(a, 0) * 2 + x"
              weekend: "ts_dayofweek in (0, 6)"
              common: "s_a + s_b"
          - name: squared
            op: derive
            columns: {x_sq: "x * x"}
          - name: final
            op: drop
            columns: [ts]
        output: final
        """;

    [Fact]
    public async Task FromJson_ReadsKindsByNumber_WhenTheStateWasStoredBeforeKindsWereNamed()
    {
        var spec = PipelineSpec.Parse(FullPipeline);
        using var fitted = FeaturePipeline.Compile(spec, Inputs);
        var json = (await fitted.FitAsync((_, _) => OperatorTests.Batches(Table, 1_000))).ToJson();
        Assert.Contains("\"kind\":\"Float64\"", json, StringComparison.Ordinal);
        var numeric = System.Text.RegularExpressions.Regex.Replace(json, "\"kind\":\"(\\w+)\"",
            m => $"\"kind\":{(int)Enum.Parse<DataKind>(m.Groups[1].Value)}");
        Assert.DoesNotContain("\"kind\":\"", numeric, StringComparison.Ordinal);
        var named = FittedState.FromJson(json).InputSchemas();
        var numbered = FittedState.FromJson(numeric).InputSchemas();
        Assert.Equal(named.Keys, numbered.Keys);
        foreach (var (name, schema) in named) Assert.Equal(schema.Fields, numbered[name].Fields);
    }

    [Fact]
    public async Task Transform_GivesIdenticalResults_InBatchAndOnline_AfterStateRoundTrip()
    {
        var spec = PipelineSpec.Parse(FullPipeline);
        using var fitted = FeaturePipeline.Compile(spec, Inputs);
        Assert.False(fitted.IsFitted);
        var state = await fitted.FitAsync((_, _) => OperatorTests.Batches(Table, 1_000));
        Assert.True(fitted.IsFitted);

        // Batch: the whole table, in batches, through the fitted pipeline.
        var batchRows = new List<JsonObject>();
        for (var offset = 0; offset < Table.RowCount; offset += 1_000)
            batchRows.AddRange(RowJson.ToRows(fitted.Transform(Table.Slice(offset, Math.Min(1_000, Table.RowCount - offset)))));

        // Online: a fresh pipeline from the saved JSON state, one JSON row at a time.
        var reloadedState = FittedState.FromJson(state.ToJson());
        using var online = FeaturePipeline.Compile(PipelineSpec.Parse(FullPipeline), reloadedState.InputSchemas(), reloadedState);
        Assert.True(online.IsFitted);
        Assert.Equal(fitted.OutputSchema.ToString(), online.OutputSchema.ToString());
        var inputRows = RowJson.ToRows(Table);
        var onlineRows = new List<JsonObject>();
        foreach (var row in inputRows)
        {
            var parsed = JsonNode.Parse(row.ToJsonString())!.AsObject();
            onlineRows.AddRange(RowJson.ToRows(online.Transform(RowJson.ToFrame([parsed], online.Inputs[online.OutputSource]))));
        }

        Assert.True(batchRows.Count > 3_000, $"only {batchRows.Count} rows survived the filter");
        Assert.Equal(batchRows.Count, onlineRows.Count);
        for (var i = 0; i < batchRows.Count; i++) Assert.Equal(batchRows[i].ToJsonString(), onlineRows[i].ToJsonString());
        Assert.Contains("s__other", fitted.OutputSchema.Names);
        Assert.Contains("x_sq", fitted.OutputSchema.Names);
        Assert.DoesNotContain("ts", fitted.OutputSchema.Names);
    }

    [Fact]
    public async Task Transform_GivesIdenticalResults_InBatchAndOnline_ForSqlStep()
    {
        // The SQL step costs a DuckDB round trip per call, so it is checked on fewer rows than the kernels.
        const string yaml = """
            steps:
              - op: impute
                columns: [x]
              - op: sql
                query: SELECT a, round(x * 3, 4) AS x3, lower(s) AS s, ts FROM input WHERE b <> 0
            """;
        var table = Table.Slice(0, 150);
        using var pipeline = FeaturePipeline.Compile(PipelineSpec.Parse(yaml), new Dictionary<string, FrameSchema> { ["input"] = table.Schema });
        var state = FittedState.FromJson((await pipeline.FitAsync((_, _) => OperatorTests.Batches(table, 150))).ToJson());
        var batch = RowJson.ToRows(pipeline.Transform(table));
        using var online = FeaturePipeline.Compile(PipelineSpec.Parse(yaml), state.InputSchemas(), state);
        var onlineRows = RowJson.ToRows(table).SelectMany(r => RowJson.ToRows(online.Transform(RowJson.ToFrame([r], table.Schema)))).ToList();
        Assert.Equal(batch.Select(r => r.ToJsonString()), onlineRows.Select(r => r.ToJsonString()));
        Assert.True(batch.Count > 80);
    }

    [Fact]
    public async Task FitAsync_GivesSameState_WhateverTheBatchSize()
    {
        using var small = FeaturePipeline.Compile(PipelineSpec.Parse(FullPipeline), Inputs);
        using var large = FeaturePipeline.Compile(PipelineSpec.Parse(FullPipeline), Inputs);
        var a = await small.FitAsync((_, _) => OperatorTests.Batches(Table, 97));
        var b = await large.FitAsync((_, _) => OperatorTests.Batches(Table, 4_000));
        var sa = JsonNode.Parse(a.ToJson())!["steps"]!.AsObject();
        var sb = JsonNode.Parse(b.ToJson())!["steps"]!.AsObject();
        foreach (var (name, value) in sa)
        {
            if (name == "scaled") continue; // Welford sums differ in the last bits by batch order; checked with a tolerance below.
            Assert.Equal(value!.ToJsonString(), sb[name]!.ToJsonString());
        }
        var mean = sa["scaled"]!["x"]!["offset"]!.GetValue<double>();
        Assert.Equal(mean, sb["scaled"]!["x"]!["offset"]!.GetValue<double>(), 9);
    }

    [Fact]
    public async Task FitAsync_LearnsFitsThatReadUnchangedColumns_InTheSamePassAsTheStepsBeforeThem()
    {
        // fill changes x: scaled_x must learn from the filled values, after fill. scaled_b and encode read columns no
        // step before them changes, so they learn in fill's pass, together with the group-by.
        const string spec = """
            inputs:
              events: {dataset: d, table: t}
            steps:
              - {name: fill, op: impute, input: events, columns: [x], strategy: median}
              - {name: scaled_b, op: standardize, columns: [b]}
              - {name: encode, op: onehot, column: s}
              - {name: scaled_x, op: standardize, columns: [x]}
              - {name: per_s, op: groupby, input: events, by: [s], aggregates: {n: "count()"}}
            output: scaled_x
            """;
        using var pipeline = FeaturePipeline.Compile(PipelineSpec.Parse(spec), Inputs);
        var reads = 0;
        var state = await pipeline.FitAsync((_, _) => { reads++; return OperatorTests.Batches(Table, 500); });
        Assert.Equal(2, reads);

        var x = Table["x"];
        var present = Enumerable.Range(0, Table.RowCount).Where(i => x.IsValid(i) && !double.IsNaN(x.Float64[i])).Select(i => x.Float64[i]).Order().ToList();
        var median = present.Count % 2 == 1 ? present[present.Count / 2] : (present[present.Count / 2 - 1] + present[present.Count / 2]) / 2;
        var filled = Enumerable.Range(0, Table.RowCount).Select(i => x.IsValid(i) && !double.IsNaN(x.Float64[i]) ? x.Float64[i] : median).ToList();
        var steps = JsonNode.Parse(state.ToJson())!["steps"]!;
        Assert.Equal(median, steps["fill"]!["x"]!.GetValue<double>(), 12);
        Assert.Equal(filled.Average(), steps["scaled_x"]!["x"]!["offset"]!.GetValue<double>(), 9);
        Assert.Equal(Table["b"].Int64.Average(), steps["scaled_b"]!["b"]!["offset"]!.GetValue<double>(), 9);
        Assert.Equal(["encode", "fill", "scaled_b", "scaled_x"], steps.AsObject().Select(p => p.Key).Order());
        Assert.Contains("s_a", pipeline.OutputSchema.Names);
        Assert.Equal(Table.RowCount, pipeline.Reduced["per_s"]["n"].Int64.Sum());
    }

    [Fact]
    public async Task TransformIntoAsync_WritesWhatTransformGives_InOrder_AndNamesAFailingRowFromTheFirstBatch()
    {
        using var pipeline = FeaturePipeline.Compile(PipelineSpec.Parse(FullPipeline), Inputs);
        await pipeline.FitAsync((_, _) => OperatorTests.Batches(Table, 1_000));
        Assert.True(pipeline.TransformsInParallel);
        var expected = pipeline.Transform(Table);
        var file = Path.Combine(Path.GetTempPath(), $"cube-transform-{Guid.NewGuid():N}.parquet");
        try
        {
            var stats = new Dictionary<string, StepStats>();
            var result = await DataHub.Tables.TableIngest.WriteAsync(file, ArrowFrames.ToArrowSchema(pipeline.OutputSchema),
                (sink, ct) => pipeline.TransformIntoAsync(OperatorTests.Batches(Table, 97), sink, stats, null, ct));
            Assert.Equal(expected.RowCount, result.RowCount);
            Assert.Equal(expected.RowCount, stats[pipeline.Spec.Output].Rows);
            using var reader = DataHub.Tables.TableReader.Open(file);
            var frames = new List<Frame>();
            await foreach (var batch in reader.ReadAsync()) using (batch) frames.Add(ArrowFrames.ToFrame(batch, pipeline.OutputSchema));
            var written = Frame.Concat(pipeline.OutputSchema, frames);
            Assert.Equal(RowJson.ToRows(expected).Select(r => r.ToJsonString()), RowJson.ToRows(written).Select(r => r.ToJsonString()));
        }
        finally
        {
            File.Delete(file);
        }

        // A vocabulary given up front and no unknowns allowed: the first row outside it fails, counted across batches.
        const string strict = """
            inputs:
              events: {dataset: d, table: t}
            steps:
              - {name: encode, op: onehot, input: events, column: s, categories: [a, b, c, Bb, dd], unknown: error}
            output: encode
            """;
        using var failing = FeaturePipeline.Compile(PipelineSpec.Parse(strict), Inputs);
        var first = Enumerable.Range(0, Table.RowCount).First(i => Table["s"].String[i] == "e");
        var sink = Path.Combine(Path.GetTempPath(), $"cube-transform-{Guid.NewGuid():N}.parquet");
        var error = await Assert.ThrowsAsync<Cube.Features.Operators.TransformException>(() => DataHub.Tables.TableIngest.WriteAsync(sink, ArrowFrames.ToArrowSchema(failing.OutputSchema),
            (s, ct) => failing.TransformIntoAsync(OperatorTests.Batches(Table, 97), s, null, null, ct)));
        Assert.Equal(("encode", (long?)first), (error.Step, error.Row));
        Assert.False(File.Exists(sink));
    }

    [Fact]
    public void Compile_ReportsEveryProblem_WithStepAndField()
    {
        const string yaml = """
            inputs:
              events: {}
            steps:
              - name: one
                op: fliter
                expr: a > 1
              - name: two
                op: filter
                input: nowhere
                expr: a > 1
              - name: three
                op: derive
                input: events
                columns: {y: "amout * 2"}
              - name: four
                op: standardize
                input: events
                columns: [s]
              - name: five
                op: impute
                input: events
                columns: [x]
                strategy: average
              - name: six
                op: select
                input: seven
                columns: [a]
              - name: seven
                op: select
                input: six
                columns: [a]
              - name: eight
                op: filter
                input: events
                expr: a + 1
            output: eight
            """;
        var error = Assert.Throws<PipelineValidationException>(() => FeaturePipeline.Compile(PipelineSpec.Parse(yaml), Inputs));
        var errors = error.Errors;
        Assert.Equal(422, error.StatusCode);
        Assert.Contains(errors, e => e is { Step: "one", Field: "op" } && e.Message.Contains("did you mean 'filter'"));
        Assert.Contains(errors, e => e is { Step: "two", Field: "input" } && e.Message.Contains("Unknown input 'nowhere'"));
        Assert.Contains(errors, e => e is { Step: "three", Field: "columns.y" } && e.Message.Contains("did you mean 'a'") == false && e.Message.Contains("Unknown column 'amout'"));
        Assert.Contains(errors, e => e is { Step: "four", Field: "columns" } && e.Message.Contains("String"));
        Assert.Contains(errors, e => e is { Step: "five", Field: "strategy" } && e.Message.Contains("mean, median, mode, constant"));
        Assert.Contains(errors, e => e.Field == "input" && e.Message.Contains("cycle"));
        Assert.Contains(errors, e => e is { Step: "eight", Field: "expr" } && e.Message.Contains("true/false"));
    }

    [Fact]
    public void Compile_PropagatesSchemaThroughEveryStep()
    {
        using var pipeline = FeaturePipeline.Compile(PipelineSpec.Parse(FullPipeline), Inputs);
        var fill = pipeline.Order.Single(s => s.Name == "fill");
        Assert.Equal(DataKind.Float64, fill.OutputSchema!.Find("x")!.Kind);
        var parts = pipeline.Order.Single(s => s.Name == "parts");
        Assert.Equal(DataKind.Int64, parts.OutputSchema!.Find("ts_hour")!.Kind);
        Assert.Equal("events", pipeline.OutputSource);
        // The one-hot columns are only known after fitting; 'common' refers to them, so validation before the fit
        // must still pass: it is checked against the fitted schema when the vocabulary is learnt.
    }

    [Fact]
    public void Parse_ReadsJsonAndYamlAlike()
    {
        var fromYaml = PipelineSpec.Parse(FullPipeline);
        var fromJson = PipelineSpec.Parse(fromYaml.ToJson().ToJsonString());
        Assert.Equal(fromYaml.ToJson().ToJsonString(), fromJson.ToJson().ToJsonString());
        Assert.Equal(2, fromYaml.Inputs["events"].Version);
        Assert.Equal("fill", fromYaml.Steps[2].Input);
        Assert.Equal(5L, fromYaml.Steps.Single(s => s.Name == "buckets").Params["quantiles"]!.GetValue<long>());
    }

    [Theory]
    [InlineData("steps: [", "does not parse at line")]
    [InlineData("- just a list", "must be a mapping")]
    [InlineData("steps:\n  - name: a\n    expr: x\n", "has no 'op'")]
    [InlineData("steps:\n  - op: filter\n    op: select\n", "line 3, column 5: Duplicate key op")]
    public void Parse_FailsPrecisely_WhenSpecIsMalformed(string text, string message)
    {
        var error = Assert.Throws<PipelineValidationException>(() => PipelineSpec.Parse(text));
        Assert.True(error.Errors.Any(e => e.Message.Contains(message)), error.Message);
    }

    [Fact]
    public void RowJson_RejectsWrongTypes_NamingRowAndColumn()
    {
        var rows = new List<JsonObject> { new() { ["a"] = 1 }, new() { ["a"] = "three" } };
        var error = Assert.Throws<Core.Errors.BadRequestException>(() => RowJson.ToFrame(rows, Table.Schema));
        Assert.Equal(1, error.Extensions["row"]);
        Assert.Equal("a", error.Extensions["column"]);
    }

    [Fact]
    public void OperatorCatalog_DescribesEveryOperatorWithJsonSchema()
    {
        Assert.True(OperatorCatalog.All.Count >= 17);
        foreach (var op in OperatorCatalog.All)
        {
            Assert.Equal("object", op.Parameters["type"]!.GetValue<string>());
            Assert.NotEmpty(op.Parameters["properties"]!.AsObject());
        }
        Assert.True(OperatorCatalog.All.Single(o => o.Op == "onehot").Fitted);
    }
}
