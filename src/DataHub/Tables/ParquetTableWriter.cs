using System.Threading.Channels;
using Apache.Arrow;
using Apache.Arrow.Types;
using Cube.DataHub.Tables.Statistics;
using ParquetSharp;
using ParquetSharp.Arrow;

namespace Cube.DataHub.Tables;

/// <summary>
/// Writes record batches to Parquet through ParquetSharp's Arrow API while statistics are accumulated. The producer
/// (parsing) runs on its own thread; the work per batch (conversion and a statistics summary) runs on the thread pool,
/// one task per batch, several at once; this thread takes the finished batches in their original order, merges their
/// summaries and encodes them. The channel's capacity bounds the batches in flight, so memory stays bounded by the
/// batch size whatever the input size, and the output and statistics do not depend on the thread timing.
/// </summary>
internal static class ParquetTableWriter
{
    /// <summary>
    /// Writes what <paramref name="produce"/> sends to the sink; <paramref name="rowGroupRows"/> rows per row group:
    /// batches are appended to the open row group until it holds that many, whatever size the producer's batches are
    /// (a pipeline's 64K-row batches fill 128K-row groups).
    /// </summary>
    public static async Task<(long Rows, TableStatisticsBuilder? Stats)> WriteAsync(string outputPath, Schema schema, TableCompression compression,
        int rowGroupRows, bool statistics, Func<BatchSink, CancellationToken, Task> produce, CancellationToken cancellationToken)
    {
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var inFlight = Math.Max(2, Environment.ProcessorCount);
        var channel = Channel.CreateBounded<Task<PreparedBatch>>(new BoundedChannelOptions(inFlight) { SingleReader = true, SingleWriter = true });
        var stats = statistics ? new TableStatisticsBuilder(schema) : null;
        var sink = new BatchSink(channel.Writer, stats);
        var producer = Task.Factory.StartNew(async () =>
        {
            try
            {
                await produce(sink, stop.Token).ConfigureAwait(false);
                channel.Writer.Complete();
            }
            catch (Exception e)
            {
                // The consumer sees the producer's failure (a format error, a type widening) as its own.
                channel.Writer.Complete(e);
            }
        }, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default).Unwrap();

        long rows = 0;
        using (var properties = WriterProperties(schema, compression, rowGroupRows))
        // Columns are encoded and compressed in parallel (Arrow does so only for buffered row groups).
        using (var arrowProperties = new ArrowWriterPropertiesBuilder().StoreSchema().UseThreads(true).Build())
        using (var writer = new FileWriter(outputPath, schema, properties, arrowProperties))
        {
            try
            {
                await foreach (var next in channel.Reader.ReadAllAsync(cancellationToken).ConfigureAwait(false))
                {
                    var prepared = await next.ConfigureAwait(false);
                    using (prepared.Batch)
                    {
                        if (prepared.Summary is not null) stats?.Merge(prepared.Summary);
                        // An empty batch (a filter that kept nothing) would be an empty row group.
                        if (prepared.Batch.Length > 0) writer.WriteBufferedRecordBatch(prepared.Batch);
                        rows += prepared.Batch.Length;
                    }
                }
                writer.Close();
            }
            finally
            {
                // A failed writer cancels the producer so it never stays blocked on a full channel; batches still in
                // flight are awaited so none is left running or unobserved.
                await stop.CancelAsync().ConfigureAwait(false);
                await producer.ConfigureAwait(false);
                while (channel.Reader.TryRead(out var left)) await BatchSink.DiscardAsync(left).ConfigureAwait(false);
            }
        }
        return (rows, stats);
    }

