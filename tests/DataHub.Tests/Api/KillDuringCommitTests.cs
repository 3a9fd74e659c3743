using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text;
using Cube.Core.Apis;
using Cube.DataHub.Apis;
using Cube.Testing;

namespace Cube.DataHub.Tests.Api;

/// <summary>
/// A real <c>cube</c> process is killed with SIGKILL in the middle of a commit, then started again on the same data
/// directory. No partial version may ever be visible; the idempotent commit run is recovered and completes.
/// </summary>
public sealed class KillDuringCommitTests
{
    private const string Password = "kill-test-password";
    private const int FileCount = 24;

    private sealed class CubeProcess(Process process, Uri url) : IAsyncDisposable
    {
        public Process Process => process;
        public Uri Url => url;

        public static async Task<CubeProcess> StartAsync(string dataDirectory)
        {
            var port = FreePort();
            var url = new Uri($"http://127.0.0.1:{port}");
            var info = new ProcessStartInfo("dotnet")
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            };
            foreach (var arg in new[]
                     {
                         CubeDll(), "serve", "--urls", url.ToString(), "--Cube:DataDirectory", dataDirectory, "--Cube:Admin:Password", Password,
                         "--Cube:Runs:HeartbeatInterval", "00:00:01", "--Cube:Runs:OrphanAfter", "00:00:03", "--Cube:Runs:ProgressWriteInterval", "00:00:00.020",
                     })
                info.ArgumentList.Add(arg);
            var process = Process.Start(info)!;
            process.OutputDataReceived += (_, _) => { };
            process.ErrorDataReceived += (_, _) => { };
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
            using var probe = new HttpClient { BaseAddress = url };
            for (var i = 0; i < 300; i++)
            {
                if (process.HasExited) throw new InvalidOperationException($"cube exited with {process.ExitCode} during start-up");
                try
                {
                    if ((await probe.GetAsync("/readyz")).IsSuccessStatusCode) return new CubeProcess(process, url);
                }
                catch (HttpRequestException)
                {
                }
                await Task.Delay(100);
            }
            process.Kill(entireProcessTree: true);
            throw new TimeoutException("cube did not become ready in 30 s");
        }

        public async ValueTask DisposeAsync()
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
                await process.WaitForExitAsync();
            }
            process.Dispose();
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>The cube.dll built beside this test run (same configuration), so the test runs what was just compiled.</summary>
    private static string CubeDll()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
        var configuration = directory.Parent!.Name; // bin/<configuration>/net10.0
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "cube.sln"))) directory = directory.Parent;
        var dll = Path.Combine(directory!.FullName, "src", "Cube", "bin", configuration, "net10.0", "cube.dll");
        return File.Exists(dll) ? dll : throw new FileNotFoundException("Build the solution first: cube.dll is missing.", dll);
    }

    private static async Task<HttpClient> SignInAsync(Uri url)
    {
        var client = new HttpClient(new HttpClientHandler { CookieContainer = new CookieContainer() }) { BaseAddress = url };
        (await client.PostAsJsonAsync("/api/auth/sign-in", new SignInRequest("admin", Password))).EnsureSuccessStatusCode();
        return client;
    }

    private static byte[] Csv(int file)
    {
        var text = new StringBuilder("id,group,value\n");
        for (var i = 0; i < 20_000; i++) text.Append(i).Append(",g").Append((i + file) % 13).Append(',').Append(i * 0.25 + file).Append('\n');
        return Encoding.UTF8.GetBytes(text.ToString());
    }

    [Theory]
    [InlineData(5)]
    [InlineData(60)]
    [InlineData(95)]
    public async Task KillDuringCommit_LeavesNoPartialVersion_AndTheCommitCompletesAfterRestart(double killAtProgress)
    {
        using var data = new TempDirectory();
        Guid runId;
        await using (var first = await CubeProcess.StartAsync(data.Path))
        {
            using var client = await SignInAsync(first.Url);
            (await client.PostAsJsonAsync("/api/projects", new CreateProjectRequest("kill", "Kill test", null))).EnsureSuccessStatusCode();
            (await client.PostAsJsonAsync("/api/projects/kill/datasets", new CreateDatasetRequest("tables", null, "tabular", null))).EnsureSuccessStatusCode();
            var session = (await (await client.PostAsync("/api/projects/kill/datasets/tables/uploads", null)).Content.ReadFromJsonAsync<UploadSessionDto>())!.Id;
            for (var i = 0; i < FileCount; i++)
            {
                var put = new HttpRequestMessage(HttpMethod.Put, $"/api/projects/kill/datasets/tables/uploads/{session}/files/part-{i:D2}.csv") { Content = new ByteArrayContent(Csv(i)) };
                put.Content.Headers.ContentType = new MediaTypeHeaderValue("text/csv");
                (await client.SendAsync(put)).EnsureSuccessStatusCode();
            }
            var accepted = await client.PostAsJsonAsync($"/api/projects/kill/datasets/tables/uploads/{session}/commit", new CommitRequest("killed midway", null, false));
            Assert.Equal(HttpStatusCode.Accepted, accepted.StatusCode);
            runId = (await accepted.Content.ReadFromJsonAsync<RunDto>())!.Id;

            var deadline = DateTime.UtcNow.AddSeconds(60);
            RunDto atKill;
            while (true)
            {
                atKill = (await client.GetFromJsonAsync<RunDto>($"/api/runs/{runId}"))!;
                if (atKill.Progress >= killAtProgress || atKill.State != "queued" && atKill.State != "running") break;
                Assert.True(DateTime.UtcNow < deadline, "the commit never reached the kill point");
                await Task.Delay(10);
            }
            first.Process.Kill(entireProcessTree: true); // SIGKILL: no shutdown hooks run
            // Conversion takes seconds, so the early kill points always land mid-run; 95 (writing the version) races
            // the final transaction on purpose and may land on either side of it.
            if (killAtProgress < 90) Assert.Equal("running", atKill.State);
            await first.Process.WaitForExitAsync();
        }

        await using var second = await CubeProcess.StartAsync(data.Path);
        using var after = await SignInAsync(second.Url);
        var finished = DateTime.UtcNow.AddSeconds(90);
        RunDto final;
        while (true)
        {
            // At every observation, a visible version is complete: all files and all tables.
            var versions = (await after.GetFromJsonAsync<Page<VersionDto>>("/api/projects/kill/datasets/tables/versions"))!;
            Assert.True(versions.Items.Count <= 1, "a retried commit must not create a second version");
            foreach (var version in versions.Items)
            {
                Assert.Equal(FileCount, version.FileCount);
                var tables = (await after.GetFromJsonAsync<List<TableSummaryDto>>($"/api/projects/kill/datasets/tables/versions/{version.Number}/tables"))!;
                Assert.Equal(FileCount, tables.Count);
                Assert.All(tables, t => Assert.Equal(20_000, t.RowCount));
            }
            final = (await after.GetFromJsonAsync<RunDto>($"/api/runs/{runId}"))!;
            if (final.State is "succeeded" or "failed" or "cancelled") break;
            Assert.True(DateTime.UtcNow < finished, $"the commit run stayed {final.State} after the restart");
            await Task.Delay(100);
        }
        Assert.Equal("succeeded", final.State);
        var latest = (await after.GetFromJsonAsync<VersionDto>("/api/projects/kill/datasets/tables/versions/latest"))!;
        Assert.Equal(1, latest.Number);
        Assert.Equal(FileCount, latest.FileCount);
        Assert.Equal(Csv(7), await after.GetByteArrayAsync("/api/projects/kill/datasets/tables/versions/1/files/part-07.csv"));
    }
}
