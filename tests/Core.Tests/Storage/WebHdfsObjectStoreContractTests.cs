using Cube.Core.Storage;

namespace Cube.Core.Tests.Storage;

/// <summary>The object-store contract over WebHDFS, against the in-process fake namenode and datanode.</summary>
public sealed class WebHdfsObjectStoreContractTests : ObjectStoreContractTests
{
    private WebHdfsFake? _fake;

    protected override bool HeadReportsSha256 => false;

    protected override async Task<IObjectStore> CreateStoreAsync()
    {
        _fake = await WebHdfsFake.StartAsync(requiredUser: "cube");
        return new WebHdfsObjectStore(new WebHdfsStorageOptions { Url = _fake.Url, Root = "/user/cube/store", User = "cube" });
    }

    public override async ValueTask DisposeAsync()
    {
        await base.DisposeAsync();
        if (_fake is not null) await _fake.DisposeAsync();
    }

    private string Staging => _fake!.LocalPath("/user/cube/store/staging");

    protected override Task LeaveInterruptedWriteAsync(string key) =>
        File.WriteAllBytesAsync(Path.Combine(Staging, Guid.NewGuid().ToString("N")), TestData.Bytes(1000), Ct);

    protected override Task<int> CountInterruptedWritesAsync() => Task.FromResult(Directory.EnumerateFileSystemEntries(Staging).Count());

    [Fact]
    public async Task GetPresignedUrlAsync_ReturnsNull_WhenStoreIsWebHdfs() =>
        Assert.Null(await Store.GetPresignedUrlAsync("any/key", TimeSpan.FromMinutes(5), Ct));

    [Fact]
    public async Task Operations_LeaveNoStagedFiles_WhenPutsSucceedAndFail()
    {
        await Store.PutAsync("kept", new MemoryStream([1, 2, 3]), Ct);
        await Store.PutContentAddressedAsync(new MemoryStream([4, 5]), sha => $"cas/{sha}", null, Ct);
        await Store.PutContentAddressedAsync(new MemoryStream([4, 5]), sha => $"cas/{sha}", null, Ct);
        await Assert.ThrowsAsync<Cube.Core.Errors.PayloadTooLargeException>(() =>
            Store.PutContentAddressedAsync(new MemoryStream(TestData.Bytes(5000)), sha => $"cas/{sha}", 100, Ct));

        Assert.Empty(Directory.EnumerateFileSystemEntries(_fake!.LocalPath("/user/cube/store/staging")));
    }
}

/// <summary>
/// The same contract against a real cluster when <c>CUBE_TEST_WEBHDFS_URL</c> names a namenode (e.g. http://namenode:9870),
/// as <c>CUBE_TEST_WEBHDFS_USER</c> (default <c>hdfs</c>) or with <c>CUBE_TEST_WEBHDFS_TOKEN</c>; each test works in a
/// folder of its own under <c>/tmp</c>, deleted afterwards. Skipped when the variable is not set.
/// </summary>
public sealed class LiveWebHdfsObjectStoreContractTests : ObjectStoreContractTests
{
    public const string UrlVariable = "CUBE_TEST_WEBHDFS_URL";
    private WebHdfsStorageOptions? _options;

    protected override bool HeadReportsSha256 => false;

    protected override Task<IObjectStore> CreateStoreAsync()
    {
        var url = Environment.GetEnvironmentVariable(UrlVariable);
        if (string.IsNullOrWhiteSpace(url)) Assert.Skip($"Set {UrlVariable} (e.g. http://namenode:9870) to run the object-store contract against a live HDFS.");
        var token = Environment.GetEnvironmentVariable("CUBE_TEST_WEBHDFS_TOKEN");
        _options = new WebHdfsStorageOptions
        {
            Url = url!,
            Root = "/tmp/cube-test-" + Guid.NewGuid().ToString("N"),
            User = Environment.GetEnvironmentVariable("CUBE_TEST_WEBHDFS_USER") is { Length: > 0 } user ? user : "hdfs",
            DelegationToken = string.IsNullOrWhiteSpace(token) ? null : token,
        };
        return Task.FromResult<IObjectStore>(new WebHdfsObjectStore(_options));
    }

    public override async ValueTask DisposeAsync()
    {
        await base.DisposeAsync();
        if (_options is null) return;
        // The store deletes objects, not folders; the test's whole root goes with one recursive DELETE.
        var auth = _options.DelegationToken is { } token ? "delegation=" + Uri.EscapeDataString(token) : "user.name=" + Uri.EscapeDataString(_options.User!);
        using var http = new HttpClient();
        using var response = await http.DeleteAsync($"{_options.Url.TrimEnd('/')}/webhdfs/v1{_options.Root}?op=DELETE&recursive=true&{auth}");
    }
}
