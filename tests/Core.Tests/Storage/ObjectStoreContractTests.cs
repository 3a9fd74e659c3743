using System.Security.Cryptography;
using Cube.Core.Storage;
using Cube.Testing;
using Minio;

namespace Cube.Core.Tests.Storage;

/// <summary>What every <see cref="IObjectStore"/> must do; one subclass per adapter.</summary>
public abstract class ObjectStoreContractTests : IAsyncLifetime
{
    private IObjectStore? _store;

    protected IObjectStore Store => _store ?? throw new InvalidOperationException("The store is created in InitializeAsync.");

    /// <summary>Whether <see cref="IObjectStore.HeadAsync"/> reports the SHA-256 recorded at write.</summary>
    protected abstract bool HeadReportsSha256 { get; }

    protected abstract Task<IObjectStore> CreateStoreAsync();

    protected static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>Leaves under <paramref name="key"/> what a write cut off by a crash leaves: a staged file, an unfinished upload.</summary>
    protected virtual Task LeaveInterruptedWriteAsync(string key)
    {
        Assert.Skip("This adapter's test cannot leave an interrupted write behind.");
        return Task.CompletedTask;
    }

    /// <summary>How many interrupted writes the store holds.</summary>
    protected virtual Task<int> CountInterruptedWritesAsync() => Task.FromResult(0);

    /// <summary>When the server says an interrupted write left now started (moto stamps every upload with one fixed time).</summary>
    protected virtual DateTimeOffset InterruptedWriteStartedAt => DateTimeOffset.UtcNow;

    public virtual async ValueTask InitializeAsync()
    {
        _store = await CreateStoreAsync();
        await _store.CheckHealthAsync(Ct);
    }

    public virtual ValueTask DisposeAsync()
    {
        (_store as IDisposable)?.Dispose();
        GC.SuppressFinalize(this);
        return ValueTask.CompletedTask;
    }

    [Fact]
    public async Task DeleteInterruptedWritesAsync_DeletesWhatStartedBeforeTheCutoff_AndNoObject()
    {
        await Store.PutAsync("kept/object.bin", new MemoryStream([1, 2, 3]), Ct);
        await LeaveInterruptedWriteAsync("cut/off.bin");
        Assert.Equal(1, await CountInterruptedWritesAsync());

        // Younger than the cutoff: may still be in flight.
        Assert.Equal(0, await Store.DeleteInterruptedWritesAsync(InterruptedWriteStartedAt.AddHours(-1), Ct));
        Assert.Equal(1, await CountInterruptedWritesAsync());

        Assert.Equal(1, await Store.DeleteInterruptedWritesAsync(DateTimeOffset.UtcNow.AddMinutes(5), Ct));
        Assert.Equal(0, await CountInterruptedWritesAsync());
        Assert.Equal(["kept/object.bin"], (await Store.ListAsync("", null, 10, Ct)).Items.Select(i => i.Key));
        Assert.Equal(0, await Store.DeleteInterruptedWritesAsync(DateTimeOffset.UtcNow.AddMinutes(5), Ct));
    }

    [Fact]
    public async Task PutContentAddressedAsync_StoresUnderTheHashKeyOnce()
    {
        var bytes = TestData.Bytes(50_000);
        var expected = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(bytes));
        static string Key(string sha) => $"cas/{sha[..2]}/{sha}";

        var first = await Store.PutContentAddressedAsync(new MemoryStream(bytes), Key, null, Ct);
        var second = await Store.PutContentAddressedAsync(new MemoryStream(bytes), Key, null, Ct);

