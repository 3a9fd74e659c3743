using System.Text;
using Cube.Knowledge.Extraction;
using Microsoft.ML.Tokenizers;

namespace Cube.Knowledge.Chunking;

/// <summary>A piece of a document sized for retrieval, with what a citation needs to point back into the document.</summary>
public sealed record Chunk(int Ordinal, string Text, string HeadingPath, int? Page, int Start, int End, int TokenCount);

/// <summary>
/// Structure-aware, token-budgeted chunking. A chunk never crosses a section (heading path) or a PDF page, so its
/// citation is exact; paragraphs and list items are packed whole while they fit; a table too long for one chunk is split
/// by rows with its header row repeated; a block longer than the budget is cut into token windows. Consecutive chunks
/// of one section share <see cref="ChunkingOptions.OverlapTokens"/> tokens, so a sentence cut at a boundary stays findable.
/// </summary>
public sealed class Chunker
{
    private static readonly Lazy<Tokenizer> Cl100k = new(() => TiktokenTokenizer.CreateForEncoding("cl100k_base"));

    private readonly int _maxTokens;
    private readonly int _overlapTokens;

    public Chunker(ChunkingOptions options)
    {
        if (options.OverlapTokens >= options.MaxTokens)
            throw new ArgumentException($"Overlap ({options.OverlapTokens}) must be smaller than the chunk size ({options.MaxTokens}).", nameof(options));
        _maxTokens = options.MaxTokens;
        _overlapTokens = options.OverlapTokens;
    }

    /// <summary>The cl100k tokenizer (the GPT-4 family's), shipped in a package: no download at run time.</summary>
    public static Tokenizer Tokenizer => Cl100k.Value;

    public IReadOnlyList<Chunk> Split(ExtractedDocument document)
    {
        var chunks = new List<Chunk>();
        var sections = new List<TextBlock>();
        foreach (var block in document.Blocks)
        {
            if (sections.Count > 0 && !SameSection(sections[^1], block))
            {
                SplitSection(sections, chunks);
                sections.Clear();
            }
            sections.Add(block);
        }
        if (sections.Count > 0) SplitSection(sections, chunks);
        return chunks;
    }

    private static bool SameSection(TextBlock a, TextBlock b) => a.Page == b.Page && a.HeadingPath.SequenceEqual(b.HeadingPath, StringComparer.Ordinal);

    private void SplitSection(List<TextBlock> blocks, List<Chunk> chunks)
    {
        var heading = string.Join(" > ", blocks[0].HeadingPath);
        var page = blocks[0].Page;
        var text = new StringBuilder();
        var tokens = 0;
        var hasContent = false;
        var start = blocks[0].Start;
        var end = start;
        string? previous = null;

        void Add(string value, int from, int to)
        {
            chunks.Add(new Chunk(chunks.Count, value, heading, page, from, to, Tokenizer.CountTokens(value)));
            previous = value;
        }

        void Emit()
        {
            // A chunk holding only the overlap carried from its predecessor adds nothing; drop it.
            if (hasContent) Add(text.ToString(), start, end);
            text.Clear();
            tokens = 0;
            hasContent = false;
        }

        void BeginWithOverlap(int blockStart)
        {
            start = blockStart;
            if (previous is null || _overlapTokens == 0) return;
            var tail = Tail(previous, _overlapTokens);
            if (tail.Length == 0) return;
            text.Append(tail);
            tokens = Tokenizer.CountTokens(tail);
            start = Math.Max(0, blockStart - tail.Length - 2);
        }

        foreach (var block in blocks)
        {
            var blockTokens = Tokenizer.CountTokens(block.Text);
            if (blockTokens > _maxTokens)
            {
                // Over budget on its own: emit what is pending, then cut the block (tables by rows, prose by windows).
                Emit();
                foreach (var (piece, offset) in block.Kind == BlockKind.Table ? TableRows(block.Text) : Windows(block.Text))
                    Add(piece, block.Start + offset, Math.Min(block.End, block.Start + offset + piece.Length));
                BeginWithOverlap(block.End);
                continue;
            }
            if (hasContent && tokens + blockTokens + 1 > _maxTokens)
            {
                Emit();
                BeginWithOverlap(block.Start);
            }
            if (!hasContent && tokens + blockTokens + 1 > _maxTokens)
            {
                // The carried overlap and this block do not fit together: the block wins.
                text.Clear();
                tokens = 0;
                start = block.Start;
            }
            if (text.Length == 0) start = block.Start;
            else text.Append("\n\n");
            text.Append(block.Text);
            tokens += blockTokens + 1;
            hasContent = true;
            end = block.End;
        }
        Emit();
    }

    /// <summary>The last <paramref name="count"/> tokens of <paramref name="text"/>, starting at a word boundary.</summary>
    private static string Tail(string text, int count)
    {
        if (count == 0) return "";
        var index = Tokenizer.GetIndexByTokenCountFromEnd(text, count, out _, out _);
        while (index < text.Length && index > 0 && !char.IsWhiteSpace(text[index - 1])) index++;
        return index >= text.Length ? "" : text[index..].TrimStart();
    }

    /// <summary>Token windows of the budget that overlap by the configured amount.</summary>
    private IEnumerable<(string Text, int Offset)> Windows(string text)
    {
        var position = 0;
        while (position < text.Length)
        {
            var rest = text[position..];
            var length = Tokenizer.GetIndexByTokenCount(rest, _maxTokens, out _, out _);
            if (length <= 0) length = rest.Length;
            // Prefer to end at whitespace so words are not cut, unless that would leave a tiny window.
            if (position + length < text.Length)
            {
                var space = rest.LastIndexOf(' ', Math.Max(0, length - 1));
                if (space > length / 2) length = space;
            }
            yield return (rest[..length].Trim(), position);
            if (position + length >= text.Length) yield break;
            var step = length;
            if (_overlapTokens > 0)
            {
                var overlap = Tail(rest[..length], _overlapTokens).Length;
                step = Math.Max(length / 2, length - overlap);
            }
            position += step;
        }
    }

    /// <summary>Rows of a pipe table grouped under the budget, each group starting with the header row.</summary>
    private IEnumerable<(string Text, int Offset)> TableRows(string table)
    {
        var lines = new List<(string Line, int Offset)>();
        var position = 0;
        foreach (var line in table.Split('\n'))
        {
            if (line.Length > 0) lines.Add((line, position));
            position += line.Length + 1;
        }
        if (lines.Count < 2 || Tokenizer.CountTokens(lines[0].Line) * 2 > _maxTokens)
        {
            foreach (var window in Windows(table)) yield return window;
            yield break;
        }
        var header = lines[0].Line;
        var headerTokens = Tokenizer.CountTokens(header) + 1;
        var group = new StringBuilder(header);
        var tokens = headerTokens;
        var groupOffset = lines[1].Offset;
        var rows = 0;
        foreach (var (line, offset) in lines.Skip(1))
        {
            var lineTokens = Tokenizer.CountTokens(line) + 1;
            if (rows > 0 && tokens + lineTokens > _maxTokens)
            {
                yield return (group.ToString(), groupOffset);
                group.Clear().Append(header);
                tokens = headerTokens;
                groupOffset = offset;
                rows = 0;
            }
            group.Append('\n').Append(line);
            tokens += lineTokens;
            rows++;
        }
        if (rows > 0) yield return (group.ToString(), groupOffset);
    }
}
