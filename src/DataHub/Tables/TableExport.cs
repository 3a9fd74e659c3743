using System.Globalization;
using System.Text;
using System.Text.Json;
using Apache.Arrow;
using Apache.Arrow.Ipc;

namespace Cube.DataHub.Tables;

/// <summary>Streams a table out as CSV, JSON Lines, Arrow IPC (stream format) or Parquet, one batch at a time.</summary>
public static class TableExport
{
    /// <summary>RFC 4180 CSV with a header; fields are quoted only when they hold a comma, quote or line break.</summary>
    public static async Task WriteCsvAsync(TableReader table, Stream output, IReadOnlyList<string>? columns = null, CancellationToken cancellationToken = default)
    {
        var writer = new StreamWriter(output, new UTF8Encoding(false), 1 << 16, leaveOpen: true);
        await using (writer.ConfigureAwait(false))
        {
            var header = true;
            var line = new StringBuilder();
            await foreach (var batch in table.ReadAsync(columns, cancellationToken: cancellationToken).ConfigureAwait(false))
            {
                using (batch)
                {
                    if (header)
                    {
                        await writer.WriteLineAsync(string.Join(',', batch.Schema.FieldsList.Select(f => Quote(f.Name)))).ConfigureAwait(false);
                        header = false;
                    }
                    for (var r = 0; r < batch.Length; r++)
                    {
                        line.Clear();
                        for (var c = 0; c < batch.ColumnCount; c++)
                        {
                            if (c > 0) line.Append(',');
                            line.Append(Quote(Format(ArrowValues.Get(batch.Column(c), r))));
                        }
                        line.Append('\n');
                        await writer.WriteAsync(line, cancellationToken).ConfigureAwait(false);
                    }
                }
            }
            if (header) await writer.WriteLineAsync(string.Join(',', Project(table.Schema, columns).Select(Quote))).ConfigureAwait(false);
        }
    }

    /// <summary>One JSON object per row; timestamps and dates as ISO 8601 text.</summary>
    public static async Task WriteJsonLinesAsync(TableReader table, Stream output, IReadOnlyList<string>? columns = null, CancellationToken cancellationToken = default)
    {
        var json = new Utf8JsonWriter(output, new JsonWriterOptions { SkipValidation = true });
        await using (json.ConfigureAwait(false))
        {
            await foreach (var batch in table.ReadAsync(columns, cancellationToken: cancellationToken).ConfigureAwait(false))
            {
                using (batch)
                {
                    for (var r = 0; r < batch.Length; r++)
                    {
                        json.WriteStartObject();
                        for (var c = 0; c < batch.ColumnCount; c++)
                        {
                            json.WritePropertyName(batch.Schema.GetFieldByIndex(c).Name);
                            JsonSerializer.Serialize(json, ArrowValues.Get(batch.Column(c), r));
                        }
                        json.WriteEndObject();
                        await json.FlushAsync(cancellationToken).ConfigureAwait(false);
                        json.Reset();
                        output.WriteByte((byte)'\n');
                    }
                }
            }
        }
    }

    /// <summary>Arrow IPC stream format. Dictionary columns are decoded to plain strings (see <see cref="DictionaryDecoding"/>).</summary>
    public static async Task WriteArrowStreamAsync(TableReader table, Stream output, IReadOnlyList<string>? columns = null, CancellationToken cancellationToken = default)
    {
        var schema = DictionaryDecoding.DecodeSchema(columns is null ? table.Schema
            : new Schema([.. columns.Select(n => table.Schema.GetFieldByName(n))], table.Schema.Metadata));
        await WriteArrowStreamAsync(schema, table.ReadAsync(columns, cancellationToken: cancellationToken), output, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Arrow IPC stream of any batches, decoding dictionary string columns first.</summary>
    public static async Task WriteArrowStreamAsync(Schema schema, IAsyncEnumerable<RecordBatch> batches, Stream output, CancellationToken cancellationToken = default)
    {
        var decoded = DictionaryDecoding.DecodeSchema(schema);
        using var writer = new ArrowStreamWriter(output, decoded, leaveOpen: true);
        await writer.WriteStartAsync(cancellationToken).ConfigureAwait(false);
        await foreach (var batch in batches.WithCancellation(cancellationToken).ConfigureAwait(false))
        {
            using (batch)
            {
                await writer.WriteRecordBatchAsync(DictionaryDecoding.Decode(batch, decoded), cancellationToken).ConfigureAwait(false);
            }
        }
        await writer.WriteEndAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The stored Parquet file as it is: it already is the table's canonical form.</summary>
    public static async Task CopyParquetAsync(string parquetPath, Stream output, CancellationToken cancellationToken = default)
    {
        var file = new FileStream(parquetPath, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, useAsync: true);
        await using (file.ConfigureAwait(false))
            await file.CopyToAsync(output, cancellationToken).ConfigureAwait(false);
    }

    private static IEnumerable<string> Project(Schema schema, IReadOnlyList<string>? columns) => columns ?? schema.FieldsList.Select(f => f.Name);

    private static string Format(object? value) => value switch
    {
        null => "",
        double d => d.ToString("R", CultureInfo.InvariantCulture),
        bool b => b ? "true" : "false",
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString() ?? "",
    };

    private static string Quote(string value) =>
        value.AsSpan().IndexOfAny(",\"\n\r") < 0 ? value : "\"" + value.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";
}