        Assert.Equal(Key(expected), first.Key);
        Assert.Equal(expected, first.Sha256);
        Assert.Equal(first.Key, second.Key);
        Assert.Equal(expected, second.Sha256);
        Assert.Equal(bytes.Length, second.Size);
        await using var read = await Store.GetAsync(first.Key, null, Ct);
        using var copy = new MemoryStream();
        await read.CopyToAsync(copy, Ct);
        Assert.Equal(bytes, copy.ToArray());
        var listed = await Store.ListAsync("cas/", null, 100, Ct);
        Assert.Single(listed.Items);
    }

    [Fact]
    public async Task PutContentAddressedAsync_RefusesOversizedBodies_AndStoresNothing()
    {
        await Assert.ThrowsAsync<Cube.Core.Errors.PayloadTooLargeException>(() =>
            Store.PutContentAddressedAsync(new MemoryStream(TestData.Bytes(10_000)), sha => $"cas-limit/{sha}", 1_000, Ct));
        Assert.Empty((await Store.ListAsync("cas-limit/", null, 10, Ct)).Items);
    }

    [Fact]
    public async Task PutAsync_RoundTripsBytesAndReportsSha256AndSize_WhenBodyIsSmall()
    {
        var bytes = TestData.Bytes(10_000);

        var info = await Store.PutAsync("runs/1/metrics.json", new MemoryStream(bytes), Ct);

        Assert.Equal("runs/1/metrics.json", info.Key);
        Assert.Equal(bytes.Length, info.Size);
        Assert.Equal(TestData.Sha256(bytes), info.Sha256);
        Assert.Equal(bytes, await ReadAllAsync("runs/1/metrics.json"));
    }

    [Fact]
    public async Task PutAsync_StoresEmptyObject_WhenBodyIsEmpty()
    {
        var info = await Store.PutAsync("empty", new MemoryStream(), Ct);

        Assert.Equal(0, info.Size);
        Assert.Equal(TestData.Sha256([]), info.Sha256);
        Assert.Empty(await ReadAllAsync("empty"));
        var head = await Store.HeadAsync("empty", Ct);
        Assert.NotNull(head);
        Assert.Equal(0, head.Size);
    }

    [Fact]
    public async Task PutAsync_StoresWholeBody_WhenBodyIsLargeAndNotSeekable()
    {
        const long size = 40L * 1024 * 1024 + 12_345;
        var expected = NonSeekableStream.ExpectedSha256(size);

        var info = await Store.PutAsync("models/big.bin", new NonSeekableStream(size), Ct);

        Assert.Equal(size, info.Size);
        Assert.Equal(expected, info.Sha256);
        await using var read = await Store.GetAsync("models/big.bin", null, Ct);
        var (readSize, readSha) = await HashAsync(read);
        Assert.Equal(size, readSize);
        Assert.Equal(expected, readSha);
        var head = await Store.HeadAsync("models/big.bin", Ct);
        Assert.Equal(size, head?.Size);
        if (HeadReportsSha256) Assert.Equal(expected, head?.Sha256);
    }

    [Fact]
    public async Task PutAsync_ReplacesObject_WhenKeyExists()
    {
        await Store.PutAsync("k", new MemoryStream(TestData.Bytes(5000, seed: 1)), Ct);
        var second = TestData.Bytes(300, seed: 2);

        var info = await Store.PutAsync("k", new MemoryStream(second), Ct);

        Assert.Equal(TestData.Sha256(second), info.Sha256);
        Assert.Equal(second, await ReadAllAsync("k"));
        Assert.Equal(300, (await Store.HeadAsync("k", Ct))?.Size);
        Assert.Single((await Store.ListAsync("", null, 100, Ct)).Items);
    }

    [Fact]
    public async Task PutAsync_LeavesNoVisibleObject_WhenCancelledMidBody()
    {
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        var body = new NonSeekableStream(20L * 1024 * 1024, onRead: position =>
        {
            if (position > 3 * 1024 * 1024) cts.Cancel();
        });

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => Store.PutAsync("cancelled/object", body, cts.Token));

        Assert.Null(await Store.HeadAsync("cancelled/object", Ct));
        Assert.Empty((await Store.ListAsync("", null, 100, Ct)).Items);
    }

    [Theory]
    [InlineData(0, 10L)]
    [InlineData(100, 50L)]
    [InlineData(990, null)]
    [InlineData(995, 100L)]
    [InlineData(0, null)]
    public async Task GetAsync_ReturnsRequestedBytes_WhenRangeIsGiven(long offset, long? length)
    {
        var bytes = TestData.Bytes(1000);
        await Store.PutAsync("ranged", new MemoryStream(bytes), Ct);

        var actual = await ReadAllAsync("ranged", new ByteRange(offset, length));

        var end = length is { } l ? Math.Min(bytes.Length, offset + l) : bytes.Length;
        Assert.Equal(bytes[(int)offset..(int)end], actual);
    }

    [Theory]
    [InlineData(1000, 10L)]
    [InlineData(5000, null)]
    [InlineData(10, 0L)]
    public async Task GetAsync_ReturnsNoBytes_WhenRangeIsEmptyOrPastEnd(long offset, long? length)
    {
        await Store.PutAsync("ranged", new MemoryStream(TestData.Bytes(1000)), Ct);

        Assert.Empty(await ReadAllAsync("ranged", new ByteRange(offset, length)));
    }

    [Fact]
    public async Task GetAsync_ReturnsNoBytes_WhenObjectIsEmptyAndRangeGiven()
    {
        await Store.PutAsync("empty", new MemoryStream(), Ct);

        Assert.Empty(await ReadAllAsync("empty", new ByteRange(0, 10)));
    }

    [Fact]
    public async Task GetAsync_ThrowsObjectNotFound_WhenObjectIsMissing()
    {
        var e = await Assert.ThrowsAsync<ObjectNotFoundException>(() => Store.GetAsync("missing/object", null, Ct));
        Assert.Equal("missing/object", e.Key);
        await Assert.ThrowsAsync<ObjectNotFoundException>(() => Store.GetAsync("missing/object", new ByteRange(0, 5), Ct));
    }

    [Fact]
    public async Task GetAsync_ThrowsObjectNotFound_WhenKeyIsOnlyAPrefixOfOtherKeys()
    {
        await Store.PutAsync("dir/file", new MemoryStream([1, 2, 3]), Ct);

        await Assert.ThrowsAsync<ObjectNotFoundException>(() => Store.GetAsync("dir", null, Ct));
        Assert.Null(await Store.HeadAsync("dir", Ct));
        Assert.False(await Store.DeleteAsync("dir", Ct));
    }

    [Fact]
    public async Task HeadAsync_ReturnsSizeAndTime_WhenObjectExists()
    {
        var before = DateTimeOffset.UtcNow.AddMinutes(-5);
        var bytes = TestData.Bytes(1234);
        await Store.PutAsync("a/b/c.txt", new MemoryStream(bytes), Ct);

        var head = await Store.HeadAsync("a/b/c.txt", Ct);

        Assert.NotNull(head);
        Assert.Equal("a/b/c.txt", head.Key);
        Assert.Equal(1234, head.Size);
        Assert.InRange(head.LastModified, before, DateTimeOffset.UtcNow.AddMinutes(5));
        if (HeadReportsSha256) Assert.Equal(TestData.Sha256(bytes), head.Sha256);
    }

    [Fact]
    public async Task HeadAsync_ReturnsNull_WhenObjectIsMissing() =>
        Assert.Null(await Store.HeadAsync("nothing/here", Ct));

    [Fact]
    public async Task ListAsync_ReturnsKeysUnderPrefixInOrdinalOrder_WhenPrefixIsNotOnSegmentBoundary()
    {
        string[] keys = ["data/b", "data/a/2", "data/a/1", "datasets/x", "dat", "other/data/z", "data/A", "data/a b", "data/a+b"];
        foreach (var key in keys) await Store.PutAsync(key, new MemoryStream([1]), Ct);

        var page = await Store.ListAsync("data", null, 100, Ct);

        string[] expected = ["data/A", "data/a b", "data/a+b", "data/a/1", "data/a/2", "data/b", "datasets/x"];
        Assert.Equal(expected, page.Items.Select(i => i.Key));
        Assert.All(page.Items, i => Assert.Equal(1, i.Size));
        Assert.Null(page.ContinuationToken);
        Assert.Equal(["data/a/1", "data/a/2"], (await Store.ListAsync("data/a/", null, 100, Ct)).Items.Select(i => i.Key));
        Assert.Empty((await Store.ListAsync("nope/", null, 100, Ct)).Items);
    }

    [Fact]
    public async Task ListAsync_PagesThroughAllKeys_WhenContinuationTokensAreFollowed()
    {
        var keys = Enumerable.Range(0, 23).Select(i => $"p/{i:D3}").ToList();
        foreach (var key in keys.AsEnumerable().Reverse()) await Store.PutAsync(key, new MemoryStream([(byte)key.Length]), Ct);
        await Store.PutAsync("q/outside", new MemoryStream([1]), Ct);

        var seen = new List<string>();
        var pages = 0;
        string? token = null;
        do
        {
            var page = await Store.ListAsync("p/", token, 5, Ct);
            Assert.InRange(page.Items.Count, 1, 5);
            seen.AddRange(page.Items.Select(i => i.Key));
            token = page.ContinuationToken;
            pages++;
        }
        while (token is not null);

        Assert.Equal(keys, seen);
        Assert.Equal(5, pages);
        var all = new List<string>();
        await foreach (var item in Store.ListAllAsync("p/", Ct)) all.Add(item.Key);
        Assert.Equal(keys, all);
    }

    [Fact]
    public async Task ListAsync_ReturnsLastPageWithoutToken_WhenKeysFillPageExactly()
    {
        foreach (var key in new[] { "x/1", "x/2", "x/3", "x/4" }) await Store.PutAsync(key, new MemoryStream([1]), Ct);

        var first = await Store.ListAsync("x/", null, 2, Ct);
        var second = await Store.ListAsync("x/", first.ContinuationToken, 2, Ct);

        Assert.Equal(["x/1", "x/2"], first.Items.Select(i => i.Key));
        Assert.NotNull(first.ContinuationToken);
        Assert.Equal(["x/3", "x/4"], second.Items.Select(i => i.Key));
        Assert.Null(second.ContinuationToken);
    }

    [Fact]
    public async Task ListAsync_ShowsNoTemporaryFiles_WhenPutsAndHealthChecksHappened()
    {
        await Store.CheckHealthAsync(Ct);
        await Store.PutAsync("only", new MemoryStream([1, 2]), Ct);
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        var body = new NonSeekableStream(1_000_000, onRead: p => { if (p > 100_000) cts.Cancel(); });
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => Store.PutAsync("failed", body, cts.Token));

        var page = await Store.ListAsync("", null, 1000, Ct);

        Assert.Equal(["only"], page.Items.Select(i => i.Key));
    }

    [Fact]
    public async Task DeleteAsync_RemovesObjectAndReturnsTrue_WhenObjectExists()
    {
        await Store.PutAsync("to/delete", new MemoryStream([1]), Ct);

        Assert.True(await Store.DeleteAsync("to/delete", Ct));

        Assert.Null(await Store.HeadAsync("to/delete", Ct));
        Assert.Empty((await Store.ListAsync("to/", null, 10, Ct)).Items);
        await Assert.ThrowsAsync<ObjectNotFoundException>(() => Store.GetAsync("to/delete", null, Ct));
    }

    [Fact]
    public async Task DeleteAsync_ReturnsFalse_WhenObjectIsMissing() =>
        Assert.False(await Store.DeleteAsync("never/existed", Ct));

    [Fact]
    public async Task CopyAsync_CreatesIdenticalObject_WhenSourceExists()
    {
        var bytes = TestData.Bytes(7000);
        await Store.PutAsync("src/a", new MemoryStream(bytes), Ct);

        var info = await Store.CopyAsync("src/a", "dst/b", Ct);

        Assert.Equal("dst/b", info.Key);
        Assert.Equal(bytes.Length, info.Size);
        Assert.Equal(bytes, await ReadAllAsync("dst/b"));
        Assert.Equal(bytes, await ReadAllAsync("src/a"));
        if (HeadReportsSha256) Assert.Equal(TestData.Sha256(bytes), (await Store.HeadAsync("dst/b", Ct))?.Sha256);
    }

    [Fact]
    public async Task CopyAsync_ThrowsObjectNotFound_WhenSourceIsMissing()
    {
        await Assert.ThrowsAsync<ObjectNotFoundException>(() => Store.CopyAsync("no/source", "dst/x", Ct));
        Assert.Null(await Store.HeadAsync("dst/x", Ct));
    }

    [Theory]
    [InlineData("../escape")]
    [InlineData("a/../../escape")]
    [InlineData("/absolute")]
    [InlineData("a\\b")]
    [InlineData("a//b")]
    [InlineData("a\u0001b")]
    [InlineData("")]
    public async Task Operations_ThrowInvalidObjectKey_WhenKeyIsUnsafe(string key)
    {
        await Assert.ThrowsAsync<InvalidObjectKeyException>(() => Store.PutAsync(key, new MemoryStream([1]), Ct));
        await Assert.ThrowsAsync<InvalidObjectKeyException>(() => Store.GetAsync(key, null, Ct));
        await Assert.ThrowsAsync<InvalidObjectKeyException>(() => Store.HeadAsync(key, Ct));
        await Assert.ThrowsAsync<InvalidObjectKeyException>(() => Store.DeleteAsync(key, Ct));
        await Assert.ThrowsAsync<InvalidObjectKeyException>(() => Store.CopyAsync("ok", key, Ct));
        await Assert.ThrowsAsync<InvalidObjectKeyException>(() => Store.GetPresignedUrlAsync(key, TimeSpan.FromMinutes(1), Ct));
        Assert.Empty((await Store.ListAsync("", null, 10, Ct)).Items);
    }

    [Fact]
    public async Task ListAsync_ThrowsInvalidObjectKey_WhenPrefixIsUnsafe() =>
        await Assert.ThrowsAsync<InvalidObjectKeyException>(() => Store.ListAsync("../", null, 10, Ct));

    [Fact]
    public async Task CheckHealthAsync_Succeeds_WhenStoreIsReachable() =>
        await Store.CheckHealthAsync(Ct);

    protected async Task<byte[]> ReadAllAsync(string key, ByteRange? range = null)
    {
        await using var stream = await Store.GetAsync(key, range, Ct);
        using var buffer = new MemoryStream();
        await stream.CopyToAsync(buffer, Ct);
        return buffer.ToArray();
    }

    private static async Task<(long Size, string Sha256)> HashAsync(Stream stream)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var buffer = new byte[1 << 16];
        long size = 0;
        int n;
        while ((n = await stream.ReadAsync(buffer, Ct)) > 0)
        {
            hash.AppendData(buffer.AsSpan(0, n));
            size += n;
        }
        return (size, Convert.ToHexStringLower(hash.GetHashAndReset()));
    }
}

