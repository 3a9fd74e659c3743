using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;

namespace Cube.Testing;

/// <summary>
/// A real <c>cube serve</c> process on a data directory, for tests that kill it with SIGKILL and start it again:
/// what a crash does to state that an in-process test server cannot show.
/// </summary>
public sealed class CubeProcess(Process process, Uri url) : IAsyncDisposable
{
    public const string AdminPassword = "process-test-password";

    public Process Process => process;
    public Uri Url => url;

    /// <summary>Starts cube.dll on <paramref name="dataDirectory"/> and waits for <c>/readyz</c>; extra switches are host configuration.</summary>
    public static async Task<CubeProcess> StartAsync(string dataDirectory, params string[] settings)
    {
        var url = new Uri($"http://127.0.0.1:{FreePort()}");
        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in new[] { CubeDll(), "serve", "--urls", url.ToString(), "--Cube:DataDirectory", dataDirectory, "--Cube:Admin:Password", AdminPassword }.Concat(settings))
            info.ArgumentList.Add(arg);
        var process = Process.Start(info)!;
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        using var probe = new HttpClient { BaseAddress = url };
        for (var i = 0; i < 600; i++)
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
        throw new TimeoutException("cube did not become ready in 60 s");
    }

    /// <summary>SIGKILL: no shutdown hook, no flush, no graceful anything.</summary>
    public async Task KillAsync()
    {
        process.Kill(entireProcessTree: true);
        await process.WaitForExitAsync();
    }

    /// <summary>A cookie-authenticated client signed in as <paramref name="userName"/>.</summary>
    public async Task<HttpClient> SignInAsync(string userName = "admin", string password = AdminPassword)
    {
        var client = new HttpClient(new HttpClientHandler { CookieContainer = new CookieContainer() }) { BaseAddress = url };
        (await client.PostAsJsonAsync("/api/auth/sign-in", new { userName, password })).EnsureSuccessStatusCode();
        return client;
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
}
