using System.ComponentModel.DataAnnotations;
using Microsoft.Data.Sqlite;
using Npgsql;

namespace Cube.Core.Data;

/// <summary>Metadata database settings (section <c>Cube:Database</c>).</summary>
public sealed class DatabaseOptions : IValidatableObject
{
    public const string SectionName = "Cube:Database";

    /// <summary><c>Sqlite</c> (default: a file under the data directory) or <c>PostgreSQL</c>.</summary>
    public string Provider { get; set; } = "Sqlite";

    /// <summary>Required for PostgreSQL; for SQLite it defaults to <c>{DataDirectory}/cube.db</c>.</summary>
    public string? ConnectionString { get; set; }

    /// <summary>Apply pending migrations at start-up. Defaults to on for SQLite and off for PostgreSQL (run <c>cube migrate</c>).</summary>
    public bool? MigrateOnStartup { get; set; }

    public DatabaseProvider GetProvider() => Provider.ToUpperInvariant() switch
    {
        "SQLITE" => DatabaseProvider.Sqlite,
        "POSTGRESQL" or "POSTGRES" or "NPGSQL" => DatabaseProvider.PostgreSql,
        _ => throw new InvalidOperationException($"Cube:Database:Provider '{Provider}' is unknown; use 'Sqlite' or 'PostgreSQL'."),
    };

    public bool ShouldMigrateOnStartup() => MigrateOnStartup ?? GetProvider() == DatabaseProvider.Sqlite;

    public string ResolveConnectionString(CubeOptions cube)
    {
        if (GetProvider() == DatabaseProvider.PostgreSql) return ConnectionString!;
        Directory.CreateDirectory(cube.DataPath);
        return WithSqliteSettings(ConnectionString ?? $"Data Source={Path.Combine(cube.DataPath, "cube.db")}");
    }

    /// <summary>A SQLite connection string with the settings Cube runs SQLite with (benchmarks use it too, to measure the same thing).</summary>
    public static string WithSqliteSettings(string connectionString) => new SqliteConnectionStringBuilder(connectionString)
    {
        // Writers wait for the lock instead of failing with SQLITE_BUSY (Microsoft.Data.Sqlite retries until this timeout).
        DefaultTimeout = 30,
        ForeignKeys = true,
        Pooling = true,
    }.ToString();

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        DatabaseProvider provider;
        try
        {
            provider = GetProvider();
        }
        catch (InvalidOperationException e)
        {
            return [new ValidationResult(e.Message, [nameof(Provider)])];
        }
        if (provider == DatabaseProvider.PostgreSql && string.IsNullOrWhiteSpace(ConnectionString))
            return [new ValidationResult("Cube:Database:ConnectionString is required when Cube:Database:Provider is PostgreSQL.", [nameof(ConnectionString)])];
        if (ConnectionString is null) return [];
        try
        {
            if (provider == DatabaseProvider.PostgreSql)
            {
                var builder = new NpgsqlConnectionStringBuilder(ConnectionString);
                if (string.IsNullOrEmpty(builder.Host))
                    return [new ValidationResult("Cube:Database:ConnectionString names no Host.", [nameof(ConnectionString)])];
            }
            else
            {
                _ = new SqliteConnectionStringBuilder(ConnectionString);
            }
        }
        catch (Exception e) when (e is ArgumentException or FormatException or KeyNotFoundException or InvalidOperationException)
        {
            return [new ValidationResult($"Cube:Database:ConnectionString is malformed: {e.Message}", [nameof(ConnectionString)])];
        }
        return [];
    }
}

public enum DatabaseProvider
{
    Sqlite,
    PostgreSql,
}
