using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using Cube.Core.Apis;
using Cube.Core.Data;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Cube.Testing;

/// <summary>
/// A whole Cube server in the test process (WebApplicationFactory), on its own data directory and, for
/// PostgreSQL, its own database. Subclasses pick the provider; test classes share one per class.
/// </summary>
public abstract class CubeAppFixture : IAsyncLifetime
{
    public const string AdminUser = "admin";
    public const string AdminPassword = "admin-password-for-tests";

    private readonly TempDirectory _data = new();
    private PostgresDatabase? _postgres;
    private string? _unavailable;
    private CubeFactory? _factory;

    public abstract DatabaseProvider Provider { get; }
    public string DataDirectory => _data.Path;
    public string? PostgresConnectionString => _postgres?.ConnectionString;

    /// <summary>The running server; skips the test (or fails it, when services are required) if its database is missing.</summary>
    public WebApplicationFactory<Program> Factory
    {
        get
        {
            if (_unavailable is not null) TestServices.Unavailable(_unavailableWhat, _unavailable);
            return _factory!;
        }
    }

    /// <summary>Settings every server of this fixture gets; tests may add their own through <see cref="WithSettings"/>.</summary>
    public IDictionary<string, string?> Settings()
    {
        var settings = new Dictionary<string, string?>
        {
            ["Cube:DataDirectory"] = DataDirectory,
            ["Cube:Admin:Password"] = AdminPassword,
            ["Cube:Database:Provider"] = Provider == DatabaseProvider.Sqlite ? "Sqlite" : "PostgreSQL",
            ["Cube:Runs:HeartbeatInterval"] = "00:00:01",
            // Long enough that a heartbeat delayed by a loaded 2-core CI machine is not taken for a dead worker.
            ["Cube:Runs:OrphanAfter"] = "00:00:15",
            ["Cube:Runs:ProgressWriteInterval"] = "00:00:00.050",
            // Webhook receivers in tests listen on loopback; retries come quickly and give up after three attempts.
            ["Cube:Webhooks:AllowedHosts:0"] = "127.0.0.1",
            ["Cube:Webhooks:FirstBackoff"] = "00:00:00.200",
            ["Cube:Webhooks:MaxAttempts"] = "3",
            ["Cube:Webhooks:PollInterval"] = "00:00:00.500",
        };
        foreach (var (key, value) in _storage) settings[key] = value;
        foreach (var (key, value) in FixtureSettings) settings[key] = value;
        if (_postgres is not null)
        {
            settings["Cube:Database:ConnectionString"] = _postgres.ConnectionString;
            settings["Cube:Database:MigrateOnStartup"] = "true";
        }
        return settings;
    }

    /// <summary>A second server over the same data directory and database (a restart, or a second process).</summary>
    public WebApplicationFactory<Program> WithSettings(IDictionary<string, string?> extra, Action<IServiceCollection>? services = null)
    {
        var settings = Settings();
        foreach (var (k, v) in extra) settings[k] = v;
        return new CubeFactory(settings, services);
    }

    protected virtual void ConfigureServices(IServiceCollection services) { }

    /// <summary>Settings a fixture type gives all its servers (a server that executes no runs itself, say).</summary>
    protected virtual IDictionary<string, string?> FixtureSettings => new Dictionary<string, string?>();

    /// <summary>Storage settings of this fixture's servers; local disk under the data directory unless overridden.</summary>
    protected virtual Task<IDictionary<string, string?>> StorageSettingsAsync() => Task.FromResult<IDictionary<string, string?>>(new Dictionary<string, string?>());

    private IDictionary<string, string?> _storage = new Dictionary<string, string?>();
    private string _unavailableWhat = "PostgreSQL";

    public async ValueTask InitializeAsync()
    {
        if (Provider == DatabaseProvider.PostgreSql)
        {
            (_postgres, _unavailable) = await PostgresDatabase.TryCreateAsync();
            if (_postgres is null) return;
        }
        try
        {
            _storage = await StorageSettingsAsync();
        }
        catch (Exception e)
        {
            (_unavailableWhat, _unavailable) = ("The S3 test server", e.Message);
            return;
        }
        _factory = new CubeFactory(Settings(), ConfigureServices);
        _ = _factory.Server; // start now: migrations and the first admin happen once per fixture
    }

    public async ValueTask DisposeAsync()
    {
        if (_factory is not null) await _factory.DisposeAsync();
        if (_postgres is not null) await _postgres.DisposeAsync();
        _data.Dispose();
        GC.SuppressFinalize(this);
    }

    /// <summary>An HTTP client with no credentials.</summary>
    public HttpClient Anonymous() => Factory.CreateClient(new WebApplicationFactoryClientOptions { HandleCookies = true, AllowAutoRedirect = false });

