// A 1M-row feature pipeline (median impute, standardize, one-hot of a 50-value category, filter) in Cube's engine versus
// the same computation as DuckDB SQL over the same in-memory data. Loading the data is not timed on either side.
// `parquet [rows] [--cube-only [--statistics]] [--onehot int64|boolean]` runs the end-to-end Parquet-to-Parquet
// benchmark instead (ParquetBench.cs; 10M rows by default); `--cube-only` skips DuckDB's side and the comparison, for
// profiling Cube's engine alone (`--statistics`: with DataHub's column statistics); `--onehot` is the type of the
// one-hot columns on both sides (int64 by default). `preview [rows] [sample] [repeats]` times the pipeline's preview
// through the API of an in-process server (PreviewBench.cs; 10M rows, a 10k-row sample, 5 warm calls by default).
using System.Diagnostics;
using System.Globalization;
using System.Text;
using Cube.Features.Engine;
using Cube.Features.Pipelines;
using DuckDB.NET.Data;

if (args is ["parquet", .. var rest])
{
    var oneHotType = Array.IndexOf(rest, "--onehot") is var at and >= 0 && at + 1 < rest.Length ? rest[at + 1] : "int64";
    await Cube.Features.Bench.ParquetBench.RunAsync(rest.Length > 0 && char.IsDigit(rest[0][0]) ? int.Parse(rest[0], CultureInfo.InvariantCulture) : 10_000_000,
        cubeOnly: rest.Contains("--cube-only"), oneHot: oneHotType, statistics: rest.Contains("--statistics"));
    return;
}

if (args is ["preview", .. var previewArgs])
{
    int At(int i, int fallback) => previewArgs.Length > i ? int.Parse(previewArgs[i], CultureInfo.InvariantCulture) : fallback;
    await Cube.Features.Bench.PreviewBench.RunAsync(At(0, 10_000_000), At(1, 10_000), At(2, 5));
    return;
}

var rows = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 1_000_000;
const int BatchSize = 64 * 1024;
var random = new Random(42);
var amount = new double[rows];
var score = new double[rows];
var scoreValid = new bool[rows];
var category = new string?[rows];
var names = Enumerable.Range(0, 50).Select(i => $"c{i:D2}").ToArray();
for (var i = 0; i < rows; i++)
{
    amount[i] = Math.Round(random.NextDouble() * 1000 - 100, 2);
    score[i] = Math.Round(random.NextDouble() * 10, 3);
    scoreValid[i] = random.NextDouble() >= 0.05;
    category[i] = names[(int)(Math.Pow(random.NextDouble(), 2) * names.Length)];
}
var schema = new FrameSchema([new("amount", DataKind.Float64), new("score", DataKind.Float64), new("category", DataKind.String)]);
var table = new Frame(schema, [Column.OfFloat64(amount), Column.OfFloat64(score, scoreValid), Column.OfString(category)], rows);

const string Spec = """
    steps:
      - op: impute
        columns: [score]
        strategy: median
      - op: standardize
        columns: [amount]
      - op: onehot
        column: category
        maxCategories: 50
      - op: filter
        expr: amount > -1.5 and score >= 1
    """;

// Cube: fit over the stream, then transform batch by batch.
var clock = Stopwatch.StartNew();
using var pipeline = FeaturePipeline.Compile(PipelineSpec.Parse(Spec), new Dictionary<string, FrameSchema> { ["input"] = schema });
await pipeline.FitAsync((_, _) => Batches(table));
long cubeRows = 0;
for (var offset = 0; offset < rows; offset += BatchSize)
    cubeRows += pipeline.Transform(table.Slice(offset, Math.Min(BatchSize, rows - offset))).RowCount;
var cubeSeconds = clock.Elapsed.TotalSeconds;

// DuckDB: the same data in a table, the same computation as one SQL statement materialised into a table.
using var duck = new DuckDBConnection("Data Source=:memory:");
duck.Open();
Execute(duck, "CREATE TABLE t (amount DOUBLE, score DOUBLE, category VARCHAR)");
using (var appender = duck.CreateAppender("t"))
{
    for (var i = 0; i < rows; i++)
    {
        var row = appender.CreateRow().AppendValue(amount[i]);
        if (scoreValid[i]) row.AppendValue(score[i]); else row.AppendNullValue();
        row.AppendValue(category[i]).EndRow();
    }
}
var oneHot = new StringBuilder();
foreach (var name in names) oneHot.Append(CultureInfo.InvariantCulture, $", CASE WHEN category = '{name}' THEN 1 ELSE 0 END AS category_{name}");
var sql = $"""
    CREATE TABLE out AS
    WITH stats AS (SELECT median(score) AS med, avg(amount) AS mu, stddev_pop(amount) AS sd FROM t),
    f AS (SELECT (amount - mu) / sd AS amount, coalesce(score, med) AS score, category FROM t, stats)
    SELECT amount, score{oneHot} FROM f WHERE amount > -1.5 AND score >= 1
    """;
clock.Restart();
Execute(duck, sql);
var duckSeconds = clock.Elapsed.TotalSeconds;
long duckRows;
using (var count = duck.CreateCommand())
{
    count.CommandText = "SELECT count(*) FROM out";
    duckRows = Convert.ToInt64(count.ExecuteScalar(), CultureInfo.InvariantCulture);
}

Console.WriteLine($"Feature pipeline over {rows:N0} rows (impute median, standardize, one-hot 50 values, filter); load not timed");
Console.WriteLine($"  Cube engine : {cubeSeconds,7:F3} s  {rows / cubeSeconds,14:N0} rows/s  ({cubeRows:N0} rows out)");
Console.WriteLine($"  DuckDB SQL  : {duckSeconds,7:F3} s  {rows / duckSeconds,14:N0} rows/s  ({duckRows:N0} rows out, threads={Environment.ProcessorCount})");
Console.WriteLine($"  ratio Cube/DuckDB throughput: {duckSeconds / cubeSeconds:F2}x");
if (cubeRows != duckRows) Console.WriteLine("  WARNING: row counts differ");

static void Execute(DuckDBConnection connection, string sql)
{
    using var command = connection.CreateCommand();
    command.CommandText = sql;
    command.ExecuteNonQuery();
}

async IAsyncEnumerable<Frame> Batches(Frame frame)
{
    await Task.CompletedTask;
    for (var offset = 0; offset < frame.RowCount; offset += BatchSize)
        yield return frame.Slice(offset, Math.Min(BatchSize, frame.RowCount - offset));
}
