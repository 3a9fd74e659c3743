using System.Text;
using System.Text.Unicode;

namespace Cube.DataHub.Tables.Text;

/// <summary>The byte encodings text inputs are accepted in; everything is parsed as UTF-8 after transcoding.</summary>
public enum TextEncodingKind
{
    Utf8,
    Utf8Bom,
    Utf16LittleEndian,
    Utf16BigEndian,
    Latin1,
}

internal static class TextEncoding
{
    /// <summary>
    /// BOMs decide first. Without one the head must be UTF-8; Latin-1 is chosen only when the head has invalid
    /// UTF-8 and not one valid multi-byte sequence, i.e. it looks like a single-byte encoding rather than
    /// damaged UTF-8 (which the parser then reports with its offset).
    /// </summary>
    public static TextEncodingKind Detect(ReadOnlySpan<byte> head)
    {
        if (head.StartsWith((ReadOnlySpan<byte>)[0xEF, 0xBB, 0xBF])) return TextEncodingKind.Utf8Bom;
        if (head.StartsWith((ReadOnlySpan<byte>)[0xFF, 0xFE])) return TextEncodingKind.Utf16LittleEndian;
        if (head.StartsWith((ReadOnlySpan<byte>)[0xFE, 0xFF])) return TextEncodingKind.Utf16BigEndian;
        if (Utf8.IsValid(head)) return TextEncodingKind.Utf8;
        var invalid = 0;
        var multiByte = 0;
        var rest = head;
        while (!rest.IsEmpty)
        {
            var status = Rune.DecodeFromUtf8(rest, out _, out var used);
            if (status == System.Buffers.OperationStatus.NeedMoreData) break; // the sample cut a sequence in two
            if (status == System.Buffers.OperationStatus.InvalidData) invalid++;
            else if (used > 1) multiByte++;
            rest = rest[Math.Max(used, 1)..];
        }
        return invalid > 0 && multiByte == 0 ? TextEncodingKind.Latin1 : TextEncodingKind.Utf8;
    }

    public static int BomLength(TextEncodingKind kind) => kind switch
    {
        TextEncodingKind.Utf8Bom => 3,
        TextEncodingKind.Utf16LittleEndian or TextEncodingKind.Utf16BigEndian => 2,
        _ => 0,
    };

    /// <summary>Opens the file as a UTF-8 byte stream past any BOM, transcoding other encodings on the fly.</summary>
    public static Stream OpenUtf8(string path, TextEncodingKind kind)
    {
        var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.SequentialScan);
        file.Position = BomLength(kind);
        return kind switch
        {
            TextEncodingKind.Utf16LittleEndian => Encoding.CreateTranscodingStream(file, new UnicodeEncoding(false, false), Encoding.UTF8),
            TextEncodingKind.Utf16BigEndian => Encoding.CreateTranscodingStream(file, new UnicodeEncoding(true, false), Encoding.UTF8),
            TextEncodingKind.Latin1 => Encoding.CreateTranscodingStream(file, Encoding.Latin1, Encoding.UTF8),
            _ => file,
        };
    }

    /// <summary>Offset of the first invalid UTF-8 sequence in <paramref name="bytes"/>, or -1.</summary>
    public static int FirstInvalidUtf8(ReadOnlySpan<byte> bytes)
    {
        if (Utf8.IsValid(bytes)) return -1;
        var offset = 0;
        while (offset < bytes.Length)
        {
            if (Rune.DecodeFromUtf8(bytes[offset..], out _, out var used) != System.Buffers.OperationStatus.Done) return offset;
            offset += used;
        }
        return -1;
    }
}
