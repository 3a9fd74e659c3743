using Cube.Cli;

namespace Cube.Tests.Cli;

/// <summary><c>cube label consensus</c> on files: the bluebirds crowd data with its gold truth, and broken input.</summary>
public sealed class LabelCliTests
{
    private static string Bluebirds(string file) => Path.Combine(AppContext.BaseDirectory, "Cli", "Data", "bluebirds", file);

    private static async Task<(int Code, string Out, string Error)> RunAsync(params string[] args)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        var code = await CubeCommands.Build(new CliConsole(output, error, errorIsTerminal: false))
            .Parse(args).InvokeAsync(cancellationToken: TestContext.Current.CancellationToken);
        return (code, output.ToString(), error.ToString());
    }

    [Theory]
    [InlineData("mv", "accuracy: 0.7593")]
    [InlineData("ds", "accuracy: 0.8981")]
    public async Task Consensus_ReproducesPublishedAccuracy_OnBluebirds(string method, string expected)
    {
        using var dir = new TempDirectory();
        var output = Path.Combine(dir.Path, "labels.csv");

        var (code, stdout, stderr) = await RunAsync("label", "consensus", "--answers", Bluebirds("answer.csv"), "--method", method,
            "--truth", Bluebirds("truth.csv"), "--out", output);

        Assert.True(code == 0, stderr);
        Assert.Equal(expected, stdout.Trim());
        var lines = await File.ReadAllLinesAsync(output, TestContext.Current.CancellationToken);
        Assert.Equal("question,label,confidence", lines[0]);
        Assert.Equal(109, lines.Length);
        Assert.All(lines.Skip(1), l => Assert.Matches(@"^\d+,[01],(0\.\d+|1)$", l));
    }

    [Fact]
    public async Task Consensus_WritesCsvToStandardOutput_WhenNoOutIsGiven()
    {
        using var dir = new TempDirectory();
        var answers = Path.Combine(dir.Path, "a.csv");
        await File.WriteAllTextAsync(answers, "question,worker,answer\rq1,w1,cat\rq1,w2,cat\rq1,w3,dog\r", TestContext.Current.CancellationToken);

        var (code, stdout, _) = await RunAsync("label", "consensus", "--answers", answers, "--method", "mv");

        Assert.Equal(0, code);
        Assert.Equal("question,label,confidence\nq1,cat,0.666667\n", stdout);
    }

    [Fact]
    public async Task Consensus_NamesFileAndLine_AndWritesNothing_WhenTheCsvIsBroken()
    {
        using var dir = new TempDirectory();
        var answers = Path.Combine(dir.Path, "broken.csv");
        var output = Path.Combine(dir.Path, "out.csv");
        await File.WriteAllTextAsync(answers, "question,worker,answer\nq1,w1,cat\nq2,w2\n", TestContext.Current.CancellationToken);

        var (code, _, stderr) = await RunAsync("label", "consensus", "--answers", answers, "--method", "ds", "--out", output);

        Assert.Equal(LabelCommands.BadInput, code);
        Assert.Contains("broken.csv:3", stderr, StringComparison.Ordinal);
        Assert.False(File.Exists(output));
    }
}
