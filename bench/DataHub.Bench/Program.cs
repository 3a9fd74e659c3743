using System.Diagnostics;
using System.Globalization;
using Cube.DataHub.Bench;
using Cube.DataHub.Tables;
using DuckDB.NET.Data;

// Usage: DataHub.Bench [sizeMB=1000] [workDir=/tmp/cube-bench]
// Each engine runs in its own child process so its peak working set is its own.
var arguments = args.Where(a => !a.StartsWith("--phase=", StringComparison.Ordinal)).ToArray();
var phase = args.FirstOrDefault(a => a.StartsWith("--phase=", StringComparison.Ordinal))?["--phase=".Length..];
var sizeMb = arguments.Length > 0 ? long.Parse(arguments[0], CultureInfo.InvariantCulture) : 1000;
var dir = arguments.Length > 1 ? arguments[1] : Path.Combine(Path.GetTempPath(), "cube-bench");
Directory.CreateDirectory(dir);
var csv = Path.Combine(dir, $"bench-{sizeMb}mb.csv");

switch (phase)
{
    case "cube-ingest":
        Report(await Timed(async () => (await TableIngest.IngestFileAsync(csv, Path.Combine(dir, "cube.parquet"))).RowCount));
        return;
    case "duckdb-ingest":
        Report(await Timed(() => Task.FromResult(DuckDb($"COPY (SELECT * FROM read_csv('{csv}')) TO '{Path.Combine(dir, "duck.parquet")}' (FORMAT parquet, COMPRESSION zstd)"))));
        return;
    case "cube-read":
        Report(await Timed(async () =>
        {
            using var reader = TableReader.Open(Path.Combine(dir, "cube.parquet"));
            long rows = 0;
            await foreach (var batch in reader.ReadAsync())
                using (batch) rows += batch.Length;
            return rows;
        }));
        return;
    case "duckdb-read":
        // Every column is decoded: count(col) per column cannot be answered from the footer alone.
        Report(await Timed(() => Task.FromResult(DuckDb(
            $"SELECT count(*), count(id), sum(amount), count(category), count(city), max(created_at), count(active), sum(quantity), sum(score) FROM read_parquet('{Path.Combine(dir, "cube.parquet")}')"))));
        return;
}

if (!File.Exists(csv) || Math.Abs(new FileInfo(csv).Length - sizeMb * 1_000_000) > 1_000_000)
{
    Console.WriteLine($"Generating {sizeMb} MB CSV at {csv} ...");
    CsvGenerator.Generate(csv, sizeMb * 1_000_000);
}
var bytes = new FileInfo(csv).Length;
Console.WriteLine($"Input: {bytes / 1e6:F0} MB CSV, {Environment.ProcessorCount} cores");
var cube = RunChild("cube-ingest");
var cubeRows = TableReader.Open(Path.Combine(dir, "cube.parquet")).RowCount;
// COPY reports no row count through ExecuteScalar; both engines read the same rows.
var duck = RunChild("duckdb-ingest") with { Rows = cubeRows };
Console.WriteLine();
Console.WriteLine("CSV -> Parquet (type inference on)");
Print("Cube (ParquetSharp)", cube, bytes);
Print("DuckDB COPY", duck, bytes);
Console.WriteLine($"  throughput ratio Cube/DuckDB: {duck.Seconds / cube.Seconds:F2}x   output: Cube {new FileInfo(Path.Combine(dir, "cube.parquet")).Length / 1e6:F0} MB, DuckDB {new FileInfo(Path.Combine(dir, "duck.parquet")).Length / 1e6:F0} MB, {cubeRows:N0} rows");
var cubeRead = RunChild("cube-read");
var duckRead = RunChild("duckdb-read") with { Rows = cubeRows };
Console.WriteLine();
Console.WriteLine("Parquet -> all columns decoded (Cube: Arrow batches; DuckDB: aggregate scan)");
Print("Cube TableReader", cubeRead, bytes);
Print("DuckDB read_parquet", duckRead, bytes);
Console.WriteLine($"  ratio Cube/DuckDB: {duckRead.Seconds / cubeRead.Seconds:F2}x");

Result RunChild(string name)
{
    var info = new ProcessStartInfo(Environment.ProcessPath!) { RedirectStandardOutput = true };
    info.ArgumentList.Add(sizeMb.ToString(CultureInfo.InvariantCulture));
    info.ArgumentList.Add(dir);
    info.ArgumentList.Add("--phase=" + name);
    var entry = Environment.GetCommandLineArgs()[0];
    // Under the dotnet host the child needs the assembly path; the app host (dotnet run, a published bench) does not.
    if (entry.EndsWith(".dll", StringComparison.Ordinal) && Path.GetFileNameWithoutExtension(Environment.ProcessPath) == "dotnet") info.ArgumentList.Insert(0, entry);
    using var child = Process.Start(info)!;
    var output = child.StandardOutput.ReadToEnd();
    child.WaitForExit();
    var line = output.Split('\n').FirstOrDefault(l => l.StartsWith("RESULT ", StringComparison.Ordinal))
        ?? throw new InvalidOperationException($"{name} failed:\n{output}");
    var parts = line["RESULT ".Length..].Split(' ');
    return new Result(double.Parse(parts[0], CultureInfo.InvariantCulture), long.Parse(parts[1], CultureInfo.InvariantCulture),
        long.Parse(parts[2], CultureInfo.InvariantCulture), long.Parse(parts[3], CultureInfo.InvariantCulture));
}

static void Print(string name, Result r, long bytes) =>
    Console.WriteLine($"  {name,-22} {r.Seconds,7:F2} s  {bytes / 1e6 / r.Seconds,7:F1} MB/s  {r.Rows / r.Seconds / 1e6,6:F2} M rows/s  peak RSS {r.PeakBytes / 1048576,5} MB  managed alloc {r.Allocated / 1048576,6} MB");

static async Task<Result> Timed(Func<Task<long>> work)
{
    var allocated = GC.GetTotalAllocatedBytes();
    var clock = Stopwatch.StartNew();
    var rows = await work();
    var seconds = clock.Elapsed.TotalSeconds;
    using var self = Process.GetCurrentProcess();
    self.Refresh();
    return new Result(seconds, rows, self.PeakWorkingSet64, GC.GetTotalAllocatedBytes() - allocated);
}

static void Report(Result r) =>
    Console.WriteLine(FormattableString.Invariant($"RESULT {r.Seconds} {r.Rows} {r.PeakBytes} {r.Allocated}"));

static long DuckDb(string sql)
{
    using var connection = new DuckDBConnection("Data Source=:memory:");
    connection.Open();
    using var command = connection.CreateCommand();
    command.CommandText = sql;
    var result = command.ExecuteScalar();
    return Convert.ToInt64(result, CultureInfo.InvariantCulture);
}

internal sealed record Result(double Seconds, long Rows, long PeakBytes, long Allocated);
