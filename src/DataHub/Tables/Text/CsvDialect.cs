using System.Text;

namespace Cube.DataHub.Tables.Text;

/// <summary>How a delimited text file is laid out, as detected or as given.</summary>
public sealed record CsvDialect(byte Delimiter, byte Quote, bool HasHeader);

internal static class CsvDialectDetector
{
    private static readonly byte[] Delimiters = [(byte)',', (byte)';', (byte)'\t', (byte)'|'];
    private const int SampleRecords = 64;

    /// <summary>Detects delimiter, quote and header on a sample of whole lines from the start of the file.</summary>
    public static CsvDialect Detect(ReadOnlySpan<byte> sample, byte? delimiter, byte? quote, bool? hasHeader)
    {
        var q = quote ?? DetectQuote(sample);
        var d = delimiter ?? DetectDelimiter(sample, q);
        var header = hasHeader ?? DetectHeader(Split(sample, d, q, SampleRecords));
        return new CsvDialect(d, q, header);
    }

    private static byte DetectQuote(ReadOnlySpan<byte> sample) =>
        !sample.Contains((byte)'"') && (sample.IndexOf(",'"u8) >= 0 || sample.IndexOf("',"u8) >= 0 || sample.IndexOf("\t'"u8) >= 0 || sample.IndexOf(";'"u8) >= 0)
            ? (byte)'\'' : (byte)'"';

    private static byte DetectDelimiter(ReadOnlySpan<byte> sample, byte quote)
    {
        var best = (byte)',';
        var bestScore = 0.0;
        foreach (var d in Delimiters)
        {
            var records = Split(sample, d, quote, SampleRecords);
            if (records.Count == 0) continue;
            var counts = records.Select(r => r.Count).ToList();
            var mode = counts.GroupBy(c => c).OrderByDescending(g => g.Count()).First();
            if (mode.Key < 2) continue;
            // Consistency matters more than width: a ';' file with commas in decimals must not pick ','.
            var score = (double)mode.Count() / counts.Count * 1000 + mode.Key;
            if (score > bestScore)
            {
                bestScore = score;
                best = d;
            }
        }
        return best;
    }

    /// <summary>
    /// A first row is a header when none of its fields is empty or typed (numbers, booleans, dates are data, not
    /// names) and either some column below it is typed or its values never recur in their columns.
    /// </summary>
    private static bool DetectHeader(List<List<string>> records)
    {
        if (records.Count == 0) return true;
        var first = records[0];
        foreach (var f in first)
        {
            var bytes = Encoding.UTF8.GetBytes(f);
            if (ValueParsers.IsNullToken(bytes) || ValueParsers.Classify(bytes) != ValueParsers.Fits.None) return false;
        }
        if (records.Count == 1) return true;
        for (var c = 0; c < first.Count; c++)
        {
            var fits = ValueParsers.Fits.All;
            var any = false;
            foreach (var r in records.Skip(1))
            {
                if (c >= r.Count) continue;
                var bytes = Encoding.UTF8.GetBytes(r[c]);
                if (ValueParsers.IsNullToken(bytes)) continue;
                any = true;
                fits &= ValueParsers.Classify(bytes);
            }
            if (any && fits != ValueParsers.Fits.None) return true;
        }
        return !records.Skip(1).Any(r => r.Where((v, c) => c < first.Count && v == first[c]).Any());
    }

    /// <summary>A forgiving splitter for the sample only; the real parser is <see cref="CsvSource"/>.</summary>
    internal static List<List<string>> Split(ReadOnlySpan<byte> sample, byte delimiter, byte quote, int maxRecords)
    {
        var records = new List<List<string>>();
        var fields = new List<string>();
        var field = new List<byte>();
        var inQuotes = false;
        var lastComplete = -1;
        for (var i = 0; i < sample.Length && records.Count < maxRecords; i++)
        {
            var b = sample[i];
            if (inQuotes)
            {
                if (b == quote)
                {
                    if (i + 1 < sample.Length && sample[i + 1] == quote) { field.Add(b); i++; }
                    else inQuotes = false;
                }
                else field.Add(b);
            }
            else if (b == quote && field.Count == 0) inQuotes = true;
            else if (b == delimiter) { fields.Add(Encoding.UTF8.GetString(field.ToArray())); field.Clear(); }
            else if (b == '\n')
            {
                if (field.Count > 0 && field[^1] == '\r') field.RemoveAt(field.Count - 1);
                fields.Add(Encoding.UTF8.GetString(field.ToArray()));
                field.Clear();
                if (!(fields.Count == 1 && fields[0].Length == 0)) records.Add(fields);
                fields = [];
                lastComplete = i;
            }
            else field.Add(b);
        }
        // The sample's last line may be cut short; keep it only when the sample is the whole file.
        if (records.Count < maxRecords && (fields.Count > 0 || field.Count > 0) && lastComplete < 0)
        {
            fields.Add(Encoding.UTF8.GetString(field.ToArray()));
            records.Add(fields);
        }
        return records;
    }
}
