using System.Text;
using Cube.Core.Errors;

namespace Cube.DataHub.Ingest;

/// <summary>
/// Paths of files inside a dataset version: '/'-separated, relative, NFC-normalised, with no segment that could
/// escape or confuse a file system when a version is pulled back to disk.
/// </summary>
public static class DatasetPath
{
    public const int MaxBytes = 1024;
    public const int MaxSegmentBytes = 255;

    /// <summary>The normalised path, or a 400 problem naming the path and what is wrong with it.</summary>
    public static string Normalize(string? path)
    {
        var problem = Check(path, out var normalized);
        return problem is null
            ? normalized
            : throw new BadRequestException($"Invalid path '{Printable(path)}': {problem}.").With("path", Printable(path));
    }

    /// <summary>Null when valid; otherwise the reason.</summary>
    public static string? Check(string? path, out string normalized)
    {
        normalized = "";
        if (string.IsNullOrEmpty(path)) return "the path is empty";
        if (!path.IsNormalized(NormalizationForm.FormC))
        {
            try { path = path.Normalize(NormalizationForm.FormC); }
            catch (ArgumentException) { return "the path is not valid Unicode"; }
        }
        foreach (var c in path)
        {
            if (char.IsControl(c)) return $"it contains the control character U+{(int)c:X4}";
            if (c == '\\') return "it contains a backslash";
            if (char.IsSurrogate(c) && !char.IsHighSurrogate(c) && !char.IsLowSurrogate(c)) return "it is not valid Unicode";
        }
        if (path[0] == '/') return "it is an absolute path";
        if (path.Length >= 2 && path[1] == ':' && char.IsAsciiLetter(path[0])) return "it starts with a drive letter";
        if (Encoding.UTF8.GetByteCount(path) > MaxBytes) return $"it is longer than {MaxBytes} bytes";
        foreach (var segment in path.Split('/'))
        {
            if (segment.Length == 0) return "it has an empty segment ('//' or a trailing '/')";
            if (segment is "." or "..") return $"it has a '{segment}' segment";
            if (Encoding.UTF8.GetByteCount(segment) > MaxSegmentBytes) return $"a segment is longer than {MaxSegmentBytes} bytes";
        }
        normalized = path;
        return null;
    }

    private static string Printable(string? value) =>
        value is null ? "" : new string(value.Take(200).Select(c => char.IsControl(c) ? '?' : c).ToArray());
}