public sealed class LocalObjectStoreContractTests : ObjectStoreContractTests
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "cube-local-store-" + Guid.NewGuid().ToString("N"));

    protected override bool HeadReportsSha256 => false;

    protected override Task<IObjectStore> CreateStoreAsync() => Task.FromResult<IObjectStore>(new LocalObjectStore(_root));

    private string Incoming => Path.Combine(_root, ".incoming");

    protected override Task LeaveInterruptedWriteAsync(string key) =>
        File.WriteAllBytesAsync(Path.Combine(Incoming, Guid.NewGuid().ToString("N")), TestData.Bytes(1000), Ct);

    protected override Task<int> CountInterruptedWritesAsync() => Task.FromResult(Directory.EnumerateFiles(Incoming).Count());

    public override async ValueTask DisposeAsync()
    {
        await base.DisposeAsync();
        if (Directory.Exists(_root)) Directory.Delete(_root, recursive: true);
    }

    [Fact]
    public async Task GetPresignedUrlAsync_ReturnsNull_WhenStoreIsLocal() =>
        Assert.Null(await Store.GetPresignedUrlAsync("any/key", TimeSpan.FromMinutes(5), Ct));
}

public sealed class S3ObjectStoreContractTests(MotoServer moto) : ObjectStoreContractTests
{
    protected override bool HeadReportsSha256 => true;

