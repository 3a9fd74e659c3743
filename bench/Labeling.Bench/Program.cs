// Next-task + submit throughput and latency with many simulated annotators, on SQLite or PostgreSQL, through the
// labeling services (no HTTP), followed by a check of the distribution guarantees read back from the database.
// Two phases: saturated (each annotator asks for the next task as soon as it submitted: the maximum throughput, where
// latency is mostly queueing), then paced (each annotator thinks a random 0.5–1.5 × think-ms between a submit and
// the next task, like a person labelling: the latency annotators would see at that offered load).
//   dotnet run -c Release --project bench/Labeling.Bench -- [sqlite|postgres] [tasks] [annotators] [seconds] [overlap]
//       [--think-ms 2000] (0: saturated only) [--done 0.5] (share of tasks already finished, as part-way through a project)
//       [--sql] (print the SQL of one next + submit first)
//   dotnet run -c Release --project bench/Labeling.Bench -- consensus [answers]   (majority vote and Dawid–Skene timing)
// PostgreSQL uses CUBE_TEST_POSTGRES (a server connection string) and creates a scratch database.
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Cube.Core.Data;
using Cube.Core.Webhooks;
using Cube.Labeling.Annotations;
using Cube.Labeling.Configs;
using Cube.Labeling.Data;
using Cube.Labeling.Distribution;
using Cube.Labeling.Projects;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Npgsql;

var provider = args.Length > 0 ? args[0] : "sqlite";
if (provider == "consensus")
{
    ConsensusBench.Run(args);
    return;
}
var taskCount = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 100_000;
var annotators = args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 200;
var seconds = args.Length > 3 ? int.Parse(args[3], CultureInfo.InvariantCulture) : 15;
var overlap = args.Length > 4 ? int.Parse(args[4], CultureInfo.InvariantCulture) : 3;
var thinkAt = Array.IndexOf(args, "--think-ms");
var thinkMs = thinkAt >= 0 ? int.Parse(args[thinkAt + 1], CultureInfo.InvariantCulture) : 2000;
var doneAt = Array.IndexOf(args, "--done");
var done = doneAt >= 0 ? (int)(taskCount * double.Parse(args[doneAt + 1], CultureInfo.InvariantCulture)) : 0;
var logSql = args.Contains("--sql");
const double GoalP99Ms = 50;

string connection;
string? scratch = null;
string? scratchFile = null;
string? adminConnection = null;
if (provider == "postgres")
{
    adminConnection = Environment.GetEnvironmentVariable("CUBE_TEST_POSTGRES") ?? "Host=127.0.0.1;Port=5432;Username=postgres;Password=postgres;Database=postgres";
    scratch = "cube_labeling_bench_" + Guid.NewGuid().ToString("N")[..8];
    await using (var admin = new NpgsqlConnection(adminConnection))
    {
        await admin.OpenAsync();
        await using var create = new NpgsqlCommand($"CREATE DATABASE {scratch}", admin);
        await create.ExecuteNonQueryAsync();
    }
    // A few connections per core: hundreds of PostgreSQL backends on a small machine spend their time switching and
    // contending, and the server's default limit (100) leaves no room for anyone else. Annotators queue for a
    // connection instead, which the latency figures include.
    // With the session and statement reuse the server applies to module databases (ModuleDatabase.WithStatementReuse).
    connection = Cube.Core.Data.ModuleDatabase.WithStatementReuse(new NpgsqlConnectionStringBuilder(adminConnection) { Database = scratch, MaxPoolSize = 8 * Environment.ProcessorCount, Timeout = 60 }.ConnectionString);
}
else
{
    var file = Path.Combine(Path.GetTempPath(), $"cube-labeling-bench-{Guid.NewGuid():N}.db");
    // The server's SQLite settings (foreign keys enforced, writers waiting for the lock).
    connection = Cube.Core.Data.DatabaseOptions.WithSqliteSettings($"Data Source={file}");
    scratchFile = file;
}

// Pooled contexts, as the server registers them (ModuleDatabase); the logged ones for --sql are built apart.
var pooledPostgres = new Lazy<PooledDbContextFactory<PostgresLabelingDbContext>>(() => new(PostgresOptions(log: false)));
var pooledSqlite = new Lazy<PooledDbContextFactory<SqliteLabelingDbContext>>(() => new(SqliteOptions(log: false)));

LabelingDbContext NewContext(bool log = false)
{
    if (provider == "postgres") return log ? new PostgresLabelingDbContext(PostgresOptions(log)) : pooledPostgres.Value.CreateDbContext();
    return log ? new SqliteLabelingDbContext(SqliteOptions(log)) : pooledSqlite.Value.CreateDbContext();
}

