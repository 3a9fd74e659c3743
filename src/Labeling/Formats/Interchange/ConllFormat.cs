using System.Text;
using System.Text.Json.Nodes;
using Cube.Core.Errors;
using Cube.Labeling.Configs;

namespace Cube.Labeling.Formats.Interchange;

/// <summary>How a CoNLL file marks where a span starts.</summary>
public enum TagScheme
{
    /// <summary>IOB2: every span starts with <c>B-</c>; <c>I-</c> only continues a span of the same label.</summary>
    Bio,
    /// <summary>IOB1 (the original CoNLL-2003 files): <c>I-</c> starts a span too; <c>B-</c> only separates two adjacent spans of one label.</summary>
    Iob1,
}

/// <summary>
/// CoNLL-2003 for named entities: one token a line (<c>token -X- _ TAG</c>; the tag is the last column), a blank line
/// between sentences, <c>-DOCSTART- -X- -X- O</c> before each task. Tokens are the runs of non-space characters of the
/// text and each line of the text is a sentence, so a text with single spaces between words round-trips exactly;
/// when reading, tokens are joined with one space and sentences with a newline, and spans are character offsets into
/// that text. A span that starts or ends inside a token covers the whole token on export.
/// </summary>
public static class ConllFormat
{
    public const string Name = "CoNLL";

    public static void Require(LabelConfig config)
    {
        if (config.Kind != LabelingKind.NamedEntities) throw new UnprocessableException($"CoNLL holds named-entity spans; this project is {config.Kind}.");
    }

    /// <summary>The tokens of a text with their character offsets, grouped by line (sentence).</summary>
    public static List<List<(string Token, int Start, int End)>> Tokenize(string text)
    {
        var sentences = new List<List<(string, int, int)>>();
        var current = new List<(string, int, int)>();
        var i = 0;
        while (i < text.Length)
        {
            if (text[i] == '\n')
            {
                if (current.Count > 0) sentences.Add(current);
                current = [];
                i++;
                continue;
            }
            if (char.IsWhiteSpace(text[i])) { i++; continue; }
            var start = i;
            while (i < text.Length && !char.IsWhiteSpace(text[i])) i++;
            current.Add((text[start..i], start, i));
        }
        if (current.Count > 0) sentences.Add(current);
        return sentences;
    }

    public static async Task WriteAsync(LabelConfig config, IAsyncEnumerable<InterchangeTask> tasks, Stream output, CancellationToken cancellationToken)
    {
        Require(config);
        await using var writer = new StreamWriter(output, new UTF8Encoding(false), 1 << 16, leaveOpen: true) { NewLine = "\n" };
        await foreach (var task in tasks.WithCancellation(cancellationToken))
        {
            if (task.Text is not { } text || task.Single is not { } result) continue;
            var spans = Interchange.Items(result, "spans")
                .Select(s => (Label: Interchange.String(s["label"]) ?? "", Start: (int)Interchange.Get(s, "start"), End: (int)Interchange.Get(s, "end")))
                .OrderBy(s => s.Start).ThenByDescending(s => s.End).ToList();
            await writer.WriteLineAsync("-DOCSTART- -X- -X- O");
            await writer.WriteLineAsync();
            foreach (var sentence in Tokenize(text))
            {
                (string Label, int Start, int End)? open = null;
                foreach (var (token, start, end) in sentence)
                {
                    // Overlapping spans cannot be written in BIO: the first (longest at a start) wins.
                    var span = spans.FirstOrDefault(s => s.Start < end && start < s.End);
                    string tag;
                    if (span.Label is null or "") { tag = "O"; open = null; }
                    else
                    {
                        tag = (open == span ? "I-" : "B-") + span.Label;
                        open = span;
                    }
                    await writer.WriteLineAsync($"{token} -X- _ {tag}");
                }
                await writer.WriteLineAsync();
            }
        }
    }

    /// <summary>Reads a CoNLL file: documents (after <c>-DOCSTART-</c>) are tasks, or, without them, each sentence is. Problems name the line.</summary>
    public static List<InterchangeTask> Read(LabelConfig config, Stream input, TagScheme scheme, int maxTasks)
    {
        Require(config);
        var errors = new FormatErrors();
        using var reader = new StreamReader(input, Encoding.UTF8, true);
        var lines = new List<string>();
        while (reader.ReadLine() is { } l) lines.Add(l);
        var byDocument = lines.Any(l => l.StartsWith("-DOCSTART-", StringComparison.Ordinal));
        var tasks = new List<InterchangeTask>();
        var text = new StringBuilder();
        var sentenceHasTokens = false;
        var spans = new List<JsonNode>();
        var where = new List<string>();
        var firstLine = 0;
        (string Label, int Start, int End, int Line)? open = null;

        void Close()
        {
            if (open is { } o)
            {
                spans.Add(new JsonObject { ["label"] = o.Label, ["start"] = o.Start, ["end"] = o.End });
                where.Add($"line {o.Line}");
            }
            open = null;
        }
        void EndSentence()
        {
            Close();
            if (sentenceHasTokens && byDocument) text.Append('\n');
            sentenceHasTokens = false;
            if (!byDocument) EndTask();
        }
        void EndTask()
        {
            Close();
            var value = text.ToString().TrimEnd('\n');
            if (value.Length > 0)
            {
                if (tasks.Count >= maxTasks) throw new UnprocessableException($"The file has more than {maxTasks:N0} items; at most {maxTasks:N0} are imported at once.");
                var result = new InterchangeResult(new JsonObject { ["spans"] = new JsonArray([.. spans]) }, Where: $"line {firstLine}", ItemWhere: [.. where]);
                tasks.Add(new InterchangeTask(new JsonObject { ["text"] = value }, [result], [], Where: $"line {firstLine}"));
            }
            text.Clear();
            spans = [];
            where = [];
            firstLine = 0;
        }

        for (var n = 0; n < lines.Count; n++)
        {
            var line = lines[n].Trim();
            var number = n + 1;
            if (line.Length == 0) { EndSentence(); continue; }
            if (line.StartsWith("-DOCSTART-", StringComparison.Ordinal)) { EndSentence(); EndTask(); continue; }
            var parts = line.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
            if (parts.Length < 2) { errors.Add($"line {number}", "A token line has the token and its tag, separated by spaces or tabs."); continue; }
            if (firstLine == 0) firstLine = number;
            var token = parts[0];
            var tag = parts[^1];
            if (sentenceHasTokens) text.Append(' ');
            var start = text.Length;
            text.Append(token);
            sentenceHasTokens = true;
            var end = text.Length;
            if (tag == "O") { Close(); continue; }
            if (tag.Length < 3 || tag[1] != '-' || tag[0] is not ('B' or 'I'))
            {
                errors.Add($"line {number}", $"Tag '{tag}' is neither O nor B-LABEL or I-LABEL.");
                Close();
                continue;
            }
            var label = tag[2..];
            var continues = open is { } current && current.Label == label;
            if (tag[0] == 'I' && !continues && scheme == TagScheme.Bio)
            {
                errors.Add($"line {number}", $"'{tag}' follows {(open is null ? "O" : $"a {open.Value.Label} span")}; in BIO a span starts with B-{label} (read the file as IOB1 if it is).");
                Close();
                continue;
            }
            if (tag[0] == 'I' && continues) open = open!.Value with { End = end };
            else
            {
                Close();
                open = (label, start, end, number);
            }
        }
        EndSentence();
        EndTask();
        Interchange.Validate(config, tasks, Name, errors);
        return tasks;
    }
}
