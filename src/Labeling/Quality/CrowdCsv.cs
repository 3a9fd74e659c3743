using System.Globalization;
using System.Text;

namespace Cube.Labeling.Quality;

/// <summary>One worker's answer to one question of a crowd dataset.</summary>
public readonly record struct CrowdAnswer(string Question, string Worker, string Answer);

/// <summary>A malformed crowd CSV: which line, and what is wrong with it.</summary>
public sealed class CrowdCsvException(string file, long line, string message) : Exception($"{file}:{line}: {message}")
{
    public string File => file;
    public long Line => line;
}

/// <summary>
/// Reads crowd answers (<c>question,worker,answer</c>) and gold truth (<c>question,truth</c>) from CSV collected elsewhere.
/// RFC 4180 quoting; CRLF, CR or LF line endings, mixed freely; columns found by header name in any order;
/// ids are opaque strings (<c>007</c> and <c>7</c> are different questions).
/// </summary>
public static class CrowdCsv
{
    public static List<CrowdAnswer> ReadAnswers(TextReader reader, string file = "answers")
    {
        var answers = new List<CrowdAnswer>();
        foreach (var (line, row) in ReadRows(reader, file, ["question", "worker", "answer"]))
            answers.Add(new CrowdAnswer(row[0], row[1], row[2]));
        return answers;
    }

    /// <summary>Gold truth by question; a question listed twice with different truths is an error.</summary>
    public static Dictionary<string, string> ReadTruth(TextReader reader, string file = "truth")
    {
        var truth = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (line, row) in ReadRows(reader, file, ["question", "truth"]))
        {
            if (truth.TryGetValue(row[0], out var seen) && seen != row[1])
                throw new CrowdCsvException(file, line, $"question '{row[0]}' has two truths ('{seen}' and '{row[1]}').");
            truth[row[0]] = row[1];
        }
        return truth;
    }

    /// <summary>Writes consensus labels as <c>question,label,confidence</c>, in the order given.</summary>
    public static void WriteConsensus(TextWriter writer, IEnumerable<ConsensusLabel> labels)
    {
        writer.Write("question,label,confidence\n");
        foreach (var label in labels)
            writer.Write($"{Quote(label.Item)},{Quote(label.Label)},{label.Confidence.ToString("0.######", CultureInfo.InvariantCulture)}\n");
    }

    private static string Quote(string value) =>
        value.AsSpan().IndexOfAny(",\"\r\n") < 0 ? value : $"\"{value.Replace("\"", "\"\"", StringComparison.Ordinal)}\"";

    /// <summary>Data rows projected onto <paramref name="columns"/>, with the physical line each starts on.</summary>
    private static IEnumerable<(long Line, string[] Values)> ReadRows(TextReader reader, string file, string[] columns)
    {
        using var records = Records(reader, file).GetEnumerator();
        if (!records.MoveNext())
            throw new CrowdCsvException(file, 1, $"the file is empty; expected a header '{string.Join(',', columns)}'.");
        var header = records.Current.Fields.Select(h => h.Trim().TrimStart('\uFEFF')).ToList();
        var positions = columns.Select(c => header.FindIndex(h => string.Equals(h, c, StringComparison.OrdinalIgnoreCase))).ToArray();
        var missing = columns.Where((_, i) => positions[i] < 0).ToList();
        if (missing.Count > 0)
            throw new CrowdCsvException(file, 1, $"the header lacks column(s) {string.Join(", ", missing.Select(m => $"'{m}'"))}; found '{string.Join(',', header)}'.");

        while (records.MoveNext())
        {
            var (line, fields) = records.Current;
            if (fields.Count == 1 && fields[0].Length == 0) continue; // blank line
            if (fields.Count != header.Count)
                throw new CrowdCsvException(file, line, $"expected {header.Count} fields, found {fields.Count}.");
            var values = positions.Select(p => fields[p].Trim()).ToArray();
            for (var i = 0; i < values.Length; i++)
                if (values[i].Length == 0) throw new CrowdCsvException(file, line, $"'{columns[i]}' is empty.");
            yield return (line, values);
        }
    }

    internal static IEnumerable<(long Line, List<string> Fields)> Records(TextReader reader, string file)
    {
        var fields = new List<string>();
        var field = new StringBuilder();
        long line = 1, recordLine = 1;
        bool quoted = false, any = false, wasQuoted = false;
        int c;
        while ((c = reader.Read()) >= 0)
        {
            any = true;
            if (quoted)
            {
                if (c == '"')
                {
                    if (reader.Peek() == '"') { reader.Read(); field.Append('"'); }
                    else quoted = false;
                }
                else
                {
                    if (c == '\n' || (c == '\r' && reader.Peek() != '\n')) line++;
                    field.Append((char)c);
                }
                continue;
            }
            switch (c)
            {
                case '"' when field.Length == 0 && !wasQuoted:
                    quoted = wasQuoted = true;
                    break;
                case '"':
                    throw new CrowdCsvException(file, line, "a quote inside an unquoted field; quote the whole field and double the quote.");
                case ',':
                    fields.Add(field.ToString()); field.Clear(); wasQuoted = false;
                    break;
                case '\r' or '\n':
                    if (c == '\r' && reader.Peek() == '\n') reader.Read();
                    fields.Add(field.ToString()); field.Clear(); wasQuoted = false;
                    yield return (recordLine, fields);
                    fields = [];
                    any = false;
                    recordLine = ++line;
                    break;
                default:
                    if (wasQuoted && !char.IsWhiteSpace((char)c))
                        throw new CrowdCsvException(file, line, "text after a closing quote.");
                    field.Append((char)c);
                    break;
            }
        }
        if (quoted) throw new CrowdCsvException(file, recordLine, "a quoted field is not closed before the end of the file.");
        if (any)
        {
            fields.Add(field.ToString());
            yield return (recordLine, fields);
        }
    }
}