static DbContextOptionsBuilder<T> Logged<T>(DbContextOptionsBuilder<T> options, bool log) where T : DbContext =>
    log ? options.LogTo(Console.WriteLine, [RelationalEventId.CommandExecuted]).EnableSensitiveDataLogging() : options;

DbContextOptions<PostgresLabelingDbContext> PostgresOptions(bool log) => Logged(new DbContextOptionsBuilder<PostgresLabelingDbContext>(), log)
    .UseNpgsql(connection, o => o.MigrationsHistoryTable("__migrations_labeling")).Options;

DbContextOptions<SqliteLabelingDbContext> SqliteOptions(bool log) => Logged(new DbContextOptionsBuilder<SqliteLabelingDbContext>(), log)
    .UseSqlite(connection, o => o.MigrationsHistoryTable("__migrations_labeling")).Options;

CoreDbContext NewCoreContext()
{
    if (provider == "postgres")
        return new PostgresCoreDbContext(new DbContextOptionsBuilder<PostgresCoreDbContext>()
            .UseNpgsql(connection, o => o.MigrationsHistoryTable("__migrations_core")).Options);
    return new SqliteCoreDbContext(new DbContextOptionsBuilder<SqliteCoreDbContext>()
        .UseSqlite(connection, o => o.MigrationsHistoryTable("__migrations_core")).Options);
}

