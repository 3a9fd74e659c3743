using RecordBatch = Apache.Arrow.RecordBatch;
using Cube.Features.Engine;
using DuckDB.NET.Data;

namespace Cube.Features.Tests;

/// <summary>DuckDB computing the same thing on the same data: the reference the engine is checked against.</summary>
internal sealed class Oracle : IDisposable
{
    private readonly DuckDBConnection _connection = new("Data Source=:memory:");

    public Oracle(Frame table, string name = "t")
    {
        _connection.Open();
        Load(table, name);
    }

    /// <summary>Adds another table (the right side of a join).</summary>
    public void Load(Frame table, string name)
    {
        var columns = string.Join(", ", table.Schema.Fields.Select(f => $"\"{f.Name}\" {f.Kind switch
        {
            DataKind.Int64 => "BIGINT",
            DataKind.Float64 => "DOUBLE",
            DataKind.Boolean => "BOOLEAN",
            DataKind.Timestamp => "TIMESTAMP",
            _ => "VARCHAR",
        }}"));
        Execute($"CREATE TABLE {name} ({columns})");
        using var appender = _connection.CreateAppender(name);
        for (var i = 0; i < table.RowCount; i++)
        {
            var row = appender.CreateRow();
            foreach (var column in table.Columns)
            {
                if (!column.IsValid(i)) { row.AppendNullValue(); continue; }
                switch (column.Kind)
                {
                    case DataKind.Int64: row.AppendValue(column.Int64[i]); break;
                    case DataKind.Float64: row.AppendValue(column.Float64[i]); break;
                    case DataKind.Boolean: row.AppendValue(column.Boolean[i]); break;
                    case DataKind.Timestamp: row.AppendValue(DateTime.UnixEpoch.AddTicks(column.Timestamp[i] * 10)); break;
                    default: row.AppendValue(column.String[i]); break;
                }
            }
            row.EndRow();
        }
    }

    public void Execute(string sql)
    {
        using var command = _connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    /// <summary>Runs a query and returns its result as a frame (through DuckDB's Arrow stream).</summary>
    public Frame Query(string sql)
    {
        using var command = _connection.CreateCommand();
        command.CommandText = sql;
        using var stream = command.ExecuteArrowStream();
        var schema = ArrowFrames.SchemaOf(stream.Schema);
        var frames = new List<Frame>();
        while (stream.ReadNextRecordBatchAsync().AsTask().GetAwaiter().GetResult() is RecordBatch batch) frames.Add(ArrowFrames.ToFrame(batch, schema));
        return frames.Count == 0 ? Frame.Empty(schema) : Frame.Concat(schema, frames);
    }

    public double Scalar(string sql)
    {
        var frame = Query(sql);
        var column = frame.Columns[0];
        return column.Kind == DataKind.Int64 ? column.Int64[0] : column.Float64[0];
    }

    public void Dispose() => _connection.Dispose();
}

/// <summary>Random test tables with nulls, NaN, negative numbers, repeated categories and timestamps.</summary>
internal static class TestData
{
    public static Frame Table(int rows, int seed = 7)
    {
        var random = new Random(seed);
        var a = new long[rows];
        var aValid = new bool[rows];
        var b = new long[rows];
        var x = new double[rows];
        var xValid = new bool[rows];
        var s = new string?[rows];
        var ts = new long[rows];
        var flag = new bool[rows];
        string[] categories = ["a", "b", "c", "Bb", "dd", "e"];
        var start = new DateTime(2024, 1, 1, 0, 0, 0, DateTimeKind.Utc);
        for (var i = 0; i < rows; i++)
        {
            a[i] = random.Next(-20, 20);
            aValid[i] = random.NextDouble() > 0.1;
            b[i] = random.Next(-3, 4);
            x[i] = random.NextDouble() switch
            {
                < 0.03 => double.NaN,
                var r => Math.Round((r - 0.3) * 100, 3),
            };
            xValid[i] = random.NextDouble() > 0.08;
            // Skewed frequencies so vocabularies have a clear order.
            s[i] = random.NextDouble() < 0.05 ? null : categories[Math.Min(categories.Length - 1, (int)(-Math.Log(1 - random.NextDouble()) * 1.7))];
            ts[i] = (start.AddMinutes(random.Next(0, 60 * 24 * 400)).Ticks - DateTime.UnixEpoch.Ticks) / 10;
            flag[i] = random.Next(2) == 0;
        }
        var schema = new FrameSchema([
            new("a", DataKind.Int64), new("b", DataKind.Int64), new("x", DataKind.Float64), new("s", DataKind.String),
            new("ts", DataKind.Timestamp), new("flag", DataKind.Boolean)]);
        return new Frame(schema, [Column.OfInt64(a, aValid), Column.OfInt64(b), Column.OfFloat64(x, xValid), Column.OfString(s), Column.OfTimestamp(ts), Column.OfBoolean(flag)], rows);
    }

    /// <summary>Asserts two columns hold the same values and nulls (doubles within a relative 1e-9).</summary>
    public static void AssertSame(Column expected, Column actual, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (var i = 0; i < expected.Length; i++)
        {
            Assert.True(expected.IsValid(i) == actual.IsValid(i), $"{what}: row {i} null {(expected.IsValid(i) ? "not expected" : "expected")}");
            if (!expected.IsValid(i)) continue;
            switch (expected.Kind)
            {
                case DataKind.Float64 or DataKind.Int64 when actual.Kind is DataKind.Float64 or DataKind.Int64:
                {
                    var e = expected.Kind == DataKind.Int64 ? expected.Int64[i] : expected.Float64[i];
                    var a = actual.Kind == DataKind.Int64 ? actual.Int64[i] : actual.Float64[i];
                    if (double.IsNaN(e)) Assert.True(double.IsNaN(a), $"{what}: row {i} expected NaN, got {a}");
                    else Assert.True(Math.Abs(e - a) <= 1e-9 * Math.Max(1, Math.Abs(e)), $"{what}: row {i} expected {e}, got {a}");
                    break;
                }
                case DataKind.Boolean: Assert.True(expected.Boolean[i] == actual.Boolean[i], $"{what}: row {i} expected {expected.Boolean[i]}"); break;
                case DataKind.String: Assert.True(expected.String[i] == actual.String[i], $"{what}: row {i} expected '{expected.String[i]}', got '{actual.String[i]}'"); break;
                case DataKind.Timestamp: Assert.Equal(expected.Timestamp[i], actual.Timestamp[i]); break;
                default: Assert.Fail($"{what}: cannot compare {expected.Kind} with {actual.Kind}"); break;
            }
        }
    }
}