    private S3StorageOptions? _options;

    // A key prefix, so the contract also proves keys are prefixed on the way in and stripped on the way out.
    protected override async Task<IObjectStore> CreateStoreAsync() =>
        new S3ObjectStore(_options = await moto.CreateOptionsAsync(keyPrefix: "deployment-a"));

    private IMinioClient RawClient()
    {
        var endpoint = new Uri(_options!.Endpoint);
        return new MinioClient().WithEndpoint(endpoint.Host, endpoint.Port).WithCredentials(_options.AccessKey, _options.SecretKey)
            .WithRegion(_options.Region).WithSSL(endpoint.Scheme == "https").Build();
    }

    // moto answers ListMultipartUploads with this Initiated time for every upload; S3 and MinIO give the real one.
    protected override DateTimeOffset InterruptedWriteStartedAt => new(2010, 11, 10, 20, 48, 33, TimeSpan.Zero);

    /// <summary>A multipart upload whose body fails after its first 5 MiB part: the part stays, the object never appears.</summary>
    protected override async Task LeaveInterruptedWriteAsync(string key)
    {
        using var client = RawClient();
        await Assert.ThrowsAnyAsync<Exception>(() => client.PutObjectAsync(new Minio.DataModel.Args.PutObjectArgs()
            .WithBucket(_options!.Bucket).WithObject("deployment-a/" + key)
            .WithStreamData(new FailingAfterStream(TestData.Bytes(6 << 20))).WithObjectSize(12 << 20), Ct));
    }

