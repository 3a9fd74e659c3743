using Npgsql;

namespace Cube.Testing;

/// <summary>
/// Where the real servers the tests need are found. The test script (README) starts PostgreSQL and moto_server and
/// sets <c>CUBE_TEST_REQUIRE_SERVICES=1</c>, so a missing server fails the run there; a bare <c>dotnet test</c>
/// without them reports those tests as skipped instead.
/// </summary>
public static class TestServices
{
    public static bool Required => Environment.GetEnvironmentVariable("CUBE_TEST_REQUIRE_SERVICES") == "1";

    public static string PostgresAdminConnectionString =>
        Environment.GetEnvironmentVariable("CUBE_TEST_POSTGRES") ?? "Host=127.0.0.1;Port=5432;Username=postgres;Password=postgres;Database=postgres";

    /// <summary>Skips (or fails, when services are required) the current test with a reason.</summary>
    public static void Unavailable(string what, string reason)
    {
        var message = $"{what} is not available: {reason}";
        if (Required) throw new InvalidOperationException(message + " (CUBE_TEST_REQUIRE_SERVICES=1)");
        Assert.Skip(message);
    }
}

/// <summary>A throwaway PostgreSQL database on the test server, dropped on dispose.</summary>
public sealed class PostgresDatabase : IAsyncDisposable
{
    private PostgresDatabase(string name, string connectionString)
    {
        Name = name;
        ConnectionString = connectionString;
    }

    public string Name { get; }
    public string ConnectionString { get; }

    /// <summary>Creates a database, or returns null with the reason when the server cannot be reached.</summary>
    public static async Task<(PostgresDatabase? Database, string? Problem)> TryCreateAsync()
    {
        var name = "cube_test_" + Guid.NewGuid().ToString("N")[..12];
        try
        {
            await using var connection = new NpgsqlConnection(TestServices.PostgresAdminConnectionString);
            await connection.OpenAsync();
            await using var command = new NpgsqlCommand($"CREATE DATABASE \"{name}\"", connection);
            await command.ExecuteNonQueryAsync();
        }
        catch (Exception e) when (e is NpgsqlException or System.Net.Sockets.SocketException or TimeoutException)
        {
            return (null, e.Message);
        }
        var builder = new NpgsqlConnectionStringBuilder(TestServices.PostgresAdminConnectionString) { Database = name, Pooling = true };
        return (new PostgresDatabase(name, builder.ToString()), null);
    }

    public async ValueTask DisposeAsync()
    {
        NpgsqlConnection.ClearAllPools();
        try
        {
            await using var connection = new NpgsqlConnection(TestServices.PostgresAdminConnectionString);
            await connection.OpenAsync();
            await using var command = new NpgsqlCommand($"DROP DATABASE IF EXISTS \"{Name}\" WITH (FORCE)", connection);
            await command.ExecuteNonQueryAsync();
        }
        catch (NpgsqlException)
        {
            // Best effort: a leftover test database is harmless and named as such.
        }
    }
}

/// <summary>A temporary directory removed on dispose.</summary>
public sealed class TempDirectory : IDisposable
{
    public TempDirectory() => Directory.CreateDirectory(Path);

    public string Path { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "cube-test-" + Guid.NewGuid().ToString("N")[..12]);

    public void Dispose()
    {
        try { Directory.Delete(Path, recursive: true); }
        catch (IOException) { }
    }
}
