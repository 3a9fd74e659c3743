using System.Text;
using System.Text.Json;

namespace Cube.DataHub.Tables.Text;

/// <summary>
/// JSON Lines: one object per line. Values are copied into a per-batch buffer as text so the same inference and
/// conversion as delimited text apply; nested objects and arrays are kept as their JSON text. A key first seen
/// after the sample raises <see cref="SchemaWideningException"/> so the ingest restarts with the extra column.
/// </summary>
internal sealed class JsonLinesSource : IRawSource
{
    private readonly Stream _stream;
    private readonly string _fileName;
    private readonly List<string> _names;
    private readonly byte[][] _utf8Names;
    private readonly Dictionary<string, int> _index;
    private readonly RawBatch _batch;
    private byte[] _buffer = new byte[4 << 20];
    private byte[] _values = new byte[8 << 20];
    private int _start;
    private int _end;
    private bool _eof;
    private long _consumed;
    private long _line = 1;

    public JsonLinesSource(Stream utf8, string fileName, IReadOnlyList<string> columns, int batchRows)
    {
        _stream = utf8;
        _fileName = fileName;
        _names = [.. columns];
        _utf8Names = [.. _names.Select(Encoding.UTF8.GetBytes)];
        _index = _names.Select((n, i) => (n, i)).ToDictionary(x => x.n, x => x.i, StringComparer.Ordinal);
        _batch = new RawBatch(Math.Max(1, _names.Count), batchRows);
    }

    public IReadOnlyList<string> ColumnNames => _names;

    /// <summary>Column names in order of first appearance over the first <paramref name="sampleLines"/> objects.</summary>
    public static List<string> DiscoverColumns(Stream utf8, string fileName, int sampleLines)
    {
        using var reader = new StreamReader(utf8, new UTF8Encoding(false, false), false, 1 << 16, leaveOpen: false);
        var names = new List<string>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var line = 0L;
        var objects = 0;
        while (objects < sampleLines && reader.ReadLine() is { } text)
        {
            line++;
            if (string.IsNullOrWhiteSpace(text)) continue;
            objects++;
            try
            {
                using var doc = JsonDocument.Parse(text);
                if (doc.RootElement.ValueKind != JsonValueKind.Object)
                    throw new TableFormatException(fileName, "Each line must be a JSON object.", line);
                foreach (var p in doc.RootElement.EnumerateObject())
                    if (seen.Add(p.Name)) names.Add(p.Name);
            }
            catch (JsonException e)
            {
                throw new TableFormatException(fileName, $"Malformed JSON: {e.Message}", line);
            }
        }
        if (objects == 0) throw new TableFormatException(fileName, "The file is empty.");
        return names;
    }

    public RawBatch? Next()
    {
        var batch = _batch;
        var rows = 0;
        var used = 0;
        while (rows < batch.CapacityRows)
        {
            var rel = _buffer.AsSpan(_start, _end - _start).IndexOf((byte)'\n');
            int lineEnd;
            if (rel < 0)
            {
                if (!_eof)
                {
                    if (rows > 0) break; // hand out what we have; the buffer is compacted on the next call
                    Fill();
                    continue;
                }
                if (_start >= _end) break;
                lineEnd = _end;
            }
            else
            {
                lineEnd = _start + rel;
            }
            var line = _buffer.AsSpan(_start, lineEnd - _start);
            var bad = TextEncoding.FirstInvalidUtf8(line);
            if (bad >= 0)
                throw new TableFormatException(_fileName, $"Invalid UTF-8 at byte offset {_consumed + _start + bad}.", _line, byteOffset: _consumed + _start + bad);
            if (!line.Trim(" \t\r"u8).IsEmpty)
            {
                if (used + line.Length * 2 + 16 > _values.Length) // escapes only shrink, raw JSON copies are as long
                {
                    if (rows > 0) break;
                    Array.Resize(ref _values, Math.Max(_values.Length * 2, line.Length * 2 + 16));
                }
                ParseObject(line, batch, rows, ref used);
                rows++;
            }
            _start = Math.Min(lineEnd + 1, _end);
            _line++;
        }
        if (rows == 0) return null;
        batch.Rows = rows;
        batch.Data = _values;
        return batch;
    }

    public void Dispose() => _stream.Dispose();

    private void ParseObject(ReadOnlySpan<byte> line, RawBatch batch, int row, ref int used)
    {
        var slot = row * batch.Columns;
        batch.Kinds.AsSpan(slot, batch.Columns).Fill(FieldKind.Null);
        batch.Lengths.AsSpan(slot, batch.Columns).Clear();
        var reader = new Utf8JsonReader(line, new JsonReaderOptions { CommentHandling = JsonCommentHandling.Disallow });
        var expected = 0;
        try
        {
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
                throw new TableFormatException(_fileName, "Each line must be a JSON object.", _line);
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                // Lines usually repeat the key order, so the expected key is checked before a dictionary lookup.
                int column;
                if (expected < _utf8Names.Length && reader.ValueTextEquals(_utf8Names[expected])) column = expected;
                else if (!_index.TryGetValue(reader.GetString()!, out column))
                    throw new SchemaWideningException([.. _names, reader.GetString()!]);
                expected = column + 1;
                reader.Read();
                var at = slot + column;
                switch (reader.TokenType)
                {
                    case JsonTokenType.Null:
                        break;
                    case JsonTokenType.String:
                        var written = reader.CopyString(_values.AsSpan(used));
                        Set(batch, at, used, written, FieldKind.JsonString);
                        used += written;
                        break;
                    case JsonTokenType.StartObject or JsonTokenType.StartArray:
                        var from = (int)reader.TokenStartIndex;
                        reader.Skip();
                        var raw = line[from..(int)reader.BytesConsumed];
                        raw.CopyTo(_values.AsSpan(used));
                        Set(batch, at, used, raw.Length, FieldKind.JsonString);
                        used += raw.Length;
                        break;
                    default:
                        // Numbers and true/false go through the text parsers as written.
                        reader.ValueSpan.CopyTo(_values.AsSpan(used));
                        Set(batch, at, used, reader.ValueSpan.Length, FieldKind.Text);
                        used += reader.ValueSpan.Length;
                        break;
                }
            }
            if (reader.TokenType != JsonTokenType.EndObject || reader.Read())
                throw new TableFormatException(_fileName, "Malformed JSON: trailing content after the object.", _line);
        }
        catch (JsonException e)
        {
            throw new TableFormatException(_fileName, $"Malformed JSON: {e.Message}", _line);
        }
    }

    private static void Set(RawBatch batch, int at, int start, int length, FieldKind kind)
    {
        batch.Starts[at] = start;
        batch.Lengths[at] = length;
        batch.Kinds[at] = kind;
    }

    private void Fill()
    {
        if (_start > 0)
        {
            _consumed += _start;
            Buffer.BlockCopy(_buffer, _start, _buffer, 0, _end - _start);
            _end -= _start;
            _start = 0;
        }
        if (_end == _buffer.Length) Array.Resize(ref _buffer, _buffer.Length * 2);
        while (_end < _buffer.Length && !_eof)
        {
            var read = _stream.Read(_buffer, _end, _buffer.Length - _end);
            if (read == 0) _eof = true;
            _end += read;
        }
    }
}

/// <summary>A late record needs a wider schema than inferred; ingest restarts with <see cref="Columns"/>.</summary>
internal sealed class SchemaWideningException(IReadOnlyList<string> columns) : Exception("The schema must widen.")
{
    public IReadOnlyList<string> Columns { get; } = columns;
}