    protected override async Task<int> CountInterruptedWritesAsync()
    {
        using var client = RawClient();
        var count = 0;
        await foreach (var _ in client.ListIncompleteUploadsEnumAsync(new Minio.DataModel.Args.ListIncompleteUploadsArgs()
            .WithBucket(_options!.Bucket).WithRecursive(true), Ct)) count++;
        return count;
    }

    /// <summary>Reads its bytes, then fails as a dropped client connection would.</summary>
    private sealed class FailingAfterStream(byte[] bytes) : MemoryStream(bytes)
    {
        public override int Read(byte[] buffer, int offset, int count) =>
            base.Read(buffer, offset, count) is > 0 and var n ? n : throw new IOException("The client went away.");

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            Task.FromResult(Read(buffer, offset, count));

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
            base.ReadAsync(buffer, cancellationToken).AsTask().Result is > 0 and var n ? ValueTask.FromResult(n) : throw new IOException("The client went away.");
    }

    [Fact]
    public async Task GetPresignedUrlAsync_ReturnsUrlServingObjectBytes_WhenObjectExists()
    {
        var bytes = TestData.Bytes(4321);
        await Store.PutAsync("shared/file.bin", new MemoryStream(bytes), Ct);

        var url = await Store.GetPresignedUrlAsync("shared/file.bin", TimeSpan.FromMinutes(5), Ct);

        Assert.NotNull(url);
        using var http = new HttpClient();
        Assert.Equal(bytes, await http.GetByteArrayAsync(url, Ct));
    }

