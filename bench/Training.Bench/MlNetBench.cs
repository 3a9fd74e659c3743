using System.Diagnostics;
using System.Globalization;
using Apache.Arrow;
using Apache.Arrow.Types;
using Cube.Training.MlNet;
using Microsoft.ML;

namespace Cube.Training.Bench;

/// <summary>
/// ML.NET training throughput on a synthetic table: rows stream as Arrow batches (as DataHub serves them) into the
/// columns the trainers read; each trainer's figure is rows per second of training (load, fit and evaluation).
/// </summary>
internal static class MlNetBench
{
    private const int BatchRows = 65_536;
    private const int NumericColumns = 10;

    public static async Task RunAsync(int rows)
    {
        Console.WriteLine($"ML.NET training, synthetic binary table: {rows:N0} rows, {NumericColumns} double columns + 1 categorical (dictionary-encoded, 8 values), {Environment.ProcessorCount} cores");
        var features = Enumerable.Range(0, NumericColumns).Select(i => new FeatureColumn($"x{i}", "double", FeatureKind.Numeric))
            .Append(new FeatureColumn("segment", "utf8", FeatureKind.Categorical)).ToList();
        foreach (var trainer in new[] { MlTrainer.FastTree, MlTrainer.Sdca, MlTrainer.LightGbm })
        {
            var settings = new MlNetSettings { Task = MlTask.BinaryClassification, Trainer = trainer, Label = "label", Trees = 100, Seed = 1 };
            GC.Collect();
            var watch = Stopwatch.StartNew();
            var store = await ArrowLoader.LoadAsync(Batches(rows), settings, features, rows, _ => ValueTask.CompletedTask, CancellationToken.None);
            var loaded = watch.Elapsed.TotalSeconds;
            var path = Path.Combine(Path.GetTempPath(), $"cube-bench-{Guid.NewGuid():N}.zip");
            try
            {
                var outcome = MlNetTrainer.Train(new MLContext(1), store, settings, features, path, _ => { });
                var total = watch.Elapsed.TotalSeconds;
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"  {trainer,-9} load {rows / loaded,12:N0} rows/s ({loaded:F1} s)  train+evaluate {(total - loaded):F1} s  end to end {rows / total,10:N0} rows/s  auc {outcome.Metrics["auc"]:F4}  accuracy {outcome.Metrics["accuracy"]:F4}  peak working set {Process.GetCurrentProcess().PeakWorkingSet64 / (1 << 20):N0} MiB"));
            }
            finally
            {
                File.Delete(path);
            }
        }
    }

    /// <summary>label = (weighted sum of the x's + a segment bonus + noise) &gt; 0, so the table is learnable but not trivially.</summary>
    private static async IAsyncEnumerable<RecordBatch> Batches(int rows)
    {
        var random = new Random(42);
        var segmentType = new DictionaryType(Int32Type.Default, StringType.Default, false);
        var schemaBuilder = new Schema.Builder();
        for (var c = 0; c < NumericColumns; c++) schemaBuilder.Field(f => f.Name($"x{c}").DataType(DoubleType.Default));
        var schema = schemaBuilder.Field(f => f.Name("segment").DataType(segmentType)).Field(f => f.Name("label").DataType(BooleanType.Default)).Build();
        for (var start = 0; start < rows; start += BatchRows)
        {
            var count = Math.Min(BatchRows, rows - start);
            var xs = Enumerable.Range(0, NumericColumns).Select(_ => new double[count]).ToArray();
            var segments = new Int32Array.Builder();
            var labels = new BooleanArray.Builder();
            for (var i = 0; i < count; i++)
            {
                var sum = 0.0;
                for (var c = 0; c < NumericColumns; c++)
                {
                    xs[c][i] = random.NextDouble() * 2 - 1;
                    sum += xs[c][i] * (c % 3 - 1);
                }
                var segment = random.Next(8);
                segments.Append(segment);
                labels.Append(sum + (segment - 3.5) * 0.1 + (random.NextDouble() - 0.5) * 0.5 > 0);
            }
            var columns = new List<IArrowArray>();
            foreach (var x in xs) columns.Add(new DoubleArray.Builder().AppendRange(x).Build());
            var dictionary = new StringArray.Builder().AppendRange(Enumerable.Range(0, 8).Select(s => $"segment-{s}")).Build();
            columns.Add(new DictionaryArray(segmentType, segments.Build(), dictionary));
            columns.Add(labels.Build());
            await Task.Yield();
            yield return new RecordBatch(schema, columns, count);
        }
    }
}
