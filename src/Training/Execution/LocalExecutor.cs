using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Cube.Training.Specs;

namespace Cube.Training.Execution;

/// <summary>
/// Runs a job as processes on this machine with the environment a cluster would give it (<c>RANK</c>,
/// <c>WORLD_SIZE</c>, <c>LOCAL_RANK</c>, <c>MASTER_ADDR</c>, <c>MASTER_PORT</c>, <c>CUBE_*</c>). PyTorch jobs with GPUs
/// or several workers go through <c>torchrun --standalone</c>, one process per GPU (or per worker without GPUs).
/// </summary>
public sealed class LocalExecutor(TimeProvider time) : ITrainingExecutor
{
    public bool Handles(Distribution distribution) => distribution == Distribution.Local;

    /// <summary>The argv the job starts with.</summary>
    public static List<string> CommandLine(JobSpec spec)
    {
        var user = new List<string>(spec.Command);
        user.AddRange(spec.Args);
        user.AddRange(JobEnvironment.HyperparameterArgs(spec));
        if (spec.Framework != Framework.PyTorch || (spec.Resources.Gpus == 0 && spec.Workers == 1)) return user;
        var processes = spec.Resources.Gpus > 0 ? spec.Resources.Gpus : spec.Workers;
        return ["torchrun", "--standalone", "--nnodes=1", $"--nproc-per-node={processes}", .. JobEnvironment.TorchrunScript(user)];
    }

    public async Task<ExecutionResult> ExecuteAsync(JobSpec spec, JobContext context, IJobObserver observer, CancellationToken cancellationToken)
    {
        var argv = CommandLine(spec);
        var start = new ProcessStartInfo(argv[0])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            WorkingDirectory = context.WorkingDirectory ?? Environment.CurrentDirectory,
        };
        foreach (var arg in argv.Skip(1)) start.ArgumentList.Add(arg);
        start.Environment["RANK"] = "0";
        start.Environment["LOCAL_RANK"] = "0";
        start.Environment["NODE_RANK"] = "0";
        start.Environment["WORLD_SIZE"] = "1";
        start.Environment["LOCAL_WORLD_SIZE"] = "1";
        start.Environment["MASTER_ADDR"] = "127.0.0.1";
        start.Environment["MASTER_PORT"] = FreePort().ToString(CultureInfo.InvariantCulture);
        start.Environment["PYTHONUNBUFFERED"] = "1"; // metric lines must arrive while the job runs, not at exit
        foreach (var (key, value) in JobEnvironment.Common(spec, context)) start.Environment[key] = value;

        using var process = new Process { StartInfo = start };
        try
        {
            process.Start();
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            return new ExecutionResult(false, null, $"The command '{argv[0]}' could not be started: {e.Message}");
        }
        process.StandardInput.Close();
        await observer.StatusAsync($"Started process {process.Id}: {string.Join(' ', argv)}", CancellationToken.None);

        using var timeout = spec.TimeoutSeconds is { } seconds ? new CancellationTokenSource(TimeSpan.FromSeconds(seconds), time) : new CancellationTokenSource();
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
        using var gate = new SemaphoreSlim(1, 1);
        var stdout = PumpAsync(process.StandardOutput, "stdout", parseMetrics: true);
        var stderr = PumpAsync(process.StandardError, "stderr", parseMetrics: false);
        try
        {
            await process.WaitForExitAsync(linked.Token);
        }
        catch (OperationCanceledException)
        {
            // The whole tree: torchrun's children and anything a shell script started must not outlive the job.
            Kill(process);
            await process.WaitForExitAsync(CancellationToken.None);
            await Task.WhenAll(stdout, stderr);
            if (cancellationToken.IsCancellationRequested) throw new OperationCanceledException("The job was cancelled.", cancellationToken);
            return new ExecutionResult(false, process.ExitCode, $"The job ran past its timeout of {spec.TimeoutSeconds} s and was stopped.");
        }
        await Task.WhenAll(stdout, stderr);
        var code = process.ExitCode;
        return code == 0 ? new ExecutionResult(true, 0, null) : new ExecutionResult(false, code, $"The process exited with code {code}.");

        async Task PumpAsync(StreamReader reader, string source, bool parseMetrics)
        {
            while (await reader.ReadLineAsync(CancellationToken.None) is { } line)
            {
                await gate.WaitAsync(CancellationToken.None);
                try
                {
                    if (parseMetrics && MetricLine.TryParse(line, out var samples))
                        foreach (var sample in samples) await observer.MetricAsync(sample, CancellationToken.None);
                    await observer.LogAsync(source, line, CancellationToken.None);
                }
                finally
                {
                    gate.Release();
                }
            }
        }
    }

    private static void Kill(Process process)
    {
        try
        {
            process.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException)
        {
            // It exited between the cancellation and the kill.
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
