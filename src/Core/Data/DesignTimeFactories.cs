using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Design;

namespace Cube.Core.Data;

/// <summary>
/// Lets <c>dotnet ef migrations add</c> build a provider's context without starting the host. The connection
/// strings are placeholders: generating migrations never connects.
/// </summary>
public abstract class DesignTimeFactory<TContext> : IDesignTimeDbContextFactory<TContext> where TContext : DbContext
{
    protected abstract DatabaseProvider Provider { get; }
    protected abstract string Module { get; }

    public TContext CreateDbContext(string[] args)
    {
        var builder = new DbContextOptionsBuilder<TContext>();
        var history = $"__migrations_{Module}";
        if (Provider == DatabaseProvider.Sqlite)
            builder.UseSqlite("Data Source=design.db", o => o.MigrationsHistoryTable(history));
        else
            builder.UseNpgsql("Host=localhost", o => o.MigrationsHistoryTable(history));
        return (TContext)Activator.CreateInstance(typeof(TContext), builder.Options)!;
    }
}

internal sealed class SqliteCoreDesignFactory : DesignTimeFactory<SqliteCoreDbContext>
{
    protected override DatabaseProvider Provider => DatabaseProvider.Sqlite;
    protected override string Module => "core";
}

internal sealed class PostgresCoreDesignFactory : DesignTimeFactory<PostgresCoreDbContext>
{
    protected override DatabaseProvider Provider => DatabaseProvider.PostgreSql;
    protected override string Module => "core";
}