    /// <summary>
    /// Encodings chosen per column from its Arrow type rather than one file-wide setting. Dictionary-typed strings keep
    /// Parquet's dictionary encoding; integers, timestamps and dates are written DELTA_BINARY_PACKED (ids and times are
    /// near-monotonic, small integers bit-pack); floats and high-cardinality plain strings are written PLAIN, since a
    /// dictionary attempt on them is built, overflows its page limit and is thrown away for every row group. Measured on
    /// the 200 MB benchmark CSV: 3.1× faster to write and half the size of dictionary-everywhere (40 MB against 79 MB,
    /// DuckDB 47 MB). Nested columns keep the library's defaults.
    /// </summary>
    internal static WriterProperties WriterProperties(Schema schema, TableCompression compression, int rowGroupRows)
    {
        using var builder = new WriterPropertiesBuilder();
        builder.Compression(compression == TableCompression.Zstd ? Compression.Zstd : Compression.Snappy)
            .EnableDictionary()
            .EnableStatistics()
            .MaxRowGroupLength(rowGroupRows)
            .CreatedBy("Cube DataHub");
        foreach (var field in schema.FieldsList)
        {
            var path = new ParquetSharp.Schema.ColumnPath([field.Name]);
            switch (field.DataType.TypeId)
            {
                case ArrowTypeId.Int8 or ArrowTypeId.Int16 or ArrowTypeId.Int32 or ArrowTypeId.Int64
                    or ArrowTypeId.UInt8 or ArrowTypeId.UInt16 or ArrowTypeId.UInt32 or ArrowTypeId.UInt64
                    or ArrowTypeId.Timestamp or ArrowTypeId.Date32 or ArrowTypeId.Date64 or ArrowTypeId.Time32 or ArrowTypeId.Time64:
                    builder.DisableDictionary(path).Encoding(path, Encoding.DeltaBinaryPacked);
                    break;
                case ArrowTypeId.Float or ArrowTypeId.Double or ArrowTypeId.HalfFloat or ArrowTypeId.String or ArrowTypeId.LargeString
                    or ArrowTypeId.Binary or ArrowTypeId.LargeBinary:
                    builder.DisableDictionary(path);
                    break;
            }
        }
        return builder.Build();
    }
}

/// <summary>A batch ready to encode, with its statistics summary.</summary>
internal sealed record PreparedBatch(RecordBatch Batch, ColumnAccumulator[]? Summary);

/// <summary>Where a producer hands its batches to the Parquet writer, in order.</summary>
public sealed class BatchSink
{
    private readonly ChannelWriter<Task<PreparedBatch>> _channel;
    private readonly TableStatisticsBuilder? _stats;

    internal BatchSink(ChannelWriter<Task<PreparedBatch>> channel, TableStatisticsBuilder? stats)
    {
        _channel = channel;
        _stats = stats;
    }

    /// <summary>Queues a batch already built; its summary is computed on the calling thread.</summary>
    public ValueTask WriteAsync(RecordBatch batch, CancellationToken cancellationToken) =>
        EnqueueAsync(Task.FromResult(new PreparedBatch(batch, _stats?.Summarize(batch))), cancellationToken);

    /// <summary>Queues a batch that <paramref name="build"/> makes on the thread pool, alongside the batches before it.</summary>
    public ValueTask WriteAsync(Func<RecordBatch> build, CancellationToken cancellationToken) =>
        EnqueueAsync(Task.Run(() =>
        {
            var batch = build();
            try
            {
                return new PreparedBatch(batch, _stats?.Summarize(batch));
            }
            catch
            {
                batch.Dispose();
                throw;
            }
        }, CancellationToken.None), cancellationToken);

    private async ValueTask EnqueueAsync(Task<PreparedBatch> task, CancellationToken cancellationToken)
    {
        try
        {
            await _channel.WriteAsync(task, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            await DiscardAsync(task).ConfigureAwait(false);
            throw;
        }
    }

    internal static async Task DiscardAsync(Task<PreparedBatch> task)
    {
        try
        {
            (await task.ConfigureAwait(false)).Batch.Dispose();
        }
        catch
        {
            // Its failure is not the one being reported.
        }
    }
}
