using Microsoft.Extensions.Options;

namespace Cube.Core.Storage;

/// <summary>
/// Objects as files under one root directory. Writes go to a temporary file in the same file system, are flushed
/// to disk and then renamed over the final path, so a reader sees the old object or the new one, never a part.
/// </summary>
public sealed class LocalObjectStore : IObjectStore
{
    private const string TempDirectoryName = ".incoming";
    private readonly string _root;
    private readonly string _tempDirectory;

    public LocalObjectStore(string root)
    {
        _root = Path.GetFullPath(root);
        _tempDirectory = Path.Combine(_root, TempDirectoryName);
        Directory.CreateDirectory(_tempDirectory);
    }

    public LocalObjectStore(IOptions<StorageOptions> options, IOptions<CubeOptions> cube)
        : this(options.Value.ResolveLocalRoot(cube.Value)) { }

    public string Kind => "local";

    public Task<int> DeleteInterruptedWritesAsync(DateTimeOffset before, CancellationToken cancellationToken = default)
    {
        var deleted = 0;
        foreach (var file in new DirectoryInfo(_tempDirectory).EnumerateFiles())
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (file.LastWriteTimeUtc >= before.UtcDateTime) continue;
            try
            {
                file.Delete();
                deleted++;
            }
            catch (IOException)
            {
                // Still open (a write that is alive after all) or gone already: either way not ours to count.
            }
        }
        return Task.FromResult(deleted);
    }

    public async Task<ObjectInfo> PutAsync(string key, Stream content, CancellationToken cancellationToken = default)
    {
        var path = PathFor(key);
        var temp = Path.Combine(_tempDirectory, Guid.NewGuid().ToString("N"));
        try
        {
            using var hashing = new HashingReadStream(content);
            await using (var file = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16, FileOptions.Asynchronous))
            {
                await hashing.CopyToAsync(file, 1 << 16, cancellationToken).ConfigureAwait(false);
                // Durable before visible: the rename below must never expose bytes still in the page cache only.
                file.Flush(flushToDisk: true);
            }
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            File.Move(temp, path, overwrite: true);
            return new ObjectInfo(key, hashing.BytesRead, File.GetLastWriteTimeUtc(path), hashing.Sha256Hex);
        }
        finally
        {
            if (File.Exists(temp)) File.Delete(temp);
        }
    }

    public async Task<ObjectInfo> PutContentAddressedAsync(Stream content, Func<string, string> keyForSha256, long? maxBytes = null, CancellationToken cancellationToken = default)
    {
        var temp = Path.Combine(_tempDirectory, Guid.NewGuid().ToString("N"));
        try
        {
            using var hashing = new HashingReadStream(content, maxBytes);
            await using (var file = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16, FileOptions.Asynchronous))
            {
                await hashing.CopyToAsync(file, 1 << 16, cancellationToken);
                file.Flush(flushToDisk: true);
            }
            var key = keyForSha256(hashing.Sha256Hex);
            var path = PathFor(key);
            if (!File.Exists(path))
            {
                Directory.CreateDirectory(Path.GetDirectoryName(path)!);
                // A concurrent writer of the same content may win the race; its bytes are the same, so overwriting is harmless.
                File.Move(temp, path, overwrite: true);
            }
            return new ObjectInfo(key, hashing.BytesRead, File.GetLastWriteTimeUtc(path), hashing.Sha256Hex);
        }
        finally
        {
            if (File.Exists(temp)) File.Delete(temp);
        }
    }

    public Task<Stream> GetAsync(string key, ByteRange? range = null, CancellationToken cancellationToken = default)
    {
        var path = PathFor(key);
        FileStream file;
        try
        {
            file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read | FileShare.Delete, 1 << 16, FileOptions.Asynchronous | FileOptions.SequentialScan);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException
                                   || (e is UnauthorizedAccessException && Directory.Exists(path)))
        {
            // A key that is only the prefix of other keys maps to a directory: no object, as on S3.
            throw new ObjectNotFoundException(key);
        }
        if (range is not { } r) return Task.FromResult<Stream>(file);
        r.Validate();
        file.Seek(Math.Min(r.Offset, file.Length), SeekOrigin.Begin);
        var available = Math.Max(0, file.Length - r.Offset);
        return Task.FromResult<Stream>(new BoundedReadStream(file, r.Length is { } l ? Math.Min(l, available) : available));
    }

    public Task<ObjectInfo?> HeadAsync(string key, CancellationToken cancellationToken = default)
    {
        var info = new FileInfo(PathFor(key));
        return Task.FromResult(info.Exists ? new ObjectInfo(key, info.Length, info.LastWriteTimeUtc, null) : null);
    }

    public Task<ObjectPage> ListAsync(string prefix, string? continuationToken = null, int pageSize = 1000, CancellationToken cancellationToken = default)
    {
        ObjectKey.ValidatePrefix(prefix);
        ArgumentOutOfRangeException.ThrowIfLessThan(pageSize, 1);
        var slash = prefix.LastIndexOf('/');
        var directory = slash < 0 ? _root : Path.Combine(_root, prefix[..slash]);
        if (!Directory.Exists(directory)) return Task.FromResult(new ObjectPage([], null));

        var keys = new List<FileInfo>();
        foreach (var file in new DirectoryInfo(directory).EnumerateFiles("*", SearchOption.AllDirectories))
        {
            var key = Path.GetRelativePath(_root, file.FullName).Replace(Path.DirectorySeparatorChar, '/');
            if (key.StartsWith(TempDirectoryName + "/", StringComparison.Ordinal)) continue;
            if (!key.StartsWith(prefix, StringComparison.Ordinal)) continue;
            if (continuationToken is not null && string.CompareOrdinal(key, continuationToken) <= 0) continue;
            keys.Add(file);
        }
        keys.Sort((a, b) => string.CompareOrdinal(a.FullName, b.FullName));
        var page = keys.Take(pageSize)
            .Select(f => new ObjectInfo(Path.GetRelativePath(_root, f.FullName).Replace(Path.DirectorySeparatorChar, '/'), f.Length, f.LastWriteTimeUtc, null))
            .ToList();
        var next = keys.Count > pageSize ? page[^1].Key : null;
        return Task.FromResult(new ObjectPage(page, next));
    }

    public Task<bool> DeleteAsync(string key, CancellationToken cancellationToken = default)
    {
        var path = PathFor(key);
        if (!File.Exists(path)) return Task.FromResult(false);
        File.Delete(path);
        PruneEmptyDirectories(Path.GetDirectoryName(path)!);
        return Task.FromResult(true);
    }

    public async Task<ObjectInfo> CopyAsync(string sourceKey, string destinationKey, CancellationToken cancellationToken = default)
    {
        // Both keys are checked before any I/O, so a bad destination is reported as such even when the source is missing.
        PathFor(destinationKey);
        await using var source = await GetAsync(sourceKey, null, cancellationToken).ConfigureAwait(false);
        return await PutAsync(destinationKey, source, cancellationToken).ConfigureAwait(false);
    }

    public Task<Uri?> GetPresignedUrlAsync(string key, TimeSpan expiry, CancellationToken cancellationToken = default)
    {
        ObjectKey.Validate(key);
        return Task.FromResult<Uri?>(null);
    }

    public async Task CheckHealthAsync(CancellationToken cancellationToken = default)
    {
        var probe = Path.Combine(_tempDirectory, "health-" + Guid.NewGuid().ToString("N"));
        try
        {
            await File.WriteAllBytesAsync(probe, [1], cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new InvalidOperationException($"Local object store at '{_root}' is not writable: {e.Message}", e);
        }
        finally
        {
            File.Delete(probe);
        }
    }

    /// <summary>The file behind a key, for readers that need random access (Parquet). The file must not be modified.</summary>
    public string GetFilePath(string key) => PathFor(key);

    private string PathFor(string key)
    {
        ObjectKey.Validate(key);
        var path = Path.GetFullPath(Path.Combine(_root, key));
        // Containment re-checked on the resolved path: key validation is not the only guard.
        if (!path.StartsWith(_root + Path.DirectorySeparatorChar, StringComparison.Ordinal))
            throw new InvalidObjectKeyException(key, "the key resolves outside the store");
        if (key.StartsWith(TempDirectoryName + "/", StringComparison.Ordinal) || key == TempDirectoryName)
            throw new InvalidObjectKeyException(key, $"'{TempDirectoryName}' is reserved");
        return path;
    }

    private void PruneEmptyDirectories(string directory)
    {
        while (directory.Length > _root.Length && Directory.Exists(directory) && !Directory.EnumerateFileSystemEntries(directory).Any())
        {
            try { Directory.Delete(directory); }
            catch (IOException) { return; } // a concurrent writer just created something here
            directory = Path.GetDirectoryName(directory)!;
        }
    }
}
