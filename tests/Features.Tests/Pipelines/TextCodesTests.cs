using Apache.Arrow;
using Apache.Arrow.Types;
using Cube.Features.Engine;
using Cube.Features.Operators;
using Cube.Features.Pipelines;
using Cube.Features.Tests.Operators;
using Column = Cube.Features.Engine.Column;

namespace Cube.Features.Tests.Pipelines;

/// <summary>
/// Text read from a dictionary keeps its codes beside the strings; every kernel that uses the codes must give what it
/// gives on plain strings, and the fit must read only the columns it learns from.
/// </summary>
public sealed class TextCodesTests
{
    /// <summary>The table with each text column turned into an Arrow dictionary array and read back as the engine reads it.</summary>
    /// <remarks>
    /// The dictionary lists the values in reverse order of appearance, one entry no row uses, and a null entry that
    /// the rows which were null point at.
    /// </remarks>
    private static Frame Coded(Frame table)
    {
        var columns = table.Columns.Select(column =>
        {
            if (column.Kind != DataKind.String) return column;
            var entries = column.String.Where(v => v is not null).Distinct().Reverse().Append("never used").ToList();
            var dictionary = new StringArray.Builder();
            foreach (var entry in entries) dictionary.Append(entry);
            dictionary.AppendNull();
            var indices = new Int32Array.Builder();
            foreach (var value in column.String) indices.Append(value is null ? entries.Count : entries.IndexOf(value));
            var array = new DictionaryArray(new DictionaryType(Int32Type.Default, StringType.Default, false), indices.Build(), dictionary.Build());
            var read = ArrowFrames.ReadColumn(array);
            Assert.NotNull(read.Codes);
            return read;
        }).ToList();
        return new Frame(table.Schema, columns, table.RowCount);
    }

    private static readonly Frame Plain = TestData.Table(2_000, seed: 5);

    /// <summary>Reads the table in batches with only the columns a pass asks for, noting what each pass asked.</summary>
    private static FeaturePipeline.ReadInput Projecting(Frame table, List<IReadOnlyList<string>?> requested) => (_, columns, _) =>
    {
        requested.Add(columns);
        return OperatorTests.Batches(columns is null ? table : table.Select(columns), 450);
    };

    [Fact]
    public void CodedText_ReadsTheSameValues_AndWritesTheSameArrowStrings()
    {
        var coded = Coded(Plain);
        TestData.AssertSame(Plain["s"], coded["s"], "read");
        var written = (StringArray)ArrowFrames.ToArrow(coded["s"]);
        var expected = (StringArray)ArrowFrames.ToArrow(Plain["s"]);
        Assert.Equal(expected.NullCount, written.NullCount);
        for (var i = 0; i < expected.Length; i++) Assert.Equal(expected.GetString(i), written.GetString(i));
        // Slices and gathers keep the codes in step with the values.
        int[] rows = [5, 0, 1999, 17, 17];
        var taken = coded["s"].Take(rows);
        Assert.NotNull(taken.Codes);
        TestData.AssertSame(Plain["s"].Take(rows), taken, "take");
        TestData.AssertSame(Plain["s"].Take(rows), ArrowFrames.ReadColumn(ArrowFrames.ToArrow(taken)), "take written");
        var slice = coded["s"].Slice(300, 700);
        TestData.AssertSame(Plain["s"].Slice(300, 700), ArrowFrames.ReadColumn(ArrowFrames.ToArrow(slice)), "slice written");
    }

    [Theory]
    [InlineData("ignore")]
    [InlineData("other")]
    public void OneHot_OnCodes_MatchesPlainText(string unknown)
    {
        // Fitted on the first half's three most frequent values, so the rest are unknown categories.
        var step = $"  - op: onehot\n    column: s\n    maxCategories: 3\n    unknown: {unknown}\n";
        var (plain, plainOut) = OperatorTests.Run(step, Plain, batch: 333);
        var (coded, codedOut) = OperatorTests.Run(step, Coded(Plain), batch: 333);
        Assert.Equal(plain.SaveState().Steps["step1"]!.ToJsonString(), coded.SaveState().Steps["step1"]!.ToJsonString());
        Assert.Equal(plainOut.Schema.ToString(), codedOut.Schema.ToString());
        foreach (var field in plainOut.Schema.Fields) TestData.AssertSame(plainOut[field.Name], codedOut[field.Name], field.Name);
    }

