using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Runtime.ExceptionServices;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using static Cube.Core.Storage.WebHdfsJson;

namespace Cube.Core.Storage;

/// <summary>
/// Objects as files in HDFS through the WebHDFS REST API (<c>/webhdfs/v1</c> on the namenode, or any gateway that
/// speaks it). Key <c>a/b</c> is the file <c>{Root}/objects/a/b</c>; writes stream into <c>{Root}/staging</c> first.
/// </summary>
/// <remarks>
/// <para>
/// A write is the documented two-step CREATE: a PUT without a body to the namenode, which answers 307 with the
/// datanode to write to, then a chunked PUT of the body to that Location, streamed as it is read and hashed (never
/// buffered whole). The file is written under a unique staging name and then moved to its key with RENAME, which
/// HDFS does atomically in the namenode: readers see the old object or the new one, never a part.
/// Replacing uses RENAME with <c>renameoptions=OVERWRITE</c> (FileContext.rename semantics), so there is no window
/// where the key is missing; content-addressed writes use <c>renameoptions=NONE</c>, which refuses an existing target.
/// </para>
/// <para>
/// Reads are OPEN, followed to the datanode, with <c>offset</c>/<c>length</c> for ranges. Listing walks LISTSTATUS
/// depth-first and sorts each directory itself: HDFS orders names by signed bytes, not ordinally. WebHDFS has no
/// server-side copy, so <see cref="CopyAsync"/> streams the bytes through this process (OPEN into CREATE). There are
/// no presigned URLs. HDFS keeps no SHA-256, so <see cref="HeadAsync"/> reports none.
/// </para>
/// <para>
/// Authentication is <c>user.name</c> (simple) or <c>delegation</c> (a token), sent as query parameters as the API
/// requires. Request URLs are therefore never logged nor put in messages, and the token is blanked out of any text
/// the server sends back. The namenode's redirects carry the same parameters; they are followed by hand for that reason.
/// </para>
/// </remarks>
public sealed class WebHdfsObjectStore : IObjectStore, IDisposable
{
    private const string ObjectsDirectory = "objects";
    private const string StagingDirectory = "staging";
    private const int MaxRenameAttempts = 3;
    private static readonly TimeSpan CleanupTimeout = TimeSpan.FromSeconds(30);
    // Readiness is probed every few seconds; a write costs a block allocation on the datanodes, so one a minute does.
    private static readonly TimeSpan WriteProbeInterval = TimeSpan.FromMinutes(1);

    private readonly HttpClient _http;
    private readonly ILogger<WebHdfsObjectStore> _logger;
    private readonly TimeProvider _time;
    private readonly string _endpoint;
    private readonly string _apiBase;
    private readonly string _root;
    private readonly string _objects;
    private readonly string _staging;
    private readonly string _authQuery;
    private readonly string? _token;
    private long _lastWriteUtcTicks; // the last datanode write that succeeded; 0 when none yet

    public WebHdfsObjectStore(WebHdfsStorageOptions options, ILogger<WebHdfsObjectStore>? logger = null, TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        var problems = options.Problems().ToList();
        if (problems.Count > 0) throw new ArgumentException(string.Join(" ", problems), nameof(options));

        _logger = logger ?? NullLogger<WebHdfsObjectStore>.Instance;
        _time = timeProvider ?? TimeProvider.System;
        _endpoint = new Uri(options.Url, UriKind.Absolute).GetLeftPart(UriPartial.Path).TrimEnd('/');
        _apiBase = _endpoint + "/webhdfs/v1";
        _root = options.NormalizedRoot;
        _objects = _root + "/" + ObjectsDirectory;
        _staging = _root + "/" + StagingDirectory;
        if (!string.IsNullOrWhiteSpace(options.DelegationToken))
        {
            _token = options.DelegationToken;
            _authQuery = "&delegation=" + Uri.EscapeDataString(options.DelegationToken);
        }
        else
        {
            _authQuery = "&user.name=" + Uri.EscapeDataString(options.User!);
        }
        _http = new HttpClient(new SocketsHttpHandler
        {
            // Redirects are followed by hand: their Location carries the auth parameters, and a PUT body is streamed once.
            AllowAutoRedirect = false,
            PooledConnectionLifetime = TimeSpan.FromMinutes(5),
            ConnectTimeout = TimeSpan.FromSeconds(30),
        })
        {
            // Bodies can be large and are streamed; cancellation tokens bound the time instead.
            Timeout = Timeout.InfiniteTimeSpan,
        };
    }

