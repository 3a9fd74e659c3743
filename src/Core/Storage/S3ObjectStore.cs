using System.Globalization;
using System.Net;
using System.Text;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Minio;
using Minio.DataModel.Args;
using Minio.Exceptions;
using MinioObjectNotFoundException = Minio.Exceptions.ObjectNotFoundException;

namespace Cube.Core.Storage;

/// <summary>
/// Objects in one bucket of an S3-compatible server (MinIO, AWS S3, moto), through the Minio SDK.
/// Keys are stored under <see cref="S3StorageOptions.KeyPrefix"/> (normalised to end with '/') and listed without it.
/// </summary>
/// <remarks>
/// <para>
/// Put spools the body, hashing it on the way, into memory up to one part (<see cref="S3StorageOptions.PartSizeMiB"/>)
/// and into a temporary file beyond that, then uploads it with its size and SHA-256 known. That keeps memory bounded,
/// lets the SHA-256 travel as <c>x-amz-meta-sha256</c> in the same request that makes the object visible (no window
/// where the object exists without its hash), and avoids Minio 7's unknown-size path, which allocates parts sized for
/// a 5 TiB object. Minio 7 picks the multipart part size itself (5 MiB for objects up to 50 GB) and has no option to
/// set it, so <see cref="S3StorageOptions.PartSizeMiB"/> only sets the in-memory spool limit.
/// </para>
/// <para>
/// Reads go through a presigned GET URL and HttpClient with a <c>Range</c> header, streaming the response body:
/// Minio 7's own ranged get fails against servers that answer its stat with 206, and its callback API closes the
/// stream when the callback returns.
/// </para>
/// <para>
/// Minio 7 does not expose ListObjectsV2's <c>start-after</c>, so a page after a continuation token re-lists from the
/// start of the prefix and skips keys up to the token: a full listing costs O(pages²) requests for very large prefixes.
/// </para>
/// </remarks>
public sealed class S3ObjectStore : IObjectStore, IDisposable
{
    private const string Sha256MetadataName = "sha256";
    private const string Sha256Header = "x-amz-meta-" + Sha256MetadataName;
    // Presigned URLs used by this process for its own reads are fetched at once; a short expiry limits their value if logged.
    private static readonly TimeSpan InternalUrlExpiry = TimeSpan.FromMinutes(15);

    private readonly IMinioClient _client;
    private readonly HttpClient _http;
    private readonly ILogger<S3ObjectStore> _logger;
    private readonly string _endpoint;
    private readonly string _bucket;
    private readonly string _keyPrefix;
    private readonly bool _createBucket;
    private readonly long _spoolMemoryLimit;

