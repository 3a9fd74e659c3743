using Cube.Core.Data;
using Npgsql;

namespace Cube.Core.Tests.Data;

public sealed class ModuleDatabaseTests
{
    [Fact]
    public void WithStatementReuse_KeepsSessionsAndPreparesStatements_WhenTheConnectionStringIsSilent()
    {
        var builder = new NpgsqlConnectionStringBuilder(ModuleDatabase.WithStatementReuse("Host=db;Username=cube;Password=secret;Database=cube"));

        Assert.True(builder.NoResetOnClose);
        Assert.Equal(50, builder.MaxAutoPrepare);
        Assert.Equal("db", builder.Host);
        Assert.Equal("secret", builder.Password);
    }

    [Theory]
    [InlineData("Host=db;No Reset On Close=false;Max Auto Prepare=0")]
    [InlineData("Host=db;NoResetOnClose=false;MaxAutoPrepare=0")]
    [InlineData("host=db;no reset on close=False;max auto prepare=0")]
    public void WithStatementReuse_LeavesWhatTheConnectionStringSays(string connectionString)
    {
        var builder = new NpgsqlConnectionStringBuilder(ModuleDatabase.WithStatementReuse(connectionString));

        Assert.False(builder.NoResetOnClose);
        Assert.Equal(0, builder.MaxAutoPrepare);
    }
}
