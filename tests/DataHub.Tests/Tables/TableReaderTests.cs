using System.Text;
using Apache.Arrow;
using Apache.Arrow.Types;
using Cube.DataHub.Tables;

namespace Cube.DataHub.Tests.Tables;

public sealed class TableReaderTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static async Task<string> Table(TableFiles files, int rows, int batchRows)
    {
        var text = new StringBuilder("i,name,x\n");
        for (var i = 0; i < rows; i++) text.Append(i).Append(",n").Append(i % 10).Append(',').Append(i * 0.5).Append('\n');
        var output = files.Path_("t.parquet");
        await TableIngest.IngestFileAsync(files.Write("t.csv", text.ToString()), output, new TableIngestOptions { BatchRows = batchRows }, Ct);
        return output;
    }

    [Fact]
    public async Task ReadAsync_ProjectsColumnsAndLimitsRows()
    {
        using var files = new TableFiles();
        using var reader = TableReader.Open(await Table(files, 10_000, 3_000));
        Assert.Equal(10_000, reader.RowCount);
        Assert.Equal(4, reader.RowGroupCount);

        var total = 0;
        long sum = 0;
        await foreach (var batch in reader.ReadAsync(["x", "i"], limit: 4_321, cancellationToken: Ct))
        {
            using (batch)
            {
                Assert.Equal(["x", "i"], batch.Schema.FieldsList.Select(f => f.Name));
                var ids = (Int64Array)batch.Column(1);
                for (var r = 0; r < batch.Length; r++) sum += ids.GetValue(r)!.Value;
                total += batch.Length;
            }
        }
        Assert.Equal(4_321, total);
        Assert.Equal(4_321L * 4_320 / 2, sum);
    }

    [Fact]
    public async Task WriteAsync_FillsRowGroupsToBatchRows_WhateverTheProducersBatchSize()
    {
        using var files = new TableFiles();
        var output = files.Path_("w.parquet");
        var schema = new Schema([new Field("i", Int64Type.Default, true)], null);
        // 10,000 rows sent as 1,000-row batches into 4,096-row groups: two full groups and the rest.
        await TableIngest.WriteAsync(output, schema, async (sink, ct) =>
        {
            for (var b = 0; b < 10; b++)
                await sink.WriteAsync(new RecordBatch(schema, [new Int64Array.Builder().AppendRange(Enumerable.Range(b * 1_000, 1_000).Select(i => (long)i)).Build()], 1_000), ct);
        }, new TableIngestOptions { BatchRows = 4_096 }, Ct);

        using var reader = TableReader.Open(output);
        Assert.Equal(3, reader.RowGroupCount);
        Assert.Equal([4_096L, 4_096L, 1_808L], TableFiles.Query($"SELECT row_group_num_rows FROM parquet_metadata('{output}') WHERE column_id = 0 ORDER BY row_group_id").Select(r => Convert.ToInt64(r[0])));
        Assert.Equal([10_000L, 49_995_000L], TableFiles.Query($"SELECT count(*), sum(i)::BIGINT FROM read_parquet('{output}')").Single().Select(Convert.ToInt64));
    }

    [Fact]
    public async Task ReadAsync_KeepsDictionaryEncoding_ForRepeatingStrings()
    {
        using var files = new TableFiles();
        using var reader = TableReader.Open(await Table(files, 1000, 1000));
        Assert.IsType<DictionaryType>(reader.Schema.GetFieldByName("name").DataType);
        await foreach (var batch in reader.ReadAsync(["name"], cancellationToken: Ct))
            using (batch) Assert.IsType<DictionaryArray>(batch.Column(0));
    }

    [Fact]
    public async Task ReadAsync_GivesTopLevelTextAsDictionaries_WhenAsked()
    {
        // Written without Arrow dictionaries, as other tools write Parquet: text is plain unless the reader asks.
        using var files = new TableFiles();
        var path = files.Path_("plain.parquet");
        var names = new StringArray.Builder();
        var ids = new Int64Array.Builder();
        var tags = new ListArray.Builder(StringType.Default);
        for (var i = 0; i < 3_000; i++)
        {
            if (i % 7 == 0) names.AppendNull();
            else names.Append($"name-{i % 40}");
            ids.Append(i);
            tags.Append();
            ((StringArray.Builder)tags.ValueBuilder).Append($"t{i % 3}");
        }
        var schema = new Schema([new Field("id", Int64Type.Default, false), new Field("name", StringType.Default, true),
            new Field("tags", new ListType(new Field("item", StringType.Default, true)), true)], null);
        using (var written = new RecordBatch(schema, [ids.Build(), names.Build(), tags.Build()], 3_000))
        using (var writer = new ParquetSharp.Arrow.FileWriter(path, schema))
        {
            writer.WriteRecordBatch(written);
            writer.Close();
        }

        using var plain = TableReader.Open(path);
        using var coded = TableReader.Open(path, dictionaryStrings: true);
        Assert.IsType<StringType>(plain.Schema.GetFieldByName("name").DataType);
        var rows = 0;
        await using var expected = plain.ReadAsync(["name", "tags", "id"], cancellationToken: Ct).GetAsyncEnumerator(Ct);
        await foreach (var batch in coded.ReadAsync(["name", "tags", "id"], cancellationToken: Ct))
        {
            Assert.True(await expected.MoveNextAsync());
            using (batch)
            using (var reference = expected.Current)
            {
                var dictionary = Assert.IsType<DictionaryArray>(batch.Column(0));
                Assert.IsType<ListArray>(batch.Column(1));
                Assert.IsType<Int64Array>(batch.Column(2));
                var strings = (StringArray)reference.Column(0);
                for (var r = 0; r < batch.Length; r++)
                    Assert.Equal(strings.GetString(r), ArrowValues.Get(dictionary, r) as string);
                Assert.Equal(strings.NullCount, dictionary.NullCount);
                rows += batch.Length;
            }
        }
        Assert.Equal(3_000, rows);
    }

    [Fact]
    public async Task PreviewAsync_ReturnsPageAcrossRowGroups()
    {
        using var files = new TableFiles();
        using var reader = TableReader.Open(await Table(files, 10_000, 3_000));
        var page = await reader.PreviewAsync(2_995, 10, cancellationToken: Ct);
        Assert.Equal(Enumerable.Range(2_995, 10).Select(i => (object?)(long)i), page.Select(r => r["i"]));
        Assert.Equal("n5", page[0]["name"]);
        Assert.Equal(1497.5, page[0]["x"]);
        Assert.Empty(await reader.PreviewAsync(10_000, 10, cancellationToken: Ct));
    }

    [Fact]
    public async Task SampleAsync_ReturnsDistinctRowsInOrder_AndIsReproducible()
    {
        using var files = new TableFiles();
        using var reader = TableReader.Open(await Table(files, 10_000, 3_000));
        var sample = await reader.SampleAsync(50, seed: 3, cancellationToken: Ct);
        var ids = sample.Select(r => (long)r["i"]!).ToList();
        Assert.Equal(50, ids.Distinct().Count());
        Assert.Equal(ids.Order(), ids);
        Assert.All(sample, r => Assert.Equal((long)r["i"]! * 0.5, r["x"]));
        Assert.Equal(ids, (await reader.SampleAsync(50, seed: 3, cancellationToken: Ct)).Select(r => (long)r["i"]!));
    }

    [Fact]
    public void Open_Fails_WhenColumnIsUnknown()
    {
        using var files = new TableFiles();
        var path = files.Path_("p.parquet");
        TableFiles.Query($"COPY (SELECT 1 AS a) TO '{path}' (FORMAT parquet)");
        using var reader = TableReader.Open(path);
        var error = Assert.Throws<TableFormatException>(() => reader.ReadAsync(["nope"], cancellationToken: Ct).GetAsyncEnumerator(Ct).MoveNextAsync().AsTask().GetAwaiter().GetResult());
        Assert.Equal("nope", error.Column);
    }
}
