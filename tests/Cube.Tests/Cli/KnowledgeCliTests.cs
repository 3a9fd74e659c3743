using System.Globalization;
using Cube.Cli;

namespace Cube.Tests.Cli;

/// <summary><c>cube kb eval</c> on the BEIR-format fixture collection kept with the Knowledge tests.</summary>
public sealed class KnowledgeCliTests
{
    private static readonly string Collection = Path.Combine(AppContext.BaseDirectory, "Cli", "Data", "beir");

    private static async Task<(int Code, string Out, string Error)> RunAsync(params string[] args)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        var code = await CubeCommands.Build(new CliConsole(output, error, errorIsTerminal: false))
            .Parse(args).InvokeAsync(cancellationToken: TestContext.Current.CancellationToken);
        return (code, output.ToString(), error.ToString());
    }

    private static Dictionary<string, double> Metrics(string output) => output.Split('\n', StringSplitOptions.RemoveEmptyEntries)
        .Select(l => l.Split(": ")).ToDictionary(p => p[0], p => double.Parse(p[1], CultureInfo.InvariantCulture));

    [Fact]
    public async Task Eval_PrintsTheThreeMetrics_AndHybridIsNoWorseThanBm25()
    {
        var hybrid = await RunAsync("kb", "eval", "--beir", Collection);
        var bm25 = await RunAsync("kb", "eval", "--beir", Collection, "--mode", "bm25");

        Assert.True(hybrid.Code == 0, hybrid.Error);
        Assert.Matches(@"^nDCG@10: [01](\.\d+)?\nRecall@100: [01](\.\d+)?\nMRR@10: [01](\.\d+)?\n$", hybrid.Out.Replace("\r", "", StringComparison.Ordinal));
        var h = Metrics(hybrid.Out);
        var b = Metrics(bm25.Out);
        Assert.InRange(h["nDCG@10"], 0.5, 1);
        Assert.True(h["nDCG@10"] >= b["nDCG@10"], $"hybrid {h["nDCG@10"]} < bm25 {b["nDCG@10"]}");
    }

    [Fact]
    public async Task Eval_NamesWhatIsMissing_WhenTheFolderIsNotBeir()
    {
        var (code, _, error) = await RunAsync("kb", "eval", "--beir", AppContext.BaseDirectory);

        Assert.Equal(KnowledgeCommands.BadInput, code);
        Assert.Contains("corpus.jsonl", error, StringComparison.Ordinal);
    }
}
