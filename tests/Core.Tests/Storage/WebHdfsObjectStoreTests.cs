using System.Collections.Concurrent;
using System.Net;
using Cube.Core.Storage;
using Microsoft.Extensions.Logging;

namespace Cube.Core.Tests.Storage;

/// <summary>What the WebHDFS adapter sends on the wire, and how it reads the server's failures.</summary>
public sealed class WebHdfsObjectStoreTests : IAsyncLifetime
{
    private const string Root = "/data/cube";
    private readonly List<IAsyncDisposable> _fakes = [];
    private readonly List<WebHdfsObjectStore> _stores = [];

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public ValueTask InitializeAsync() => ValueTask.CompletedTask;

    public async ValueTask DisposeAsync()
    {
        foreach (var store in _stores) store.Dispose();
        foreach (var fake in _fakes) await fake.DisposeAsync();
    }

    private async Task<WebHdfsFake> FakeAsync(string? requiredUser = "alice", string? validToken = null)
    {
        var fake = await WebHdfsFake.StartAsync(requiredUser, validToken);
        _fakes.Add(fake);
        return fake;
    }

    private WebHdfsObjectStore StoreFor(WebHdfsFake fake, string? user = "alice", string? token = null, ILogger<WebHdfsObjectStore>? logger = null, string? url = null, TimeProvider? time = null)
    {
        var store = new WebHdfsObjectStore(new WebHdfsStorageOptions { Url = url ?? fake.Url, Root = Root, User = user, DelegationToken = token }, logger, time);
        _stores.Add(store);
        return store;
    }

    [Fact]
    public async Task PutAsync_StreamsBodyChunkedToTheDatanode_WhenNamenodeRedirectsCreate()
    {
        var fake = await FakeAsync();
        var store = StoreFor(fake);
        const long size = 3L * 1024 * 1024 + 5;

        var info = await store.PutAsync("models/m.bin", new NonSeekableStream(size), Ct);

        var requests = fake.Requests;
        var create = Assert.Single(requests, r => r is { Node: "namenode", Op: "CREATE" });
        Assert.Equal("PUT", create.Method);
        Assert.StartsWith(Root + "/staging/", create.Path, StringComparison.Ordinal);
        Assert.Equal("false", create.Query["overwrite"]);
        Assert.Equal("alice", create.Query["user.name"]);
        Assert.Equal(0, create.BodyBytes); // step 1 sends no data
        var upload = Assert.Single(requests, r => r is { Node: "datanode", Op: "CREATE" });
        Assert.Equal("PUT", upload.Method);
        Assert.Equal(create.Path, upload.Path);
        Assert.True(upload.Chunked);
        Assert.Null(upload.ContentLength);
        Assert.Equal(size, upload.BodyBytes);
        Assert.Equal("alice", upload.Query["user.name"]);
        Assert.Equal("fake-namenode:8020", upload.Query["namenoderpcaddress"]); // the redirect's own URL was followed
        // The first write into a folder finds it missing, creates it (MKDIRS) and renames again.
        var renames = requests.Where(r => r.Op == "RENAME").ToList();
        Assert.Equal(2, renames.Count);
        Assert.All(renames, rename =>
        {
            Assert.Equal(create.Path, rename.Path);
            Assert.Equal(Root + "/objects/models/m.bin", rename.Query["destination"]);
            Assert.Equal("OVERWRITE", rename.Query["renameoptions"]);
        });
        Assert.Equal(Root + "/objects/models", Assert.Single(requests, r => r.Op == "MKDIRS").Path);
        Assert.Equal(NonSeekableStream.ExpectedSha256(size), info.Sha256);
        Assert.Equal(size, new FileInfo(fake.LocalPath(Root + "/objects/models/m.bin")).Length);
        Assert.Empty(Directory.EnumerateFileSystemEntries(fake.LocalPath(Root + "/staging")));
    }