    [Fact]
    public void OneHot_OnCodes_NamesTheRowOfAnUnknownCategory()
    {
        using var pipeline = FeaturePipeline.Compile(PipelineSpec.Parse("name: t\nsteps:\n  - {name: enc, op: onehot, column: s, categories: [a, b], unknown: error}\n"),
            new Dictionary<string, FrameSchema> { ["input"] = Plain.Schema });
        var batch = Coded(Plain).Slice(0, 400);
        var firstUnknown = Enumerable.Range(0, 400).First(i => batch["s"].String[i] is { } v && pipeline.OutputSchema.Find($"s_{v}") is null);
        var error = Assert.Throws<TransformException>(() => pipeline.Transform(batch));
        Assert.Equal("enc", error.Step);
        Assert.Equal(firstUnknown, error.Row);
    }

    [Fact]
    public void DistinctCount_OnCodes_MatchesPlainText_PastSixtyFourValues()
    {
        // 150 distinct values: the per-group masks spill into the pair set part-way through.
        var rows = 3_000;
        var random = new Random(3);
        var key = new long[rows];
        var text = new string?[rows];
        for (var i = 0; i < rows; i++)
        {
            key[i] = random.Next(0, 40);
            text[i] = random.Next(20) == 0 ? null : $"v{random.Next(0, 150)}";
        }
        var table = new Frame(new FrameSchema([new("k", DataKind.Int64), new("s", DataKind.String)]), [Column.OfInt64(key), Column.OfString(text)], rows);
        var plain = Reduce(table);
        var coded = Reduce(Coded(table));
        foreach (var name in new[] { "k", "n", "c" }) TestData.AssertSame(plain[name], coded[name], name);

        static Frame Reduce(Frame input)
        {
            using var pipeline = FeaturePipeline.Compile(PipelineSpec.Parse("name: t\nsteps:\n  - {name: g, op: groupby, by: [k], aggregates: {n: \"distinct_count(s)\", c: \"count()\"}}\n"),
                new Dictionary<string, FrameSchema> { ["input"] = input.Schema });
            pipeline.FitAsync((_, _) => OperatorTests.Batches(input, 256)).GetAwaiter().GetResult();
            return pipeline.Reduced["g"];
        }
    }

    [Fact]
    public async Task Fit_ReadsOnlyTheColumnsItsStepsLearnFrom()
    {
        const string yaml = """
            inputs:
              events: {dataset: d, table: t.parquet}
            steps:
              - {name: fill, op: impute, input: events, columns: [x], strategy: median}
              - {name: scale, op: standardize, columns: [a]}
              - {name: encode, op: onehot, column: s, maxCategories: 3}
              - name: per_b
                op: groupby
                input: events
                by: [b]
                aggregates: {n: "count()", top: "max(a)"}
            output: encode
            """;
        var table = Coded(Plain);
        var requested = new List<IReadOnlyList<string>?>();
        using var projected = FeaturePipeline.Compile(PipelineSpec.Parse(yaml), new Dictionary<string, FrameSchema> { ["events"] = table.Schema });
        var state = await projected.FitAsync(Projecting(table, requested));
        // One pass, reading x, a and s for the fits and b and a for the group-by, in the input's order.
        Assert.Equal(["a", "b", "x", "s"], Assert.Single(requested));

        using var whole = FeaturePipeline.Compile(PipelineSpec.Parse(yaml), new Dictionary<string, FrameSchema> { ["events"] = table.Schema });
        var expected = await whole.FitAsync((_, _) => OperatorTests.Batches(table, 450));
        Assert.Equal(expected.Steps.ToDictionary(s => s.Key, s => s.Value?.ToJsonString()), state.Steps.ToDictionary(s => s.Key, s => s.Value?.ToJsonString()));
        foreach (var field in whole.Reduced["per_b"].Schema.Fields) TestData.AssertSame(whole.Reduced["per_b"][field.Name], projected.Reduced["per_b"][field.Name], field.Name);
    }

    [Fact]
    public async Task Fit_ReadsEveryColumn_WhenAStepLearnsFromAnEarlierStepsOutput()
    {
        // The scale of x must see x after imputing: it learns from fill's output, so the second pass reads whole rows.
        const string yaml = """
            inputs:
              events: {dataset: d, table: t.parquet}
            steps:
              - {name: fill, op: impute, input: events, columns: [x], strategy: mean}
              - {name: scale, op: standardize, columns: [x]}
            output: scale
            """;
        var requested = new List<IReadOnlyList<string>?>();
        using var pipeline = FeaturePipeline.Compile(PipelineSpec.Parse(yaml), new Dictionary<string, FrameSchema> { ["events"] = Plain.Schema });
        await pipeline.FitAsync(Projecting(Plain, requested));
        Assert.Equal(2, requested.Count);
        Assert.Equal(["x"], requested[0]);
        Assert.Null(requested[1]);
    }
}
