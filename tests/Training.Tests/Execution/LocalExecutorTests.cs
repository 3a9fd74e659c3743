using System.Diagnostics;
using Cube.Training.Execution;
using Cube.Training.Specs;

namespace Cube.Training.Tests.Execution;

public sealed class LocalExecutorTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("cube-local-exec-").FullName;
    private readonly LocalExecutor _executor = new(TimeProvider.System);

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private JobContext Context() => new(Guid.CreateVersion7(), Guid.CreateVersion7(), Guid.CreateVersion7())
    {
        WorkingDirectory = _dir,
        OutputDirectory = Path.Combine(_dir, "outputs"),
        Inputs = [new ResolvedInput("TRAIN", "train", 2, Guid.CreateVersion7(), Path.Combine(_dir, "inputs", "train"))],
    };

    private static JobSpec Shell(string script, int? timeout = null) => new()
    {
        Name = "local",
        Command = ["/bin/sh", "-c", script, "job"],
        Hyperparameters = new Dictionary<string, string> { ["lr"] = "0.5" },
        Env = new Dictionary<string, string> { ["GREETING"] = "hello" },
        TimeoutSeconds = timeout,
    };

    [Fact]
    public async Task Execute_StreamsLogsParsesMetricsAndGivesTheEnvironment_WhenTheProcessSucceeds()
    {
        var observer = new RecordingObserver();
        var context = Context();
        var spec = Shell("""
            echo "rank=$RANK world=$WORLD_SIZE local=$LOCAL_RANK master=$MASTER_ADDR:$MASTER_PORT"
            echo "job=$CUBE_JOB_ID input=$CUBE_INPUT_TRAIN out=$CUBE_OUTPUT_DIR hp=$CUBE_HP_LR greeting=$GREETING args=$*"
            for i in 1 2 3; do echo "metric loss=0.$((10 - i)) accuracy=0.$((5 + i)) step=$i"; done
            echo "a warning" >&2
            """);
        var result = await _executor.ExecuteAsync(spec, context, observer, TestContext.Current.CancellationToken);

        Assert.True(result.Succeeded, result.Error);
        Assert.Equal(0, result.ExitCode);
        var stdout = observer.Logs.Where(l => l.Source == "stdout").Select(l => l.Line).ToList();
        Assert.StartsWith("rank=0 world=1 local=0 master=127.0.0.1:", stdout[0]);
        Assert.Equal($"job={context.JobId} input={Path.Combine(_dir, "inputs", "train")} out={context.OutputDirectory} hp=0.5 greeting=hello args=--lr=0.5", stdout[1]);
        Assert.Contains(("stderr", "a warning"), observer.Logs);
        Assert.Equal(6, observer.Metrics.Count);
        Assert.Equal([0.9, 0.8, 0.7], observer.Metrics.Where(m => m.Name == "loss").Select(m => m.Value));
        Assert.Equal([1L, 2L, 3L], observer.Metrics.Where(m => m.Name == "accuracy").Select(m => m.Step));
        Assert.False(observer.Overlapped);
    }

    [Fact]
    public async Task Execute_ReportsTheExitCode_WhenTheProcessFails()
    {
        var result = await _executor.ExecuteAsync(Shell("echo boom; exit 3"), Context(), new RecordingObserver(), TestContext.Current.CancellationToken);
        Assert.False(result.Succeeded);
        Assert.Equal(3, result.ExitCode);
        Assert.Contains("code 3", result.Error);
    }

    [Fact]
    public async Task Execute_FailsClearly_WhenTheCommandDoesNotExist()
    {
        var spec = Shell("") with { Command = ["/no/such/program"] };
        var result = await _executor.ExecuteAsync(spec, Context(), new RecordingObserver(), TestContext.Current.CancellationToken);
        Assert.False(result.Succeeded);
        Assert.Contains("/no/such/program", result.Error);
    }

    [Fact]
    public async Task Execute_KillsTheWholeProcessTree_WhenCancelled()
    {
        var observer = new RecordingObserver();
        var pidFile = Path.Combine(_dir, "child.pid");
        // The shell starts a grandchild that would outlive a kill of the shell alone.
        var spec = Shell($"sleep 300 & echo $! > {pidFile}; echo started; wait");
        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        var run = _executor.ExecuteAsync(spec, Context(), observer, cancel.Token);
        await observer.WaitForAsync(l => l == "started");
        var child = int.Parse(File.ReadAllText(pidFile).Trim(), System.Globalization.CultureInfo.InvariantCulture);
        Assert.True(IsAlive(child));
        await cancel.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => run);
        for (var i = 0; i < 50 && IsAlive(child); i++) await Task.Delay(100, TestContext.Current.CancellationToken);
        Assert.False(IsAlive(child), "the grandchild process survived the cancellation");
    }

    [Fact]
    public async Task Execute_StopsAndFails_WhenTheTimeoutPasses()
    {
        var watch = Stopwatch.StartNew();
        var result = await _executor.ExecuteAsync(Shell("sleep 30", timeout: 1), Context(), new RecordingObserver(), TestContext.Current.CancellationToken);
        Assert.False(result.Succeeded);
        Assert.Contains("timeout of 1 s", result.Error);
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(20));
    }

    [Fact]
    public void CommandLine_UsesTorchrunWithOneProcessPerGpu_ForPyTorch()
    {
        var spec = new JobSpec { Name = "ddp", Framework = Framework.PyTorch, Command = ["python", "train.py"], Resources = new Resources { Gpus = 4 } };
        Assert.Equal(["torchrun", "--standalone", "--nnodes=1", "--nproc-per-node=4", "train.py"], LocalExecutor.CommandLine(spec));
        Assert.Equal(["python", "train.py"], LocalExecutor.CommandLine(spec with { Resources = new Resources() }));
        Assert.Equal(["torchrun", "--standalone", "--nnodes=1", "--nproc-per-node=2", "--no-python", "/bin/trainer"],
            LocalExecutor.CommandLine(spec with { Command = ["/bin/trainer"], Workers = 2, Resources = new Resources() }));
    }

    [Theory]
    [InlineData("metric loss=0.5 step=3", true)]
    [InlineData("metric loss=1e-3", true)]
    [InlineData("metric loss=abc step=1", false)]
    [InlineData("metric step=1", false)]
    [InlineData("metric loss=0.5 step=-1", false)]
    [InlineData("metrics loss=0.5", false)]
    [InlineData("metric loss=NaN", false)]
    public void MetricLine_ParsesOnlyWellFormedLines(string line, bool parses)
    {
        Assert.Equal(parses, MetricLine.TryParse(line, out var samples));
        if (parses) Assert.Equal("loss", samples.Single().Name);
    }

    private static bool IsAlive(int pid)
    {
        // A zombie (state Z) has exited and only waits for its parent to reap it.
        var stat = $"/proc/{pid}/stat";
        if (!File.Exists(stat)) return false;
        try
        {
            var text = File.ReadAllText(stat);
            return text[(text.LastIndexOf(')') + 2)] != 'Z';
        }
        catch (IOException)
        {
            return false;
        }
    }
}
