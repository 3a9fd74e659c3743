using System.Buffers.Text;

namespace Cube.Core.Apis;

/// <summary>One page of a listing; pass <see cref="NextCursor"/> back as <c>cursor</c> for the next page.</summary>
public sealed record Page<T>(IReadOnlyList<T> Items, string? NextCursor);

/// <summary>
/// Cursor pagination over time-ordered (version 7) Guid keys: the cursor is the last key seen, opaque to clients.
/// Stable under inserts, unlike offsets.
/// </summary>
public static class Cursor
{
    public const int DefaultLimit = 50;
    public const int MaxLimit = 500;

    public static string Encode(Guid last) => Base64Url.EncodeToString(last.ToByteArray());

    public static Guid? Decode(string? cursor)
    {
        if (string.IsNullOrEmpty(cursor)) return null;
        try
        {
            var bytes = Base64Url.DecodeFromChars(cursor);
            if (bytes.Length == 16) return new Guid(bytes);
        }
        catch (FormatException)
        {
        }
        throw new Errors.BadRequestException("The cursor is malformed; pass back the nextCursor of a previous page.");
    }

    public static int Limit(int? limit) => Math.Clamp(limit ?? DefaultLimit, 1, MaxLimit);

    public static Page<T> Build<T>(List<T> rows, int limit, Func<T, Guid> key) =>
        rows.Count > limit ? new Page<T>(rows.Take(limit).ToList(), Encode(key(rows[limit - 1]))) : new Page<T>(rows, null);
}
