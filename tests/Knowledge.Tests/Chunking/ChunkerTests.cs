using System.Text;
using Cube.Knowledge.Chunking;
using Cube.Knowledge.Extraction;

namespace Cube.Knowledge.Tests.Chunking;

public sealed class ChunkerTests
{
    private static string Sentence(int i) => $"Sentence number {i} talks about topic {i % 13} and detail {i * 7 % 31}.";

    [Fact]
    public void Split_RespectsTheTokenBudget_AndOverlapsConsecutiveChunks()
    {
        var text = new StringBuilder();
        for (var p = 0; p < 40; p++)
        {
            for (var s = 0; s < 4; s++) text.Append(Sentence(p * 4 + s)).Append(' ');
            text.Append("\n\n");
        }
        var chunker = new Chunker(new ChunkingOptions { MaxTokens = 120, OverlapTokens = 20 });
        var chunks = chunker.Split(DocumentExtractor.ExtractText(text.ToString()));

        Assert.True(chunks.Count > 5);
        Assert.All(chunks, c => Assert.InRange(c.TokenCount, 1, 120 + 2));
        Assert.Equal(Enumerable.Range(0, chunks.Count), chunks.Select(c => c.Ordinal));
        foreach (var (previous, next) in chunks.Zip(chunks.Skip(1)))
        {
            // The next chunk starts with words from the end of the previous one.
            var head = string.Join(' ', next.Text.Split(' ').Take(4));
            Assert.Contains(head, previous.Text, StringComparison.Ordinal);
        }
        // Every sentence survives somewhere.
        for (var i = 0; i < 160; i++) Assert.Contains(chunks, c => c.Text.Contains(Sentence(i), StringComparison.Ordinal));
    }

    [Fact]
    public void Split_NeverCrossesSectionsOrPages()
    {
        var markdown = "# A\n\nAlpha text.\n\n## B\n\nBeta text.\n\n# C\n\nGamma text.";
        var chunks = new Chunker(new ChunkingOptions { MaxTokens = 200, OverlapTokens = 10 }).Split(DocumentExtractor.ExtractMarkdown(markdown));
        Assert.Equal(["A", "A > B", "C"], chunks.Select(c => c.HeadingPath));
        Assert.Equal(["Alpha text.", "Beta text.", "Gamma text."], chunks.Select(c => c.Text));

        var pdf = DocumentExtractor.Extract(TestDocuments.Pdf("t", ["one on page one"], ["two on page two"]), DocumentFormat.Pdf);
        var pdfChunks = new Chunker(new ChunkingOptions { MaxTokens = 200, OverlapTokens = 10 }).Split(pdf);
        Assert.Equal([1, 2], pdfChunks.Select(c => c.Page ?? 0));
    }

    [Fact]
    public void Split_LongTable_SplitsByRowsWithTheHeaderRepeated()
    {
        var markdown = new StringBuilder("# Prices\n\n| product | price | notes |\n|---|---|---|\n");
        for (var i = 0; i < 60; i++) markdown.Append($"| product-{i} | {i * 3} | some notes about product {i} |\n");
        var chunks = new Chunker(new ChunkingOptions { MaxTokens = 100, OverlapTokens = 10 }).Split(DocumentExtractor.ExtractMarkdown(markdown.ToString()));

        Assert.True(chunks.Count > 3);
        Assert.All(chunks, c => Assert.StartsWith("| product | price | notes |", c.Text, StringComparison.Ordinal));
        Assert.All(chunks, c => Assert.True(c.TokenCount <= 100));
        for (var i = 0; i < 60; i++) Assert.Single(chunks, c => c.Text.Contains($"| product-{i} |", StringComparison.Ordinal));
    }

    [Fact]
    public void Split_OneHugeParagraph_IsCutIntoOverlappingWindows()
    {
        var words = string.Join(' ', Enumerable.Range(0, 2000).Select(i => $"w{i}"));
        var chunks = new Chunker(new ChunkingOptions { MaxTokens = 150, OverlapTokens = 30 }).Split(DocumentExtractor.ExtractText(words));
        Assert.True(chunks.Count > 10);
        Assert.All(chunks, c => Assert.True(c.TokenCount <= 150, $"{c.TokenCount} tokens"));
        Assert.Contains("w0", chunks[0].Text.Split(' '));
        Assert.Contains("w1999", chunks[^1].Text.Split(' '));
        foreach (var (previous, next) in chunks.Zip(chunks.Skip(1)))
            Assert.Contains(next.Text.Split(' ')[1], previous.Text.Split(' '));
    }
}
