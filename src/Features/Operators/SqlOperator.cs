using Apache.Arrow;
using Cube.Features.Engine;
using DuckDB.NET.Data;

namespace Cube.Features.Operators;

/// <summary>
/// An ad-hoc SQL step run by DuckDB over each batch, which the query sees as the table <c>input</c>. The query applies
/// row by row within a batch (aggregates see one batch only), so it must be row-wise for batch and online results to
/// agree. Results come back through DuckDB's Arrow stream, never through the row reader.
/// </summary>
public sealed class SqlOperator(Params p) : FeatureOperator, IDisposable
{
    private readonly string _query = p.String("query");
    private DuckDBConnection? _connection;
    private FrameSchema? _output;
    private string? _tableColumns;

    public override string Kind => "sql";
    public override bool CarriesStateAcrossBatches => true;
    protected override bool HasState => true;

    protected override FrameSchema BindCore(FrameSchema input)
    {
        if (input.Fields.Any(f => f.Kind is DataKind.StringList or DataKind.SparseVector))
            throw new StepException("query", "A SQL step cannot take token-list or sparse-vector columns; drop them first.");
        var trimmed = _query.Trim().TrimEnd(';');
        if (trimmed.Contains(';')) throw new StepException("query", "The query must be a single SELECT statement.");
        if (!trimmed.StartsWith("select", StringComparison.OrdinalIgnoreCase) && !trimmed.StartsWith("with", StringComparison.OrdinalIgnoreCase))
            throw new StepException("query", "The query must be a SELECT (or WITH … SELECT) statement over the table 'input'.");
        try
        {
            var result = Run(Frame.Empty(input));
            var unsupported = new List<string>();
            _output = ArrowFrames.SchemaOf(result.Schema, unsupported);
            if (unsupported.Count > 0) throw new StepException("query", $"The query returns columns of unsupported types: {string.Join(", ", unsupported)}; cast them.");
            return _output;
        }
        catch (DuckDBException e)
        {
            throw new StepException("query", $"DuckDB rejects the query: {e.Message}");
        }
        catch (ArgumentException e)
        {
            throw new StepException("query", e.Message);
        }
    }

    public override Frame Transform(Frame input)
    {
        try
        {
            var result = Run(input);
            return ArrowFrames.ToFrame(result, _output!);
        }
        catch (DuckDBException e)
        {
            throw new TransformException($"DuckDB failed on the batch: {e.Message}", null, null);
        }
    }

    private RecordBatch Run(Frame input)
    {
        var connection = Connection();
        using (var command = connection.CreateCommand())
        {
            // The table is made once per schema and emptied per batch: re-creating it costs more than small batches do.
            var columns = string.Join(", ", input.Schema.Fields.Select(f => $"{Quote(f.Name)} {SqlType(f.Kind)}"));
            command.CommandText = columns == _tableColumns ? "DELETE FROM input" : $"CREATE OR REPLACE TEMP TABLE input ({columns})";
            command.ExecuteNonQuery();
            _tableColumns = columns;
        }
        using (var appender = connection.CreateAppender("input"))
        {
            for (var i = 0; i < input.RowCount; i++)
            {
                var row = appender.CreateRow();
                foreach (var column in input.Columns)
                {
                    if (!column.IsValid(i))
                    {
                        row.AppendNullValue();
                        continue;
                    }
                    switch (column.Kind)
                    {
                        case DataKind.Int64: row.AppendValue(column.Int64[i]); break;
                        case DataKind.Float64: row.AppendValue(column.Float64[i]); break;
                        case DataKind.Boolean: row.AppendValue(column.Boolean[i]); break;
                        case DataKind.String: row.AppendValue(column.String[i]); break;
                        case DataKind.Timestamp: row.AppendValue(DateTime.UnixEpoch.AddTicks(column.Timestamp[i] * 10)); break;
                    }
                }
                row.EndRow();
            }
        }
        using var query = connection.CreateCommand();
        query.CommandText = _query.Trim().TrimEnd(';');
        using var stream = query.ExecuteArrowStream();
        var batches = new List<RecordBatch>();
        while (stream.ReadNextRecordBatchAsync().AsTask().GetAwaiter().GetResult() is { } batch) batches.Add(batch);
        if (batches.Count == 1) return batches[0];
        var frames = batches.Select(b => ArrowFrames.ToFrame(b)).ToList();
        var schema = ArrowFrames.SchemaOf(stream.Schema);
        return ArrowFrames.ToRecordBatch(frames.Count == 0 ? Frame.Empty(schema) : Frame.Concat(schema, frames));
    }

    private DuckDBConnection Connection()
    {
        if (_connection is not null) return _connection;
        _connection = new DuckDBConnection("Data Source=:memory:");
        _connection.Open();
        using var command = _connection.CreateCommand();
        // One thread per step: batches already arrive in parallel from the pipeline's callers.
        command.CommandText = "SET threads = 1";
        command.ExecuteNonQuery();
        return _connection;
    }

    private static string Quote(string name) => "\"" + name.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";

    private static string SqlType(DataKind kind) => kind switch
    {
        DataKind.Int64 => "BIGINT",
        DataKind.Float64 => "DOUBLE",
        DataKind.Boolean => "BOOLEAN",
        DataKind.String => "VARCHAR",
        DataKind.Timestamp => "TIMESTAMP",
        _ => throw new StepException("query", $"{kind} columns cannot go to SQL."),
    };

    public void Dispose() => _connection?.Dispose();
}
