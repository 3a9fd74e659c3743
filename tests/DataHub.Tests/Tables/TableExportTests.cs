using Apache.Arrow;
using Apache.Arrow.Ipc;
using Apache.Arrow.Types;
using Cube.DataHub.Tables;

namespace Cube.DataHub.Tests.Tables;

public sealed class TableExportTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private const string Csv = "id,name,score,ok,at\n1,\"a, \"\"b\"\"\",1.25,true,2024-05-01T10:00:00Z\n2,plain,,false,\n3,x,-3,true,2024-05-02T00:00:00.5Z\n";

    private static async Task<string> Table(TableFiles files)
    {
        var output = files.Path_("t.parquet");
        await TableIngest.IngestFileAsync(files.Write("t.csv", Csv), output, cancellationToken: Ct);
        return output;
    }

    [Fact]
    public async Task WriteCsvAsync_RoundTripsThroughIngest()
    {
        using var files = new TableFiles();
        var table = await Table(files);
        using var reader = TableReader.Open(table);
        var exported = files.Path_("back.csv");
        await using (var stream = File.Create(exported)) await TableExport.WriteCsvAsync(reader, stream, cancellationToken: Ct);
        var again = files.Path_("again.parquet");
        await TableIngest.IngestFileAsync(exported, again, cancellationToken: Ct);
        Assert.Equal(Rows(table), Rows(again));
    }

    [Fact]
    public async Task WriteJsonLinesAsync_RoundTripsThroughIngest()
    {
        using var files = new TableFiles();
        var table = await Table(files);
        using var reader = TableReader.Open(table);
        var exported = files.Path_("back.jsonl");
        await using (var stream = File.Create(exported)) await TableExport.WriteJsonLinesAsync(reader, stream, cancellationToken: Ct);
        Assert.StartsWith("{\"id\":1,\"name\":\"a, \\u0022b\\u0022\",\"score\":1.25,\"ok\":true,\"at\":\"2024-05-01T10:00:00Z\"}", await File.ReadAllTextAsync(exported, Ct));
        var again = files.Path_("again.parquet");
        await TableIngest.IngestFileAsync(exported, again, cancellationToken: Ct);
        Assert.Equal(Rows(table), Rows(again));
    }

    [Fact]
    public async Task WriteArrowStreamAsync_RoundTripsThroughDuckDbAndIngest()
    {
        using var files = new TableFiles();
        var table = await Table(files);
        using var reader = TableReader.Open(table);
        var exported = files.Path_("back.arrows");
        await using (var stream = File.Create(exported)) await TableExport.WriteArrowStreamAsync(reader, stream, cancellationToken: Ct);
        var again = files.Path_("again.parquet");
        await TableIngest.IngestFileAsync(exported, again, cancellationToken: Ct);
        Assert.Equal(Rows(table), Rows(again));
    }

    [Fact]
    public async Task CopyParquetAsync_WritesTheStoredBytes()
    {
        using var files = new TableFiles();
        var table = await Table(files);
        var copy = new MemoryStream();
        await TableExport.CopyParquetAsync(table, copy, Ct);
        Assert.Equal(await File.ReadAllBytesAsync(table, Ct), copy.ToArray());
    }

    /// <summary>
    /// Two batches whose dictionaries differ. Written as they are, Apache.Arrow's IPC writer sends the first
    /// dictionary only, and the reader maps the second batch's codes through it; the export must not.
    /// </summary>
    [Fact]
    public async Task WriteArrowStreamAsync_KeepsStrings_WhenDictionariesChangeBetweenBatches()
    {
        var type = new DictionaryType(Int32Type.Default, StringType.Default, false);
        var schema = new Schema([new Field("s", type, true)], null);
        RecordBatch Batch(string[] dictionary, int[] codes) => new(schema,
            [new DictionaryArray(type, new Int32Array.Builder().AppendRange(codes).Build(), new StringArray.Builder().AppendRange(dictionary).Build())], codes.Length);
        var batches = new[] { Batch(["red", "green"], [0, 1, 0]), Batch(["blue", "cyan", "red"], [2, 0, 1]) };

        var stream = new MemoryStream();
        await TableExport.WriteArrowStreamAsync(schema, batches.ToAsyncEnumerable(), stream, Ct);
        stream.Position = 0;

        var values = new List<string?>();
        using var ipc = new ArrowStreamReader(stream);
        while (await ipc.ReadNextRecordBatchAsync(Ct) is { } batch)
            using (batch) for (var r = 0; r < batch.Length; r++) values.Add((string?)ArrowValues.Get(batch.Column(0), r));
        Assert.Equal(["red", "green", "red", "red", "blue", "cyan"], values);
    }

    private static List<object?[]> Rows(string parquet) =>
        TableFiles.Query($"SELECT id, name, score, ok, epoch_us(\"at\") FROM read_parquet('{parquet}') ORDER BY id");
}