    [Fact]
    public async Task PutAsync_StoresUnderKeyPrefix_WhenPrefixIsConfigured()
    {
        var options = await moto.CreateOptionsAsync(keyPrefix: "tenant-1/");
        using var prefixed = new S3ObjectStore(options);
        options.KeyPrefix = null;
        using var raw = new S3ObjectStore(options);
        options.KeyPrefix = "tenant-2";
        using var other = new S3ObjectStore(options);
        await prefixed.CheckHealthAsync(Ct);

        await prefixed.PutAsync("model.bin", new MemoryStream([1, 2, 3]), Ct);

        Assert.NotNull(await raw.HeadAsync("tenant-1/model.bin", Ct));
        Assert.Equal(["tenant-1/model.bin"], (await raw.ListAsync("", null, 10, Ct)).Items.Select(i => i.Key));
        Assert.Equal(["model.bin"], (await prefixed.ListAsync("", null, 10, Ct)).Items.Select(i => i.Key));
        Assert.Null(await other.HeadAsync("model.bin", Ct));
        Assert.Empty((await other.ListAsync("", null, 10, Ct)).Items);
    }

    [Fact]
    public async Task CheckHealthAsync_ThrowsNamingBucket_WhenBucketIsMissingAndCreationIsOff()
    {
        var options = await moto.CreateOptionsAsync();
        options.CreateBucket = false;
        using var store = new S3ObjectStore(options);

        var e = await Assert.ThrowsAsync<InvalidOperationException>(() => store.CheckHealthAsync(Ct));

        Assert.Contains(options.Bucket, e.Message, StringComparison.Ordinal);
        Assert.Contains(options.Endpoint, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task GetAsync_ThrowsNamingBucket_WhenBucketIsMissing()
    {
        var options = await moto.CreateOptionsAsync();
        using var store = new S3ObjectStore(options);

        var e = await Assert.ThrowsAsync<InvalidOperationException>(() => store.GetAsync("any", null, Ct));

        Assert.Contains(options.Bucket, e.Message, StringComparison.Ordinal);
    }
}

public sealed class S3ObjectStoreTests
{
    [Fact]
    public async Task CheckHealthAsync_ThrowsNamingEndpoint_WhenEndpointIsUnreachable()
    {
        using var store = new S3ObjectStore(new S3StorageOptions
        {
            Endpoint = "http://127.0.0.1:1",
            Bucket = "cube",
            AccessKey = MotoServer.AccessKey,
            SecretKey = MotoServer.SecretKey,
        });

        var e = await Assert.ThrowsAsync<InvalidOperationException>(() => store.CheckHealthAsync(TestContext.Current.CancellationToken));

        Assert.Contains("http://127.0.0.1:1", e.Message, StringComparison.Ordinal);
        Assert.Contains("refused", e.Message, StringComparison.OrdinalIgnoreCase);
    }
}
