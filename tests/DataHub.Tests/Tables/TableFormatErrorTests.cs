using System.Text;
using Cube.DataHub.Tables;

namespace Cube.DataHub.Tests.Tables;

public sealed class TableFormatErrorTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static async Task<TableFormatException> Fails(TableFiles files, string path, TableIngestOptions? options = null)
    {
        var output = files.Path_("out.parquet");
        var error = await Assert.ThrowsAsync<TableFormatException>(() => TableIngest.IngestFileAsync(path, output, options, Ct));
        Assert.False(File.Exists(output));
        Assert.Equal(422, error.StatusCode);
        Assert.Equal(Path.GetFileName(path), error.FileName);
        return error;
    }

    [Fact]
    public async Task IngestFileAsync_ReportsRowAndColumn_WhenRowHasTooFewFields()
    {
        using var files = new TableFiles();
        var error = await Fails(files, files.Write("r.csv", "a,b,c\n1,2,3\n4,5\n"));
        Assert.Equal(3, error.Row);
        Assert.Equal("c", error.Column);
    }

    [Fact]
    public async Task IngestFileAsync_ReportsRow_WhenRowHasTooManyFieldsDeepInTheFile()
    {
        using var files = new TableFiles();
        var text = new StringBuilder("a,b\n");
        for (var i = 0; i < 1000; i++) text.Append(i).Append(",x\n");
        text.Append("1,2,3\n");
        var error = await Fails(files, files.Write("r.csv", text.ToString()), new TableIngestOptions { BatchRows = 100 });
        Assert.Equal(1002, error.Row);
    }

    [Fact]
    public async Task IngestFileAsync_ReportsOpeningRow_WhenQuoteIsNotClosed()
    {
        using var files = new TableFiles();
        var error = await Fails(files, files.Write("q.csv", "a,b\n1,x\n2,\"open\n3,y\n"));
        Assert.Equal(3, error.Row);
        Assert.Equal("b", error.Column);
        Assert.Contains("not closed", error.Message);
    }

    [Fact]
    public async Task IngestFileAsync_ReportsRow_WhenTextFollowsClosingQuote()
    {
        using var files = new TableFiles();
        var error = await Fails(files, files.Write("q.csv", "a,b\n1,\"x\"y\n"));
        Assert.Equal(2, error.Row);
        Assert.Equal("b", error.Column);
    }

    [Fact]
    public async Task IngestFileAsync_ReportsByteOffsetAndRow_WhenUtf8IsInvalid()
    {
        using var files = new TableFiles();
        var bytes = new List<byte>(Encoding.UTF8.GetBytes("name,n\nZürich,1\nok,2\n"));
        var offset = bytes.Count + 2;
        bytes.AddRange(Encoding.UTF8.GetBytes("ab"));
        bytes.Add(0xFF);
        bytes.AddRange(Encoding.UTF8.GetBytes(",3\n"));
        var error = await Fails(files, files.WriteBytes("u.csv", [.. bytes]));
        Assert.Equal(4, error.Row);
        Assert.Equal(offset, error.ByteOffset);
    }

    [Theory]
    [InlineData("empty.csv", "")]
    [InlineData("blank.csv", "\n\n")]
    [InlineData("empty.jsonl", "")]
    public async Task IngestFileAsync_Fails_WhenFileIsEmpty(string name, string content)
    {
        using var files = new TableFiles();
        var error = await Fails(files, files.Write(name, content));
        Assert.Null(error.Row);
    }

    [Fact]
    public async Task IngestFileAsync_Fails_WhenParquetIsTruncated()
    {
        using var files = new TableFiles();
        var source = files.Path_("src.parquet");
        TableFiles.Query($"COPY (SELECT range AS i FROM range(10000)) TO '{source}' (FORMAT parquet)");
        var bytes = File.ReadAllBytes(source);
        var error = await Fails(files, files.WriteBytes("cut.parquet", bytes[..(bytes.Length / 2)]));
        Assert.Contains("Parquet", error.Message);
    }

    [Fact]
    public async Task IngestFileAsync_Fails_WhenCsvIsNamedParquet()
    {
        using var files = new TableFiles();
        var error = await Fails(files, files.Write("fake.parquet", "a,b\n1,2\n"));
        Assert.Contains("Parquet", error.Message);
    }

    [Fact]
    public async Task IngestFileAsync_ReportsRow_WhenJsonLineIsMalformed()
    {
        using var files = new TableFiles();
        var text = new StringBuilder();
        for (var i = 0; i < 2000; i++) text.Append("{\"a\":").Append(i).Append("}\n");
        text.Append("{\"a\": 1,,}\n");
        var error = await Fails(files, files.Write("m.jsonl", text.ToString()));
        Assert.Equal(2001, error.Row);
    }

    [Fact]
    public async Task IngestFileAsync_ReportsRow_WhenJsonLineIsNotAnObject()
    {
        using var files = new TableFiles();
        var error = await Fails(files, files.Write("m.jsonl", "{\"a\":1}\n[1,2]\n"));
        Assert.Equal(2, error.Row);
    }
}
