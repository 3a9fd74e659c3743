using System.Text.Json.Nodes;
using Apache.Arrow.Types;
using Cube.Features.Engine;
using Cube.Features.Pipelines;

namespace Cube.Features.Tests.Operators;

/// <summary>TF-IDF with <c>output: sparse</c>: one list&lt;struct&lt;index:int32, value:float&gt;&gt; column instead of a column per term.</summary>
public sealed class SparseTfidfTests
{
    private static readonly Frame Docs = TextOperatorTests.Documents(1_500, seed: 11);

    private static string Steps(string output, int maxFeatures = 100, string norm = "l2") => $"""
          - op: tokenize
            column: doc
            tokenizer: whitespace
          - name: weights
            op: tfidf
            column: doc_tokens
            prefix: w
            minDf: 2
            maxFeatures: {maxFeatures}
            norm: {norm}
            output: {output}
        """;

    [Theory]
    [InlineData("l2")]
    [InlineData("none")]
    public void SparseTfidf_HoldsTheDenseWeights_AndMatchesDuckDb(string norm)
    {
        var (densePipeline, dense) = OperatorTests.Run(Steps("dense", norm: norm), Docs, 333);
        var (pipeline, sparse) = OperatorTests.Run(Steps("sparse", norm: norm), Docs, 333);
        Assert.Equal("id:Int64, doc:String, w:SparseVector", pipeline.OutputSchema.ToString());
        var terms = pipeline.SaveState().Steps["weights"]!["terms"]!.AsArray().Select(t => t!.GetValue<string>()).ToList();
        Assert.Equal(densePipeline.SaveState().Steps["weights"]!["terms"]!.ToJsonString(), pipeline.SaveState().Steps["weights"]!["terms"]!.ToJsonString());

        // Each row lists exactly the dense row's non-zero weights, by ascending vocabulary index, as float.
        var vectors = sparse["w"].Sparse;
        for (var row = 0; row < Docs.RowCount; row++)
        {
            var vector = vectors[row]!;
            var nonZero = terms.Select((t, i) => (i, v: dense[$"w_{t}"].Float64[row])).Where(x => x.v != 0).ToList();
            Assert.Equal(nonZero.Select(x => x.i), vector.Indices);
            Assert.Equal(nonZero.Select(x => (float)x.v), vector.Values);
        }

        using var oracle = new Oracle(Docs);
        var idf = "ln((1.0 + n) / (1.0 + df)) + 1";
        var weights = oracle.Query($"""
            WITH docs AS (SELECT id, doc FROM t WHERE doc IS NOT NULL),
                 tok AS (SELECT id, term FROM (SELECT id, unnest(string_split(lower(doc), ' ')) AS term FROM docs) WHERE term <> ''),
                 freq AS (SELECT term, count(DISTINCT id) AS df, count(*) AS total FROM tok GROUP BY term),
                 vocab AS (SELECT term, df, (SELECT count(*) FROM docs) AS n, row_number() OVER (ORDER BY total DESC, term) - 1 AS code
                           FROM freq WHERE df >= 2 ORDER BY total DESC, term LIMIT 100),
                 tf AS (SELECT id, term, count(*) AS tf FROM tok GROUP BY id, term),
                 w AS (SELECT id, code, tf * ({idf}) AS w FROM tf JOIN vocab USING (term)),
                 norms AS (SELECT id, {(norm == "l2" ? "sqrt(sum(w * w))" : "1.0")} AS norm FROM w GROUP BY id)
            SELECT id, code, w / norm AS v FROM w JOIN norms USING (id) ORDER BY id, code
            """);
        Assert.True(weights.RowCount > 1_000, $"only {weights.RowCount} (document, term) pairs");
        var expected = new Dictionary<(long, long), double>();
        for (var i = 0; i < weights.RowCount; i++) expected[(weights["id"].Int64[i], weights["code"].Int64[i])] = weights["v"].Float64[i];
        Assert.Equal(expected.Count, vectors.Sum(v => v!.Indices.Length));
        for (var row = 0; row < Docs.RowCount; row++)
            for (var k = 0; k < vectors[row]!.Indices.Length; k++)
                Assert.Equal(expected[(row, vectors[row]!.Indices[k])], vectors[row]!.Values[k], 1e-6);
    }

