using System.Text.Json.Nodes;
using Cube.Features.Engine;
using Cube.Features.Pipelines;

namespace Cube.Features.Tests.Operators;

public sealed class TextOperatorTests
{
    private static readonly Frame Docs = Documents(1_500, seed: 5);

    /// <summary>Space-separated documents over a small skewed vocabulary, mixed case, with nulls and empty texts.</summary>
    internal static Frame Documents(int rows, int seed)
    {
        string[] words = ["apple", "Banana", "cherry", "date", "elder", "fig", "grape", "kiwi", "lime", "mango"];
        var random = new Random(seed);
        var docs = new string?[rows];
        var ids = new long[rows];
        for (var i = 0; i < rows; i++)
        {
            ids[i] = i;
            var r = random.NextDouble();
            if (r < 0.05) continue;
            if (r < 0.08) { docs[i] = ""; continue; }
            var count = random.Next(1, 9);
            docs[i] = string.Join(' ', Enumerable.Range(0, count).Select(_ => words[Math.Min(words.Length - 1, (int)(-Math.Log(1 - random.NextDouble()) * 2.5))]));
        }
        return new Frame(new FrameSchema([new("id", DataKind.Int64), new("doc", DataKind.String)]), [Column.OfInt64(ids), Column.OfString(docs)], rows);
    }

    [Fact]
    public void Ngrams_JoinsRunsOfTokens_ShortestFirst()
    {
        var frame = new Frame(new FrameSchema([new("t", DataKind.String)]), [Column.OfString(["a b c d", null, "x", ""])], 4);
        var (pipeline, output) = Run("  - op: tokenize\n    column: t\n  - op: ngrams\n    column: t_tokens\n    min: 2\n    max: 3\n    separator: _\n", frame);
        Assert.Equal("t:String, t_tokens:StringList, t_tokens_ngrams:StringList", pipeline.OutputSchema.ToString());
        var grams = output["t_tokens_ngrams"];
        Assert.Equal(["a_b", "b_c", "c_d", "a_b_c", "b_c_d"], grams.StringList[0]!);
        Assert.False(grams.IsValid(1));
        Assert.Empty(grams.StringList[2]!);
        Assert.Empty(grams.StringList[3]!);
    }

    [Fact]
    public void Ngrams_And_Tfidf_RejectBadParameters_NamingStepAndField()
    {
        var schemas = new Dictionary<string, FrameSchema> { ["input"] = Docs.Schema };
        var error = Assert.Throws<PipelineValidationException>(() => FeaturePipeline.Compile(PipelineSpec.Parse("""
            steps:
              - name: grams
                op: ngrams
                column: doc_tokens
                min: 3
                max: 2
              - name: weights
                op: tfidf
                input: input
                column: doc
            """), schemas));
        Assert.Contains(error.Errors, e => e is { Step: "grams", Field: "max" });
        var weights = Assert.Single(error.Errors, e => e.Step == "weights");
        Assert.Equal("column", weights.Field);
        Assert.Contains("StringList", weights.Message);
    }

