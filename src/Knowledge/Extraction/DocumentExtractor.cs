using System.Text;
using AngleSharp.Dom;
using AngleSharp.Html.Parser;
using Cube.Core.Errors;
using Markdig;
using Markdig.Extensions.Tables;
using Markdig.Syntax;
using Markdig.Syntax.Inlines;
using UglyToad.PdfPig;
using UglyToad.PdfPig.DocumentLayoutAnalysis.PageSegmenter;
using UglyToad.PdfPig.Core;
using UglyToad.PdfPig.Exceptions;

namespace Cube.Knowledge.Extraction;

/// <summary>The formats a knowledge base reads.</summary>
public enum DocumentFormat
{
    Pdf,
    Markdown,
    Html,
    Text,
    /// <summary>CSV or TSV: rows become a table, split by rows with the header repeated.</summary>
    Csv,
    /// <summary>JSON Lines: each record becomes one block of <c>field: value</c> pairs.</summary>
    JsonLines,
}

/// <summary>
/// Turns a document's bytes into structural blocks. Failures are the document's own (corrupt, encrypted, empty,
/// unsupported) and surface as <see cref="UnprocessableException"/> with a reason a user can act on.
/// </summary>
public static class DocumentExtractor
{
    private static readonly MarkdownPipeline Pipeline = new MarkdownPipelineBuilder().UsePipeTables().UseGridTables().Build();

    public static DocumentFormat? DetectFormat(string fileName, string? contentType = null)
    {
        var extension = Path.GetExtension(fileName).ToLowerInvariant();
        return extension switch
        {
            ".pdf" => DocumentFormat.Pdf,
            ".md" or ".markdown" or ".mdx" => DocumentFormat.Markdown,
            ".html" or ".htm" or ".xhtml" => DocumentFormat.Html,
            ".txt" or ".text" or ".log" or ".rst" => DocumentFormat.Text,
            ".csv" or ".tsv" => DocumentFormat.Csv,
            ".jsonl" or ".ndjson" => DocumentFormat.JsonLines,
            _ => contentType?.Split(';')[0].Trim().ToLowerInvariant() switch
            {
                "application/pdf" => DocumentFormat.Pdf,
                "text/markdown" => DocumentFormat.Markdown,
                "text/html" or "application/xhtml+xml" => DocumentFormat.Html,
                "text/plain" => DocumentFormat.Text,
                "text/csv" or "text/tab-separated-values" => DocumentFormat.Csv,
                "application/x-ndjson" or "application/jsonl" => DocumentFormat.JsonLines,
                _ => null,
            },
        };
    }

    public static ExtractedDocument Extract(byte[] content, DocumentFormat format)
    {
        if (content.Length == 0) throw new UnprocessableException("The document is empty.");
        var document = format switch
        {
            DocumentFormat.Pdf => ExtractPdf(content),
            DocumentFormat.Markdown => ExtractMarkdown(DecodeText(content)),
            DocumentFormat.Html => ExtractHtml(DecodeText(content)),
            DocumentFormat.Csv => ExtractCsv(DecodeText(content)),
            DocumentFormat.JsonLines => ExtractJsonLines(DecodeText(content)),
            _ => ExtractText(DecodeText(content)),
        };
        if (document.IsEmpty)
            throw new UnprocessableException(format == DocumentFormat.Pdf
                ? "The PDF has no extractable text (scanned pages need OCR, which knowledge bases do not run)."
                : "The document has no text.");
        return document;
    }

    private static string DecodeText(byte[] content)
    {
        try
        {
            // Strict decoding: a binary file sent as text fails here rather than producing noise chunks.
            var text = new UTF8Encoding(false, true).GetString(content);
            return text.Length > 0 && text[0] == '\uFEFF' ? text[1..] : text;
        }
        catch (DecoderFallbackException)
        {
            throw new UnprocessableException("The document is not valid UTF-8 text.");
        }
    }

    internal static ExtractedDocument ExtractPdf(byte[] content)
    {
        PdfDocument pdf;
        try
        {
            pdf = PdfDocument.Open(content);
        }
        catch (PdfDocumentEncryptedException)
        {
            throw new UnprocessableException("The PDF is encrypted; upload an unprotected copy.");
        }
        catch (Exception e) when (e is PdfDocumentFormatException or InvalidOperationException or ArgumentException or IndexOutOfRangeException or NullReferenceException or FormatException)
        {
            throw new UnprocessableException($"The PDF cannot be read: {e.Message}");
        }
        using (pdf)
        {
            var blocks = new BlockBuilder();
            try
            {
                foreach (var page in pdf.GetPages())
                {
                    var words = page.GetWords().ToList();
                    if (words.Count == 0) continue;
                    foreach (var block in DocstrumBoundingBoxes.Instance.GetBlocks(words))
                        blocks.Add(block.Text, BlockKind.Paragraph, page.Number);
                }
            }
            catch (Exception e) when (e is PdfDocumentFormatException or InvalidOperationException or ArgumentException or IndexOutOfRangeException or NullReferenceException or FormatException)
            {
                throw new UnprocessableException($"The PDF cannot be read: {e.Message}");
            }
            var title = pdf.Information.Title;
            return new ExtractedDocument(string.IsNullOrWhiteSpace(title) ? null : title.Trim(), blocks.Blocks, pdf.NumberOfPages);
        }
    }

