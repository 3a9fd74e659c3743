// Parquet to Parquet, end to end: an events table (ids, users, timestamps, amounts, a score with 5% nulls, a 50-value and a
// 5,000-value category, a flag) and a profiles table (two rows per user), both written by DuckDB. Cube's engine reads
// them, median-fills score, standardizes amount, one-hots the 50-value category, as-of joins each event to the user's
// latest profile at its time, aggregates per user (count, sum, mean, max, distinct count), and writes both results to
// Parquet; DuckDB runs the same computation as SQL over the same files. Reads and writes are timed on both sides.
using System.Diagnostics;
using System.Globalization;
using System.Text;
using Cube.DataHub.Tables;
using Cube.Features.Engine;
using Cube.Features.Pipelines;
using DuckDB.NET.Data;

namespace Cube.Features.Bench;

internal static class ParquetBench
{
    internal const string SpecTemplate = """
        inputs:
          events: {dataset: bench, table: events.parquet}
          profiles: {dataset: bench, table: profiles.parquet}
        steps:
          - {name: fill, op: impute, input: events, columns: [score], strategy: median}
          - {name: scale, op: standardize, columns: [amount]}
          - {name: encode, op: onehot, column: cat50, maxCategories: 50, dtype: ONEHOT}
          - {name: asof, op: asof_join, right: profiles, on: [user_id], time: ts, rightTime: pts}
          - name: users
            op: groupby
            input: events
            by: [user_id]
            aggregates: {orders: "count()", spent: "sum(amount)", avg_score: "mean(score)", max_amount: "max(amount)", categories: "distinct_count(cat50)"}
        output: asof
        """;