    public S3ObjectStore(S3StorageOptions options, ILogger<S3ObjectStore>? logger = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (!Uri.TryCreate(options.Endpoint, UriKind.Absolute, out var endpoint) || endpoint.Scheme is not ("http" or "https"))
            throw new ArgumentException($"S3 endpoint '{options.Endpoint}' must be an absolute http(s) URL.", nameof(options));
        if (string.IsNullOrWhiteSpace(options.Bucket))
            throw new ArgumentException("S3 bucket must be set.", nameof(options));
        if (options.PartSizeMiB is < 5 or > 5120)
            throw new ArgumentOutOfRangeException(nameof(options), options.PartSizeMiB, "S3 part size must be between 5 and 5120 MiB.");

        _logger = logger ?? NullLogger<S3ObjectStore>.Instance;
        _endpoint = endpoint.GetLeftPart(UriPartial.Authority);
        _bucket = options.Bucket;
        _keyPrefix = NormalizeKeyPrefix(options.KeyPrefix);
        _createBucket = options.CreateBucket;
        _spoolMemoryLimit = options.PartSizeMiB * 1024L * 1024L;
        _client = new MinioClient()
            .WithEndpoint(endpoint.Host, endpoint.Port)
            .WithCredentials(options.AccessKey, options.SecretKey)
            .WithRegion(options.Region)
            .WithSSL(endpoint.Scheme == Uri.UriSchemeHttps)
            .Build();
        _http = new HttpClient(new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(5) })
        {
            // Bodies can be large and are streamed; cancellation tokens bound the time instead.
            Timeout = Timeout.InfiniteTimeSpan,
        };
    }

    public string Kind => "s3";

    public async Task<ObjectInfo> PutAsync(string key, Stream content, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(content);
        var name = ObjectName(key);
        using var hashing = new HashingReadStream(content);
        await using var spool = await SpoolAsync(hashing, cancellationToken).ConfigureAwait(false);
        var size = hashing.BytesRead;
        var sha256 = hashing.Sha256Hex;
        try
        {
            await _client.PutObjectAsync(new PutObjectArgs()
                .WithBucket(_bucket)
                .WithObject(name)
                .WithStreamData(spool)
                .WithObjectSize(size)
                .WithContentType("application/octet-stream")
                .WithHeaders(new Dictionary<string, string>(StringComparer.Ordinal) { [Sha256Header] = sha256 }),
                cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not InvalidObjectKeyException)
        {
            // Minio 7 leaves a failed or cancelled multipart upload behind; it is invisible but holds storage until aborted.
            await AbortIncompleteUploadAsync(name).ConfigureAwait(false);
            if (e is OperationCanceledException) throw;
            throw Translate(e, key);
        }
        _logger.LogDebug("Stored {Key} in {Bucket} ({Size} bytes)", name, _bucket, size);
        var stat = await HeadAsync(key, cancellationToken).ConfigureAwait(false);
        return new ObjectInfo(key, size, stat?.LastModified ?? DateTimeOffset.UtcNow, sha256);
    }

    public async Task<ObjectInfo> PutContentAddressedAsync(Stream content, Func<string, string> keyForSha256, long? maxBytes = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(content);
        using var hashing = new HashingReadStream(content, maxBytes);
        await using var spool = await SpoolAsync(hashing, cancellationToken).ConfigureAwait(false);
        var size = hashing.BytesRead;
        var sha256 = hashing.Sha256Hex;
        var key = keyForSha256(sha256);
        // Already stored: the key is the content's hash, so the bytes are the same; one HEAD instead of an upload.
        if (await HeadAsync(key, cancellationToken).ConfigureAwait(false) is { } existing) return existing with { Sha256 = sha256 };
        var name = ObjectName(key);
        try
        {
            await _client.PutObjectAsync(new PutObjectArgs()
                .WithBucket(_bucket)
                .WithObject(name)
                .WithStreamData(spool)
                .WithObjectSize(size)
                .WithContentType("application/octet-stream")
                .WithHeaders(new Dictionary<string, string>(StringComparer.Ordinal) { [Sha256Header] = sha256 }),
                cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not InvalidObjectKeyException)
        {
            await AbortIncompleteUploadAsync(name).ConfigureAwait(false);
            if (e is OperationCanceledException) throw;
            throw Translate(e, key);
        }
        return new ObjectInfo(key, size, DateTimeOffset.UtcNow, sha256);
    }

    public async Task<Stream> GetAsync(string key, ByteRange? range = null, CancellationToken cancellationToken = default)
    {
        var name = ObjectName(key);
        range?.Validate();
        if (range is { Length: 0 })
        {
            // HTTP cannot ask for zero bytes; the object must still exist.
            return await HeadAsync(key, cancellationToken).ConfigureAwait(false) is null
                ? throw new ObjectNotFoundException(key)
                : Stream.Null;
        }

        var url = await PresignAsync(name, InternalUrlExpiry, key).ConfigureAwait(false);
        using var request = new HttpRequestMessage(HttpMethod.Get, url);
        if (range is { } r)
            request.Headers.Range = new System.Net.Http.Headers.RangeHeaderValue(r.Offset, r.Length is { } l ? r.Offset + l - 1 : null);

        HttpResponseMessage response;
        try
        {
            response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
        }
        catch (HttpRequestException e)
        {
            throw new IOException($"S3 store at '{_endpoint}' could not be reached to read '{key}': {Reason(e)}", e);
        }

        try
        {
            switch (response.StatusCode)
            {
                case HttpStatusCode.OK or HttpStatusCode.PartialContent:
                    var body = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
                    return new HttpResponseStream(body, response);
                case HttpStatusCode.NotFound:
                    var error = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
                    throw error.Contains("<Code>NoSuchBucket</Code>", StringComparison.Ordinal)
                        ? new InvalidOperationException($"S3 store at '{_endpoint}' has no bucket '{_bucket}'.")
                        : new ObjectNotFoundException(key);
                case HttpStatusCode.RequestedRangeNotSatisfiable:
                    // The object exists (a missing one answers 404) and the range starts at or past its end.
                    response.Dispose();
                    return Stream.Null;
                default:
                    var detail = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
                    throw new IOException($"S3 store at '{_endpoint}' answered {(int)response.StatusCode} reading '{key}': {Truncate(detail)}");
            }
        }
        catch
        {
            response.Dispose();
            throw;
        }
    }

    public async Task<ObjectInfo?> HeadAsync(string key, CancellationToken cancellationToken = default)
    {
        var name = ObjectName(key);
        try
        {
            var stat = await _client.StatObjectAsync(new StatObjectArgs().WithBucket(_bucket).WithObject(name), cancellationToken).ConfigureAwait(false);
            return new ObjectInfo(key, stat.Size, ToUtc(stat.LastModified), ReadSha256(stat.MetaData));
        }
        catch (MinioObjectNotFoundException)
        {
            return null;
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            throw Translate(e, key);
        }
    }

    public async Task<ObjectPage> ListAsync(string prefix, string? continuationToken = null, int pageSize = 1000, CancellationToken cancellationToken = default)
    {
        ObjectKey.ValidatePrefix(prefix);
        ArgumentOutOfRangeException.ThrowIfLessThan(pageSize, 1);
        var items = new List<ObjectInfo>(Math.Min(pageSize, 1000));
        var more = false;
        // Compared as UTF-8 bytes, the order S3 lists in, so a token never skips or repeats keys outside the BMP.
        var after = continuationToken is null ? null : Encoding.UTF8.GetBytes(continuationToken);
        try
        {
            var listing = _client.ListObjectsEnumAsync(
                new ListObjectsArgs().WithBucket(_bucket).WithPrefix(_keyPrefix + prefix).WithRecursive(true), cancellationToken);
            await foreach (var item in listing.ConfigureAwait(false))
            {
                if (item.IsDir || !item.Key.StartsWith(_keyPrefix, StringComparison.Ordinal)) continue;
                var key = item.Key[_keyPrefix.Length..];
                if (after is not null && Encoding.UTF8.GetBytes(key).AsSpan().SequenceCompareTo(after) <= 0) continue;
                if (items.Count == pageSize)
                {
                    more = true;
                    break;
                }
                var modified = item.LastModifiedDateTime is { } m ? ToUtc(m) : DateTimeOffset.MinValue;
                items.Add(new ObjectInfo(key, checked((long)item.Size), modified, null));
            }
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            throw Translate(e, prefix);
        }
        return new ObjectPage(items, more ? items[^1].Key : null);
    }

    /// <summary>
    /// Aborts multipart uploads under the key prefix started before <paramref name="before"/>. S3 aborts per key, so a
    /// key with an old unfinished upload loses a concurrent fresh one too (that write fails and can be retried);
    /// Cube's uploads go to unique or content-addressed keys, where this does not happen.
    /// </summary>
    public async Task<int> DeleteInterruptedWritesAsync(DateTimeOffset before, CancellationToken cancellationToken = default)
    {
        var stale = new SortedSet<string>(StringComparer.Ordinal);
        try
        {
            var uploads = _client.ListIncompleteUploadsEnumAsync(
                new ListIncompleteUploadsArgs().WithBucket(_bucket).WithPrefix(_keyPrefix).WithRecursive(true), cancellationToken);
            await foreach (var upload in uploads.ConfigureAwait(false))
                if (upload.Key.StartsWith(_keyPrefix, StringComparison.Ordinal) 
                    && DateTimeOffset.TryParse(upload.Initiated, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var initiated) && initiated < before)
                    stale.Add(upload.Key);
            foreach (var name in stale)
                await _client.RemoveIncompleteUploadAsync(new RemoveIncompleteUploadArgs().WithBucket(_bucket).WithObject(name), cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            throw Translate(e, _keyPrefix);
        }
        if (stale.Count > 0) _logger.LogInformation("Aborted unfinished uploads of {Count} keys in {Bucket}", stale.Count, _bucket);
        return stale.Count;
    }

    public async Task<bool> DeleteAsync(string key, CancellationToken cancellationToken = default)
    {
        var name = ObjectName(key);
        // S3 deletes are idempotent and do not say whether the object existed; the stat answers that, racing only
        // with a concurrent writer of the same key.
        if (await HeadAsync(key, cancellationToken).ConfigureAwait(false) is null) return false;
        try
        {
            await _client.RemoveObjectAsync(new RemoveObjectArgs().WithBucket(_bucket).WithObject(name), cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            throw Translate(e, key);
        }
        _logger.LogDebug("Deleted {Key} from {Bucket}", name, _bucket);
        return true;
    }

    public async Task<ObjectInfo> CopyAsync(string sourceKey, string destinationKey, CancellationToken cancellationToken = default)
    {
        var source = ObjectName(sourceKey);
        var destination = ObjectName(destinationKey);
        try
        {
            // Metadata (the recorded SHA-256 included) is copied with the object.
            await _client.CopyObjectAsync(new CopyObjectArgs()
                .WithBucket(_bucket)
                .WithObject(destination)
                .WithCopyObjectSource(new CopySourceObjectArgs().WithBucket(_bucket).WithObject(source)),
                cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            throw Translate(e, sourceKey);
        }
        return await HeadAsync(destinationKey, cancellationToken).ConfigureAwait(false)
            ?? throw new ObjectNotFoundException(destinationKey);
    }

    public async Task<Uri?> GetPresignedUrlAsync(string key, TimeSpan expiry, CancellationToken cancellationToken = default)
    {
        var name = ObjectName(key);
        // SigV4 presigned URLs live at most 7 days.
        ArgumentOutOfRangeException.ThrowIfLessThan(expiry, TimeSpan.FromSeconds(1));
        ArgumentOutOfRangeException.ThrowIfGreaterThan(expiry, TimeSpan.FromDays(7));
        return await PresignAsync(name, expiry, key).ConfigureAwait(false);
    }

    public async Task CheckHealthAsync(CancellationToken cancellationToken = default)
    {
        bool exists;
        try
        {
            exists = await _client.BucketExistsAsync(new BucketExistsArgs().WithBucket(_bucket), cancellationToken).ConfigureAwait(false);
            if (!exists && _createBucket)
            {
                await _client.MakeBucketAsync(new MakeBucketArgs().WithBucket(_bucket), cancellationToken).ConfigureAwait(false);
                _logger.LogInformation("Created bucket {Bucket} at {Endpoint}", _bucket, _endpoint);
                exists = true;
            }
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            throw new InvalidOperationException($"S3 store at '{_endpoint}' (bucket '{_bucket}') is not usable: {Reason(e)}", e);
        }
        if (!exists)
            throw new InvalidOperationException($"S3 store at '{_endpoint}' has no bucket '{_bucket}' and Cube:Storage:S3:CreateBucket is off.");
    }

    public void Dispose()
    {
        _http.Dispose();
        (_client as IDisposable)?.Dispose();
    }

    private string ObjectName(string key) => _keyPrefix + ObjectKey.Validate(key);

    private async Task<Uri> PresignAsync(string name, TimeSpan expiry, string key)
    {
        try
        {
            var url = await _client.PresignedGetObjectAsync(new PresignedGetObjectArgs()
                .WithBucket(_bucket)
                .WithObject(name)
                .WithExpiry((int)expiry.TotalSeconds)).ConfigureAwait(false);
            return new Uri(url, UriKind.Absolute);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            throw Translate(e, key);
        }
    }

    /// <summary>Reads <paramref name="source"/> to its end into a rewound stream: memory up to one part, a temp file beyond.</summary>
    private async Task<Stream> SpoolAsync(Stream source, CancellationToken cancellationToken)
    {
        var buffer = new byte[81920];
        Stream spool = new MemoryStream();
        try
        {
            int n;
            while ((n = await source.ReadAsync(buffer, cancellationToken).ConfigureAwait(false)) > 0)
            {
                if (spool is MemoryStream memory && memory.Length + n > _spoolMemoryLimit)
                {
                    var file = new FileStream(
                        Path.Combine(Path.GetTempPath(), "cube-s3-" + Guid.NewGuid().ToString("N")),
                        FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None, 1 << 16,
                        FileOptions.Asynchronous | FileOptions.DeleteOnClose);
                    spool = file;
                    memory.Position = 0;
                    await memory.CopyToAsync(file, cancellationToken).ConfigureAwait(false);
                    await memory.DisposeAsync().ConfigureAwait(false);
                }
                await spool.WriteAsync(buffer.AsMemory(0, n), cancellationToken).ConfigureAwait(false);
            }
            await spool.FlushAsync(cancellationToken).ConfigureAwait(false);
            spool.Position = 0;
            return spool;
        }
        catch
        {
            await spool.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    private async Task AbortIncompleteUploadAsync(string name)
    {
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            await _client.RemoveIncompleteUploadAsync(new RemoveIncompleteUploadArgs().WithBucket(_bucket).WithObject(name), timeout.Token).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            _logger.LogWarning(e, "Could not abort the incomplete upload of {Key} in {Bucket} at {Endpoint}", name, _bucket, _endpoint);
        }
    }

    private Exception Translate(Exception e, string key) => e switch
    {
        MinioObjectNotFoundException => new ObjectNotFoundException(key),
        ErrorResponseException { Response.Code: "NoSuchKey" } => new ObjectNotFoundException(key),
        BucketNotFoundException => new InvalidOperationException($"S3 store at '{_endpoint}' has no bucket '{_bucket}'.", e),
        InvalidObjectKeyException or ArgumentException => e,
        _ => new IOException($"S3 store at '{_endpoint}' (bucket '{_bucket}') failed on '{key}': {Reason(e)}", e),
    };

    private static string Reason(Exception e)
    {
        // The innermost socket or HTTP error says what actually went wrong ("Connection refused"); wrappers say less.
        var messages = new List<string>();
        for (Exception? current = e; current is not null; current = current.InnerException)
        {
            var message = current is MinioException { ServerMessage: { Length: > 0 } server } ? server : current.Message;
            if (!string.IsNullOrWhiteSpace(message) && !messages.Contains(message)) messages.Add(message.Trim());
        }
        return messages.Count == 0 ? e.GetType().Name : string.Join(" <- ", messages.AsEnumerable().Reverse());
    }

    private static string? ReadSha256(IReadOnlyDictionary<string, string>? metadata)
    {
        if (metadata is null) return null;
        foreach (var (name, value) in metadata)
        {
            if (string.Equals(name, Sha256MetadataName, StringComparison.OrdinalIgnoreCase)
                || string.Equals(name, Sha256Header, StringComparison.OrdinalIgnoreCase))
                return value;
        }
        return null;
    }

    private static DateTimeOffset ToUtc(DateTime value) => value.Kind switch
    {
        DateTimeKind.Utc => new DateTimeOffset(value, TimeSpan.Zero),
        DateTimeKind.Local => new DateTimeOffset(value.ToUniversalTime(), TimeSpan.Zero),
        _ => new DateTimeOffset(DateTime.SpecifyKind(value, DateTimeKind.Utc), TimeSpan.Zero),
    };

    private static string NormalizeKeyPrefix(string? prefix)
    {
        var trimmed = (prefix ?? "").Trim('/');
        if (trimmed.Length == 0) return "";
        var problem = ObjectKey.Check(trimmed);
        return problem is null ? trimmed + "/" : throw new InvalidObjectKeyException(prefix!, problem);
    }

    private static string Truncate(string text) =>
        text.Length <= 500 ? text : string.Create(CultureInfo.InvariantCulture, $"{text[..500]}... ({text.Length} chars)");
}