    internal static ExtractedDocument ExtractMarkdown(string text)
    {
        var document = Markdown.Parse(text, Pipeline);
        var blocks = new BlockBuilder();
        foreach (var block in document) AddMarkdownBlock(block, blocks, text);
        return new ExtractedDocument(blocks.FirstHeading, blocks.Blocks, null);
    }

    private static void AddMarkdownBlock(Block block, BlockBuilder blocks, string source)
    {
        switch (block)
        {
            case HeadingBlock heading:
                blocks.Heading(heading.Level, InlineText(heading.Inline));
                break;
            case ParagraphBlock paragraph:
                blocks.Add(InlineText(paragraph.Inline), BlockKind.Paragraph);
                break;
            case Table table:
                blocks.Add(TableText(table), BlockKind.Table);
                break;
            case CodeBlock code:
                blocks.Add(code.Lines.ToString(), BlockKind.Code);
                break;
            case ListBlock list:
                foreach (var item in list.OfType<ListItemBlock>())
                {
                    var itemText = new StringBuilder();
                    AppendContainerText(item, itemText);
                    blocks.Add(itemText.ToString(), BlockKind.ListItem);
                }
                break;
            case ContainerBlock container:
                foreach (var child in container) AddMarkdownBlock(child, blocks, source);
                break;
            case LeafBlock leaf when leaf.Inline is not null:
                blocks.Add(InlineText(leaf.Inline), BlockKind.Paragraph);
                break;
        }
    }

    private static void AppendContainerText(ContainerBlock container, StringBuilder text)
    {
        foreach (var child in container)
        {
            if (text.Length > 0) text.Append(' ');
            switch (child)
            {
                case LeafBlock { Inline: not null } leaf: text.Append(InlineText(leaf.Inline)); break;
                case CodeBlock code: text.Append(code.Lines.ToString()); break;
                case ListBlock list:
                    foreach (var item in list.OfType<ListItemBlock>()) AppendContainerText(item, text);
                    break;
                case ContainerBlock nested: AppendContainerText(nested, text); break;
            }
        }
    }

    private static string TableText(Table table)
    {
        var lines = new StringBuilder();
        foreach (var row in table.OfType<TableRow>())
        {
            var cells = row.OfType<TableCell>().Select(cell =>
            {
                var text = new StringBuilder();
                AppendContainerText(cell, text);
                return BlockBuilder.Normalize(text.ToString());
            });
            lines.Append("| ").AppendJoin(" | ", cells).Append(" |\n");
        }
        return lines.ToString();
    }

    private static string InlineText(ContainerInline? inline)
    {
        if (inline is null) return "";
        var text = new StringBuilder();
        AppendInline(inline, text);
        return text.ToString();
    }

    private static void AppendInline(Inline inline, StringBuilder text)
    {
        switch (inline)
        {
            case LiteralInline literal: text.Append(literal.Content.ToString()); break;
            case CodeInline code: text.Append(code.Content); break;
            case LineBreakInline: text.Append(' '); break;
            case AutolinkInline link: text.Append(link.Url); break;
            case HtmlInline: break;
            case ContainerInline container:
                foreach (var child in container) AppendInline(child, text);
                break;
        }
    }

    private static readonly HashSet<string> SkippedElements = ["SCRIPT", "STYLE", "NOSCRIPT", "TEMPLATE", "SVG", "NAV", "HEAD", "IFRAME", "FORM", "BUTTON"];
    private static readonly HashSet<string> BlockElements =
    [
        "P", "DIV", "SECTION", "ARTICLE", "MAIN", "HEADER", "FOOTER", "ASIDE", "UL", "OL", "LI", "DL", "DT", "DD", "TABLE",
        "PRE", "BLOCKQUOTE", "H1", "H2", "H3", "H4", "H5", "H6", "BR", "HR", "FIGURE", "FIGCAPTION", "BODY", "ADDRESS", "DETAILS", "SUMMARY",
    ];

    internal static ExtractedDocument ExtractHtml(string html)
    {
        var document = new HtmlParser().ParseDocument(html);
        var blocks = new BlockBuilder();
        if (document.Body is { } body) WalkHtml(body, blocks);
        var title = string.IsNullOrWhiteSpace(document.Title) ? blocks.FirstHeading : document.Title.Trim();
        return new ExtractedDocument(title, blocks.Blocks, null);
    }