    [Fact]
    public async Task SparseTfidf_GivesIdenticalResults_InBatchOnlineAndThroughArrow()
    {
        var yaml = "name: text\nsteps:\n" + Steps("sparse", maxFeatures: 50_000);
        var schemas = new Dictionary<string, FrameSchema> { ["input"] = Docs.Schema };
        using var fitted = FeaturePipeline.Compile(PipelineSpec.Parse(yaml), schemas);
        var state = await fitted.FitAsync((_, _) => OperatorTests.Batches(Docs, 256));
        var batchRows = new List<JsonObject>();
        foreach (var slice in FeaturePipeline.Slices(Docs, 400))
        {
            var output = fitted.Transform(slice);
            batchRows.AddRange(RowJson.ToRows(output));
            // The Arrow form is list<struct<index: int32, value: float>> and reads back to the same vectors.
            var batch = ArrowFrames.ToRecordBatch(output);
            var type = Assert.IsType<ListType>(batch.Schema.GetFieldByName("w").DataType);
            var entry = Assert.IsType<StructType>(type.ValueDataType);
            Assert.Equal(["index:int32", "value:float"], entry.Fields.Select(f => $"{f.Name}:{f.DataType.Name}"));
            var back = ArrowFrames.ToFrame(batch);
            Assert.Equal(RowJson.ToRows(output).Select(r => r.ToJsonString()), RowJson.ToRows(back).Select(r => r.ToJsonString()));
        }

        var reloaded = FittedState.FromJson(state.ToJson());
        using var online = FeaturePipeline.Compile(PipelineSpec.Parse(yaml), reloaded.InputSchemas(), reloaded);
        var onlineRows = RowJson.ToRows(Docs).SelectMany(r => RowJson.ToRows(online.Transform(RowJson.ToFrame([JsonNode.Parse(r.ToJsonString())!.AsObject()], Docs.Schema)))).ToList();
        Assert.Equal(batchRows.Select(r => r.ToJsonString()), onlineRows.Select(r => r.ToJsonString()));
        // A null or empty document is an empty vector, as the dense form is all zeros.
        var nullRow = Enumerable.Range(0, Docs.RowCount).First(i => !Docs["doc"].IsValid(i));
        Assert.Equal("{\"indices\":[],\"values\":[]}", batchRows[nullRow]["w"]!.ToJsonString());
    }

    [Fact]
    public void SparseTfidf_AllowsLargeVocabularies_WhichTheDenseFormRefuses()
    {
        var schemas = new Dictionary<string, FrameSchema> { ["input"] = Docs.Schema };
        var dense = Assert.Throws<PipelineValidationException>(() => FeaturePipeline.Compile(PipelineSpec.Parse("steps:\n" + Steps("dense", maxFeatures: 50_000)), schemas));
        Assert.Equal(("weights", "maxFeatures"), (dense.Errors[0].Step, dense.Errors[0].Field));
        Assert.Contains("output: sparse", dense.Errors[0].Message, StringComparison.Ordinal);
        var bad = Assert.Throws<PipelineValidationException>(() => FeaturePipeline.Compile(PipelineSpec.Parse("steps:\n" + Steps("columns")), schemas));
        Assert.Equal(("weights", "output"), (bad.Errors[0].Step, bad.Errors[0].Field));
        // The sparse column's schema is known before fitting: later steps validate at once.
        using var sparse = FeaturePipeline.Compile(PipelineSpec.Parse("steps:\n" + Steps("sparse", maxFeatures: 50_000) + "\n  - {name: keep, op: select, columns: [id, w]}\n"), schemas);
        Assert.Empty(sparse.Deferred);
        Assert.Equal("id:Int64, w:SparseVector", sparse.Order[^1].OutputSchema!.ToString());
    }
}