    public static async Task RunAsync(int rows, bool cubeOnly = false, string oneHot = "int64", bool statistics = false)
    {
        if (oneHot is not ("int64" or "boolean")) throw new ArgumentException("--onehot is int64 or boolean.", nameof(oneHot));
        var spec = SpecTemplate.Replace("ONEHOT", oneHot, StringComparison.Ordinal);
        var sqlType = oneHot == "boolean" ? "BOOLEAN" : "BIGINT";
        var users = Math.Max(1, Math.Min(1_000_000, rows / 10));
        var directory = Directory.CreateTempSubdirectory("cube-features-bench-").FullName;
        try
        {
            var (events, profiles) = WriteSources(directory, rows, users);
            Console.WriteLine($"Parquet to Parquet over {rows:N0} events ({users:N0} users, {2 * users:N0} profile rows): impute median, standardize, one-hot 50 values ({oneHot}), as-of join, group-by user");

            var (cubeSeconds, cubeRows, cubeUsers) = await CubeAsync(spec, directory, events, profiles, statistics: cubeOnly && statistics);
            long cubePeak;
            using (var process = Process.GetCurrentProcess()) cubePeak = process.PeakWorkingSet64;
            Console.WriteLine($"  Cube engine : {cubeSeconds,7:F2} s  {rows / cubeSeconds,12:N0} rows/s  ({cubeRows:N0} rows, {cubeUsers:N0} users out; process peak {cubePeak / 1048576.0:N0} MiB)");
            if (cubeOnly) return;

            var (duckSeconds, duckRows, duckUsers) = Duck(directory, events, profiles, sqlType);
            long peak;
            using (var process = Process.GetCurrentProcess()) peak = process.PeakWorkingSet64;
            Console.WriteLine($"  DuckDB SQL  : {duckSeconds,7:F2} s  {rows / duckSeconds,12:N0} rows/s  ({duckRows:N0} rows, {duckUsers:N0} users out; threads={Environment.ProcessorCount}; process peak now {peak / 1048576.0:N0} MiB)");
            Console.WriteLine($"  ratio Cube/DuckDB throughput: {duckSeconds / cubeSeconds:F2}x");
            // A pipeline run also computes DataHub's column statistics of its output (a summary per batch, a histogram pass).
            var (withStatistics, _, _) = await CubeAsync(spec, directory, events, profiles, statistics: true);
            Console.WriteLine($"  Cube engine with DataHub column statistics, as a pipeline run writes: {withStatistics:F2} s ({rows / withStatistics:N0} rows/s, {duckSeconds / withStatistics:F2}x DuckDB)");
            using (var check = Open())
            {
                // Same answer, not only the same counts: the sums of the joined and aggregated columns agree.
                var cube = Scalar(check, $"SELECT round(sum(balance), 2) || '/' || round(sum(amount * score), 1) || '/' || sum(cat50_c07::BIGINT) FROM '{Path.Combine(directory, "cube_rows.parquet")}'");
                var duck = Scalar(check, $"SELECT round(sum(balance), 2) || '/' || round(sum(amount * score), 1) || '/' || sum(cat50_c07::BIGINT) FROM '{Path.Combine(directory, "duck_rows.parquet")}'");
                var cubeAgg = Scalar(check, $"SELECT sum(orders) || '/' || round(sum(spent), 2) || '/' || sum(categories) FROM '{Path.Combine(directory, "cube_users.parquet")}'");
                var duckAgg = Scalar(check, $"SELECT sum(orders) || '/' || round(sum(spent), 2) || '/' || sum(categories) FROM '{Path.Combine(directory, "duck_users.parquet")}'");
                Console.WriteLine($"  check rows (sum balance / sum amount*score / c07 ones): cube {cube}, duckdb {duck}");
                Console.WriteLine($"  check users (orders / spent / categories): cube {cubeAgg}, duckdb {duckAgg}");
                if (cube != duck || cubeAgg != duckAgg || cubeRows != duckRows || cubeUsers != duckUsers) Console.WriteLine("  WARNING: the outputs differ");
            }
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    /// <summary>
    /// Writes the benchmark's sources with DuckDB: <c>events.parquet</c> (<paramref name="rows"/> rows) and
    /// <c>profiles.parquet</c> (two rows per user), in <paramref name="directory"/>.
    /// </summary>
    internal static (string Events, string Profiles) WriteSources(string directory, int rows, int users)
    {
        var events = Path.Combine(directory, "events.parquet");
        var profiles = Path.Combine(directory, "profiles.parquet");
        using (var duck = Open())
        {
            Execute(duck, $"""
                COPY (SELECT i AS id, (hash(i) % {users})::BIGINT AS user_id,
                             TIMESTAMP '2026-01-01' + to_seconds((hash(i * 3) % 31536000)::BIGINT) AS ts,
                             round((hash(i * 5) % 1000000) / 1000.0 - 100, 2) AS amount,
                             CASE WHEN hash(i * 7) % 100 < 5 THEN NULL ELSE round((hash(i * 11) % 10000) / 1000.0, 3) END AS score,
                             'c' || lpad((hash(i * 13) % 50)::VARCHAR, 2, '0') AS cat50,
                             'k' || (hash(i * 17) % 5000)::VARCHAR AS cat5000,
                             hash(i * 19) % 3 = 0 AS flag
                      FROM range({rows}) r(i)) TO '{events}' (FORMAT parquet, ROW_GROUP_SIZE 65536)
                """);
            Execute(duck, $"""
                COPY (SELECT u AS user_id, TIMESTAMP '2026-01-01' + to_seconds((k * 15768000 + hash(u) % 86400)::BIGINT) AS pts,
                             round((hash(u * 31 + k) % 500000) / 100.0, 2) AS balance
                      FROM range({users}) a(u), range(2) b(k)) TO '{profiles}' (FORMAT parquet, ROW_GROUP_SIZE 65536)
                """);
        }
        return (events, profiles);
    }

    /// <summary>Fits over the Parquet stream (one pass per dependency level, the as-of right side and the group-by in the fit), then transforms and writes.</summary>
    private static async Task<(double Seconds, long Rows, long Users)> CubeAsync(string spec, string directory, string events, string profiles, bool statistics)
    {
        var clock = Stopwatch.StartNew();
        var fitStart = Stopwatch.GetTimestamp();
        var cpu = CpuSeconds();
        var paths = new Dictionary<string, string> { ["events"] = events, ["profiles"] = profiles };
        var schemas = paths.ToDictionary(p => p.Key, p =>
        {
            using var reader = TableReader.Open(p.Value);
            return ArrowFrames.SchemaOf(reader.Schema);
        });
        using var pipeline = FeaturePipeline.Compile(PipelineSpec.Parse(spec), schemas);
        var reads = 0;
        await pipeline.FitAsync((name, columns, ct) =>
        {
            reads++;
            return Read(paths[name], columns is null ? schemas[name] : schemas[name].Select(columns), ct);
        });
        var fitSeconds = clock.Elapsed.TotalSeconds;
        var fitCpu = CpuSeconds() - cpu;
        var transformStart = Stopwatch.GetTimestamp();

        // Written as a pipeline run writes its output: DataHub's Parquet writer (its encodings, statistics and threads).
        var written = await TableIngest.WriteAsync(Path.Combine(directory, "cube_rows.parquet"), ArrowFrames.ToArrowSchema(pipeline.OutputSchema),
            (sink, ct) => pipeline.TransformIntoAsync(Read(events, schemas["events"], ct), sink, null, null, ct),
            new TableIngestOptions { Statistics = statistics });
        var rows = written.RowCount;
        var passSeconds = clock.Elapsed.TotalSeconds - fitSeconds;
        var passCpu = CpuSeconds() - cpu - fitCpu;
        // For `perf record -k CLOCK_MONOTONIC ... ; perf report --time start,end`: the fit's and transform's windows on that clock.
        if (Environment.GetEnvironmentVariable("CUBE_BENCH_MARKS") is "1")
        {
            Console.WriteLine($"    fit window (CLOCK_MONOTONIC s): {fitStart / (double)Stopwatch.Frequency:F6},{transformStart / (double)Stopwatch.Frequency:F6}");
            Console.WriteLine($"    transform window (CLOCK_MONOTONIC s): {transformStart / (double)Stopwatch.Frequency:F6},{Stopwatch.GetTimestamp() / (double)Stopwatch.Frequency:F6}");
        }
        var perUser = pipeline.Reduced["users"];
        await TableIngest.WriteAsync(Path.Combine(directory, "cube_users.parquet"), ArrowFrames.ToArrowSchema(perUser.Schema), async (sink, ct) =>
        {
            foreach (var slice in FeaturePipeline.Slices(perUser)) await sink.WriteAsync(() => ArrowFrames.ToRecordBatch(slice), ct);
        }, new TableIngestOptions { Statistics = statistics });
        Console.WriteLine($"    fit {fitSeconds:F2} s ({reads} source reads, CPU {fitCpu:F1} s); transform and write {passSeconds:F2} s (CPU {passCpu:F1} s); per-user output {clock.Elapsed.TotalSeconds - fitSeconds - passSeconds:F2} s");
        return (clock.Elapsed.TotalSeconds, rows, perUser.RowCount);
    }

    private static double CpuSeconds()
    {
        using var process = Process.GetCurrentProcess();
        return process.TotalProcessorTime.TotalSeconds;
    }

    /// <summary>Read as a pipeline run reads its inputs: decoded and converted ahead on another thread.</summary>
    private static IAsyncEnumerable<Frame> Read(string path, FrameSchema schema, CancellationToken cancellationToken) =>
        ReadAhead.Of(Frames(path, schema, cancellationToken), cancellationToken: cancellationToken);

    private static async IAsyncEnumerable<Frame> Frames(string path, FrameSchema schema, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        using var reader = TableReader.Open(path, dictionaryStrings: true);
        await foreach (var batch in reader.ReadAsync(schema.Names.ToList(), null, 0, cancellationToken))
            using (batch)
                yield return ArrowFrames.ToFrame(batch, schema);
    }

    private static (double Seconds, long Rows, long Users) Duck(string directory, string events, string profiles, string sqlType)
    {
        var clock = Stopwatch.StartNew();
        using var duck = Open();
        // The one-hot columns need the categories, as Cube's fit does: one scan for them, timed too.
        var categories = new List<string>();
        using (var command = duck.CreateCommand())
        {
            command.CommandText = $"SELECT DISTINCT cat50 FROM '{events}' WHERE cat50 IS NOT NULL ORDER BY 1";
            using var reader = command.ExecuteReader();
            while (reader.Read()) categories.Add(reader.GetString(0));
        }
        var oneHot = new StringBuilder();
        foreach (var c in categories) oneHot.Append(CultureInfo.InvariantCulture, $", CASE WHEN cat50 = '{c}' THEN 1 ELSE 0 END::{sqlType} AS cat50_{c}");
        Execute(duck, $"""
            COPY (
              WITH s AS (SELECT median(score) AS med, avg(amount) AS mu, stddev_pop(amount) AS sd FROM '{events}'),
              f AS (SELECT id, user_id, ts, (amount - mu) / sd AS amount, coalesce(score, med) AS score{oneHot}, cat5000, flag FROM '{events}', s)
              SELECT f.*, p.pts, p.balance FROM f ASOF LEFT JOIN '{profiles}' p ON f.user_id = p.user_id AND f.ts >= p.pts
            ) TO '{Path.Combine(directory, "duck_rows.parquet")}' (FORMAT parquet)
            """);
        Execute(duck, $"""
            COPY (SELECT user_id, count(*) AS orders, sum(amount) AS spent, avg(score) AS avg_score, max(amount) AS max_amount, count(DISTINCT cat50) AS categories
                  FROM '{events}' GROUP BY user_id) TO '{Path.Combine(directory, "duck_users.parquet")}' (FORMAT parquet)
            """);
        var seconds = clock.Elapsed.TotalSeconds;
        return (seconds, Convert.ToInt64(Scalar(duck, $"SELECT count(*) FROM '{Path.Combine(directory, "duck_rows.parquet")}'"), CultureInfo.InvariantCulture),
            Convert.ToInt64(Scalar(duck, $"SELECT count(*) FROM '{Path.Combine(directory, "duck_users.parquet")}'"), CultureInfo.InvariantCulture));
    }

    private static DuckDBConnection Open()
    {
        var connection = new DuckDBConnection("Data Source=:memory:");
        connection.Open();
        return connection;
    }

    private static void Execute(DuckDBConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    private static string Scalar(DuckDBConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        return Convert.ToString(command.ExecuteScalar(), CultureInfo.InvariantCulture) ?? "";
    }
}
