using System.Buffers;
using System.Text;

namespace Cube.DataHub.Tables.Text;

/// <summary>
/// Streaming RFC 4180 parser over UTF-8 bytes. It reads the file in blocks into one reusable buffer, cuts whole
/// records out of it (never more than <c>batchRows</c>), and hands them out as spans; a record longer than the
/// buffer grows the buffer, so memory is bounded by the batch size and the longest record, not the file.
/// Doubled quotes are unescaped in place (the result is never longer than the source).
/// </summary>
internal sealed class CsvSource : IRawSource
{
    private const int InitialBuffer = 8 << 20;
    private readonly Stream _stream;
    private readonly string _fileName;
    private readonly byte _delimiter;
    private readonly byte _quote;
    private readonly SearchValues<byte> _unquotedStops;
    private readonly RawBatch _batch;
    private byte[] _buffer = new byte[InitialBuffer];
    private int _start;
    private int _end;
    private bool _eof;
    private long _consumedBytes;
    private long _line = 1;
    private readonly List<int> _escapedSlots = [];

    public CsvSource(Stream utf8, string fileName, CsvDialect dialect, int batchRows)
    {
        _stream = utf8;
        _fileName = fileName;
        _delimiter = dialect.Delimiter;
        _quote = dialect.Quote;
        _unquotedStops = SearchValues.Create(dialect.Delimiter, (byte)'\n');
        Fill();
        if (_end == 0) throw new TableFormatException(fileName, "The file is empty.");
        var first = ReadFirstRecord();
        if (first.Count == 0) throw new TableFormatException(fileName, "The file has no records.");
        if (dialect.HasHeader)
        {
            ColumnNames = UniqueNames(first);
        }
        else
        {
            ColumnNames = Enumerable.Range(1, first.Count).Select(i => $"column{i}").ToList();
            // Rewind: the first record is data.
            _start = 0;
            _line = 1;
        }
        _batch = new RawBatch(ColumnNames.Count, batchRows);
    }

    public IReadOnlyList<string> ColumnNames { get; }

    public RawBatch? Next()
    {
        var batch = _batch;
        batch.Rows = 0;
        while (true)
        {
            var batchStart = _start;
            var batchLine = _line;
            var rows = ParseRecords(batch);
            if (rows > 0)
            {
                ValidateUtf8(batchStart, _start, batchLine);
                batch.Rows = rows;
                batch.Data = _buffer;
                return batch;
            }
            if (_eof && _start >= _end) return null;
            // No whole record in the buffer: make room (growing if one record fills it) and read more.
            if (_start == 0 && _end == _buffer.Length) Array.Resize(ref _buffer, _buffer.Length * 2);
            Fill();
        }
    }

    public void Dispose() => _stream.Dispose();

    private void Fill()
    {
        if (_start > 0)
        {
            _consumedBytes += _start;
            Buffer.BlockCopy(_buffer, _start, _buffer, 0, _end - _start);
            _end -= _start;
            _start = 0;
        }
        while (_end < _buffer.Length && !_eof)
        {
            var read = _stream.Read(_buffer, _end, _buffer.Length - _end);
            if (read == 0) _eof = true;
            _end += read;
        }
    }

    private List<string> ReadFirstRecord()
    {
        var names = new RawBatch(1 << 16, 1);
        while (true)
        {
            var lineBefore = _line;
            var n = ParseOne(names, 0, names.Columns, out var complete, out _);
            if (complete)
            {
                ValidateUtf8(0, _start, lineBefore);
                return Enumerable.Range(0, n).Select(i => Encoding.UTF8.GetString(_buffer, names.Starts[i], names.Lengths[i])).ToList();
            }
            if (_eof && _start >= _end) return [];
            if (_end == _buffer.Length) Array.Resize(ref _buffer, _buffer.Length * 2);
            Fill();
        }
    }

    private int ParseRecords(RawBatch batch)
    {
        var rows = 0;
        var columns = batch.Columns;
        while (rows < batch.CapacityRows && _start < _end)
        {
            var n = ParseOne(batch, rows * columns, columns, out var complete, out var recordLine);
            if (!complete) break;
            if (n == 0) continue; // blank line
            if (n != columns)
                throw new TableFormatException(_fileName,
                    n > columns ? $"The row has more than {columns} fields; the header has {columns}."
                                : $"The row has {n} fields; the header has {columns}.", recordLine,
                    n < columns ? ColumnNames[n] : null);
            rows++;
        }
        return rows;
    }

