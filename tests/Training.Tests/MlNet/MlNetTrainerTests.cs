using Apache.Arrow;
using Apache.Arrow.Types;
using Cube.Training.MlNet;
using Microsoft.ML;

namespace Cube.Training.Tests.MlNet;

/// <summary>The Arrow-to-ML.NET path without a server: batches as DataHub streams them, into columns, through each trainer.</summary>
public sealed class MlNetTrainerTests
{
    /// <summary>Batches of x (double), n (int64, with nulls), plan (dictionary-encoded string) and label (bool, with nulls): label = x + plan bonus &gt; 1.</summary>
    private static async IAsyncEnumerable<RecordBatch> Batches(int rows, int batchSize = 100)
    {
        var random = new Random(5);
        var schema = new Schema.Builder()
            .Field(f => f.Name("x").DataType(DoubleType.Default))
            .Field(f => f.Name("n").DataType(Int64Type.Default))
            .Field(f => f.Name("plan").DataType(new DictionaryType(Int32Type.Default, StringType.Default, false)))
            .Field(f => f.Name("label").DataType(BooleanType.Default))
            .Build();
        for (var start = 0; start < rows; start += batchSize)
        {
            var count = Math.Min(batchSize, rows - start);
            var x = new DoubleArray.Builder();
            var n = new Int64Array.Builder();
            var plan = new Int32Array.Builder();
            var label = new BooleanArray.Builder();
            for (var i = 0; i < count; i++)
            {
                var value = random.NextDouble() * 2;
                var p = random.Next(3);
                x.Append(value);
                if (i % 10 == 0) n.AppendNull(); else n.Append(random.Next(100));
                plan.Append(p);
                if ((start + i) % 50 == 49) label.AppendNull(); else label.Append(value + (p == 2 ? 0.5 : 0) > 1);
            }
            await Task.Yield();
            var plans = new StringArray.Builder().AppendRange(["basic", "plus", "pro"]).Build();
            yield return new RecordBatch(schema, [x.Build(), n.Build(), new DictionaryArray(new DictionaryType(Int32Type.Default, StringType.Default, false), plan.Build(), plans), label.Build()], count);
        }
    }

    private static readonly FeatureColumn[] Features = [new("x", "double", FeatureKind.Numeric), new("n", "int64", FeatureKind.Numeric), new("plan", "utf8", FeatureKind.Categorical)];

    private static Task<ColumnStore> LoadAsync(MlNetSettings settings, int rows) =>
        ArrowLoader.LoadAsync(Batches(rows), settings, Features, rows, _ => ValueTask.CompletedTask, CancellationToken.None);

    [Theory]
    [InlineData(MlTrainer.FastTree)]
    [InlineData(MlTrainer.LightGbm)]
    [InlineData(MlTrainer.Sdca)]
    public async Task Train_SeparatesABinaryProblem_WithEachTrainer(MlTrainer trainer)
    {
        var settings = new MlNetSettings { Task = MlTask.BinaryClassification, Trainer = trainer, Label = "label", Trees = 30 };
        var store = await LoadAsync(settings, 1000);
        Assert.Equal(980, store.Rows); // every 50th row has no label
        var path = Path.Combine(Path.GetTempPath(), $"cube-mlnet-{Guid.NewGuid():N}.zip");
        try
        {
            var outcome = MlNetTrainer.Train(new MLContext(1), store, settings, Features, path, _ => { });
            Assert.True(outcome.Metrics["accuracy"] > 0.9, $"{trainer}: {string.Join(", ", outcome.Metrics)}");
            Assert.Equal(980, outcome.TrainRows + outcome.ValidationRows);
            Assert.InRange(outcome.ValidationRows, 150, 250);
            Assert.True(new FileInfo(path).Length > 0);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public async Task Train_GivesTheSameMetrics_WithTheSameSeed()
    {
        var settings = new MlNetSettings { Task = MlTask.BinaryClassification, Trainer = MlTrainer.Sdca, Label = "label", Seed = 9 };
        var path = Path.Combine(Path.GetTempPath(), $"cube-mlnet-{Guid.NewGuid():N}.zip");
        try
        {
            var first = MlNetTrainer.Train(new MLContext(9), await LoadAsync(settings, 600), settings, Features, path, _ => { });
            var second = MlNetTrainer.Train(new MLContext(9), await LoadAsync(settings, 600), settings, Features, path, _ => { });
            Assert.Equal(first.Metrics, second.Metrics);
            Assert.Equal(MlNetTrainer.Split(588, 0.2, 9).Validation, MlNetTrainer.Split(588, 0.2, 9).Validation);
            Assert.NotEqual(MlNetTrainer.Split(588, 0.2, 9).Validation, MlNetTrainer.Split(588, 0.2, 10).Validation);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public async Task Load_RejectsALabelOutsideZeroAndOne_ForBinaryClassification()
    {
        var settings = new MlNetSettings { Task = MlTask.BinaryClassification, Label = "n" };
        var error = await Assert.ThrowsAsync<TrainingDataException>(() =>
            ArrowLoader.LoadAsync(Batches(100), settings, [new("x", "double", FeatureKind.Numeric)], 100, _ => ValueTask.CompletedTask, CancellationToken.None));
        Assert.Contains("binary classification takes 0 or 1", error.Message);
    }

    [Fact]
    public async Task Train_Stops_WhenCancelled()
    {
        using var cancel = new CancellationTokenSource();
        var settings = new MlNetSettings { Task = MlTask.BinaryClassification, Trainer = MlTrainer.Sdca, Label = "label" };
        var store = await ArrowLoader.LoadAsync(Batches(500), settings, Features, 500, _ => ValueTask.CompletedTask, cancel.Token);
        await cancel.CancelAsync();
        Assert.ThrowsAny<OperationCanceledException>(() => MlNetTrainer.Train(new MLContext(1), store, settings, Features, Path.Combine(Path.GetTempPath(), "never.zip"), _ => { }));
    }

    [Fact]
    public void ResolveColumns_DefaultsToEveryOtherNumericBoolAndStringColumn()
    {
        var settings = new MlNetSettings { Task = MlTask.MulticlassClassification, Label = "topic", Text = "body" };
        var errors = new List<string>();
        var columns = settings.ResolveColumns(
            [new("id", "int64", false, false), new("body", "utf8", true, false), new("topic", "utf8", false, true), new("seen", "timestamp[us]", true, false), new("ok", "bool", true, false)],
            (field, message) => errors.Add(field));
        Assert.Empty(errors);
        Assert.Equal(["body:Text", "id:Numeric", "ok:Numeric"], columns.Select(c => $"{c.Name}:{c.Kind}"));
    }
}
