using System.Globalization;
using System.Text;
using Apache.Arrow;
using Apache.Arrow.Types;
using Cube.DataHub.Tables;

namespace Cube.DataHub.Tests.Tables;

public sealed class TableIngestTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task IngestFileAsync_ChoosesEncodingsPerColumn_SoDuckDbReadsEveryValueBack()
    {
        using var files = new TableFiles();
        var csv = new StringBuilder("id,ts,category,amount,note\n");
        for (var i = 0; i < 5000; i++)
            csv.Append(CultureInfo.InvariantCulture, $"{i},2024-01-01T00:00:{i % 60:D2}Z,c{i % 7},{i * 0.25},note number {i}\n");
        var input = files.Write("enc.csv", csv.ToString());
        var output = files.Path_("enc.parquet");

        await TableIngest.IngestFileAsync(input, output, cancellationToken: Ct);

        var encodings = TableFiles.Query($"SELECT path_in_schema, encodings FROM parquet_metadata('{output}') ORDER BY column_id")
            .ToDictionary(r => (string)r[0]!, r => (string)r[1]!);
        Assert.Contains("DELTA_BINARY_PACKED", encodings["id"]);
        Assert.Contains("DELTA_BINARY_PACKED", encodings["ts"]);
        Assert.Contains("DICTIONARY", encodings["category"]);
        Assert.DoesNotContain("DICTIONARY", encodings["amount"]);
        Assert.DoesNotContain("DICTIONARY", encodings["note"]);
        var sums = TableFiles.Query($"SELECT sum(id)::BIGINT, sum(epoch_us(ts))::BIGINT, count(DISTINCT category), sum(amount), count(DISTINCT note) FROM read_parquet('{output}')")[0];
        long idSum = 0, atSum = 0;
        double amountSum = 0;
        for (var i = 0; i < 5000; i++) { idSum += i; atSum += (1704067200L + i % 60) * 1_000_000L; amountSum += i * 0.25; }
        Assert.Equal([idSum, atSum, 7L, amountSum, 5000L], sums);
    }

    [Fact]
    public async Task IngestFileAsync_InfersTypes_WhenCsvHasMixedColumns()
    {
        using var files = new TableFiles();
        var input = files.Write("mixed.csv",
            "id,price,ok,at,local,day,name\n" +
            "1,1.5,true,2024-01-02T03:04:05Z,2024-01-02 03:04:05,2024-01-02,alpha\n" +
            "2,NA,no,2024-01-02T05:04:05+02:00,2024-01-03T00:00:00.123456,2024-02-29,beta\n" +
            "NaN,3,YES,,,,\"gam,ma\"\n");
        var output = files.Path_("mixed.parquet");

        var result = await TableIngest.IngestFileAsync(input, output, cancellationToken: Ct);

        Assert.Equal(3, result.RowCount);
        Assert.Equal(',', (char)result.Dialect!.Delimiter);
        Assert.True(result.Dialect.HasHeader);
        var types = result.Schema.FieldsList.Select(f => f.DataType).ToList();
        Assert.IsType<Int64Type>(types[0]);
        Assert.IsType<DoubleType>(types[1]);
        Assert.IsType<BooleanType>(types[2]);
        Assert.Equal("UTC", Assert.IsType<TimestampType>(types[3]).Timezone);
        Assert.Null(Assert.IsType<TimestampType>(types[4]).Timezone);
        Assert.IsType<Date32Type>(types[5]);
        Assert.IsType<StringType>(types[6]);

        var rows = TableFiles.Query($"SELECT id, price, ok, epoch_us(\"at\"), epoch_us(local), day::VARCHAR, name FROM read_parquet('{output}')");
        Assert.Equal([1L, 1.5, true, 1704164645000000L, 1704164645000000L, "2024-01-02", "alpha"], rows[0]);
        // +02:00 is applied: 05:04:05+02:00 is 03:04:05Z.
        Assert.Equal([2L, null, false, 1704164645000000L, 1704240000123456L, "2024-02-29", "beta"], rows[1]);
        Assert.Equal([null, 3.0, true, null, null, null, "gam,ma"], rows[2]);
    }

    [Fact]
    public async Task IngestFileAsync_PromotesType_WhenLateRowBreaksInference()
    {
        using var files = new TableFiles();
        var text = new StringBuilder("n,flag,code\n");
        for (var i = 0; i < 300; i++) text.Append(i).Append(',').Append(i % 2 == 0 ? "true" : "false").Append(',').Append(i).Append('\n');
        text.Append("2.5,maybe,X7\n");
        var input = files.Write("late.csv", text.ToString());
        var output = files.Path_("late.parquet");

        var result = await TableIngest.IngestFileAsync(input, output, new TableIngestOptions { InferenceRows = 100, BatchRows = 64 }, Ct);

        Assert.True(result.Restarts >= 1);
        Assert.Equal(301, result.RowCount);
        Assert.IsType<DoubleType>(result.Schema.GetFieldByName("n").DataType);
        Assert.Equal(ArrowTypeId.String, Value(result.Schema.GetFieldByName("flag").DataType));
        Assert.Equal(ArrowTypeId.String, Value(result.Schema.GetFieldByName("code").DataType));
        var last = TableFiles.Query($"SELECT n, flag, code FROM read_parquet('{output}') WHERE code = 'X7'");
        Assert.Equal([2.5, "maybe", "X7"], last.Single());
        var first = TableFiles.Query($"SELECT n, flag, code FROM read_parquet('{output}') WHERE code = '0'");
        Assert.Equal([0.0, "true", "0"], first.Single());
    }

    [Theory]
    [InlineData(";")]
    [InlineData("\t")]
    [InlineData("|")]
    public async Task IngestFileAsync_DetectsDelimiter_WhenNotComma(string delimiter)
    {
        using var files = new TableFiles();
        var input = files.Write("d.txt", $"a{delimiter}b\n1{delimiter}x,y\n2{delimiter}z\n");
        var result = await TableIngest.IngestFileAsync(input, files.Path_("d.parquet"), cancellationToken: Ct);
        Assert.Equal(delimiter[0], (char)result.Dialect!.Delimiter);
        Assert.Equal(["a", "b"], result.Schema.FieldsList.Select(f => f.Name));
        Assert.Equal(2, result.RowCount);
    }

    [Fact]
    public async Task IngestFileAsync_UsesGeneratedNames_WhenCsvHasNoHeader()
    {
        using var files = new TableFiles();
        var input = files.Write("nohead.csv", "1,a\n2,b\n3,c\n");
        var result = await TableIngest.IngestFileAsync(input, files.Path_("o.parquet"), cancellationToken: Ct);
        Assert.False(result.Dialect!.HasHeader);
        Assert.Equal(3, result.RowCount);
        Assert.Equal(["column1", "column2"], result.Schema.FieldsList.Select(f => f.Name));
    }

    [Theory]
    [InlineData("utf-8-bom")]
    [InlineData("utf-16le")]
    [InlineData("utf-16be")]
    [InlineData("latin1")]
    public async Task IngestFileAsync_DecodesText_WhenEncodingIsNotPlainUtf8(string encodingName)
    {
        using var files = new TableFiles();
        Encoding encoding = encodingName switch
        {
            "utf-8-bom" => new UTF8Encoding(true),
            "utf-16le" => new UnicodeEncoding(false, true),
            "utf-16be" => new UnicodeEncoding(true, true),
            _ => Encoding.Latin1,
        };
        var input = files.Write("enc.csv", "city,n\nZürich,1\nKøbenhavn,2\n", encoding);
        var output = files.Path_("enc.parquet");
        await TableIngest.IngestFileAsync(input, output, cancellationToken: Ct);
        var rows = TableFiles.Query($"SELECT city, n FROM read_parquet('{output}') ORDER BY n");
        Assert.Equal("Zürich", rows[0][0]);
        Assert.Equal("København", rows[1][0]);
    }

    [Fact]
    public async Task IngestFileAsync_ParsesQuotedFields_WhenTheyHoldDelimitersQuotesAndNewlines()
    {
        using var files = new TableFiles();
        var input = files.Write("q.csv", "a,b\r\n\"x, \"\"y\"\"\",\"line1\nline2\"\r\nplain,\"\"\r\n");
        var output = files.Path_("q.parquet");
        var result = await TableIngest.IngestFileAsync(input, output, cancellationToken: Ct);
        Assert.Equal(2, result.RowCount);
        var rows = TableFiles.Query($"SELECT a, b FROM read_parquet('{output}')");
        Assert.Equal(["x, \"y\"", "line1\nline2"], rows[0]);
        Assert.Equal(["plain", null], rows[1]);
    }

    [Fact]
    public async Task IngestFileAsync_ReadsJsonLines_WithNestedObjectsAsJsonText()
    {
        using var files = new TableFiles();
        var input = files.Write("e.jsonl",
            "{\"id\":1,\"name\":\"a\",\"score\":1.5,\"ok\":true,\"at\":\"2024-01-01T00:00:00Z\",\"meta\":{\"k\":[1,2]}}\n" +
            "{\"id\":2,\"name\":\"b\\\"q\",\"score\":2,\"ok\":false,\"at\":null}\n\n" +
            "{\"name\":\"123\",\"id\":3,\"score\":null,\"ok\":null,\"at\":\"2024-01-01T01:00:00+01:00\",\"meta\":null}\n");
        var output = files.Path_("e.parquet");

        var result = await TableIngest.IngestFileAsync(input, output, cancellationToken: Ct);

        Assert.Equal(TableFormat.JsonLines, result.Format);
        Assert.Equal(3, result.RowCount);
        Assert.IsType<Int64Type>(result.Schema.GetFieldByName("id").DataType);
        // A JSON string that spells a number stays a string.
        Assert.Equal(ArrowTypeId.String, Value(result.Schema.GetFieldByName("name").DataType));
        Assert.IsType<DoubleType>(result.Schema.GetFieldByName("score").DataType);
        Assert.IsType<BooleanType>(result.Schema.GetFieldByName("ok").DataType);
        Assert.Equal("UTC", Assert.IsType<TimestampType>(result.Schema.GetFieldByName("at").DataType).Timezone);
        var rows = TableFiles.Query($"SELECT id, name, score, ok, epoch_us(\"at\"), meta FROM read_parquet('{output}') ORDER BY id");
        Assert.Equal([1L, "a", 1.5, true, 1704067200000000L, "{\"k\":[1,2]}"], rows[0]);
        Assert.Equal([2L, "b\"q", 2.0, false, null, null], rows[1]);
        Assert.Equal([3L, "123", null, null, 1704067200000000L, null], rows[2]);
    }

    [Fact]
    public async Task IngestFileAsync_AddsColumn_WhenLateJsonLineHasNewKey()
    {
        using var files = new TableFiles();
        var text = new StringBuilder();
        for (var i = 0; i < 50; i++) text.Append("{\"a\":").Append(i).Append("}\n");
        text.Append("{\"a\":50,\"b\":\"late\"}\n");
        var input = files.Write("late.jsonl", text.ToString());
        var output = files.Path_("late.parquet");
        var result = await TableIngest.IngestFileAsync(input, output, new TableIngestOptions { InferenceRows = 10 }, Ct);
        Assert.Equal(["a", "b"], result.Schema.FieldsList.Select(f => f.Name));
        Assert.Equal(51, result.RowCount);
        Assert.Equal("late", TableFiles.Query($"SELECT b FROM read_parquet('{output}') WHERE a = 50").Single()[0]);
    }

    [Fact]
    public async Task IngestFileAsync_RewritesParquet_WhenInputIsParquet()
    {
        using var files = new TableFiles();
        var source = files.Path_("src.parquet");
        TableFiles.Query($"COPY (SELECT range AS i, 'v' || (range % 7) AS s FROM range(1000)) TO '{source}' (FORMAT parquet)");
        var output = files.Path_("out.parquet");
        var result = await TableIngest.IngestFileAsync(source, output, cancellationToken: Ct);
        Assert.Equal(TableFormat.Parquet, result.Format);
        Assert.Equal(1000, result.RowCount);
        Assert.Equal(TableFiles.Query($"SELECT sum(i), count(DISTINCT s) FROM read_parquet('{source}')").Single(),
            TableFiles.Query($"SELECT sum(i), count(DISTINCT s) FROM read_parquet('{output}')").Single());
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task IngestAsync_ReadsArrowIpc_WhenFileOrStreamFormat(bool fileFormat)
    {
        using var files = new TableFiles();
        var schema = new Schema([new Field("x", Int64Type.Default, true), new Field("s", StringType.Default, true)], null);
        var batch = new RecordBatch(schema, [new Int64Array.Builder().AppendRange([1, 2, 3]).Build(), new StringArray.Builder().AppendRange(["a", "b", "c"]).Build()], 3);
        var ipc = new MemoryStream();
        if (fileFormat)
        {
            using var writer = new Apache.Arrow.Ipc.ArrowFileWriter(ipc, schema, leaveOpen: true);
            await writer.WriteRecordBatchAsync(batch, Ct);
            await writer.WriteEndAsync(Ct);
        }
        else
        {
            using var writer = new Apache.Arrow.Ipc.ArrowStreamWriter(ipc, schema, leaveOpen: true);
            await writer.WriteRecordBatchAsync(batch, Ct);
            await writer.WriteEndAsync(Ct);
        }
        ipc.Position = 0;
        var output = files.Path_("ipc.parquet");
        // A MemoryStream is not a file: it is spooled first.
        var result = await TableIngest.IngestAsync(ipc, "t.arrow", output, cancellationToken: Ct);
        Assert.Equal(TableFormat.ArrowIpc, result.Format);
        Assert.Equal(3, result.RowCount);
        Assert.Equal([6L, "abc"], TableFiles.Query($"SELECT sum(x)::BIGINT, string_agg(s, '' ORDER BY s) FROM read_parquet('{output}')").Single());
    }

    private static ArrowTypeId Value(IArrowType type) => type is DictionaryType d ? d.ValueType.TypeId : type.TypeId;
}