    [Theory]
    [InlineData(true, true, 3, 6)]
    [InlineData(false, true, 1, 100)]
    [InlineData(true, false, 50, 4)]
    public void Tfidf_MatchesDuckDbTermAndDocumentFrequencies(bool smooth, bool l2, int minDf, int maxFeatures)
    {
        var (pipeline, output) = Run($"""
              - op: tokenize
                column: doc
                tokenizer: whitespace
              - name: weights
                op: tfidf
                column: doc_tokens
                prefix: w
                minDf: {minDf}
                maxFeatures: {maxFeatures}
                smoothIdf: {(smooth ? "true" : "false")}
                norm: {(l2 ? "l2" : "none")}
            """, Docs, batch: 333);
        using var oracle = new Oracle(Docs);
        var idf = smooth ? "ln((1.0 + n) / (1.0 + df)) + 1" : "ln(n::DOUBLE / df) + 1";
        oracle.Execute($"""
            CREATE TABLE vocab AS
            WITH docs AS (SELECT id, doc FROM t WHERE doc IS NOT NULL),
                 tok AS (SELECT id, term FROM (SELECT id, unnest(string_split(lower(doc), ' ')) AS term FROM docs) WHERE term <> ''),
                 freq AS (SELECT term, count(DISTINCT id) AS df, count(*) AS total FROM tok GROUP BY term)
            SELECT term, df, total, (SELECT count(*) FROM docs) AS n FROM freq WHERE df >= {minDf} ORDER BY total DESC, term LIMIT {maxFeatures}
            """);
        var vocabulary = oracle.Query("SELECT term FROM vocab ORDER BY total DESC, term").Columns[0].String;
        var state = pipeline.SaveState().Steps["weights"]!;
        Assert.Equal(vocabulary, state["terms"]!.AsArray().Select(t => t!.GetValue<string>()).ToArray());
        Assert.Equal(oracle.Scalar("SELECT count(*) FROM t WHERE doc IS NOT NULL"), state["documents"]!.GetValue<long>());
        Assert.Equal(new[] { "id", "doc" }.Concat(vocabulary.Select(v => $"w_{v}")), pipeline.OutputSchema.Names);

        var weights = oracle.Query($"""
            WITH tf AS (SELECT id, term, count(*) AS tf
                        FROM (SELECT id, unnest(string_split(lower(doc), ' ')) AS term FROM t WHERE doc IS NOT NULL) GROUP BY id, term),
                 w AS (SELECT id, term, tf * ({idf}) AS w FROM tf JOIN vocab USING (term)),
                 norms AS (SELECT id, {(l2 ? "sqrt(sum(w * w))" : "1.0")} AS norm FROM w GROUP BY id)
            SELECT id, term, w / norm AS v FROM w JOIN norms USING (id)
            """);
        var expected = vocabulary.ToDictionary(v => v!, _ => new double[Docs.RowCount]);
        for (var i = 0; i < weights.RowCount; i++) expected[weights["term"].String[i]!][weights["id"].Int64[i]] = weights["v"].Float64[i];
        Assert.True(weights.RowCount > 1_000, $"only {weights.RowCount} (document, term) pairs");
        foreach (var (term, values) in expected) TestData.AssertSame(Column.OfFloat64(values), output[$"w_{term}"], term);
    }

    [Fact]
    public async Task Tfidf_GivesIdenticalResults_InBatchAndOnline_AfterStateRoundTrip()
    {
        const string yaml = """
            name: text
            steps:
              - op: lowercase
                columns: [doc]
              - op: tokenize
                column: doc
                pattern: "\\s+"
              - op: ngrams
                column: doc_tokens
                max: 2
              - name: weights
                op: tfidf
                column: doc_tokens_ngrams
                minDf: 5
                maxFeatures: 40
            """;
        var schemas = new Dictionary<string, FrameSchema> { ["input"] = Docs.Schema };
        using var fitted = FeaturePipeline.Compile(PipelineSpec.Parse(yaml), schemas);
        var state = await fitted.FitAsync((_, _) => OperatorTests.Batches(Docs, 256));
        var batchRows = new List<JsonObject>();
        foreach (var slice in FeaturePipeline.Slices(Docs, 400)) batchRows.AddRange(RowJson.ToRows(fitted.Transform(slice)));

        var json = state.ToJson();
        Assert.Contains("\"idf\"", json);
        var reloaded = FittedState.FromJson(json);
        using var online = FeaturePipeline.Compile(PipelineSpec.Parse(yaml), reloaded.InputSchemas(), reloaded);
        Assert.Equal(fitted.OutputSchema.ToString(), online.OutputSchema.ToString());
        Assert.Equal(["id", "doc", "doc_tokens"], online.OutputSchema.Names.Take(3));
        Assert.Equal(3 + 40, online.OutputSchema.Fields.Count);
        Assert.Contains(online.OutputSchema.Names, n => n.StartsWith("doc_tokens_ngrams_tfidf_", StringComparison.Ordinal) && n.Contains(' '));
        var onlineRows = RowJson.ToRows(Docs).SelectMany(r => RowJson.ToRows(online.Transform(RowJson.ToFrame([JsonNode.Parse(r.ToJsonString())!.AsObject()], Docs.Schema)))).ToList();
        Assert.Equal(batchRows.Select(r => r.ToJsonString()), onlineRows.Select(r => r.ToJsonString()));
    }

    [Fact]
    public void Tfidf_Columns_AreCheckedAfterFitting_ByLaterSteps()
    {
        const string steps = """
              - op: tokenize
                column: doc
                tokenizer: whitespace
              - name: weights
                op: tfidf
                column: doc_tokens
                maxFeatures: 3
              - name: use
                op: derive
                columns: {both: "doc_tokens_tfidf_apple + doc_tokens_tfidf_banana"}
            """;
        var (pipeline, output) = Run(steps, Docs);
        TestData.AssertSame(
            Column.OfFloat64(output["doc_tokens_tfidf_apple"].Float64.Zip(output["doc_tokens_tfidf_banana"].Float64, (a, b) => a + b).ToArray()), output["both"], "both");

        Assert.Equal(["id", "doc", "doc_tokens_tfidf_apple", "doc_tokens_tfidf_banana", "doc_tokens_tfidf_cherry", "both"], pipeline.OutputSchema.Names);

        // A later step naming a term outside the fitted vocabulary fails once the vocabulary is known, naming both steps.
        var error = Assert.Throws<PipelineValidationException>(() => Run(steps.Replace("banana", "nope"), Docs));
        var problem = Assert.Single(error.Errors);
        Assert.Equal("use", problem.Step);
        Assert.Contains("After fitting 'weights'", problem.Message);
    }