    /// <summary>
    /// Parses one record at <see cref="_start"/> into <paramref name="batch"/> from field slot <paramref name="slot"/>.
    /// Returns the field count (more than <paramref name="maxFields"/> means ragged) and leaves the position unchanged
    /// when the record is not whole in the buffer yet.
    /// </summary>
    private int ParseOne(RawBatch batch, int slot, int maxFields, out bool complete, out long recordLine)
    {
        var buf = _buffer;
        var pos = _start;
        var end = _end;
        var field = 0;
        var lines = 0L;
        recordLine = _line;
        complete = false;
        _escapedSlots.Clear();
        if (pos < end && buf[pos] == '\n' || (pos + 1 < end && buf[pos] == '\r' && buf[pos + 1] == '\n'))
        {
            // A blank line is no record.
            _start = pos + (buf[pos] == '\r' ? 2 : 1);
            _line++;
            complete = true;
            return 0;
        }
        while (true)
        {
            int fieldStart, fieldLength, next;
            if (pos < end && buf[pos] == _quote)
            {
                var p = pos + 1;
                var escaped = false;
                int close;
                while (true)
                {
                    var rel = buf.AsSpan(p, end - p).IndexOf(_quote);
                    if (rel < 0)
                    {
                        if (_eof) throw new TableFormatException(_fileName, "A quoted field is not closed before the end of the file.", recordLine, FieldName(field));
                        return 0;
                    }
                    var q = p + rel;
                    if (q + 1 >= end && !_eof) return 0;
                    if (q + 1 < end && buf[q + 1] == _quote)
                    {
                        escaped = true;
                        p = q + 2;
                        continue;
                    }
                    close = q;
                    break;
                }
                lines += buf.AsSpan(pos + 1, close - pos - 1).Count((byte)'\n');
                fieldStart = pos + 1;
                fieldLength = close - fieldStart;
                // Unescaping rewrites the buffer, so it waits until the record is known to be whole.
                if (escaped && field < maxFields) _escapedSlots.Add(slot + field);
                next = close + 1;
                if (next < end && buf[next] == '\r' && next + 1 < end && buf[next + 1] == '\n') next++;
                if (next < end && buf[next] != _delimiter && buf[next] != '\n')
                    throw new TableFormatException(_fileName, "Unexpected character after a closing quote (unbalanced quotes?).", recordLine + lines, FieldName(field));
            }
            else
            {
                var rel = buf.AsSpan(pos, end - pos).IndexOfAny(_unquotedStops);
                if (rel < 0)
                {
                    if (!_eof) return 0;
                    rel = end - pos;
                }
                next = pos + rel;
                fieldStart = pos;
                fieldLength = rel;
                if (fieldLength > 0 && buf[next - 1] == '\r' && (next == end || buf[next] == '\n')) fieldLength--;
            }
            if (field < maxFields)
            {
                batch.Starts[slot + field] = fieldStart;
                batch.Lengths[slot + field] = fieldLength;
                batch.Kinds[slot + field] = FieldKind.Text;
            }
            field++;
            if (next < end && buf[next] == _delimiter)
            {
                pos = next + 1;
                if (pos == end && !_eof) return 0;
                continue;
            }
            // End of record: a newline, or the end of the file.
            _start = next < end ? next + 1 : end;
            _line += lines + 1;
            foreach (var s in _escapedSlots) batch.Lengths[s] = Unescape(buf, batch.Starts[s], batch.Lengths[s]);
            complete = true;
            return field;
        }

        string? FieldName(int index) => ColumnNames is not null && index < ColumnNames.Count ? ColumnNames[index] : null;
    }

    private int Unescape(byte[] buf, int start, int length)
    {
        var write = start;
        for (var read = start; read < start + length; read++)
        {
            buf[write++] = buf[read];
            if (buf[read] == _quote) read++; // skip the second quote of a doubled pair
        }
        return write - start;
    }

    private void ValidateUtf8(int from, int to, long line)
    {
        var span = _buffer.AsSpan(from, to - from);
        var bad = TextEncoding.FirstInvalidUtf8(span);
        if (bad < 0) return;
        var row = line + span[..bad].Count((byte)'\n');
        throw new TableFormatException(_fileName, $"Invalid UTF-8 at byte offset {_consumedBytes + from + bad}.", row, byteOffset: _consumedBytes + from + bad);
    }

    private static List<string> UniqueNames(List<string> raw)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var names = new List<string>(raw.Count);
        for (var i = 0; i < raw.Count; i++)
        {
            var name = raw[i].Trim();
            if (name.Length == 0) name = $"column{i + 1}";
            var candidate = name;
            for (var k = 2; !seen.Add(candidate); k++) candidate = $"{name}_{k}";
            names.Add(candidate);
        }
        return names;
    }
}
