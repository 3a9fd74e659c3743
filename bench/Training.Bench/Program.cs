using System.Diagnostics;
using System.Globalization;
using Cube.Training.Execution;
using Cube.Training.Kubernetes;
using Cube.Training.Specs;

// Figures for the Training module, each against a hand-written reference doing the same work:
//  1. local executor overhead, submit to process start and to exit, against Process.Start by hand;
//  2. stdout metric ingestion through the executor (parse + observer), against reading the same lines by hand;
//  3. manifest rendering throughput for the three cluster distributions.
// `mlnet [rows]` instead measures ML.NET training throughput on a synthetic table (default 1,000,000 rows).
// `ddp [repetitions] [script args]` runs a PyTorch DDP script on every local GPU by hand and through the local executor.
if (args.Length > 0 && args[0] == "ddp")
{
    await Cube.Training.Bench.DdpBench.RunAsync(args);
    return;
}
if (args.Length > 0 && args[0] == "mlnet")
{
    await Cube.Training.Bench.MlNetBench.RunAsync(args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 1_000_000);
    return;
}
var iterations = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 100;
var metricLines = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 200_000;
var work = Directory.CreateTempSubdirectory("cube-training-bench-").FullName;
try
{
    var executor = new LocalExecutor(TimeProvider.System);
    var context = new JobContext(Guid.NewGuid(), Guid.NewGuid(), Guid.NewGuid()) { WorkingDirectory = work, OutputDirectory = work };
    var echo = new JobSpec { Name = "bench", Command = ["/bin/sh", "-c", "echo started"] };

    // Warm-up of both paths.
    for (var i = 0; i < 5; i++)
    {
        await executor.ExecuteAsync(echo, context, new FirstLine(), CancellationToken.None);
        await ByHandAsync(["/bin/sh", "-c", "echo started"]);
    }

    var executorStart = new List<double>();
    var executorTotal = new List<double>();
    var handStart = new List<double>();
    var handTotal = new List<double>();
    for (var i = 0; i < iterations; i++)
    {
        var observer = new FirstLine();
        var watch = Stopwatch.StartNew();
        await executor.ExecuteAsync(echo, context, observer, CancellationToken.None);
        executorTotal.Add(watch.Elapsed.TotalMilliseconds);
        executorStart.Add(observer.FirstAt!.Value.TotalMilliseconds);
        var (first, total) = await ByHandAsync(["/bin/sh", "-c", "echo started"]);
        handStart.Add(first);
        handTotal.Add(total);
    }
    Console.WriteLine($"local executor, {iterations} runs of `sh -c 'echo started'` (median ms):");
    Console.WriteLine($"  submit -> first output line: executor {Median(executorStart):F2}  by hand {Median(handStart):F2}  ratio {Median(executorStart) / Median(handStart):F2}x");
    Console.WriteLine($"  submit -> exit collected:    executor {Median(executorTotal):F2}  by hand {Median(handTotal):F2}  ratio {Median(executorTotal) / Median(handTotal):F2}x");

    var printer = Path.Combine(work, "metrics.txt");
    await File.WriteAllLinesAsync(printer, Enumerable.Range(0, metricLines).Select(i => $"metric loss=0.{i} accuracy=0.5 step={i}"));
    var catSpec = new JobSpec { Name = "bench", Command = ["cat", printer] };
    var counter = new Counting();
    var sw = Stopwatch.StartNew();
    await executor.ExecuteAsync(catSpec, context, counter, CancellationToken.None);
    var executorSeconds = sw.Elapsed.TotalSeconds;
    var (_, handMs) = await ByHandAsync(["cat", printer]);
    var handSeconds = handMs / 1000;
    Console.WriteLine($"metric ingestion, {metricLines:N0} stdout lines with 2 metrics each, printed by `cat`:");
    Console.WriteLine($"  executor (parse + observer): {metricLines / executorSeconds:N0} lines/s, {counter.Metrics:N0} samples");
    Console.WriteLine($"  by hand (read lines only):   {metricLines / handSeconds:N0} lines/s  ratio {handSeconds / executorSeconds:F2}x of reference speed");

    var specs = new[] { Distribution.PyTorchJob, Distribution.Volcano, Distribution.IndexedJob }.Select(d => new JobSpec
    {
        Name = "render",
        Distribution = d,
        Framework = Framework.PyTorch,
        Image = "pytorch/pytorch:2.5.1",
        Command = ["python", "train.py"],
        Workers = 8,
        Resources = new Resources { Gpus = 8, Cpu = "32", Memory = "256Gi", SharedMemory = "32Gi" },
    }).ToArray();
    var renders = 30_000;
    sw.Restart();
    long bytes = 0;
    for (var i = 0; i < renders; i++)
        foreach (var obj in ManifestRenderer.Render(specs[i % 3], context, "default").Objects) bytes += obj.Body.ToJsonString().Length;
    Console.WriteLine($"manifest rendering: {renders / sw.Elapsed.TotalSeconds:N0} jobs/s rendered and serialised ({bytes / renders:N0} bytes per job)");
}
finally
{
    Directory.Delete(work, recursive: true);
}

static double Median(List<double> values)
{
    var sorted = values.Order().ToList();
    return sorted[sorted.Count / 2];
}

static async Task<(double FirstLineMs, double TotalMs)> ByHandAsync(string[] argv)
{
    var watch = Stopwatch.StartNew();
    var start = new ProcessStartInfo(argv[0]) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
    foreach (var a in argv.Skip(1)) start.ArgumentList.Add(a);
    using var process = Process.Start(start)!;
    double first = -1;
    var stderr = process.StandardError.ReadToEndAsync();
    while (await process.StandardOutput.ReadLineAsync() is { } _)
        if (first < 0) first = watch.Elapsed.TotalMilliseconds;
    await process.WaitForExitAsync();
    await stderr;
    return (first, watch.Elapsed.TotalMilliseconds);
}

internal sealed class FirstLine : IJobObserver
{
    private readonly Stopwatch _watch = Stopwatch.StartNew();
    public TimeSpan? FirstAt { get; private set; }

    public ValueTask LogAsync(string source, string line, CancellationToken cancellationToken)
    {
        FirstAt ??= _watch.Elapsed;
        return ValueTask.CompletedTask;
    }

    public ValueTask MetricAsync(MetricSample sample, CancellationToken cancellationToken) => ValueTask.CompletedTask;
    public ValueTask StatusAsync(string message, CancellationToken cancellationToken) => ValueTask.CompletedTask;
}

internal sealed class Counting : IJobObserver
{
    public long Lines { get; private set; }
    public long Metrics { get; private set; }

    public ValueTask LogAsync(string source, string line, CancellationToken cancellationToken)
    {
        Lines++;
        return ValueTask.CompletedTask;
    }

    public ValueTask MetricAsync(MetricSample sample, CancellationToken cancellationToken)
    {
        Metrics++;
        return ValueTask.CompletedTask;
    }

    public ValueTask StatusAsync(string message, CancellationToken cancellationToken) => ValueTask.CompletedTask;
}
