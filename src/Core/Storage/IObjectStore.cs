namespace Cube.Core.Storage;

/// <summary>
/// Object storage as Cube uses it: flat keys of '/'-separated segments, streamed bodies, content hashes computed on write.
/// One contract, one adapter per engine (local directory, S3 protocol); the contract tests run against every adapter.
/// </summary>
public interface IObjectStore
{
    /// <summary>A short name of the backend ("local", "s3") for diagnostics.</summary>
    string Kind { get; }

    /// <summary>
    /// Streams <paramref name="content"/> into <paramref name="key"/>, computing its SHA-256 on the way.
    /// The object becomes visible whole or not at all; large bodies go up in parts where the engine needs it.
    /// </summary>
    Task<ObjectInfo> PutAsync(string key, Stream content, CancellationToken cancellationToken = default);

    /// <summary>
    /// Content-addressed put: streams <paramref name="content"/> while hashing it, then stores it under
    /// <paramref name="keyForSha256"/>(hash) unless an object is already there (same key, same bytes by construction).
    /// One pass and no copy, whatever the engine. Refuses bodies over <paramref name="maxBytes"/> while streaming.
    /// </summary>
    Task<ObjectInfo> PutContentAddressedAsync(Stream content, Func<string, string> keyForSha256, long? maxBytes = null, CancellationToken cancellationToken = default);

    /// <summary>Opens the object, or the given byte range of it, for reading. Throws <see cref="ObjectNotFoundException"/>.</summary>
    Task<Stream> GetAsync(string key, ByteRange? range = null, CancellationToken cancellationToken = default);

    /// <summary>Returns what is known of the object, or null when it does not exist.</summary>
    Task<ObjectInfo?> HeadAsync(string key, CancellationToken cancellationToken = default);

    /// <summary>Lists keys starting with <paramref name="prefix"/> in ordinal order, one page at a time.</summary>
    Task<ObjectPage> ListAsync(string prefix, string? continuationToken = null, int pageSize = 1000, CancellationToken cancellationToken = default);

    /// <summary>Deletes the object; true when it existed.</summary>
    Task<bool> DeleteAsync(string key, CancellationToken cancellationToken = default);

    /// <summary>Copies an object inside the store without passing its bytes through this process where the engine allows.</summary>
    Task<ObjectInfo> CopyAsync(string sourceKey, string destinationKey, CancellationToken cancellationToken = default);

    /// <summary>A time-limited URL that lets anyone holding it read the object, or null where the engine has none.</summary>
    Task<Uri?> GetPresignedUrlAsync(string key, TimeSpan expiry, CancellationToken cancellationToken = default);

    /// <summary>
    /// Deletes what writes cut off by a crash left behind, from writes started before <paramref name="before"/>: staged
    /// files never moved to their key (local disk, WebHDFS), unfinished multipart uploads (S3). None of it was ever
    /// visible; it only holds space. Returns how many were deleted. A write still in flight is as young as its last
    /// byte, so pass a cutoff older than the slowest write (the garbage collector uses its grace period).
    /// </summary>
    Task<int> DeleteInterruptedWritesAsync(DateTimeOffset before, CancellationToken cancellationToken = default);

    /// <summary>Throws with a message naming what is wrong when the store cannot be reached or written.</summary>
    Task CheckHealthAsync(CancellationToken cancellationToken = default);
}

/// <summary>What a store knows about one object. <see cref="Sha256"/> is set where the store recorded it at write.</summary>
public sealed record ObjectInfo(string Key, long Size, DateTimeOffset LastModified, string? Sha256);

/// <summary>One page of a listing; <see cref="ContinuationToken"/> is null on the last page.</summary>
public sealed record ObjectPage(IReadOnlyList<ObjectInfo> Items, string? ContinuationToken);

/// <summary>An inclusive-start byte range: <see cref="Length"/> null means "to the end".</summary>
public readonly record struct ByteRange(long Offset, long? Length)
{
    public void Validate()
    {
        if (Offset < 0) throw new ArgumentOutOfRangeException(nameof(Offset), "Range offset must not be negative.");
        if (Length is < 0) throw new ArgumentOutOfRangeException(nameof(Length), "Range length must not be negative.");
    }
}

/// <summary>The key names no object.</summary>
public sealed class ObjectNotFoundException(string key) : Exception($"Object '{key}' does not exist.")
{
    public string Key { get; } = key;
}

/// <summary>Async enumeration over every page of a listing.</summary>
public static class ObjectStoreExtensions
{
    public static async IAsyncEnumerable<ObjectInfo> ListAllAsync(
        this IObjectStore store, string prefix,
        [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        string? token = null;
        do
        {
            var page = await store.ListAsync(prefix, token, 1000, cancellationToken).ConfigureAwait(false);
            foreach (var item in page.Items) yield return item;
            token = page.ContinuationToken;
        }
        while (token is not null);
    }
}
