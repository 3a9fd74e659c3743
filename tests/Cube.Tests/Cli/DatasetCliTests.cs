using System.Text;
using Cube.Cli;

namespace Cube.Tests.Cli;

/// <summary>
/// <c>cube dataset</c> verbs end to end against a real server in the test process. The CLI's HTTP goes through the
/// test server's handler (it has no socket), wrapped in a handler that drops one chunk's answer to exercise resuming.
/// </summary>
public sealed class DatasetCliTests(SqliteCubeApp app) : IClassFixture<SqliteCubeApp>
{
    private sealed record Result(int Code, string Out, string Error);

    /// <summary>Lets the second chunk of the first chunked upload reach the server, then loses its answer like a reset connection would.</summary>
    private sealed class DropOneChunkAnswer(HttpMessageHandler inner) : DelegatingHandler(inner)
    {
        private int _dropped;
        public bool Dropped => _dropped == 1;

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var response = await base.SendAsync(request, cancellationToken);
            if (request.Method == HttpMethod.Put && request.Content?.Headers.ContentRange is { From: > 0 } && Interlocked.CompareExchange(ref _dropped, 1, 0) == 0)
            {
                response.Dispose();
                throw new HttpRequestException("connection reset (injected by the test)");
            }
            return response;
        }
    }

    private sealed class Cli(HttpMessageHandler handler, string token, string project)
    {
        public async Task<Result> RunAsync(params string[] args)
        {
            using var output = new StringWriter();
            using var error = new StringWriter();
            // errorIsTerminal: the progress bar draws into the captured stderr, so its output is covered too.
            var console = new CliConsole(output, error, errorIsTerminal: true, handler, _ => null) { RetryDelay = TimeSpan.FromMilliseconds(20) };
            var code = await CubeCommands.Build(console)
                .Parse([.. args, "--server", "http://localhost", "--token", token, "--project", project])
                .InvokeAsync(cancellationToken: TestContext.Current.CancellationToken);
            return new Result(code, output.ToString(), error.ToString());
        }
    }

    private async Task<(Cli Cli, DropOneChunkAnswer Faults, string UserName)> CliAsync()
    {
        var (http, userName) = await app.CreateUserClientAsync("cli");
        var token = http.DefaultRequestHeaders.Authorization!.Parameter!;
        http.Dispose();
        var project = await app.CreateProjectAsync((userName, "manager"));
        var faults = new DropOneChunkAnswer(app.Factory.Server.CreateHandler());
        return (new Cli(faults, token, project), faults, userName);
    }

    private static void Write(string path, byte[] content)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllBytes(path, content);
    }

    private static void AssertSuccess(Result result) => Assert.True(result.Code == 0, $"exit {result.Code}\nstdout: {result.Out}\nstderr: {result.Error}");

    [Fact]
    public async Task CreatePushPullLogDiffTag_RoundTripsEveryByte()
    {
        var (cli, faults, userName) = await CliAsync();
        using var work = new TempDirectory();
        var data = Path.Combine(work.Path, "data");
        Write(Path.Combine(data, "table.csv"), "id,name,score\n1,a,1.5\n2,b,2.5\n3,c,3.5\n"u8.ToArray());
        Write(Path.Combine(data, "blobs", "a", "cat.bin"), [.. Enumerable.Range(0, 3000).Select(i => (byte)(i * 7))]);
        Write(Path.Combine(data, "blobs", "b", "dog.bin"), [.. Enumerable.Range(0, 2000).Select(i => (byte)(i * 13))]);
        var big = new byte[20 * 1024 * 1024 + 12345];
        new Random(42).NextBytes(big);
        Write(Path.Combine(data, "big.bin"), big);

        var created = await cli.RunAsync("dataset", "create", "shots", "--kind", "mixed", "--tag", "cli", "--tag", "raw", "--description", "from the CLI test");
        AssertSuccess(created);
        Assert.Contains("Created dataset 'shots' (mixed)", created.Out);

        var pushed = await cli.RunAsync("dataset", "push", "shots", data, "-m", "first import");
        AssertSuccess(pushed);
        Assert.Contains("Created shots v1: 4 files", pushed.Out);
        // The big file went in chunks; one answer was lost and the upload resumed from the server's offset.
        Assert.True(faults.Dropped);
        Assert.Contains("big.bin: connection reset (injected by the test); retry 1/5", pushed.Error);
        Assert.Contains('\r', pushed.Error);

        var output = Path.Combine(work.Path, "out");
        var pulled = await cli.RunAsync("dataset", "pull", "shots", "--output", output);
        AssertSuccess(pulled);
        Assert.Contains("Pulled shots v1: 4 files", pulled.Out);
        var local = Directory.EnumerateFiles(data, "*", SearchOption.AllDirectories).Select(f => Path.GetRelativePath(work.Path, f)).Order().ToList();
        var remote = Directory.EnumerateFiles(output, "*", SearchOption.AllDirectories).Select(f => Path.GetRelativePath(output, f)).Order().ToList();
        Assert.Equal(local, remote);
        foreach (var file in local) Assert.Equal(File.ReadAllBytes(Path.Combine(work.Path, file)), File.ReadAllBytes(Path.Combine(output, file)));

        var log = await cli.RunAsync("dataset", "log", "shots");
        AssertSuccess(log);
        var v1 = Assert.Single(log.Out.Split('\n'), l => l.StartsWith("v1 ", StringComparison.Ordinal));
        Assert.Contains(userName, v1);
        Assert.Contains("first import", v1);

        Write(Path.Combine(data, "table.csv"), "id,name,score\n1,a,1.5\n2,b,2.5\n3,c,3.5\n4,d,4.5\n"u8.ToArray());
        var second = await cli.RunAsync("dataset", "push", "shots", Path.Combine(data, "table.csv"), "--prefix", "data", "-m", "one more row");
        AssertSuccess(second);
        Assert.Contains("Created shots v2: 1 files", second.Out);

        var diff = await cli.RunAsync("dataset", "diff", "shots", "1", "2");
        AssertSuccess(diff);
        Assert.Contains("v1 -> v2", diff.Out);
        Assert.Contains("M  data/table.csv", diff.Out);
        Assert.Contains("T  data/table.csv  rows 3 -> 4", diff.Out);
        Assert.DoesNotContain("big.bin", diff.Out);

        var tagged = await cli.RunAsync("dataset", "tag", "shots", "golden", "v1");
        AssertSuccess(tagged);
        Assert.Contains("Tagged shots v1 as 'golden'", tagged.Out);
        var history = await cli.RunAsync("dataset", "log", "shots");
        Assert.StartsWith("v2 ", history.Out.Split('\n')[1], StringComparison.Ordinal);
        Assert.EndsWith("golden", history.Out.Split('\n')[2].TrimEnd(), StringComparison.Ordinal);

        // The tag still pulls the first table.
        var old = Path.Combine(work.Path, "golden");
        AssertSuccess(await cli.RunAsync("dataset", "pull", "shots", "--version", "golden", "-o", old));
        Assert.Equal("id,name,score\n1,a,1.5\n2,b,2.5\n3,c,3.5\n", File.ReadAllText(Path.Combine(old, "data", "table.csv")));

        var listed = await cli.RunAsync("dataset", "ls", "--tag", "cli");
        AssertSuccess(listed);
        var row = Assert.Single(listed.Out.Split('\n'), l => l.StartsWith("shots ", StringComparison.Ordinal));
        Assert.Matches(@"^shots\s+mixed\s+v2\s+cli,raw$", row.TrimEnd());
    }

    [Fact]
    public async Task Push_OfRaggedCsv_PrintsFileAndRow_AndFails()
    {
        var (cli, _, _) = await CliAsync();
        using var work = new TempDirectory();
        Write(Path.Combine(work.Path, "upload", "ragged.csv"), Encoding.UTF8.GetBytes("a,b,c\n1,2,3\n4,5\n"));
        AssertSuccess(await cli.RunAsync("dataset", "create", "broken", "--kind", "tabular"));

        var pushed = await cli.RunAsync("dataset", "push", "broken", Path.Combine(work.Path, "upload"));

        Assert.Equal(1, pushed.Code);
        Assert.Contains("at file upload/ragged.csv, row 3", pushed.Error);
        Assert.DoesNotContain("Created", pushed.Out);
    }

    [Fact]
    public async Task Verbs_WithoutProject_ExitWithUsageError()
    {
        using var error = new StringWriter();
        var console = new CliConsole(TextWriter.Null, error, errorIsTerminal: false, app.Factory.Server.CreateHandler(), _ => null);
        var code = await CubeCommands.Build(console).Parse(["dataset", "ls"]).InvokeAsync(cancellationToken: TestContext.Current.CancellationToken);
        Assert.Equal(HostRunner.ConfigurationError, code);
        Assert.Contains("CUBE_PROJECT", error.ToString());
    }

    [Theory]
    [InlineData("../escape.txt")]
    [InlineData("a/../../b.txt")]
    [InlineData("/etc/passwd")]
    [InlineData("a//b")]
    [InlineData("back\\slash")]
    [InlineData("ctrl\u0001.txt")]
    public void Pull_RefusesPathsOutsideTheOutputFolder(string path)
    {
        using var root = new TempDirectory();
        Assert.Throws<CliException>(() => DatasetTransfer.SafeTarget(root.Path, path));
        Assert.Equal(Path.Combine(root.Path, "a", "b.txt"), DatasetTransfer.SafeTarget(root.Path, "a/b.txt"));
    }
}
