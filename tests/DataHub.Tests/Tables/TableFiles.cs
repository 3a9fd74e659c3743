using System.Text;
using DuckDB.NET.Data;

namespace Cube.DataHub.Tests.Tables;

/// <summary>A temporary directory per test, with helpers to write inputs and query outputs with DuckDB.</summary>
internal sealed class TableFiles : IDisposable
{
    public TableFiles() => Directory.CreateDirectory(Root);

    public string Root { get; } = Path.Combine(Path.GetTempPath(), "cube-tables-" + Guid.NewGuid().ToString("N"));

    public string Path_(string name) => Path.Combine(Root, name);

    public string Write(string name, string text, Encoding? encoding = null)
    {
        var path = Path_(name);
        File.WriteAllText(path, text, encoding ?? new UTF8Encoding(false));
        return path;
    }

    public string WriteBytes(string name, byte[] bytes)
    {
        var path = Path_(name);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    /// <summary>Runs a query with DuckDB and returns the rows as object arrays (DBNull mapped to null).</summary>
    public static List<object?[]> Query(string sql)
    {
        using var connection = new DuckDBConnection("Data Source=:memory:");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        using var reader = command.ExecuteReader();
        var rows = new List<object?[]>();
        while (reader.Read())
        {
            var row = new object?[reader.FieldCount];
            for (var i = 0; i < row.Length; i++) row[i] = reader.IsDBNull(i) ? null : reader.GetValue(i);
            rows.Add(row);
        }
        return rows;
    }

    public void Dispose()
    {
        try { Directory.Delete(Root, recursive: true); } catch (IOException) { /* a native handle may linger on some platforms */ }
    }
}
