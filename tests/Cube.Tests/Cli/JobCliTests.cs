using Cube.Cli;

namespace Cube.Tests.Cli;

/// <summary><c>cube job</c> verbs against a real server in the test process, running real local jobs.</summary>
public sealed class JobCliTests(SqliteCubeApp app) : IClassFixture<SqliteCubeApp>, IDisposable
{
    private readonly TempDirectory _specs = new();

    private sealed record Result(int Code, string Out, string Error);

    private async Task<Func<string[], Task<Result>>> CliAsync()
    {
        var (http, userName) = await app.CreateUserClientAsync("jobs");
        var token = http.DefaultRequestHeaders.Authorization!.Parameter!;
        http.Dispose();
        var project = await app.CreateProjectAsync((userName, "manager"));
        var handler = app.Factory.Server.CreateHandler();
        return async args =>
        {
            using var output = new StringWriter();
            using var error = new StringWriter();
            var console = new CliConsole(output, error, errorIsTerminal: false, handler, _ => null);
            var code = await CubeCommands.Build(console)
                .Parse([.. args, "--server", "http://localhost", "--token", token, "--project", project])
                .InvokeAsync(cancellationToken: TestContext.Current.CancellationToken);
            return new Result(code, output.ToString(), error.ToString());
        };
    }

    private string Spec(string name, string text)
    {
        var path = Path.Combine(_specs.Path, name);
        File.WriteAllText(path, text);
        return path;
    }

    [Fact]
    public async Task SubmitYaml_FollowsLogsToTheEnd_AndTheExitCodeSaysHowTheJobEnded()
    {
        var cube = await CliAsync();
        var good = Spec("good.yaml", """
            name: hello
            experiment: cli
            distribution: local
            command: [/bin/sh, -c, 'echo "epoch 1 loss=0.5"; echo "epoch 2 loss=0.25"; echo warning >&2']
            hyperparameters:
              lr: 0.1
            """);

        var run = await cube(["job", "submit", good, "--follow"]);

        Assert.True(run.Code == 0, run.Error);
        Assert.Contains("Submitted job 'hello'", run.Out, StringComparison.Ordinal);
        Assert.Contains("epoch 2 loss=0.25", run.Out, StringComparison.Ordinal);
        Assert.Contains("[stderr] warning", run.Out, StringComparison.Ordinal);
        Assert.Contains("Job 'hello' succeeded (exit code 0)", run.Error, StringComparison.Ordinal);

        var failing = Spec("failing.json", """{"name": "broken", "distribution": "local", "command": ["/bin/sh", "-c", "echo trying; exit 3"]}""");
        var failed = await cube(["job", "submit", failing, "-f"]);
        Assert.Equal(1, failed.Code);
        Assert.Contains("trying", failed.Out, StringComparison.Ordinal);
        Assert.Contains("Job 'broken' failed (exit code 3)", failed.Error, StringComparison.Ordinal);

        var list = await cube(["job", "ls", "--experiment", "cli"]);
        Assert.Equal(0, list.Code);
        var rows = list.Out.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.StartsWith("ID", rows[0], StringComparison.Ordinal);
        Assert.Single(rows.Skip(1), r => r.Contains("hello", StringComparison.Ordinal) && r.Contains("succeeded", StringComparison.Ordinal));
    }

    [Fact]
    public async Task SubmitYaml_StartsAStudy_WhenTheSpecHasASearchBlock()
    {
        var cube = await CliAsync();
        var spec = Spec("study.yaml", """
            name: tune
            distribution: local
            command: [/bin/sh, -c, 'echo "metric loss=$CUBE_HP_LR step=1"']
            search:
              strategy: grid
              metric: loss
              parallelism: 2
              space:
                lr: {type: choice, values: [0.3, 0.1, 0.2]}
            """);

        var run = await cube(["job", "submit", spec, "--follow"]);

        Assert.True(run.Code == 0, run.Error);
        Assert.Contains("Submitted study 'tune'", run.Out, StringComparison.Ordinal);
        Assert.Contains("grid search over 3 trials, 2 at a time", run.Out, StringComparison.Ordinal);
        Assert.Contains("Study 'tune' succeeded; best trial 2 with loss=0.1.", run.Error, StringComparison.Ordinal);
        var rows = run.Out.Split('\n', StringSplitOptions.RemoveEmptyEntries).SkipWhile(r => !r.StartsWith("TRIAL", StringComparison.Ordinal)).ToList();
        Assert.Equal(4, rows.Count);
        Assert.Contains("lr=0.1", rows[2], StringComparison.Ordinal);
    }

    [Fact]
    public async Task BadSpecs_AreRefusedWithTheLineOrTheFieldsNamed()
    {
        var cube = await CliAsync();

        var unparsable = await cube(["job", "submit", Spec("bad.yaml", "name: x\ncommand: [unclosed\n")]);
        Assert.Equal(1, unparsable.Code);
        Assert.Contains("bad.yaml: The text does not parse at line", unparsable.Error, StringComparison.Ordinal);

        var invalid = await cube(["job", "submit", Spec("invalid.yaml", "distribution: local\nresources:\n  gpus: -1\n")]);
        Assert.Equal(1, invalid.Code);
        Assert.Contains("  name: ", invalid.Error, StringComparison.Ordinal);
        Assert.Contains("  resources.gpus: ", invalid.Error, StringComparison.Ordinal);

        var missing = await cube(["job", "submit", Path.Combine(_specs.Path, "nope.yaml")]);
        Assert.Equal(1, missing.Code);
        Assert.Contains("cannot read", missing.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Cancel_StopsARunningJob_AndFollowingItThenEndsWithFailure()
    {
        var cube = await CliAsync();
        var submitted = await cube(["job", "submit", Spec("slow.yaml", "name: slow\ndistribution: local\ncommand: [/bin/sh, -c, 'echo started; sleep 60']\n")]);
        Assert.True(submitted.Code == 0, submitted.Error);
        var id = System.Text.RegularExpressions.Regex.Match(submitted.Out, @"\(([0-9a-f-]{36})\)").Groups[1].Value;

        // Wait for the process to run (its first line is in the logs), then cancel it.
        for (var i = 0; i < 180 && !(await cube(["job", "logs", id])).Out.Contains("started", StringComparison.Ordinal); i++) await Task.Delay(500);
        var cancelled = await cube(["job", "cancel", id]);
        Assert.True(cancelled.Code == 0, cancelled.Error);

        var follow = await cube(["job", "logs", id, "--follow"]);
        Assert.Equal(1, follow.Code);
        Assert.Contains("started", follow.Out, StringComparison.Ordinal);
        Assert.Contains("Job 'slow' cancelled", follow.Error, StringComparison.Ordinal);
    }

    public void Dispose() => _specs.Dispose();
}