    /// <summary>A client signed in with a cookie.</summary>
    public async Task<HttpClient> SignInAsync(string userName, string password)
    {
        var client = Anonymous();
        var response = await client.PostAsJsonAsync("/api/auth/sign-in", new SignInRequest(userName, password));
        if (response.StatusCode != HttpStatusCode.OK)
            throw new InvalidOperationException($"Sign-in of {userName} failed: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        return client;
    }

    public Task<HttpClient> AdminAsync() => SignInAsync(AdminUser, AdminPassword);

    /// <summary>Creates a user (through the admin API) and returns a client authenticated with a fresh API token of theirs.</summary>
    public async Task<(HttpClient Client, string UserName)> CreateUserClientAsync(string? prefix = null)
    {
        var name = (prefix ?? "user") + "-" + Guid.NewGuid().ToString("N")[..8];
        const string password = "a-long-enough-password";
        using var admin = await AdminAsync();
        (await admin.PostAsJsonAsync("/api/users", new CreateUserRequest(name, password, null, false))).EnsureSuccessStatusCode();
        using var session = await SignInAsync(name, password);
        var created = await (await session.PostAsJsonAsync("/api/me/tokens", new CreateTokenRequest("tests", null))).Content.ReadFromJsonAsync<CreatedTokenDto>();
        return (BearerClient(created!.Secret), name);
    }

    public HttpClient BearerClient(string token)
    {
        var client = Anonymous();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return client;
    }

    /// <summary>Creates a project as admin and grants the given members their roles.</summary>
    public async Task<string> CreateProjectAsync(params (string UserName, string Role)[] members)
    {
        var slug = "p-" + Guid.NewGuid().ToString("N")[..10];
        using var admin = await AdminAsync();
        (await admin.PostAsJsonAsync("/api/projects", new CreateProjectRequest(slug, "Test " + slug, null))).EnsureSuccessStatusCode();
        foreach (var (user, role) in members)
            (await admin.PutAsJsonAsync($"/api/projects/{slug}/members/{user}", new SetMemberRequest(role))).EnsureSuccessStatusCode();
        return slug;
    }

    /// <summary>Where test servers log their warnings and errors (TMPDIR/cube-test-logs).</summary>
    public static string LogPath { get; } = CreateLogPath();

    private static string CreateLogPath()
    {
        var directory = Path.Combine(Path.GetTempPath(), "cube-test-logs");
        Directory.CreateDirectory(directory);
        return Path.Combine(directory, $"{AppDomain.CurrentDomain.FriendlyName}-{Environment.ProcessId}.log");
    }

    private sealed class CubeFactory(IDictionary<string, string?> settings, Action<IServiceCollection>? services) : WebApplicationFactory<Program>
    {
        protected override void ConfigureWebHost(IWebHostBuilder builder)
        {
            foreach (var (key, value) in settings) builder.UseSetting(key, value);
            builder.UseEnvironment("Testing");
            // Server-side warnings and errors of every test server land in one file per process, kept after the run.
            builder.ConfigureLogging(l => l.AddProvider(new FileLoggerProvider(LogPath))
                // TestServer has no request-size feature; routing warns about it on every upload, which buries the rest.
                .AddFilter<FileLoggerProvider>("Microsoft.AspNetCore.Routing.EndpointRoutingMiddleware", LogLevel.Error));
            if (services is not null) builder.ConfigureTestServices(services);
        }
    }
}

public class SqliteCubeApp : CubeAppFixture
{
    public override DatabaseProvider Provider => DatabaseProvider.Sqlite;
}

public class PostgresCubeApp : CubeAppFixture
{
    public override DatabaseProvider Provider => DatabaseProvider.PostgreSql;
}

/// <summary>The scale-out combination: PostgreSQL metadata and S3 objects (moto_server).</summary>
public class PostgresS3CubeApp(MotoServer moto) : CubeAppFixture
{
    public override DatabaseProvider Provider => DatabaseProvider.PostgreSql;

    protected override async Task<IDictionary<string, string?>> StorageSettingsAsync()
    {
        var s3 = await moto.CreateOptionsAsync(keyPrefix: "cube/");
        return new Dictionary<string, string?>
        {
            ["Cube:Storage:Kind"] = "S3",
            ["Cube:Storage:S3:Endpoint"] = s3.Endpoint,
            ["Cube:Storage:S3:Bucket"] = s3.Bucket,
            ["Cube:Storage:S3:AccessKey"] = s3.AccessKey,
            ["Cube:Storage:S3:SecretKey"] = s3.SecretKey,
            ["Cube:Storage:S3:KeyPrefix"] = s3.KeyPrefix,
        };
    }
}
