using System.Text.Json;
using Cube.Hosting;
using Microsoft.Extensions.Options;

namespace Cube.Tests.Hosting;

/// <summary>Bad settings fail at start-up naming the key, or show in /readyz with the reason.</summary>
public sealed class ConfigurationTests
{
    private static async Task<OptionsValidationException> StartFailsAsync(params string[] settings)
    {
        using var data = new TempDirectory();
        string[] args = ["--Cube:DataDirectory", data.Path, "--urls", "http://127.0.0.1:0", .. settings];
        await using var app = CubeApp.BuildServer(args);
        return await Assert.ThrowsAsync<OptionsValidationException>(() => app.StartAsync(TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task Start_Fails_WhenDatabaseProviderIsUnknown()
    {
        var error = await StartFailsAsync("--Cube:Database:Provider", "Oracle");
        Assert.Contains("Cube:Database:Provider 'Oracle' is unknown", error.Message);
    }

    [Fact]
    public async Task Start_Fails_WhenPostgresConnectionStringIsMalformed()
    {
        var error = await StartFailsAsync("--Cube:Database:Provider", "PostgreSQL", "--Cube:Database:ConnectionString", "Host=;;Port=notanumber");
        Assert.Contains("Cube:Database:ConnectionString", error.Message);
    }

    [Fact]
    public async Task Start_Fails_WhenStorageKindIsUnknown()
    {
        var error = await StartFailsAsync("--Cube:Storage:Kind", "Floppy");
        Assert.Contains("Cube:Storage:Kind 'Floppy' is unknown", error.Message);
    }

    [Fact]
    public async Task Start_Fails_WhenS3EndpointIsMissing()
    {
        var error = await StartFailsAsync("--Cube:Storage:Kind", "S3", "--Cube:Storage:S3:AccessKey", "k", "--Cube:Storage:S3:SecretKey", "s");
        Assert.Contains("Cube:Storage:S3:Endpoint", error.Message);
    }

    [Fact]
    public async Task Readyz_Returns503NamingTheEndpoint_WhenS3IsUnreachable()
    {
        using var data = new TempDirectory();
        string[] args =
        [
            "--Cube:DataDirectory", data.Path, "--urls", "http://127.0.0.1:0", "--Cube:Admin:Password", "irrelevant-password",
            "--Cube:Storage:Kind", "S3", "--Cube:Storage:S3:Endpoint", "http://127.0.0.1:1",
            "--Cube:Storage:S3:AccessKey", "k", "--Cube:Storage:S3:SecretKey", "s",
        ];
        await using var app = CubeApp.BuildServer(args);
        await app.StartAsync(TestContext.Current.CancellationToken);
        using var client = new HttpClient { BaseAddress = new Uri(app.Urls.First()) };

        var response = await client.GetAsync("/readyz");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("unready", body.GetProperty("status").GetString());
        var storage = body.GetProperty("checks").GetProperty("storage");
        Assert.Equal("unhealthy", storage.GetProperty("status").GetString());
        Assert.Contains("127.0.0.1:1", storage.GetProperty("detail").GetString());
        Assert.Equal("healthy", body.GetProperty("checks").GetProperty("database").GetProperty("status").GetString());
        await app.StopAsync(TestContext.Current.CancellationToken);
    }

    [Fact]
    public async Task Start_FailsNamingTheDatabase_WhenPostgresIsUnreachable()
    {
        using var data = new TempDirectory();
        string[] args =
        [
            "--Cube:DataDirectory", data.Path, "--urls", "http://127.0.0.1:0",
            "--Cube:Database:Provider", "PostgreSQL", "--Cube:Database:ConnectionString", "Host=127.0.0.1;Port=1;Username=x;Password=y;Timeout=2",
            "--Cube:Database:MigrateOnStartup", "false",
        ];
        await using var app = CubeApp.BuildServer(args);
        var error = await Assert.ThrowsAsync<Cube.Core.Hosting.StartupException>(() => app.StartAsync(TestContext.Current.CancellationToken));
        Assert.Contains("Cube:Database", error.Message);
        Assert.Contains("127.0.0.1", error.Message);
    }
}