    private static void WalkHtml(IElement element, BlockBuilder blocks)
    {
        var inline = new StringBuilder();
        void Flush(BlockKind kind = BlockKind.Paragraph)
        {
            blocks.Add(inline.ToString(), kind);
            inline.Clear();
        }
        foreach (var node in element.ChildNodes)
        {
            if (node is IText textNode)
            {
                inline.Append(textNode.Data);
                continue;
            }
            if (node is not IElement child || SkippedElements.Contains(child.TagName)) continue;
            if (!BlockElements.Contains(child.TagName))
            {
                inline.Append(child.TextContent);
                continue;
            }
            Flush();
            switch (child.TagName)
            {
                case "H1" or "H2" or "H3" or "H4" or "H5" or "H6":
                    blocks.Heading(child.TagName[1] - '0', child.TextContent);
                    break;
                case "PRE":
                    blocks.Add(child.TextContent, BlockKind.Code);
                    break;
                case "LI":
                    if (child.QuerySelector("ul, ol, p, div, table") is null) blocks.Add(child.TextContent, BlockKind.ListItem);
                    else WalkHtml(child, blocks);
                    break;
                case "TABLE":
                    var rows = child.QuerySelectorAll("tr").Select(tr => "| " + string.Join(" | ",
                        tr.Children.Where(c => c.TagName is "TD" or "TH").Select(c => BlockBuilder.Normalize(c.TextContent))) + " |");
                    blocks.Add(string.Join('\n', rows), BlockKind.Table);
                    break;
                case "BR" or "HR":
                    break;
                default:
                    WalkHtml(child, blocks);
                    break;
            }
        }
        Flush();
    }

    internal static ExtractedDocument ExtractText(string text)
    {
        var blocks = new BlockBuilder();
        var paragraphs = text.Replace("\r\n", "\n").Split("\n\n", StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        foreach (var paragraph in paragraphs) blocks.Add(paragraph, BlockKind.Paragraph);
        return new ExtractedDocument(null, blocks.Blocks, null);
    }

    /// <summary>
    /// A CSV (or TSV, detected from the header line) as one table block: the header row first, then one
    /// <c>| a | b |</c> line per record, which the chunker splits by rows with the header repeated.
    /// </summary>
    internal static ExtractedDocument ExtractCsv(string text)
    {
        var newline = text.IndexOf('\n');
        var firstLine = newline >= 0 ? text.AsSpan(0, newline) : text.AsSpan();
        var separator = firstLine.Count('\t') > firstLine.Count(',') ? '\t' : ',';
        var rows = ParseDelimited(text, separator);
        if (rows.Count == 0) return new ExtractedDocument(null, [], null);
        var table = new StringBuilder();
        foreach (var row in rows.Where(r => r.Any(c => c.Length > 0)))
            table.Append("| ").AppendJoin(" | ", row.Select(c => BlockBuilder.Normalize(c).Replace("|", "\\|", StringComparison.Ordinal))).Append(" |\n");
        var blocks = new BlockBuilder();
        blocks.Add(table.ToString(), BlockKind.Table);
        return new ExtractedDocument(null, blocks.Blocks, null);
    }

    /// <summary>RFC 4180 records: quoted fields may hold separators, doubled quotes and line breaks.</summary>
    internal static List<string[]> ParseDelimited(string text, char separator)
    {
        var rows = new List<string[]>();
        var row = new List<string>();
        var field = new StringBuilder();
        var quoted = false;
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (quoted)
            {
                if (c == '"' && i + 1 < text.Length && text[i + 1] == '"') { field.Append('"'); i++; }
                else if (c == '"') quoted = false;
                else field.Append(c);
            }
            else if (c == '"' && field.Length == 0) quoted = true;
            else if (c == separator) { row.Add(field.ToString()); field.Clear(); }
            else if (c is '\n' or '\r')
            {
                if (c == '\r' && i + 1 < text.Length && text[i + 1] == '\n') i++;
                row.Add(field.ToString());
                field.Clear();
                rows.Add([.. row]);
                row.Clear();
            }
            else field.Append(c);
        }
        if (quoted) throw new UnprocessableException("The CSV has an unterminated quoted field.");
        if (field.Length > 0 || row.Count > 0)
        {
            row.Add(field.ToString());
            rows.Add([.. row]);
        }
        return rows;
    }

    internal static ExtractedDocument ExtractJsonLines(string text)
    {
        var blocks = new BlockBuilder();
        var number = 0;
        foreach (var line in text.Split('\n'))
        {
            number++;
            if (string.IsNullOrWhiteSpace(line)) continue;
            System.Text.Json.Nodes.JsonNode? node;
            try
            {
                node = System.Text.Json.Nodes.JsonNode.Parse(line);
            }
            catch (System.Text.Json.JsonException e)
            {
                throw new UnprocessableException($"Line {number} is not valid JSON: {e.Message}");
            }
            var record = node is System.Text.Json.Nodes.JsonObject o
                ? string.Join("; ", o.Select(p => $"{p.Key}: {(p.Value is System.Text.Json.Nodes.JsonValue v && v.TryGetValue<string>(out var s) ? s : p.Value?.ToJsonString())}"))
                : node?.ToJsonString() ?? "";
            blocks.Add(record, BlockKind.Paragraph);
        }
        return new ExtractedDocument(null, blocks.Blocks, null);
    }
}
