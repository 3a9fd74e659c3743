using System.Text;
using Cube.Core.Errors;
using Cube.Knowledge.Extraction;

namespace Cube.Knowledge.Tests.Extraction;

public sealed class DocumentExtractorTests
{
    [Fact]
    public void ExtractMarkdown_KeepsHeadingPathsListsTablesAndCode()
    {
        const string markdown = """
            # Operations guide

            Intro paragraph with **bold** and `code`.

            ## Backups

            Take nightly backups.

            - first item
            - second item with [a link](http://example.com)

            | name | value |
            |------|-------|
            | a    | 1     |
            | b    | 2     |

            ### Restore

            ```
            restore --all
            ```

            ## Monitoring

            Scrape metrics.
            """;
        var document = DocumentExtractor.Extract(Encoding.UTF8.GetBytes(markdown), DocumentFormat.Markdown);

        Assert.Equal("Operations guide", document.Title);
        var intro = Assert.Single(document.Blocks, b => b.Text.StartsWith("Intro", StringComparison.Ordinal));
        Assert.Equal("Intro paragraph with bold and code.", intro.Text);
        Assert.Equal(["Operations guide"], intro.HeadingPath);
        Assert.Equal(["Operations guide", "Backups"], document.Blocks.Single(b => b.Text == "Take nightly backups.").HeadingPath);
        Assert.Equal(2, document.Blocks.Count(b => b.Kind == BlockKind.ListItem));
        var table = Assert.Single(document.Blocks, b => b.Kind == BlockKind.Table);
        Assert.Equal("| name | value |\n| a | 1 |\n| b | 2 |", table.Text);
        var code = Assert.Single(document.Blocks, b => b.Kind == BlockKind.Code);
        Assert.Equal(["Operations guide", "Backups", "Restore"], code.HeadingPath);
        Assert.Equal(["Operations guide", "Monitoring"], document.Blocks[^1].HeadingPath);
        // Offsets increase and never overlap.
        Assert.All(document.Blocks.Zip(document.Blocks.Skip(1)), pair => Assert.True(pair.First.End < pair.Second.Start));
    }

    [Fact]
    public void ExtractHtml_SkipsScriptsAndNavigation_AndKeepsStructure()
    {
        const string html = """
            <html><head><title>Service handbook</title><script>var secret = 1;</script></head>
            <body><nav>Home | About</nav>
            <h1>Handbook</h1><p>Welcome to the <b>service</b>.</p>
            <div>Loose text in a div <span>with a span</span></div>
            <h2>Limits</h2><ul><li>100 requests per minute</li><li>10 MB bodies</li></ul>
            <table><tr><th>plan</th><th>quota</th></tr><tr><td>free</td><td>1 GB</td></tr></table>
            <style>.x{}</style></body></html>
            """;
        var document = DocumentExtractor.Extract(Encoding.UTF8.GetBytes(html), DocumentFormat.Html);

        Assert.Equal("Service handbook", document.Title);
        var texts = document.Blocks.Select(b => b.Text).ToList();
        Assert.Contains("Welcome to the service.", texts);
        Assert.Contains("Loose text in a div with a span", texts);
        Assert.DoesNotContain(texts, t => t.Contains("secret", StringComparison.Ordinal) || t.Contains("Home", StringComparison.Ordinal));
        Assert.Equal(["Handbook", "Limits"], document.Blocks.Single(b => b.Text == "10 MB bodies").HeadingPath);
        Assert.Equal("| plan | quota |\n| free | 1 GB |", document.Blocks.Single(b => b.Kind == BlockKind.Table).Text);
    }

    [Fact]
    public void ExtractPdf_KeepsPageNumbersAndTitle()
    {
        var pdf = TestDocuments.Pdf("Storage manual",
            ["Buckets hold objects.", "Each object has a key."],
            ["Retention locks prevent deletion.", "", "A second paragraph on page two."]);
        var document = DocumentExtractor.Extract(pdf, DocumentFormat.Pdf);

        Assert.Equal("Storage manual", document.Title);
        Assert.Equal(2, document.Pages);
        Assert.Contains(document.Blocks, b => b.Page == 1 && b.Text.Contains("Buckets hold objects", StringComparison.Ordinal));
        Assert.Contains(document.Blocks, b => b.Page == 2 && b.Text.Contains("Retention locks prevent deletion", StringComparison.Ordinal));
        Assert.DoesNotContain(document.Blocks, b => b.Page == 1 && b.Text.Contains("Retention", StringComparison.Ordinal));
    }