    public string Kind => "webhdfs";

    public async Task<ObjectInfo> PutAsync(string key, Stream content, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(content);
        var target = PathFor(key);
        using var hashing = new HashingReadStream(content);
        var temp = NewStagingPath();
        try
        {
            await CreateFileAsync(temp, hashing, key, cancellationToken).ConfigureAwait(false);
            await RenameIntoPlaceAsync(temp, target, overwrite: true, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            await DeleteQuietlyAsync(temp).ConfigureAwait(false);
            throw;
        }
        _logger.LogDebug("Stored {Key} in HDFS ({Size} bytes)", key, hashing.BytesRead);
        var status = await GetStatusAsync(target, key, cancellationToken).ConfigureAwait(false);
        return new ObjectInfo(key, hashing.BytesRead, status?.Modified ?? DateTimeOffset.UtcNow, hashing.Sha256Hex);
    }

    public async Task<ObjectInfo> PutContentAddressedAsync(Stream content, Func<string, string> keyForSha256, long? maxBytes = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(content);
        ArgumentNullException.ThrowIfNull(keyForSha256);
        using var hashing = new HashingReadStream(content, maxBytes);
        var temp = NewStagingPath();
        try
        {
            await CreateFileAsync(temp, hashing, "(content-addressed)", cancellationToken).ConfigureAwait(false);
            var key = keyForSha256(hashing.Sha256Hex);
            var target = PathFor(key);
            // Same key, same bytes by construction: an existing object is kept and the upload dropped.
            var status = await GetStatusAsync(target, key, cancellationToken).ConfigureAwait(false);
            if (status is not { IsFile: true })
            {
                var moved = await RenameIntoPlaceAsync(temp, target, overwrite: false, cancellationToken).ConfigureAwait(false);
                if (moved) _logger.LogDebug("Stored {Key} in HDFS ({Size} bytes)", key, hashing.BytesRead);
                else await DeleteQuietlyAsync(temp).ConfigureAwait(false);
                status = await GetStatusAsync(target, key, cancellationToken).ConfigureAwait(false);
                // "Already exists" is only a success when what exists is the object, not a folder of that name.
                if (status is { IsDirectory: true })
                    throw new WebHdfsException($"WebHDFS at '{_endpoint}' could not store '{target}': it is a folder.", HttpStatusCode.Conflict);
            }
            else
            {
                await DeleteQuietlyAsync(temp).ConfigureAwait(false);
            }
            return new ObjectInfo(key, hashing.BytesRead, status?.Modified ?? DateTimeOffset.UtcNow, hashing.Sha256Hex);
        }
        catch
        {
            await DeleteQuietlyAsync(temp).ConfigureAwait(false);
            throw;
        }
    }

    public async Task<Stream> GetAsync(string key, ByteRange? range = null, CancellationToken cancellationToken = default)
    {
        var path = PathFor(key);
        if (range is not { } r) return await OpenAsync(path, key, null, cancellationToken).ConfigureAwait(false);

        r.Validate();
        // The length decides what the range means: HDFS refuses an offset past the end instead of answering nothing.
        var status = await GetStatusAsync(path, key, cancellationToken).ConfigureAwait(false);
        if (status is not { IsFile: true }) throw new ObjectNotFoundException(key);
        var available = status.Length - r.Offset;
        if (available <= 0 || r.Length == 0) return Stream.Null;
        var length = r.Length is { } l ? Math.Min(l, available) : available;
        return await OpenAsync(path, key, (r.Offset, length), cancellationToken).ConfigureAwait(false);
    }

    public async Task<ObjectInfo?> HeadAsync(string key, CancellationToken cancellationToken = default)
    {
        var status = await GetStatusAsync(PathFor(key), key, cancellationToken).ConfigureAwait(false);
        return status is { IsFile: true } ? new ObjectInfo(key, status.Length, status.Modified, null) : null;
    }

    public async Task<ObjectPage> ListAsync(string prefix, string? continuationToken = null, int pageSize = 1000, CancellationToken cancellationToken = default)
    {
        ObjectKey.ValidatePrefix(prefix);
        ArgumentOutOfRangeException.ThrowIfLessThan(pageSize, 1);
        var slash = prefix.LastIndexOf('/');
        var directoryKey = prefix[..(slash + 1)];
        // HDFS has no path with ':' in it, so no key under such a folder.
        if (directoryKey.Contains(':', StringComparison.Ordinal)) return new ObjectPage([], null);

        var items = new List<ObjectInfo>();
        // One item more than the page tells whether another page follows.
        await CollectAsync(directoryKey, prefix[(slash + 1)..], continuationToken, pageSize + 1, items, cancellationToken).ConfigureAwait(false);
        if (items.Count <= pageSize) return new ObjectPage(items, null);
        items.RemoveAt(items.Count - 1);
        return new ObjectPage(items, items[^1].Key);
    }

    public async Task<bool> DeleteAsync(string key, CancellationToken cancellationToken = default)
    {
        var path = PathFor(key);
        // A folder that is only the prefix of other keys is no object; recursive=false keeps a race from deleting one.
        if (await GetStatusAsync(path, key, cancellationToken).ConfigureAwait(false) is not { IsFile: true }) return false;
        using var response = await SendAsync(HttpMethod.Delete, path, "DELETE", "&recursive=false", key, cancellationToken).ConfigureAwait(false);
        if (!response.IsSuccessStatusCode) throw await FailureAsync(response, "DELETE", path, key, cancellationToken).ConfigureAwait(false);
        var deleted = (await ReadJsonAsync<BooleanResponse>(response, "DELETE", path, cancellationToken).ConfigureAwait(false)).Boolean;
        if (deleted)
        {
            _logger.LogDebug("Deleted {Key} from HDFS", key);
            await PruneEmptyFoldersAsync(key, cancellationToken).ConfigureAwait(false);
        }
        return deleted;
    }

    public async Task<int> DeleteInterruptedWritesAsync(DateTimeOffset before, CancellationToken cancellationToken = default)
    {
        var deleted = 0;
        foreach (var entry in await ListDirectoryAsync(_staging, cancellationToken).ConfigureAwait(false) ?? [])
        {
            if (!entry.IsFile || entry.Modified >= before) continue;
            var path = _staging + "/" + entry.PathSuffix;
            using var response = await SendAsync(HttpMethod.Delete, path, "DELETE", "&recursive=false", path, cancellationToken).ConfigureAwait(false);
            if (!response.IsSuccessStatusCode) throw await FailureAsync(response, "DELETE", path, null, cancellationToken).ConfigureAwait(false);
            if ((await ReadJsonAsync<BooleanResponse>(response, "DELETE", path, cancellationToken).ConfigureAwait(false)).Boolean) deleted++;
        }
        if (deleted > 0) _logger.LogInformation("Deleted {Count} staged files of interrupted writes from HDFS", deleted);
        return deleted;
    }

    /// <summary>WebHDFS has no server-side copy: the bytes stream through this process, OPEN into a CREATE.</summary>
    public async Task<ObjectInfo> CopyAsync(string sourceKey, string destinationKey, CancellationToken cancellationToken = default)
    {
        // Both keys are checked before any I/O, so a bad destination is reported as such even when the source is missing.
        PathFor(destinationKey);
        await using var source = await GetAsync(sourceKey, null, cancellationToken).ConfigureAwait(false);
        return await PutAsync(destinationKey, source, cancellationToken).ConfigureAwait(false);
    }

    public Task<Uri?> GetPresignedUrlAsync(string key, TimeSpan expiry, CancellationToken cancellationToken = default)
    {
        PathFor(key);
        return Task.FromResult<Uri?>(null);
    }

    /// <summary>
    /// Creates the root's folders when missing (MKDIRS) and, unless a write reached a datanode within the last minute,
    /// writes and deletes a one-byte probe, so a datanode that the namenode redirects to but this process cannot reach
    /// shows here rather than on the first upload.
    /// </summary>
    public async Task CheckHealthAsync(CancellationToken cancellationToken = default)
    {
        try
        {
            await MakeDirectoryAsync(_objects, cancellationToken).ConfigureAwait(false);
            await MakeDirectoryAsync(_staging, cancellationToken).ConfigureAwait(false);
            if (_time.GetUtcNow().UtcTicks - Volatile.Read(ref _lastWriteUtcTicks) < WriteProbeInterval.Ticks) return;
            var probe = _staging + "/health-" + Guid.NewGuid().ToString("N");
            try
            {
                await CreateFileAsync(probe, new MemoryStream([1]), "(health probe)", cancellationToken).ConfigureAwait(false);
            }
            finally
            {
                await DeleteQuietlyAsync(probe).ConfigureAwait(false);
            }
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            throw new InvalidOperationException($"WebHDFS store at '{_endpoint}' (root '{RootForDisplay}') is not usable: {Reason(e)}", e);
        }
    }

    public void Dispose() => _http.Dispose();

    private string RootForDisplay => _root.Length == 0 ? "/" : _root;

    /// <summary>The HDFS path of a key, after the key checks and HDFS's own rule against ':'.</summary>
    private string PathFor(string key)
    {
        ObjectKey.Validate(key);
        if (key.Contains(':', StringComparison.Ordinal))
            throw new InvalidObjectKeyException(key, "HDFS does not allow ':' in path names");
        return _objects + "/" + key;
    }

    private string NewStagingPath() => _staging + "/" + Guid.NewGuid().ToString("N");

    /// <summary>Depth-first over the folders under <paramref name="directoryKey"/>, in ordinal key order, stopping at <paramref name="limit"/> items.</summary>
    private async Task CollectAsync(string directoryKey, string namePrefix, string? after, int limit, List<ObjectInfo> items, CancellationToken cancellationToken)
    {
        var path = directoryKey.Length == 0 ? _objects : _objects + "/" + directoryKey[..^1];
        var entries = await ListDirectoryAsync(path, cancellationToken).ConfigureAwait(false);
        if (entries is null) return;

        // A folder sorts as its name plus '/', which is where its keys sort among its siblings ("a b" < "a/1" < "a0").
        var children = new List<(string SortKey, FileStatus Status)>(entries.Count);
        foreach (var entry in entries)
        {
            if (!entry.PathSuffix.StartsWith(namePrefix, StringComparison.Ordinal)) continue;
            if (entry.IsFile) children.Add((directoryKey + entry.PathSuffix, entry));
            else if (entry.IsDirectory) children.Add((directoryKey + entry.PathSuffix + "/", entry));
            // Symbolic links are not objects.
        }
        children.Sort((a, b) => string.CompareOrdinal(a.SortKey, b.SortKey));

        foreach (var (sortKey, status) in children)
        {
            if (items.Count >= limit) return;
            if (status.IsFile)
            {
                if (after is null || string.CompareOrdinal(sortKey, after) > 0) items.Add(new ObjectInfo(sortKey, status.Length, status.Modified, null));
                continue;
            }
            // Every key in the folder starts with its sort key: it lies wholly before the token unless the token is inside it.
            if (after is not null && string.CompareOrdinal(sortKey, after) < 0 && !after.StartsWith(sortKey, StringComparison.Ordinal)) continue;
            await CollectAsync(sortKey, "", after, limit, items, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>The two-step CREATE of a new file at <paramref name="path"/>, streaming <paramref name="body"/> to the datanode.</summary>
    private async Task CreateFileAsync(string path, Stream body, string subject, CancellationToken cancellationToken)
    {
        Uri location;
        // Step 1 carries no body: the namenode only names the datanode that takes the data.
        using (var response = await SendAsync(HttpMethod.Put, path, "CREATE", "&overwrite=false", subject, cancellationToken).ConfigureAwait(false))
            location = await RedirectTargetAsync(response, "CREATE", path, null, cancellationToken).ConfigureAwait(false);

        var content = new StreamingBodyContent(body);
        using var request = new HttpRequestMessage(HttpMethod.Put, location) { Content = content };
        request.Headers.TransferEncodingChunked = true;
        HttpResponseMessage written;
        try
        {
            written = await _http.SendAsync(request, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception) when (content.SourceError is { } source)
        {
            // The body's own failure (a size limit, a cancelled upload) is the cause; the transport error only wraps it.
            ExceptionDispatchInfo.Throw(source);
            throw;
        }
        catch (Exception e) when (e is HttpRequestException or IOException && !cancellationToken.IsCancellationRequested)
        {
            // Unreachable, or the connection broke mid-body: datanodes must be reachable from here under the name the namenode gives.
            throw new IOException($"WebHDFS datanode at '{location.Authority}' (named by the namenode at '{_endpoint}') failed to take '{subject}': {Reason(e)}", e);
        }
        using (written)
        {
            if (!written.IsSuccessStatusCode) throw await FailureAsync(written, "CREATE", path, null, cancellationToken).ConfigureAwait(false);
        }
        Volatile.Write(ref _lastWriteUtcTicks, _time.GetUtcNow().UtcTicks);
    }

    /// <summary>OPEN, following the namenode's redirect to a datanode; a gateway that answers with the bytes at once is read directly.</summary>
    private async Task<Stream> OpenAsync(string path, string key, (long Offset, long Length)? range, CancellationToken cancellationToken)
    {
        var extra = range is { } r ? string.Create(CultureInfo.InvariantCulture, $"&offset={r.Offset}&length={r.Length}") : null;
        var response = await SendAsync(HttpMethod.Get, path, "OPEN", extra, key, cancellationToken, HttpCompletionOption.ResponseHeadersRead).ConfigureAwait(false);
        try
        {
            if (IsRedirect(response.StatusCode))
            {
                var location = await RedirectTargetAsync(response, "OPEN", path, key, cancellationToken).ConfigureAwait(false);
                response.Dispose();
                using var request = new HttpRequestMessage(HttpMethod.Get, location);
                try
                {
                    response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
                }
                catch (HttpRequestException e)
                {
                    throw new IOException($"WebHDFS datanode at '{location.Authority}' (named by the namenode at '{_endpoint}') could not be reached to read '{key}': {Reason(e)}", e);
                }
            }
            if (response.StatusCode != HttpStatusCode.OK) throw await FailureAsync(response, "OPEN", path, key, cancellationToken).ConfigureAwait(false);
            var body = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
            return new HttpResponseStream(body, response);
        }
        catch
        {
            response.Dispose();
            throw;
        }
    }

    /// <summary>GETFILESTATUS; null when nothing is at the path.</summary>
    private async Task<FileStatus?> GetStatusAsync(string path, string subject, CancellationToken cancellationToken)
    {
        using var response = await SendAsync(HttpMethod.Get, path, "GETFILESTATUS", null, subject, cancellationToken).ConfigureAwait(false);
        if (response.IsSuccessStatusCode)
            return (await ReadJsonAsync<FileStatusResponse>(response, "GETFILESTATUS", path, cancellationToken).ConfigureAwait(false)).FileStatus;
        var error = await WebHdfsError.ReadAsync(response, cancellationToken).ConfigureAwait(false);
        // Only a RemoteException says the file is missing; a bare 404 means the URL is not a WebHDFS endpoint.
        return IsMissing(error) ? null : throw Failure(error, "GETFILESTATUS", path, null);
    }

    /// <summary>LISTSTATUS; null when the folder is missing or is a file.</summary>
    private async Task<List<FileStatus>?> ListDirectoryAsync(string path, CancellationToken cancellationToken)
    {
        using var response = await SendAsync(HttpMethod.Get, path, "LISTSTATUS", null, path, cancellationToken, HttpCompletionOption.ResponseHeadersRead).ConfigureAwait(false);
        if (!response.IsSuccessStatusCode)
        {
            var error = await WebHdfsError.ReadAsync(response, cancellationToken).ConfigureAwait(false);
            return IsMissing(error) ? null : throw Failure(error, "LISTSTATUS", path, null);
        }
        var entries = (await ReadJsonAsync<FileStatusesResponse>(response, "LISTSTATUS", path, cancellationToken).ConfigureAwait(false)).FileStatuses.FileStatus;
        // LISTSTATUS of a file answers the file itself, with an empty name.
        return entries is [{ PathSuffix: "" }] ? null : entries;
    }

    private async Task MakeDirectoryAsync(string path, CancellationToken cancellationToken)
    {
        using var response = await SendAsync(HttpMethod.Put, path, "MKDIRS", null, path, cancellationToken).ConfigureAwait(false);
        if (!response.IsSuccessStatusCode) throw await FailureAsync(response, "MKDIRS", path, null, cancellationToken).ConfigureAwait(false);
        if (!(await ReadJsonAsync<BooleanResponse>(response, "MKDIRS", path, cancellationToken).ConfigureAwait(false)).Boolean)
            throw new WebHdfsException($"WebHDFS at '{_endpoint}' could not create the folder '{path}' (MKDIRS returned false).", response.StatusCode);
    }

    /// <summary>
    /// Moves a staged file to its key with one RENAME (atomic in the namenode). Creates the parent folder on demand:
    /// HDFS refuses a rename into a missing folder, which is also what a concurrent delete's pruning can cause, hence the retries.
    /// </summary>
    /// <returns>False when <paramref name="overwrite"/> is off and the target already existed.</returns>
    private async Task<bool> RenameIntoPlaceAsync(string temp, string target, bool overwrite, CancellationToken cancellationToken)
    {
        var extra = "&destination=" + Uri.EscapeDataString(target) + (overwrite ? "&renameoptions=OVERWRITE" : "&renameoptions=NONE");
        var parent = target[..target.LastIndexOf('/')];
        for (var attempt = 1; ; attempt++)
        {
            bool? legacy;
            using (var response = await SendAsync(HttpMethod.Put, temp, "RENAME", extra, target, cancellationToken).ConfigureAwait(false))
            {
                if (!response.IsSuccessStatusCode)
                {
                    var error = await WebHdfsError.ReadAsync(response, cancellationToken).ConfigureAwait(false);
                    // Without OVERWRITE an existing target refuses the rename: a concurrent writer stored the same content first.
                    if (!overwrite && error.Is("FileAlreadyExistsException")) return false;
                    if (!error.Is("FileNotFoundException") || attempt == MaxRenameAttempts) throw Failure(error, "RENAME", temp + " -> " + target, null);
                    await MakeDirectoryAsync(parent, cancellationToken).ConfigureAwait(false);
                    continue;
                }
                // The namenode's rename with options answers an empty body.
                legacy = await ReadBooleanIfAnyAsync(response, cancellationToken).ConfigureAwait(false);
            }
            if (legacy is null) return true;

            // A server that ignores renameoptions (HttpFS) runs FileSystem.rename, which answers false when the target
            // exists or its folder is missing, and moves the file into a folder that has the target's name.
            var status = await GetStatusAsync(target, target, cancellationToken).ConfigureAwait(false);
            if (legacy.Value)
            {
                if (status is { IsFile: true }) return true;
                await DeleteQuietlyAsync(target + temp[temp.LastIndexOf('/')..]).ConfigureAwait(false);
                throw new WebHdfsException($"WebHDFS at '{_endpoint}' could not store '{target}': it is a folder.", HttpStatusCode.Conflict);
            }
            if (attempt == MaxRenameAttempts)
                throw new WebHdfsException($"WebHDFS at '{_endpoint}' refused RENAME of '{temp}' to '{target}' (it answered false {attempt} times).", HttpStatusCode.OK);
            if (status is null)
            {
                await MakeDirectoryAsync(parent, cancellationToken).ConfigureAwait(false);
                continue;
            }
            if (!status.IsFile) throw new WebHdfsException($"WebHDFS at '{_endpoint}' could not store '{target}': it is a folder.", HttpStatusCode.Conflict);
            if (!overwrite) return false;
            // Such a server cannot replace in one step: readers may find the key missing until the next RENAME.
            using var deleted = await SendAsync(HttpMethod.Delete, target, "DELETE", "&recursive=false", target, cancellationToken).ConfigureAwait(false);
            if (!deleted.IsSuccessStatusCode) throw await FailureAsync(deleted, "DELETE", target, null, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>The <c>{"boolean": …}</c> of a response, or null when its body is not that (e.g. empty).</summary>
    private static async Task<bool?> ReadBooleanIfAnyAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        var body = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
        if (string.IsNullOrWhiteSpace(body)) return null;
        try
        {
            using var json = JsonDocument.Parse(body);
            return json.RootElement.ValueKind == JsonValueKind.Object && json.RootElement.TryGetProperty("boolean", out var value)
                && value.ValueKind is JsonValueKind.True or JsonValueKind.False
                ? value.GetBoolean()
                : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>Removes the folders a delete left empty, up to the objects root, so listings do not walk dead folders.</summary>
    private async Task PruneEmptyFoldersAsync(string key, CancellationToken cancellationToken)
    {
        for (var slash = key.LastIndexOf('/'); slash > 0; slash = key.LastIndexOf('/', slash - 1))
        {
            var folder = _objects + "/" + key[..slash];
            try
            {
                // childrenNum is in every Hadoop 2.x+ answer; without it, nothing is pruned.
                if (await GetStatusAsync(folder, folder, cancellationToken).ConfigureAwait(false) is not { IsDirectory: true, ChildrenNum: 0 }) return;
                // recursive=false: a folder a concurrent writer just filled is refused, not deleted.
                using var response = await SendAsync(HttpMethod.Delete, folder, "DELETE", "&recursive=false", folder, cancellationToken).ConfigureAwait(false);
                if (!response.IsSuccessStatusCode) return;
            }
            catch (IOException e)
            {
                _logger.LogDebug("Could not prune the empty folder {Folder}: {Reason}", folder, e.Message);
                return;
            }
        }
    }

    /// <summary>Best-effort removal of a staged file; what it misses is invisible to readers, and <see cref="DeleteInterruptedWritesAsync"/> removes it later.</summary>
    private async Task DeleteQuietlyAsync(string path)
    {
        try
        {
            using var timeout = new CancellationTokenSource(CleanupTimeout);
            using var response = await SendAsync(HttpMethod.Delete, path, "DELETE", "&recursive=false", path, timeout.Token).ConfigureAwait(false);
            if (response.IsSuccessStatusCode) return;
            var error = await WebHdfsError.ReadAsync(response, timeout.Token).ConfigureAwait(false);
            _logger.LogWarning("Could not delete the staged file {Path} from HDFS ({Status}): {Exception}: {Reason}",
                path, (int)error.Status, error.Exception, Scrub(error.Message));
        }
        catch (Exception e)
        {
            _logger.LogWarning("Could not delete the staged file {Path} from HDFS: {Reason}", path, Reason(e));
        }
    }

    private async Task<HttpResponseMessage> SendAsync(
        HttpMethod method, string path, string op, string? parameters, string subject, CancellationToken cancellationToken,
        HttpCompletionOption completion = HttpCompletionOption.ResponseContentRead)
    {
        var url = new Uri($"{_apiBase}{EscapePath(path)}?op={op}{parameters}{_authQuery}", UriKind.Absolute);
        using var request = new HttpRequestMessage(method, url);
        try
        {
            return await _http.SendAsync(request, completion, cancellationToken).ConfigureAwait(false);
        }
        catch (HttpRequestException e)
        {
            throw new IOException($"WebHDFS at '{_endpoint}' could not be reached for {op} of '{subject}': {Reason(e)}", e);
        }
    }

    private async Task<Uri> RedirectTargetAsync(HttpResponseMessage response, string op, string path, string? key, CancellationToken cancellationToken)
    {
        if (!IsRedirect(response.StatusCode)) throw await FailureAsync(response, op, path, key, cancellationToken).ConfigureAwait(false);
        var location = response.Headers.Location?.OriginalString;

        // The Location holds the auth parameters: it is used, never quoted.
        if (Uri.TryCreate(response.RequestMessage?.RequestUri, location ?? "", out var target) && target.Scheme is "http" or "https" && location is { Length: > 0 })
            return target;
        throw new WebHdfsException($"WebHDFS at '{_endpoint}' answered {op} of '{path}' with {(int)response.StatusCode} but no usable datanode Location.", response.StatusCode);
    }

    private async Task<T> ReadJsonAsync<T>(HttpResponseMessage response, string op, string path, CancellationToken cancellationToken) where T : class
    {
        try
        {
            return await response.Content.ReadFromJsonAsync<T>(WebHdfsJson.Options, cancellationToken).ConfigureAwait(false)
                ?? throw new JsonException("empty body");
        }
        catch (Exception e) when (e is JsonException or NotSupportedException)
        {
            throw new WebHdfsException($"WebHDFS at '{_endpoint}' answered {op} of '{path}' with a body that is not WebHDFS JSON ({e.Message}); is Cube:Storage:WebHdfs:Url the namenode's HTTP address?", response.StatusCode, inner: e);
        }
    }

    private async Task<Exception> FailureAsync(HttpResponseMessage response, string op, string path, string? key, CancellationToken cancellationToken) =>
        Failure(await WebHdfsError.ReadAsync(response, cancellationToken).ConfigureAwait(false), op, path, key);

    /// <summary>Maps a RemoteException to the store's exceptions; <paramref name="key"/> is set where "not found" means the object.</summary>
    private Exception Failure(WebHdfsError error, string op, string path, string? key)
    {
        if (key is not null && IsMissing(error)) return new ObjectNotFoundException(key);
        var remote = error.Exception is null ? Scrub(error.Message) : $"{error.Exception}: {Scrub(error.Message)}";
        if (key is not null && error.Is("InvalidPathException")) return new InvalidObjectKeyException(key, $"HDFS refuses the path ({remote})");

        var message = $"WebHDFS at '{_endpoint}' refused {op} of '{path}' ({(int)error.Status}): {remote}{Hint(error)}";
        var exception = new WebHdfsException(message, error.Status, error.Exception, error.JavaClassName);
        var denied = error.Status == HttpStatusCode.Unauthorized
            || error.Exception is "AccessControlException" or "SecurityException" or "InvalidToken" or "AuthorizationException";
        return denied ? new UnauthorizedAccessException(message, exception) : exception;
    }

    private string Hint(WebHdfsError error) => error.Exception switch
    {
        "AccessControlException" => $" Give the configured user write access to '{RootForDisplay}', or change Cube:Storage:WebHdfs:User.",
        "InvalidToken" => " The delegation token is expired or unknown; renew it or set a new Cube:Storage:WebHdfs:DelegationToken.",
        "SafeModeException" => " The namenode is in safe mode (starting up, or short of space); writes resume when it leaves it.",
        "StandbyException" => " This namenode is the standby; point Cube:Storage:WebHdfs:Url at the active one.",
        "RetriableException" => " The namenode asked to retry later.",
        null when error.Status == HttpStatusCode.NotFound => " Is Cube:Storage:WebHdfs:Url the namenode's HTTP address (with WebHDFS enabled)?",
        _ => "",
    };

    /// <summary>Blanks the delegation token out of text that came from the server or the transport.</summary>
    private string Scrub(string text) =>
        _token is null ? text : text.Replace(_token, "***", StringComparison.Ordinal).Replace(Uri.EscapeDataString(_token), "***", StringComparison.Ordinal);

    private string Reason(Exception e)
    {
        // The innermost socket or HTTP error says what actually went wrong ("Connection refused"); wrappers say less.
        var messages = new List<string>();
        for (var current = e; current is not null; current = current.InnerException)
        {
            if (!string.IsNullOrWhiteSpace(current.Message) && !messages.Contains(current.Message.Trim())) messages.Add(current.Message.Trim());
        }
        return Scrub(messages.Count == 0 ? e.GetType().Name : string.Join(" <- ", messages.AsEnumerable().Reverse()));
    }

    /// <summary>Nothing at the path: not found, or a file where the path needs a folder (checked first where permissions are on).</summary>
    private static bool IsMissing(WebHdfsError error) => error.Is("FileNotFoundException") || error.Is("ParentNotDirectoryException");

    private static bool IsRedirect(HttpStatusCode status) => status is HttpStatusCode.TemporaryRedirect or HttpStatusCode.Redirect
        or HttpStatusCode.SeeOther or HttpStatusCode.MovedPermanently or HttpStatusCode.PermanentRedirect;

    private static string EscapePath(string path) => string.Join('/', path.Split('/').Select(Uri.EscapeDataString));
}