    [Fact]
    public async Task PutAsync_SendsBytesBeforeTheSourceEnds_WhenBodyIsLarge()
    {
        var fake = await FakeAsync();
        var store = StoreFor(fake);
        var arrived = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        fake.OnDatanodeBytes = total => { if (total >= 512 * 1024) arrived.TrySetResult(); };
        // The source will not finish until the datanode has bytes: a client that buffered the body would time out here.
        var body = new GatedStream(firstPart: 1024 * 1024, rest: 1024 * 1024, gate: arrived.Task.WaitAsync(TimeSpan.FromSeconds(30), Ct));

        var info = await store.PutAsync("streamed.bin", body, Ct);

        Assert.Equal(2 * 1024 * 1024, info.Size);
        Assert.True(arrived.Task.IsCompletedSuccessfully);
    }

    [Fact]
    public async Task GetAsync_SendsOffsetAndLengthToTheDatanode_WhenRangeIsGiven()
    {
        var fake = await FakeAsync();
        var store = StoreFor(fake);
        var bytes = TestData.Bytes(10_000);
        await store.PutAsync("ranged", new MemoryStream(bytes), Ct);

        await using var stream = await store.GetAsync("ranged", new ByteRange(100, 50), Ct);
        using var read = new MemoryStream();
        await stream.CopyToAsync(read, Ct);

        Assert.Equal(bytes[100..150], read.ToArray());
        var open = Assert.Single(fake.Requests, r => r is { Node: "namenode", Op: "OPEN" });
        Assert.Equal(("100", "50"), (open.Query["offset"], open.Query["length"]));
        var data = Assert.Single(fake.Requests, r => r is { Node: "datanode", Op: "OPEN" });
        Assert.Equal(("100", "50"), (data.Query["offset"], data.Query["length"]));
    }

    [Fact]
    public async Task PutContentAddressedAsync_RenamesOnce_WhenSameContentIsPutTwice()
    {
        var fake = await FakeAsync();
        var store = StoreFor(fake);
        var bytes = TestData.Bytes(2000);

        var first = await store.PutContentAddressedAsync(new MemoryStream(bytes), sha => $"blobs/{sha[..2]}/{sha}", null, Ct);
        var before = fake.Requests.Count;
        var second = await store.PutContentAddressedAsync(new MemoryStream(bytes), sha => $"blobs/{sha[..2]}/{sha}", null, Ct);

        Assert.Equal(first.Key, second.Key);
        Assert.All(fake.Requests.Where(r => r.Op == "RENAME"), r => Assert.Equal("NONE", r.Query["renameoptions"]));
        Assert.DoesNotContain(fake.Requests.Skip(before), r => r.Op == "RENAME");
        Assert.Contains(fake.Requests.Skip(before), r => r is { Node: "datanode", Op: "CREATE" });
        Assert.Empty(Directory.EnumerateFileSystemEntries(fake.LocalPath(Root + "/staging")));
    }

    [Fact]
    public async Task PutAsync_ReplacesAndDeduplicates_WhenServerIgnoresRenameOptions()
    {
        var fake = await FakeAsync();
        fake.LegacyRename = true;
        var store = StoreFor(fake);
        var second = TestData.Bytes(300, seed: 2);

        await store.PutAsync("k/v", new MemoryStream(TestData.Bytes(500, seed: 1)), Ct);
        await store.PutAsync("k/v", new MemoryStream(second), Ct);
        var first = await store.PutContentAddressedAsync(new MemoryStream(second), sha => $"cas/{sha}", null, Ct);
        var again = await store.PutContentAddressedAsync(new MemoryStream(second), sha => $"cas/{sha}", null, Ct);
        await store.PutAsync("folder/inside", new MemoryStream([1]), Ct);
        var e = await Assert.ThrowsAsync<WebHdfsException>(() => store.PutAsync("folder", new MemoryStream([2]), Ct));

        Assert.Equal(second, await File.ReadAllBytesAsync(fake.LocalPath(Root + "/objects/k/v"), Ct));
        Assert.Equal(first.Key, again.Key);
        Assert.Contains("is a folder", e.Message, StringComparison.Ordinal);
        Assert.Equal(["cas/" + TestData.Sha256(second), "folder/inside", "k/v"], (await store.ListAsync("", null, 10, Ct)).Items.Select(i => i.Key));
        Assert.Empty(Directory.EnumerateFileSystemEntries(fake.LocalPath(Root + "/staging")));
    }

