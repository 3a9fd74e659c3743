namespace Cube.Core.Storage;

/// <summary>
/// Object keys are '/'-separated relative paths. Validation is the first line of defence against path traversal;
/// adapters that map keys to file paths check containment again.
/// </summary>
public static class ObjectKey
{
    public const int MaxUtf8Length = 1024;

    /// <summary>Throws <see cref="InvalidObjectKeyException"/> naming what is wrong with <paramref name="key"/>.</summary>
    public static string Validate(string key)
    {
        var problem = Check(key);
        return problem is null ? key : throw new InvalidObjectKeyException(key, problem);
    }

    /// <summary>Validates a listing prefix: like a key, but it may be empty and may end with '/'.</summary>
    public static string ValidatePrefix(string prefix)
    {
        if (prefix.Length == 0) return prefix;
        var trimmed = prefix.EndsWith('/') ? prefix[..^1] : prefix;
        var problem = trimmed.Length == 0 ? "a prefix must not be '/'" : Check(trimmed);
        return problem is null ? prefix : throw new InvalidObjectKeyException(prefix, problem);
    }

    /// <summary>Returns why the key is invalid, or null when it is valid.</summary>
    public static string? Check(string? key)
    {
        if (string.IsNullOrEmpty(key)) return "the key is empty";
        if (System.Text.Encoding.UTF8.GetByteCount(key) > MaxUtf8Length) return $"the key is longer than {MaxUtf8Length} bytes";
        if (key[0] == '/') return "the key is an absolute path";
        if (key.Length >= 2 && key[1] == ':') return "the key looks like a drive path";
        foreach (var c in key)
        {
            if (char.IsControl(c)) return $"the key contains the control character U+{(int)c:X4}";
            if (c == '\\') return "the key contains a backslash";
        }
        foreach (var segment in key.Split('/'))
        {
            if (segment.Length == 0) return "the key has an empty segment ('//' or a trailing '/')";
            if (segment is "." or "..") return $"the key has a '{segment}' segment";
        }
        return null;
    }
}

/// <summary>A key that could escape its namespace or that an engine would mangle.</summary>
public sealed class InvalidObjectKeyException(string key, string reason)
    : ArgumentException($"Invalid object key '{Printable(key)}': {reason}.")
{
    public string Key { get; } = key;
    public string Reason { get; } = reason;

    private static string Printable(string key) =>
        new(key.Select(c => char.IsControl(c) ? '?' : c).Take(200).ToArray());
}
