using System.Collections.Concurrent;
using Apache.Arrow;
using Apache.Arrow.Ipc;
using Cube.DataHub.Tables.Text;

namespace Cube.DataHub.Tables;

/// <summary>
/// Turns CSV/TSV, JSON Lines, Parquet or Arrow IPC input into a Parquet table (ParquetSharp Arrow writer, zstd or
/// snappy, repeating strings dictionary-encoded) and returns its schema, row count and column statistics.
/// Text inputs are read twice: types are inferred on a sample, then the whole file is converted in batches; a later
/// value that breaks an inferred type widens it (int64 → double → string) and conversion restarts, so memory stays
/// bounded by the batch size whatever the file size.
/// </summary>
public static class TableIngest
{
    private const int SniffBytes = 64 * 1024;

    /// <summary>Ingests a stream; a non-seekable one is first spooled to a temporary file (bounded memory).</summary>
    public static async Task<TableIngestResult> IngestAsync(Stream input, string fileName, string outputPath,
        TableIngestOptions? options = null, CancellationToken cancellationToken = default)
    {
        if (input is FileStream { CanSeek: true } file)
            return await IngestFileAsync(file.Name, outputPath, options, fileName, cancellationToken).ConfigureAwait(false);
        var spool = Path.Combine(Path.GetTempPath(), $"cube-ingest-{Guid.NewGuid():N}{Path.GetExtension(fileName)}");
        try
        {
            await using (var copy = new FileStream(spool, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16, useAsync: true))
                await input.CopyToAsync(copy, cancellationToken).ConfigureAwait(false);
            return await IngestFileAsync(spool, outputPath, options, fileName, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            File.Delete(spool);
        }
    }

    /// <summary>
    /// Writes batches a producer computes (a feature pipeline's output, say) straight to a Parquet table with the same
    /// encodings and statistics as an ingest, without an intermediate file. The producer runs on its own thread; a batch
    /// handed over as a function is built on the thread pool while the producer goes on, and batches are written in the
    /// order they were handed over. A failure deletes the partial output.
    /// </summary>
    public static async Task<TableIngestResult> WriteAsync(string outputPath, Schema schema, Func<BatchSink, CancellationToken, Task> produce,
        TableIngestOptions? options = null, CancellationToken cancellationToken = default)
    {
        try
        {
            return await RewriteAsync(TableFormat.ArrowIpc, schema, outputPath, options ?? new TableIngestOptions(), produce, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            File.Delete(outputPath);
            throw;
        }
    }

    /// <summary>Ingests the file at <paramref name="inputPath"/> into a Parquet file at <paramref name="outputPath"/>.</summary>
    public static Task<TableIngestResult> IngestFileAsync(string inputPath, string outputPath,
        TableIngestOptions? options = null, CancellationToken cancellationToken = default) =>
        IngestFileAsync(inputPath, outputPath, options, Path.GetFileName(inputPath), cancellationToken);

    private static async Task<TableIngestResult> IngestFileAsync(string inputPath, string outputPath,
        TableIngestOptions? options, string fileName, CancellationToken cancellationToken)
    {
        options ??= new TableIngestOptions();
        var head = ReadHead(inputPath);
        if (head.Length == 0) throw new TableFormatException(fileName, "The file is empty.");
        var format = options.Format ?? DetectFormat(head, fileName);
        try
        {
            return format switch
            {
                TableFormat.Parquet => await RewriteParquetAsync(inputPath, outputPath, options, fileName, cancellationToken).ConfigureAwait(false),
                TableFormat.ArrowIpc => await RewriteIpcAsync(inputPath, outputPath, options, fileName, head, cancellationToken).ConfigureAwait(false),
                _ => await IngestTextAsync(inputPath, outputPath, options, fileName, format, head, cancellationToken).ConfigureAwait(false),
            };
        }
        catch
        {
            // Nothing half-written is left behind for the caller to commit by mistake.
            File.Delete(outputPath);
            throw;
        }
    }

    private static byte[] ReadHead(string path)
    {
        using var file = File.OpenRead(path);
        var head = new byte[Math.Min(SniffBytes, file.Length)];
        file.ReadExactly(head);
        return head;
    }

    private static TableFormat DetectFormat(ReadOnlySpan<byte> head, string fileName)
    {
        var extension = Path.GetExtension(fileName).ToLowerInvariant();
        if (head.StartsWith("PAR1"u8) || extension == ".parquet") return TableFormat.Parquet;
        if (head.StartsWith("ARROW1"u8) || head.StartsWith((ReadOnlySpan<byte>)[0xFF, 0xFF, 0xFF, 0xFF]) || extension is ".arrow" or ".arrows" or ".ipc" or ".feather")
            return TableFormat.ArrowIpc;
        if (extension is ".jsonl" or ".ndjson") return TableFormat.JsonLines;
        var trimmed = head.TrimStart(" \t\r\n"u8);
        if (trimmed.StartsWith((ReadOnlySpan<byte>)[0xEF, 0xBB, 0xBF])) trimmed = trimmed[3..];
        return trimmed.StartsWith("{"u8) && extension is not ".csv" and not ".tsv" ? TableFormat.JsonLines : TableFormat.Csv;
    }

    private static async Task<TableIngestResult> IngestTextAsync(string inputPath, string outputPath, TableIngestOptions options,
        string fileName, TableFormat format, byte[] head, CancellationToken cancellationToken)
    {
        var encoding = options.Encoding ?? TextEncoding.Detect(head);
        CsvDialect? dialect = null;
        List<string> columns = [];
        if (format == TableFormat.Csv)
        {
            using var sampleStream = TextEncoding.OpenUtf8(inputPath, encoding);
            var sample = new byte[SniffBytes];
            var length = sampleStream.ReadAtLeast(sample, sample.Length, throwOnEndOfStream: false);
            if (length == 0) throw new TableFormatException(fileName, "The file is empty.");
            dialect = CsvDialectDetector.Detect(sample.AsSpan(0, length), (byte?)options.Delimiter, (byte?)options.Quote, options.HasHeader);
        }
        else
        {
            columns = JsonLinesSource.DiscoverColumns(TextEncoding.OpenUtf8(inputPath, encoding), fileName, Math.Min(options.InferenceRows, 1000));
        }

        IRawSource Open() => dialect is not null
            ? new CsvSource(TextEncoding.OpenUtf8(inputPath, encoding), fileName, dialect, options.BatchRows)
            : new JsonLinesSource(TextEncoding.OpenUtf8(inputPath, encoding), fileName, columns, options.BatchRows);

        List<ColumnPlan> InferPlans()
        {
            // The sample is read in whole batches, which may show JSON keys the column discovery did not see.
            for (var attempt = 0; ; attempt++)
            {
                try
                {
                    using var sampleSource = Open();
                    return TypeInference.Infer(sampleSource, options.InferenceRows);
                }
                catch (SchemaWideningException widening) when (attempt < 1000)
                {
                    columns = [.. widening.Columns];
                }
            }
        }

        var plans = InferPlans();
        for (var restarts = 0; ; restarts++)
        {
            var converter = new BatchConverter(plans);
            try
            {
                // Parsing stays on the producer thread (records are cut in order); each batch's bytes are copied out
                // of the parser's buffer so its conversion can run on another core while the parser reads on.
                var converters = new ConcurrentBag<BatchConverter>([converter]);
                var spare = new ConcurrentBag<RawBatch>();
                var (rows, stats) = await ParquetTableWriter.WriteAsync(outputPath, converter.Schema, options.Compression, options.BatchRows, options.Statistics, async (sink, ct) =>
                {
                    using var source = Open();
                    while (source.Next() is { } raw)
                    {
                        ct.ThrowIfCancellationRequested();
                        if (!spare.TryTake(out var owned)) owned = new RawBatch(raw.Columns, raw.CapacityRows);
                        owned.CopyFrom(raw);
                        await sink.WriteAsync(() =>
                        {
                            if (!converters.TryTake(out var mine)) mine = new BatchConverter(plans);
                            try
                            {
                                return mine.Convert(owned);
                            }
                            finally
                            {
                                converters.Add(mine);
                                spare.Add(owned);
                            }
                        }, ct).ConfigureAwait(false);
                    }
                }, cancellationToken).ConfigureAwait(false);
                var statistics = stats is null ? [] : stats.Finish();
                return new TableIngestResult(format, converter.Schema, rows, statistics, encoding, dialect, restarts);
            }
            catch (TypeWideningException widening) when (restarts < 4 * plans.Count + 4)
            {
                plans = [.. widening.Plans];
            }
            catch (SchemaWideningException widening) when (restarts < 4 * plans.Count + 4)
            {
                columns = [.. widening.Columns];
                var known = plans.ToDictionary(p => p.Name);
                plans = [.. InferPlans().Select(p => known.GetValueOrDefault(p.Name) ?? p)];
            }
        }
    }

    private static async Task<TableIngestResult> RewriteParquetAsync(string inputPath, string outputPath, TableIngestOptions options,
        string fileName, CancellationToken cancellationToken)
    {
        // Opening reads and checks the footer: a truncated file or another format fails here, before any output.
        using var reader = TableReader.Open(inputPath);
        return await RewriteAsync(TableFormat.Parquet, reader.Schema, outputPath, options, async (writer, ct) =>
        {
            try
            {
                await foreach (var batch in reader.ReadAsync(cancellationToken: ct).ConfigureAwait(false))
                    await writer.WriteAsync(batch, ct).ConfigureAwait(false);
            }
            catch (ParquetSharp.ParquetException e)
            {
                throw new TableFormatException(fileName, $"The Parquet data is damaged: {e.Message.Split('\n')[0]}");
            }
        }, cancellationToken).ConfigureAwait(false);
    }

    private static async Task<TableIngestResult> RewriteIpcAsync(string inputPath, string outputPath, TableIngestOptions options,
        string fileName, byte[] head, CancellationToken cancellationToken)
    {
        await using var file = File.OpenRead(inputPath);
        ArrowStreamReader reader = head.AsSpan().StartsWith("ARROW1"u8) ? new ArrowFileReader(file, leaveOpen: true) : new ArrowStreamReader(file, leaveOpen: true);
        using (reader)
        {
            Schema schema;
            try
            {
                schema = await reader.GetSchema(cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is InvalidDataException or IOException or ArgumentException or InvalidOperationException or IndexOutOfRangeException or OverflowException)
            {
                throw new TableFormatException(fileName, $"Not a readable Arrow IPC file: {e.Message}");
            }
            return await RewriteAsync(TableFormat.ArrowIpc, schema, outputPath, options, async (writer, ct) =>
            {
                while (true)
                {
                    RecordBatch? batch;
                    try
                    {
                        batch = await reader.ReadNextRecordBatchAsync(ct).ConfigureAwait(false);
                    }
                    catch (Exception e) when (e is InvalidDataException or IOException or ArgumentException or InvalidOperationException or IndexOutOfRangeException or OverflowException)
                    {
                        throw new TableFormatException(fileName, $"The Arrow IPC data is damaged: {e.Message}");
                    }
                    if (batch is null) break;
                    await writer.WriteAsync(batch, ct).ConfigureAwait(false);
                }
            }, cancellationToken).ConfigureAwait(false);
        }
    }

    private static async Task<TableIngestResult> RewriteAsync(TableFormat format, Schema schema, string outputPath, TableIngestOptions options,
        Func<BatchSink, CancellationToken, Task> produce, CancellationToken cancellationToken)
    {
        var (rows, stats) = await ParquetTableWriter.WriteAsync(outputPath, schema, options.Compression, options.BatchRows, options.Statistics, produce, cancellationToken).ConfigureAwait(false);
        var statistics = stats is null ? [] : stats.Finish();
        return new TableIngestResult(format, schema, rows, statistics, null, null, 0);
    }
}