    [Fact]
    public void Tokenize_RejectsPattern_WithWhitespaceTokenizer()
    {
        var error = Assert.Throws<PipelineValidationException>(() => FeaturePipeline.Compile(
            PipelineSpec.Parse("steps:\n  - name: tok\n    op: tokenize\n    column: doc\n    tokenizer: whitespace\n    pattern: ','\n"),
            new Dictionary<string, FrameSchema> { ["input"] = Docs.Schema }));
        Assert.Equal(("tok", "pattern"), (error.Errors[0].Step, error.Errors[0].Field));
    }

    [Fact]
    public void Tfidf_ReadsDictionaryEncodedStrings_AsPlainOnes()
    {
        var plain = Documents(300, seed: 9);
        var texts = plain["doc"].String;
        var distinct = texts.Where(t => t is not null).Distinct().ToList();
        var dictionary = new Apache.Arrow.StringArray.Builder().AppendRange(distinct).Build();
        var indices = new Apache.Arrow.Int32Array.Builder();
        foreach (var text in texts)
        {
            if (text is null) indices.AppendNull();
            else indices.Append(distinct.IndexOf(text));
        }
        var type = new Apache.Arrow.Types.DictionaryType(Apache.Arrow.Types.Int32Type.Default, Apache.Arrow.Types.StringType.Default, false);
        var batch = new Apache.Arrow.RecordBatch(
            new Apache.Arrow.Schema([new Apache.Arrow.Field("id", Apache.Arrow.Types.Int64Type.Default, false), new Apache.Arrow.Field("doc", type, true)], null),
            [ArrowFrames.ToArrow(plain["id"]), new Apache.Arrow.DictionaryArray(type, indices.Build(), dictionary)], plain.RowCount);
        var encoded = ArrowFrames.ToFrame(batch);
        const string steps = "  - op: tokenize\n    column: doc\n  - op: tfidf\n    column: doc_tokens\n";
        var (_, expected) = Run(steps, plain);
        var (_, actual) = Run(steps, encoded, batch: 64);
        Assert.Equal(expected.Schema.ToString(), actual.Schema.ToString());
        Assert.True(expected.Schema.Fields.Count > 5);
        foreach (var field in expected.Schema.Fields.Where(f => f.Kind == DataKind.Float64)) TestData.AssertSame(expected[field.Name], actual[field.Name], field.Name);
    }

    [Fact]
    public void Tfidf_FitsEmptyInput_ToNoColumns_AndZeroForNullOrUnknownText()
    {
        var (pipeline, output) = Run("  - op: tokenize\n    column: doc\n  - name: w\n    op: tfidf\n    column: doc_tokens\n", Frame.Empty(Docs.Schema));
        Assert.Equal(0, output.RowCount);
        Assert.Equal("id:Int64, doc:String", pipeline.OutputSchema.ToString());
        Assert.Equal(0, pipeline.SaveState().Steps["w"]!["documents"]!.GetValue<long>());

        var small = new Frame(Docs.Schema, [Column.OfInt64([0, 1, 2]), Column.OfString(["red red blue", "blue", null])], 3);
        var (fitted, _) = Run("  - op: tokenize\n    column: doc\n  - name: w\n    op: tfidf\n    column: doc_tokens\n    norm: none\n", small);
        var unseen = fitted.Transform(new Frame(Docs.Schema, [Column.OfInt64([5, 6]), Column.OfString([null, "green red"])], 2));
        Assert.Equal([0.0, 0.0], unseen["doc_tokens_tfidf_blue"].Float64);
        // idf(red) = ln(3 / 2) + 1 with two documents, red in one of them.
        Assert.Equal([0.0, Math.Log(1.5) + 1], unseen["doc_tokens_tfidf_red"].Float64);
        Assert.Equal(["id", "doc", "doc_tokens_tfidf_blue", "doc_tokens_tfidf_red"], fitted.OutputSchema.Names);
    }

    private static (FeaturePipeline Pipeline, Frame Output) Run(string steps, Frame table, int batch = 700) => OperatorTests.Run(steps, table, batch);
}