    [Fact]
    public async Task DeleteAsync_RemovesFoldersLeftEmpty_WhenLastObjectInThemIsDeleted()
    {
        var fake = await FakeAsync();
        var store = StoreFor(fake);
        await store.PutAsync("a/b/c/d", new MemoryStream([1]), Ct);
        await store.PutAsync("a/x", new MemoryStream([2]), Ct);

        Assert.True(await store.DeleteAsync("a/b/c/d", Ct));

        Assert.False(Directory.Exists(fake.LocalPath(Root + "/objects/a/b")));
        Assert.True(File.Exists(fake.LocalPath(Root + "/objects/a/x")));
        await store.PutAsync("a/b/again", new MemoryStream([3]), Ct);
        Assert.Equal(["a/b/again", "a/x"], (await store.ListAsync("a/", null, 10, Ct)).Items.Select(i => i.Key));
    }

    [Fact]
    public async Task ListAsync_ReturnsOrdinalOrder_WhenHdfsOrdersNamesDifferently()
    {
        var fake = await FakeAsync();
        var store = StoreFor(fake);
        foreach (var key in new[] { "u/z", "u/\u00e9", "u/a", "u/Z", "u/\u00e9t\u00e9/1" }) await store.PutAsync(key, new MemoryStream([1]), Ct);

        var first = await store.ListAsync("u/", null, 3, Ct);
        var second = await store.ListAsync("u/", first.ContinuationToken, 3, Ct);

        Assert.Equal(["u/Z", "u/a", "u/z"], first.Items.Select(i => i.Key));
        Assert.Equal(["u/\u00e9", "u/\u00e9t\u00e9/1"], second.Items.Select(i => i.Key));
        Assert.Null(second.ContinuationToken);
    }

