namespace Cube.Knowledge.Extraction;

/// <summary>What a block of a document is; tables and code are kept whole where the budget allows.</summary>
public enum BlockKind
{
    Paragraph,
    ListItem,
    Table,
    Code,
}

/// <summary>
/// One structural block of extracted text with where it came from: the heading path above it, the page (PDF only)
/// and its character offsets in the document's extracted text, so a chunk can be cited precisely.
/// </summary>
public sealed record TextBlock(string Text, BlockKind Kind, IReadOnlyList<string> HeadingPath, int? Page, int Start, int End);

/// <summary>The text of a document as ordered blocks, with a title and page count where the format has them.</summary>
public sealed record ExtractedDocument(string? Title, IReadOnlyList<TextBlock> Blocks, int? Pages)
{
    public bool IsEmpty => Blocks.All(b => string.IsNullOrWhiteSpace(b.Text));
}

/// <summary>Collects blocks and keeps running character offsets (as if the blocks were joined with blank lines).</summary>
internal sealed class BlockBuilder
{
    private readonly List<TextBlock> _blocks = [];
    private readonly List<string> _headings = [];
    private readonly List<int> _levels = [];
    private int _offset;

    public IReadOnlyList<TextBlock> Blocks => _blocks;

    public string? FirstHeading { get; private set; }

    public void Heading(int level, string text)
    {
        text = Normalize(text);
        if (text.Length == 0) return;
        FirstHeading ??= text;
        while (_levels.Count > 0 && _levels[^1] >= level)
        {
            _levels.RemoveAt(_levels.Count - 1);
            _headings.RemoveAt(_headings.Count - 1);
        }
        _levels.Add(level);
        _headings.Add(text);
        _offset += text.Length + 2;
    }

    public void Add(string text, BlockKind kind, int? page = null)
    {
        text = kind is BlockKind.Code or BlockKind.Table ? text.Trim('\n', '\r') : Normalize(text);
        if (string.IsNullOrWhiteSpace(text)) return;
        _blocks.Add(new TextBlock(text, kind, [.. _headings], page, _offset, _offset + text.Length));
        _offset += text.Length + 2;
    }

    /// <summary>Collapses runs of whitespace inside prose to single spaces.</summary>
    public static string Normalize(string text)
    {
        var builder = new System.Text.StringBuilder(text.Length);
        var space = false;
        foreach (var c in text)
        {
            if (char.IsWhiteSpace(c))
            {
                space = builder.Length > 0;
                continue;
            }
            if (space) builder.Append(' ');
            space = false;
            builder.Append(c);
        }
        return builder.ToString();
    }
}