    [Fact]
    public void Extract_CorruptPdf_FailsWithReason()
    {
        var error = Assert.Throws<UnprocessableException>(() => DocumentExtractor.Extract("%PDF-1.7\nthis is not really a pdf"u8.ToArray(), DocumentFormat.Pdf));
        Assert.Contains("PDF", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Extract_PdfWithoutText_FailsAsEmpty()
    {
        var error = Assert.Throws<UnprocessableException>(() => DocumentExtractor.Extract(TestDocuments.Pdf("blank", []), DocumentFormat.Pdf));
        Assert.Contains("no extractable text", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Extract_EmptyOrBinaryText_Fails()
    {
        Assert.Throws<UnprocessableException>(() => DocumentExtractor.Extract([], DocumentFormat.Text));
        Assert.Throws<UnprocessableException>(() => DocumentExtractor.Extract("  \n\n  "u8.ToArray(), DocumentFormat.Markdown));
        var binary = Assert.Throws<UnprocessableException>(() => DocumentExtractor.Extract([0xff, 0xfe, 0x00, 0xc3, 0x28], DocumentFormat.Text));
        Assert.Contains("UTF-8", binary.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("a.pdf", null, DocumentFormat.Pdf)]
    [InlineData("notes.MD", null, DocumentFormat.Markdown)]
    [InlineData("page.htm", null, DocumentFormat.Html)]
    [InlineData("readme", "text/plain; charset=utf-8", DocumentFormat.Text)]
    [InlineData("rows.tsv", null, DocumentFormat.Csv)]
    [InlineData("records.jsonl", null, DocumentFormat.JsonLines)]
    [InlineData("blob.bin", "application/octet-stream", null)]
    public void DetectFormat_UsesExtensionThenContentType(string name, string? contentType, DocumentFormat? expected) =>
        Assert.Equal(expected, DocumentExtractor.DetectFormat(name, contentType));

    [Fact]
    public void ExtractCsv_MakesATableThatSplitsByRowsWithTheHeader()
    {
        var csv = new StringBuilder("sku,name,notes\r\n");
        for (var i = 0; i < 80; i++) csv.Append($"S{i},\"Widget, size {i}\",\"said \"\"ok\"\"\nsecond line\"\r\n");
        var document = DocumentExtractor.Extract(Encoding.UTF8.GetBytes(csv.ToString()), DocumentFormat.Csv);
        var table = Assert.Single(document.Blocks);
        Assert.StartsWith("| sku | name | notes |\n| S0 | Widget, size 0 | said \"ok\" second line |", table.Text, StringComparison.Ordinal);

        var chunks = new Cube.Knowledge.Chunking.Chunker(new Cube.Knowledge.ChunkingOptions { MaxTokens = 120, OverlapTokens = 10 }).Split(document);
        Assert.True(chunks.Count > 3);
        Assert.All(chunks, c => Assert.StartsWith("| sku | name | notes |", c.Text, StringComparison.Ordinal));
        Assert.Throws<UnprocessableException>(() => DocumentExtractor.Extract("a,b\n\"open"u8.ToArray(), DocumentFormat.Csv));
    }

    [Fact]
    public void ExtractJsonLines_OneBlockPerRecord_AndBadLinesFailWithTheirNumber()
    {
        var document = DocumentExtractor.Extract("{\"q\":\"How to reset?\",\"a\":\"Use the link.\",\"n\":3}\n\n{\"q\":\"Limits?\"}\n"u8.ToArray(), DocumentFormat.JsonLines);
        Assert.Equal(["q: How to reset?; a: Use the link.; n: 3", "q: Limits?"], document.Blocks.Select(b => b.Text));
        var error = Assert.Throws<UnprocessableException>(() => DocumentExtractor.Extract("{\"a\":1}\n{broken\n"u8.ToArray(), DocumentFormat.JsonLines));
        Assert.StartsWith("Line 2 ", error.Message, StringComparison.Ordinal);
    }
}