var time = TimeProvider.System;
using var gate = new WriteGate();
var reclaims = new ReclaimSchedule();
var outbox = new WebhookOutbox(new WebhookSignal(), time);
try
{
    // Core's tables too: a submit writes its webhook event into Core's outbox in the same transaction.
    await using (var core = NewCoreContext()) await core.Database.MigrateAsync();
    await using (var db = NewContext())
    {
        await db.Database.MigrateAsync();
        if (provider != "postgres") await db.Database.ExecuteSqlRawAsync("PRAGMA journal_mode=WAL;");
    }
    var config = new LabelConfig(LabelingKind.TextClassification, [new("positive"), new("negative")]);
    var project = new LabelingProject
    {
        ProjectId = Guid.NewGuid(), Name = "bench", ConfigJson = LabelingProjects.Serialize(config), Overlap = overlap,
        Ordering = TaskOrdering.Sequential, LeaseSeconds = 600, CreatedAt = time.GetUtcNow(),
    };
    var seed = Stopwatch.StartNew();
    await using (var db = NewContext())
    {
        db.Projects.Add(project);
        await db.SaveChangesAsync();
        await TaskSeeder.SeedAsync(db, project, taskCount, done);
    }
    Console.WriteLine($"{provider}: seeded {taskCount:N0} tasks (k={overlap}, {done:N0} already finished) in {seed.Elapsed.TotalSeconds:F1} s; {annotators} annotators, {seconds} s per phase");

    var result = JsonSerializer.SerializeToElement(new { labels = new[] { "positive" } });
    async Task<Lease?> NextAsync(Guid annotator, bool log = false)
    {
        await using var db = NewContext(log);
        return await new Distributor(db, time, new History(db, time), gate, reclaims).NextAsync(project, annotator, default);
    }
    async Task SubmitAsync(Guid annotator, Lease lease, bool log = false)
    {
        await using var db = NewContext(log);
        await new AnnotationService(db, new History(db, time), time, gate, outbox).SaveAsync(project, lease.Task.Id, annotator, new AnnotationInput(result, false, 1000), null, default);
    }

    if (logSql)
    {
        var me = Guid.NewGuid();
        // Warmed up first, so the timings show the steady state rather than query compilation.
        for (var i = 0; i < 50 && await NextAsync(me) is { } warm; i++) await SubmitAsync(me, warm);
        Console.WriteLine("--- next");
        var lease = await NextAsync(me, log: true);
        Console.WriteLine("--- submit");
        if (lease is not null) await SubmitAsync(me, lease, log: true);
        Console.WriteLine("---");
    }

    // Unmeasured, so the figures show the steady state rather than JIT compilation and tier-0 code, which made the
    // first phase's CPU per pair three to four times the second's.
    await RunAsync(null, TimeSpan.Zero, 16, 8);
    await RunAsync("saturated", TimeSpan.Zero, annotators, seconds);
    if (thinkMs > 0) await RunAsync($"think {thinkMs} ms", TimeSpan.FromMilliseconds(thinkMs), annotators, seconds);

    async Task RunAsync(string? phase, TimeSpan think, int annotators, int seconds)
    {
        var nextMs = new ConcurrentBag<double>();
        var submitMs = new ConcurrentBag<double>();
        var errors = 0;
        var loadBefore = LoadAverage();
        var cpuBefore = Process.GetCurrentProcess().TotalProcessorTime;
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(seconds));
        var clock = Stopwatch.StartNew();
        var workers = Enumerable.Range(0, annotators).Select(_ => Task.Run(async () =>
        {
            var me = Guid.NewGuid();
            // Paced annotators start spread over one think time, as people do, not all in the same millisecond.
            if (think > TimeSpan.Zero) await Delay(think * Random.Shared.NextDouble(), stop.Token);
            while (!stop.IsCancellationRequested)
            {
                try
                {
                    var started = Stopwatch.GetTimestamp();
                    var lease = await NextAsync(me);
                    nextMs.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
                    if (lease is null) return;
                    started = Stopwatch.GetTimestamp();
                    await SubmitAsync(me, lease);
                    submitMs.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
                }
                catch (Exception e) when (e is not OutOfMemoryException)
                {
                    if (Interlocked.Increment(ref errors) <= 3) Console.WriteLine($"  error: {e.GetType().Name}: {e.Message}");
                }
                if (think > TimeSpan.Zero) await Delay(think * (0.5 + Random.Shared.NextDouble()), stop.Token);
            }
        })).ToList();
        await Task.WhenAll(workers);
        var elapsed = clock.Elapsed.TotalSeconds;
        var cpu = Process.GetCurrentProcess().TotalProcessorTime - cpuBefore;
        if (phase is null) return;
        Console.WriteLine($" {phase}: (1-minute load average {loadBefore} before, {LoadAverage()} after; the machine may be shared)");
        Console.WriteLine($"  next:   {nextMs.Count,8:N0} calls  p50 {Percentile(nextMs, 0.50),7:F2} ms  p99 {Percentile(nextMs, 0.99),7:F2} ms  (goal p99 < {GoalP99Ms} ms: ratio {Percentile(nextMs, 0.99) / GoalP99Ms:F2})");
        Console.WriteLine($"  submit: {submitMs.Count,8:N0} calls  p50 {Percentile(submitMs, 0.50),7:F2} ms  p99 {Percentile(submitMs, 0.99),7:F2} ms");
        Console.WriteLine($"  throughput: {submitMs.Count / elapsed:F0} next+submit pairs/s over {elapsed:F1} s; errors {errors}; " +
            $"this process's CPU {cpu.TotalMilliseconds / Math.Max(1, submitMs.Count):F2} ms per pair (the figure a shared machine distorts least)");
    }

    static string LoadAverage() => File.Exists("/proc/loadavg") ? File.ReadAllText("/proc/loadavg").Split(' ')[0] : "?";

    static async Task Delay(TimeSpan delay, CancellationToken stop)
    {
        try
        {
            await Task.Delay(delay, stop);
        }
        catch (OperationCanceledException)
        {
            // The phase ended while this annotator was thinking.
        }
    }

    static double Percentile(ConcurrentBag<double> values, double p)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length == 0 ? double.NaN : sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(p * sorted.Length) - 1)];
    }

    // Guarantees, read back from the database.
    await using (var db = NewContext())
    {
        var overfull = await db.Tasks.CountAsync(t => t.LabelingProjectId == project.Id && (t.Completed > overlap || t.Reserved > t.Required));
        var counted = await db.Annotations.CountAsync(a => a.LabelingProjectId == project.Id && a.Status == AnnotationStatus.Submitted);
        var completedSum = await db.Tasks.Where(t => t.LabelingProjectId == project.Id).SumAsync(t => (long)t.Completed);
        var repeats = await db.Assignments.Where(a => a.LabelingProjectId == project.Id).GroupBy(a => new { a.TaskId, a.AnnotatorId }).CountAsync(g => g.Count() > 1);
        var doubleLeases = await db.Assignments.Where(a => a.LabelingProjectId == project.Id && a.Status == AssignmentStatus.Active).GroupBy(a => a.AnnotatorId).CountAsync(g => g.Count() > 1);
        // Tasks seeded as finished have their completions counted without annotation rows.
        var uncounted = completedSum - counted - (long)done * overlap;
        Console.WriteLine($"  violations: tasks over k {overfull}, repeated (task, annotator) {repeats}, annotators with two live leases {doubleLeases}, completed counters vs annotations {uncounted}");
        if (overfull + repeats + doubleLeases != 0 || uncounted != 0) Environment.ExitCode = 1;
    }
}
finally
{
    if (scratchFile is not null)
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        foreach (var suffix in new[] { "", "-wal", "-shm" }) File.Delete(scratchFile + suffix);
    }
    if (scratch is not null)
    {
        NpgsqlConnection.ClearAllPools();
        await using var admin = new NpgsqlConnection(adminConnection);
        await admin.OpenAsync();
        await using var drop = new NpgsqlCommand($"DROP DATABASE IF EXISTS {scratch} WITH (FORCE)", admin);
        await drop.ExecuteNonQueryAsync();
    }
}
