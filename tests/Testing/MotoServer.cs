using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Cube.Core.Storage;

namespace Cube.Testing;

/// <summary>
/// An S3 endpoint for tests, shared by a whole test assembly: register it with
/// <c>[assembly: AssemblyFixture(typeof(MotoServer))]</c> and take it as a constructor parameter.
/// </summary>
/// <remarks>
/// <c>CUBE_TEST_S3_ENDPOINT</c> names an existing server to use. Otherwise <c>moto_server</c> is started from PATH on a
/// free loopback port the first time a test asks for the endpoint, and killed when the assembly finishes. When it cannot
/// be found, tests asking for it are skipped, or fail when <c>CUBE_TEST_REQUIRE_SERVICES=1</c>.
/// </remarks>
public sealed class MotoServer : IAsyncDisposable
{
    public const string EndpointVariable = "CUBE_TEST_S3_ENDPOINT";
    public const string RequireServicesVariable = "CUBE_TEST_REQUIRE_SERVICES";
    public const string AccessKey = "testing";
    public const string SecretKey = "testing";
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(60);

    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly Queue<string> _output = new();
    private Process? _process;
    private Uri? _endpoint;
    private string? _unavailable;

    /// <summary>
    /// The endpoint, starting moto on first use. Skips the calling test when no server can be had, or fails it
    /// when <c>CUBE_TEST_REQUIRE_SERVICES=1</c>.
    /// </summary>
    public async Task<Uri> GetEndpointAsync()
    {
        await _gate.WaitAsync().ConfigureAwait(false);
        try
        {
            if (_endpoint is null && _unavailable is null) await StartAsync().ConfigureAwait(false);
        }
        finally
        {
            _gate.Release();
        }
        if (_endpoint is not null) return _endpoint;
        if (Environment.GetEnvironmentVariable(RequireServicesVariable) == "1")
            throw new InvalidOperationException($"{_unavailable} ({RequireServicesVariable}=1 makes this a failure.)");
        Assert.Skip(_unavailable!);
        return null!; // Assert.Skip throws.
    }

    /// <summary>A bucket name no other test uses.</summary>
    public static string NewBucketName() => "cube-test-" + Guid.NewGuid().ToString("N")[..24];

    /// <summary>Options for an <see cref="S3ObjectStore"/> on this server, in a bucket of its own.</summary>
    public async Task<S3StorageOptions> CreateOptionsAsync(string? keyPrefix = null, string? bucket = null) => new()
    {
        Endpoint = (await GetEndpointAsync().ConfigureAwait(false)).ToString().TrimEnd('/'),
        Bucket = bucket ?? NewBucketName(),
        AccessKey = AccessKey,
        SecretKey = SecretKey,
        Region = "us-east-1",
        KeyPrefix = keyPrefix,
        CreateBucket = true,
    };

    private async Task StartAsync()
    {
        var configured = Environment.GetEnvironmentVariable(EndpointVariable);
        if (!string.IsNullOrWhiteSpace(configured))
        {
            _endpoint = new Uri(configured, UriKind.Absolute);
            return;
        }
        var executable = FindOnPath("moto_server");
        if (executable is null)
        {
            _unavailable = $"moto_server is not on PATH and {EndpointVariable} is not set; S3 tests need one of them.";
            return;
        }

        var port = FreePort();
        var info = new ProcessStartInfo(executable)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in new[] { "-H", "127.0.0.1", "-p", port.ToString(System.Globalization.CultureInfo.InvariantCulture) })
            info.ArgumentList.Add(argument);
        var process = new Process { StartInfo = info };
        // moto logs every request; the pipes are drained so it never blocks on a full one, and the tail kept for errors.
        process.OutputDataReceived += (_, e) => Remember(e.Data);
        process.ErrorDataReceived += (_, e) => Remember(e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        _process = process;

        var endpoint = new Uri($"http://127.0.0.1:{port}");
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        var deadline = DateTime.UtcNow + StartTimeout;
        while (DateTime.UtcNow < deadline)
        {
            if (process.HasExited)
            {
                _unavailable = $"moto_server exited with code {process.ExitCode} before answering on {endpoint}: {Tail()}";
                throw new InvalidOperationException(_unavailable);
            }
            try
            {
                using var response = await http.GetAsync(endpoint).ConfigureAwait(false);
                _endpoint = endpoint;
                return;
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
                await Task.Delay(100).ConfigureAwait(false);
            }
        }
        _unavailable = $"moto_server did not answer on {endpoint} within {StartTimeout.TotalSeconds:0} s: {Tail()}";
        throw new InvalidOperationException(_unavailable);
    }

    private void Remember(string? line)
    {
        if (line is null) return;
        lock (_output)
        {
            _output.Enqueue(line);
            while (_output.Count > 20) _output.Dequeue();
        }
    }

    private string Tail()
    {
        lock (_output) return string.Join(Environment.NewLine, _output);
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static string? FindOnPath(string name)
    {
        var path = Environment.GetEnvironmentVariable("PATH") ?? "";
        foreach (var directory in path.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
        {
            var candidate = Path.Combine(directory, name);
            if (File.Exists(candidate)) return candidate;
        }
        return null;
    }

    public async ValueTask DisposeAsync()
    {
        if (_process is { } process)
        {
            try
            {
                if (!process.HasExited)
                {
                    process.Kill(entireProcessTree: true);
                    await process.WaitForExitAsync().ConfigureAwait(false);
                }
            }
            catch (InvalidOperationException)
            {
                // Already gone.
            }
            process.Dispose();
        }
        _gate.Dispose();
    }
}