    [Fact]
    public async Task Operations_FindNothing_WhenAPathGoesThroughAFile()
    {
        var fake = await FakeAsync();
        var store = StoreFor(fake);
        await store.PutAsync("a/b", new MemoryStream([1]), Ct);

        Assert.Null(await store.HeadAsync("a/b/c", Ct));
        await Assert.ThrowsAsync<ObjectNotFoundException>(() => store.GetAsync("a/b/c", null, Ct));
        await Assert.ThrowsAsync<ObjectNotFoundException>(() => store.GetAsync("a/b/c", new ByteRange(0, 1), Ct));
        Assert.False(await store.DeleteAsync("a/b/c", Ct));
        Assert.Empty((await store.ListAsync("a/b/", null, 10, Ct)).Items);
        Assert.Contains(fake.Requests, r => r.Op == "GETFILESTATUS" && r.Path.EndsWith("/a/b/c", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Operations_ThrowInvalidObjectKey_WhenKeyHasAColon()
    {
        var fake = await FakeAsync();
        var store = StoreFor(fake);

        var e = await Assert.ThrowsAsync<InvalidObjectKeyException>(() => store.PutAsync("x/a:b", new MemoryStream([1]), Ct));

        Assert.Contains("':'", e.Reason, StringComparison.Ordinal);
        await Assert.ThrowsAsync<InvalidObjectKeyException>(() => store.HeadAsync("dir/x:y", Ct));
        Assert.Empty(fake.Requests);
    }

    [Fact]
    public async Task PutAsync_ThrowsUnauthorizedNamingTheCause_WhenUserMayNotWrite()
    {
        var fake = await FakeAsync(requiredUser: "hdfs");
        var store = StoreFor(fake, user: "mallory");

        var e = await Assert.ThrowsAsync<UnauthorizedAccessException>(() => store.PutAsync("k", new MemoryStream([1]), Ct));

        Assert.Contains("AccessControlException: Permission denied", e.Message, StringComparison.Ordinal);
        Assert.Contains(fake.Url, e.Message, StringComparison.Ordinal);
        Assert.Contains("Cube:Storage:WebHdfs:User", e.Message, StringComparison.Ordinal);
        var remote = Assert.IsType<WebHdfsException>(e.InnerException);
        Assert.Equal(HttpStatusCode.Forbidden, remote.StatusCode);
        Assert.Equal("AccessControlException", remote.RemoteException);
        Assert.Equal("org.apache.hadoop.security.AccessControlException", remote.JavaClassName);
    }

    [Fact]
    public async Task PutAsync_ThrowsWebHdfsExceptionAndLeavesNothing_WhenNamenodeIsInSafeMode()
    {
        var fake = await FakeAsync();
        var store = StoreFor(fake);
        await store.CheckHealthAsync(Ct);
        fake.FailNext("CREATE", 403, "SafeModeException", "org.apache.hadoop.hdfs.server.namenode.SafeModeException",
            "Cannot create file/data/cube/staging/x. Name node is in safe mode.");

        var e = await Assert.ThrowsAsync<WebHdfsException>(() => store.PutAsync("k", new MemoryStream([1]), Ct));

        Assert.Equal("SafeModeException", e.RemoteException);
        Assert.Contains("Name node is in safe mode", e.Message, StringComparison.Ordinal);
        Assert.Contains("CREATE", e.Message, StringComparison.Ordinal);
        Assert.Null(await store.HeadAsync("k", Ct));
        Assert.Empty(Directory.EnumerateFileSystemEntries(fake.LocalPath(Root + "/staging")));
    }

    [Fact]
    public async Task ListAsync_ThrowsWithHint_WhenNamenodeIsStandby()
    {
        var fake = await FakeAsync();
        var store = StoreFor(fake);
        fake.FailNext("LISTSTATUS", 403, "StandbyException", "org.apache.hadoop.ipc.StandbyException",
            "Operation category READ is not supported in state standby");

        var e = await Assert.ThrowsAsync<WebHdfsException>(() => store.ListAsync("", null, 10, Ct));

        Assert.Equal("StandbyException", e.RemoteException);
        Assert.Contains("active", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task HeadAsync_ThrowsNamingStatus_WhenAProxyAnswersWithoutRemoteException()
    {
        var fake = await FakeAsync();
        var store = StoreFor(fake);
        fake.FailNextRaw("GETFILESTATUS", 502, "text/html", "<html><body>Bad Gateway</body></html>");

        var e = await Assert.ThrowsAsync<WebHdfsException>(() => store.HeadAsync("k", Ct));

        Assert.Equal(HttpStatusCode.BadGateway, e.StatusCode);
        Assert.Null(e.RemoteException);
        Assert.Contains("Bad Gateway", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task HeadAsync_Throws_WhenUrlIsNotAWebHdfsEndpoint()
    {
        var fake = await FakeAsync();
        var store = StoreFor(fake, url: fake.Url + "/not-webhdfs");

        // A bare 404 is not "no such object": only a FileNotFoundException says that.
        var e = await Assert.ThrowsAsync<WebHdfsException>(() => store.HeadAsync("k", Ct));

        Assert.Equal(HttpStatusCode.NotFound, e.StatusCode);
        Assert.Contains("Cube:Storage:WebHdfs:Url", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task GetAsync_ThrowsObjectNotFound_WhenNamenodeAnswersFileNotFound()
    {
        var fake = await FakeAsync();
        var store = StoreFor(fake);
        await store.PutAsync("present", new MemoryStream([1]), Ct);
        fake.FailNext("OPEN", 404, "FileNotFoundException", "java.io.FileNotFoundException", "File does not exist: /data/cube/objects/present");

        var e = await Assert.ThrowsAsync<ObjectNotFoundException>(() => store.GetAsync("present", null, Ct));

        Assert.Equal("present", e.Key);
    }

    [Fact]
    public async Task DelegationToken_IsSentInsteadOfUser_AndNeverLoggedNorQuoted()
    {
        const string token = "IgAEaGRmcwRoZGZzAIoBjSECRET-TOKEN-VALUE";
        var fake = await FakeAsync(requiredUser: null, validToken: token);
        var logger = new CapturingLogger();
        var store = StoreFor(fake, user: "alice-in-logs", token: token, logger: logger);

        await store.CheckHealthAsync(Ct);
        await store.PutAsync("a/b", new MemoryStream([1, 2, 3]), Ct);
        await (await store.GetAsync("a/b", null, Ct)).DisposeAsync();
        await store.ListAsync("", null, 10, Ct);
        await store.DeleteAsync("a/b", Ct);
        // A failed upload whose staged file cannot be removed logs a warning with the server's message in it.
        fake.FailNext("CREATE", 403, "SafeModeException", "org.apache.hadoop.hdfs.server.namenode.SafeModeException", $"safe mode; delegation={token}");
        fake.FailNext("DELETE", 403, "InvalidToken", "org.apache.hadoop.security.token.SecretManager$InvalidToken", $"token {token} can't be found in cache");
        var failed = await Assert.ThrowsAsync<WebHdfsException>(() => store.PutAsync("c", new MemoryStream([1]), Ct));
        fake.FailNext("GETFILESTATUS", 403, "InvalidToken", "org.apache.hadoop.security.token.SecretManager$InvalidToken", $"token {token} can't be found in cache");
        var denied = await Assert.ThrowsAsync<UnauthorizedAccessException>(() => store.HeadAsync("a/b", Ct));

        Assert.All(fake.Requests, r =>
        {
            Assert.Equal(token, r.Query["delegation"]);
            Assert.False(r.Query.ContainsKey("user.name"));
        });
        Assert.NotEmpty(logger.Lines);
        Assert.Contains(logger.Lines, l => l.Contains("Could not delete the staged file", StringComparison.Ordinal));
        foreach (var text in logger.Lines.Append(failed.Message).Append(denied.Message).Append(denied.InnerException!.Message))
        {
            Assert.DoesNotContain(token, text, StringComparison.Ordinal);
            Assert.DoesNotContain("delegation=" + token, text, StringComparison.Ordinal);
            Assert.DoesNotContain("user.name", text, StringComparison.Ordinal);
            Assert.DoesNotContain("alice-in-logs", text, StringComparison.Ordinal);
        }
        Assert.Contains("***", denied.Message, StringComparison.Ordinal);
        Assert.Contains("Cube:Storage:WebHdfs:DelegationToken", denied.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task UserName_IsNotLogged_WhenOperationsSucceedAndFail()
    {
        var fake = await FakeAsync(requiredUser: "svc-cube-7");
        var logger = new CapturingLogger();
        var store = StoreFor(fake, user: "svc-cube-7", logger: logger);

        await store.PutAsync("x/y", new MemoryStream([1]), Ct);
        await store.DeleteAsync("x/y", Ct);
        fake.FailNext("DELETE", 500, "RuntimeException", "java.lang.RuntimeException", "boom");
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        var body = new NonSeekableStream(2_000_000, onRead: p => { if (p > 200_000) cts.Cancel(); });
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => store.PutAsync("z", body, cts.Token));

        Assert.Contains(logger.Lines, l => l.Contains("Stored x/y", StringComparison.Ordinal));
        Assert.All(logger.Lines, l =>
        {
            Assert.DoesNotContain("svc-cube-7", l, StringComparison.Ordinal);
            Assert.DoesNotContain("user.name", l, StringComparison.Ordinal);
        });
    }

    [Fact]
    public async Task CheckHealthAsync_CreatesRootFoldersAndRemovesItsProbe_WhenRootIsMissing()
    {
        var fake = await FakeAsync();
        var store = StoreFor(fake);

        await store.CheckHealthAsync(Ct);

        Assert.True(Directory.Exists(fake.LocalPath(Root + "/objects")));
        Assert.Empty(Directory.EnumerateFileSystemEntries(fake.LocalPath(Root + "/staging")));
        Assert.Contains(fake.Requests, r => r is { Node: "datanode", Op: "CREATE" });
    }

    [Fact]
    public async Task CheckHealthAsync_WritesAProbeAtMostOnceAMinute_WhenCalledOften()
    {
        var fake = await FakeAsync();
        var time = new ManualTime();
        var store = StoreFor(fake, time: time);
        int Probes() => fake.Requests.Count(r => r is { Node: "datanode", Op: "CREATE" });

        await store.CheckHealthAsync(Ct);
        await store.CheckHealthAsync(Ct);
        Assert.Equal(1, Probes());

        time.Advance(TimeSpan.FromSeconds(61));
        await store.CheckHealthAsync(Ct);
        Assert.Equal(2, Probes());

        // An upload that reached a datanode is as good as a probe.
        time.Advance(TimeSpan.FromSeconds(61));
        await store.PutAsync("fresh", new MemoryStream([1]), Ct);
        await store.CheckHealthAsync(Ct);
        Assert.Equal(3, Probes());
        // Each check still confirms both folders with the namenode (MKDIRS of objects and staging).
        Assert.Equal(8, fake.Requests.Count(r => r.Op == "MKDIRS"));
    }

    [Fact]
    public async Task CheckHealthAsync_ThrowsNamingTheUrl_WhenNamenodeIsUnreachable()
    {
        using var store = new WebHdfsObjectStore(new WebHdfsStorageOptions { Url = "http://127.0.0.1:1", User = "alice" });

        var e = await Assert.ThrowsAsync<InvalidOperationException>(() => store.CheckHealthAsync(Ct));

        Assert.Contains("http://127.0.0.1:1", e.Message, StringComparison.Ordinal);
        Assert.Contains("refused", e.Message, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("/cube", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task CheckHealthAsync_ThrowsNamingTheDatanode_WhenRedirectTargetIsUnreachable()
    {
        var fake = await FakeAsync();
        fake.DatanodeUrl = "http://127.0.0.1:1";
        var store = StoreFor(fake);

        var e = await Assert.ThrowsAsync<InvalidOperationException>(() => store.CheckHealthAsync(Ct));

        Assert.Contains("datanode at '127.0.0.1:1'", e.Message, StringComparison.Ordinal);
        Assert.Contains("refused", e.Message, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("user.name", e.Message, StringComparison.Ordinal);
    }

    /// <summary>Yields <c>firstPart</c> bytes, waits for <c>gate</c>, then yields <c>rest</c> bytes.</summary>
    private sealed class GatedStream(int firstPart, int rest, Task gate) : Stream
    {
        private long _position;

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException("read asynchronously");

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            if (_position == firstPart) await gate;
            var n = (int)Math.Min(buffer.Length, firstPart + rest - _position);
            if (_position < firstPart) n = (int)Math.Min(n, firstPart - _position);
            buffer.Span[..n].Fill(7);
            _position += n;
            return n;
        }

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }

    private sealed class ManualTime : TimeProvider
    {
        private DateTimeOffset _now = new(2026, 12, 2, 4, 0, 0, TimeSpan.Zero);

        public void Advance(TimeSpan by) => _now += by;

        public override DateTimeOffset GetUtcNow() => _now;
    }

    private sealed class CapturingLogger : ILogger<WebHdfsObjectStore>
    {
        private readonly ConcurrentQueue<string> _lines = new();

        public IReadOnlyList<string> Lines => [.. _lines];

        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            _lines.Enqueue($"{logLevel}: {formatter(state, exception)} {exception}");
    }
}
