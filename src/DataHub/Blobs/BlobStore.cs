using Cube.Core;
using Cube.Core.Storage;
using Microsoft.Extensions.Options;

namespace Cube.DataHub.Blobs;

public sealed record BlobInfo(string Sha256, long Size);

/// <summary>
/// Content-addressed storage over <see cref="IObjectStore"/>: bytes are hashed while streamed and stored at
/// <c>blobs/sha256/ab/cd/{hash}</c>. Identical content is stored once across versions and datasets.
/// </summary>
public sealed class BlobStore(IObjectStore store, IOptions<CubeOptions> cube)
{
    public const string BlobPrefix = "blobs/sha256/";
    public const string StagingPrefix = "staging/";

    public IObjectStore Objects => store;

    public static string KeyFor(string sha256) => $"{BlobPrefix}{sha256[..2]}/{sha256[2..4]}/{sha256}";

    public static bool IsSha256(string value) => value.Length == 64 && value.All(char.IsAsciiHexDigitLower);

    /// <summary>Stores <paramref name="content"/> and returns its hash; refuses bodies over <paramref name="maxBytes"/> while streaming.</summary>
    public async Task<BlobInfo> PutAsync(Stream content, long? maxBytes = null, CancellationToken cancellationToken = default)
    {
        var stored = await store.PutContentAddressedAsync(content, KeyFor, maxBytes, cancellationToken);
        return new BlobInfo(stored.Sha256!, stored.Size);
    }

    /// <summary>Stores a local file (e.g. a Parquet file just written) as a blob.</summary>
    public async Task<BlobInfo> PutFileAsync(string path, CancellationToken cancellationToken = default)
    {
        await using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.Asynchronous | FileOptions.SequentialScan);
        return await PutAsync(file, null, cancellationToken);
    }

    public Task<Stream> OpenAsync(string sha256, ByteRange? range = null, CancellationToken cancellationToken = default) =>
        store.GetAsync(KeyFor(sha256), range, cancellationToken);

    public Task<bool> ExistsAsync(string sha256, CancellationToken cancellationToken = default) =>
        store.HeadAsync(KeyFor(sha256), cancellationToken).ContinueWith(t => t.Result is not null, cancellationToken, TaskContinuationOptions.OnlyOnRanToCompletion, TaskScheduler.Default);

    /// <summary>
    /// A local file holding the blob, for readers that need random access (Parquet). The local store's own file is
    /// used directly; other stores are read through a cache under the data directory, verified by hash.
    /// </summary>
    public async Task<string> GetLocalPathAsync(string sha256, CancellationToken cancellationToken = default)
    {
        if (store is LocalObjectStore local) return local.GetFilePath(KeyFor(sha256));
        var cacheDirectory = Path.Combine(cube.Value.DataPath, "cache", "blobs");
        Directory.CreateDirectory(cacheDirectory);
        var path = Path.Combine(cacheDirectory, sha256);
        if (File.Exists(path)) return path;
        var temp = path + "." + Guid.NewGuid().ToString("N") + ".part";
        try
        {
            await using (var source = await OpenAsync(sha256, null, cancellationToken))
            using (var hashing = new HashingReadStream(source))
            await using (var file = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16, FileOptions.Asynchronous))
            {
                await hashing.CopyToAsync(file, cancellationToken);
                if (hashing.Sha256Hex != sha256) throw new InvalidDataException($"Blob {sha256} read back with hash {hashing.Sha256Hex}.");
            }
            File.Move(temp, path, overwrite: true);
            return path;
        }
        finally
        {
            if (File.Exists(temp)) File.Delete(temp);
        }
    }
}
