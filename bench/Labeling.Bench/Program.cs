// Next-task + submit throughput and latency with many simulated annotators, on SQLite or PostgreSQL, through the
// labeling services (no HTTP), followed by a check of the distribution guarantees read back from the database.
//   dotnet run -c Release --project bench/Labeling.Bench -- [sqlite|postgres] [tasks] [annotators] [seconds] [overlap]
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
const double GoalP99Ms = 50;

string connection;
string? scratch = null;
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
    connection = new NpgsqlConnectionStringBuilder(adminConnection) { Database = scratch, MaxPoolSize = 100 }.ConnectionString;
}
else
{
    var file = Path.Combine(Path.GetTempPath(), $"cube-labeling-bench-{Guid.NewGuid():N}.db");
    connection = $"Data Source={file};Pooling=True";
}

LabelingDbContext NewContext()
{
    if (provider == "postgres")
        return new PostgresLabelingDbContext(new DbContextOptionsBuilder<PostgresLabelingDbContext>()
            .UseNpgsql(connection, o => o.MigrationsHistoryTable("__migrations_labeling")).Options);
    return new SqliteLabelingDbContext(new DbContextOptionsBuilder<SqliteLabelingDbContext>()
        .UseSqlite(connection, o => o.MigrationsHistoryTable("__migrations_labeling")).Options);
}

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
        var projects = new LabelingProjects(db, null!, null!, null!, time, gate);
        foreach (var chunk in Enumerable.Range(0, taskCount).Chunk(20_000))
            await projects.AddTasksAsync(project, chunk.Select(i => new NewTask(JsonSerializer.SerializeToElement(new { text = $"review {i}" }))).ToList(), default);
    }
    Console.WriteLine($"{provider}: seeded {taskCount:N0} tasks (k={overlap}) in {seed.Elapsed.TotalSeconds:F1} s; {annotators} annotators for {seconds} s");

    var result = JsonSerializer.SerializeToElement(new { labels = new[] { "positive" } });
    var nextMs = new ConcurrentBag<double>();
    var submitMs = new ConcurrentBag<double>();
    var errors = 0;
    using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(seconds));
    var clock = Stopwatch.StartNew();
    var workers = Enumerable.Range(0, annotators).Select(_ => Task.Run(async () =>
    {
        var me = Guid.NewGuid();
        while (!stop.IsCancellationRequested)
        {
            try
            {
                var started = Stopwatch.GetTimestamp();
                Lease? lease;
                await using (var db = NewContext())
                    lease = await new Distributor(db, time, new History(db, time), gate).NextAsync(project, me, default);
                nextMs.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
                if (lease is null) return;
                started = Stopwatch.GetTimestamp();
                await using (var db = NewContext())
                    await new AnnotationService(db, new History(db, time), time, gate, outbox).SaveAsync(project, lease.Task.Id, me, new AnnotationInput(result, false, 1000), null, default);
                submitMs.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                if (Interlocked.Increment(ref errors) <= 3) Console.WriteLine($"  error: {e.GetType().Name}: {e.Message}");
            }
        }
    })).ToList();
    await Task.WhenAll(workers);
    var elapsed = clock.Elapsed.TotalSeconds;

    static double Percentile(ConcurrentBag<double> values, double p)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length == 0 ? double.NaN : sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(p * sorted.Length) - 1)];
    }

    Console.WriteLine($"  next:   {nextMs.Count,8:N0} calls  p50 {Percentile(nextMs, 0.50),7:F2} ms  p99 {Percentile(nextMs, 0.99),7:F2} ms  (goal p99 < {GoalP99Ms} ms: ratio {Percentile(nextMs, 0.99) / GoalP99Ms:F2})");
    Console.WriteLine($"  submit: {submitMs.Count,8:N0} calls  p50 {Percentile(submitMs, 0.50),7:F2} ms  p99 {Percentile(submitMs, 0.99),7:F2} ms");
    Console.WriteLine($"  throughput: {submitMs.Count / elapsed:F0} next+submit pairs/s over {elapsed:F1} s; errors {errors}");

    // Guarantees, read back from the database.
    await using (var db = NewContext())
    {
        var overfull = await db.Tasks.CountAsync(t => t.LabelingProjectId == project.Id && (t.Completed > overlap || t.Reserved > t.Required));
        var counted = await db.Annotations.CountAsync(a => a.LabelingProjectId == project.Id && a.Status == AnnotationStatus.Submitted);
        var completedSum = await db.Tasks.Where(t => t.LabelingProjectId == project.Id).SumAsync(t => (long)t.Completed);
        var repeats = await db.Assignments.Where(a => a.LabelingProjectId == project.Id).GroupBy(a => new { a.TaskId, a.AnnotatorId }).CountAsync(g => g.Count() > 1);
        var doubleLeases = await db.Assignments.Where(a => a.LabelingProjectId == project.Id && a.Status == AssignmentStatus.Active).GroupBy(a => a.AnnotatorId).CountAsync(g => g.Count() > 1);
        Console.WriteLine($"  violations: tasks over k {overfull}, repeated (task, annotator) {repeats}, annotators with two live leases {doubleLeases}, completed counters vs annotations {completedSum - counted}");
        if (overfull + repeats + doubleLeases != 0 || completedSum != counted) Environment.ExitCode = 1;
    }
}
finally
{
    if (scratch is not null)
    {
        NpgsqlConnection.ClearAllPools();
        await using var admin = new NpgsqlConnection(adminConnection);
        await admin.OpenAsync();
        await using var drop = new NpgsqlCommand($"DROP DATABASE IF EXISTS {scratch} WITH (FORCE)", admin);
        await drop.ExecuteNonQueryAsync();
    }
}
