using System.Diagnostics;
using System.Globalization;
using Cube.Training.Execution;
using Cube.Training.Specs;

namespace Cube.Training.Bench;

/// <summary>
/// The GPU figure: the same PyTorch DDP script (<c>ddp_bench.py</c>, one process per GPU) launched by hand with
/// <c>torchrun</c> and as a Cube job through the local executor, which builds the torchrun command itself and parses the
/// script's metric line. Reports samples/s of each, best of the given repetitions, and the ratio (goal ≥ 95 %).
/// Needs python3 with torch and at least one CUDA GPU; otherwise it says why and exits 0.
/// </summary>
public static class DdpBench
{
    public static async Task RunAsync(string[] args)
    {
        var repetitions = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 3;
        var scriptArgs = args.Skip(2).ToArray();
        var probe = await ExecAsync(["python3", "-c", "import torch; print(torch.__version__, torch.cuda.device_count())"]);
        if (probe.ExitCode != 0)
        {
            Console.WriteLine($"ddp: skipped, python3 with torch is not available ({probe.Output.Trim().Split('\n').LastOrDefault()})");
            return;
        }
        var parts = probe.Output.Trim().Split(' ');
        var gpus = int.Parse(parts[^1], CultureInfo.InvariantCulture);
        if (gpus == 0)
        {
            Console.WriteLine($"ddp: skipped, torch {parts[0]} sees no CUDA GPU");
            return;
        }
        var script = Path.Combine(AppContext.BaseDirectory, "ddp_bench.py");
        Console.WriteLine($"ddp: torch {parts[0]}, {gpus} GPU(s), {repetitions} repetitions each, script args: {string.Join(' ', scriptArgs)}");

        var executor = new LocalExecutor(TimeProvider.System);
        var work = Directory.CreateTempSubdirectory("cube-ddp-bench-").FullName;
        var byHand = new List<double>();
        var throughExecutor = new List<double>();
        try
        {
            for (var i = 0; i < repetitions; i++)
            {
                // Alternating, so drift in clocks or temperature affects both sides alike.
                var hand = await ExecAsync(["torchrun", "--standalone", "--nnodes=1", $"--nproc-per-node={gpus}", script, .. scriptArgs]);
                if (hand.ExitCode != 0) throw new InvalidOperationException($"torchrun by hand failed:\n{hand.Output}");
                byHand.Add(Rate(hand.Output));

                var spec = new JobSpec
                {
                    Name = "ddp-bench", Framework = Framework.PyTorch, Command = ["python3", script], Args = [.. scriptArgs],
                    Resources = new Resources { Gpus = gpus },
                };
                var observer = new RateObserver();
                var context = new JobContext(Guid.NewGuid(), Guid.NewGuid(), Guid.NewGuid()) { WorkingDirectory = work, OutputDirectory = work };
                var result = await executor.ExecuteAsync(spec, context, observer, CancellationToken.None);
                if (!result.Succeeded || observer.Rate is null) throw new InvalidOperationException($"The job failed: {result.Error}\n{observer.Log}");
                throughExecutor.Add(observer.Rate.Value);
                Console.WriteLine($"  run {i + 1}: by hand {byHand[^1]:N0} samples/s, through the executor {throughExecutor[^1]:N0} samples/s");
            }
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
        Console.WriteLine($"ddp throughput (best of {repetitions}): by hand {byHand.Max():N0} samples/s, Cube local executor {throughExecutor.Max():N0} samples/s, "
            + $"ratio {throughExecutor.Max() / byHand.Max():P1} (goal >= 95 %)");
    }

    private static double Rate(string output)
    {
        foreach (var line in output.Split('\n'))
            if (MetricLine.TryParse(line.Trim(), out var samples) && samples.FirstOrDefault(s => s.Name == "samples_per_second") is { } rate)
                return rate.Value;
        throw new InvalidOperationException($"No samples_per_second metric in:\n{output}");
    }

    private static async Task<(int ExitCode, string Output)> ExecAsync(string[] argv)
    {
        var start = new ProcessStartInfo(argv[0]) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in argv.Skip(1)) start.ArgumentList.Add(a);
        start.Environment["PYTHONUNBUFFERED"] = "1";
        try
        {
            using var process = Process.Start(start)!;
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();
            await process.WaitForExitAsync();
            return (process.ExitCode, await stdout + await stderr);
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            return (-1, $"{argv[0]}: {e.Message}");
        }
    }

    private sealed class RateObserver : IJobObserver
    {
        private readonly System.Text.StringBuilder _log = new();
        public double? Rate { get; private set; }
        public string Log => _log.ToString();

        public ValueTask LogAsync(string source, string line, CancellationToken cancellationToken)
        {
            if (_log.Length < 20_000) _log.AppendLine(line);
            return ValueTask.CompletedTask;
        }

        public ValueTask MetricAsync(MetricSample sample, CancellationToken cancellationToken)
        {
            if (sample.Name == "samples_per_second") Rate = sample.Value;
            return ValueTask.CompletedTask;
        }

        public ValueTask StatusAsync(string message, CancellationToken cancellationToken) => ValueTask.CompletedTask;
    }
}
