using System.Net.Http.Json;
using Cube.Core;
using Cube.Core.Apis;
using Cube.Core.Storage;
using Cube.DataHub.Blobs;
using Cube.Testing;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Cube.DataHub.Tests.Api;

/// <summary>Deleting a dataset frees its blobs once garbage collection runs; blobs another dataset shares stay.</summary>
public sealed class GarbageCollectionTests(SqliteCubeApp app) : IClassFixture<SqliteCubeApp>
{
    [Fact]
    public async Task Gc_DeletesOnlyBlobsNoVersionReferences()
    {
        await using var server = app.WithSettings(new Dictionary<string, string?> { ["Cube:DataHub:GarbageGracePeriod"] = "00:00:00" });
        var admin = server.CreateClient(new WebApplicationFactoryClientOptions { HandleCookies = true });
        (await admin.PostAsJsonAsync("/api/auth/sign-in", new SignInRequest(CubeAppFixture.AdminUser, CubeAppFixture.AdminPassword))).EnsureSuccessStatusCode();
        (await admin.PostAsJsonAsync("/api/projects", new CreateProjectRequest("gc", "GC", null))).EnsureSuccessStatusCode();
        var hub = new DataHubClient(admin, "gc");
        await hub.CreateDatasetAsync("doomed");
        await hub.CreateDatasetAsync("kept");
        var shared = "shared by both datasets"u8.ToArray();
        var only = "only in the doomed dataset"u8.ToArray();
        await hub.PushAsync("doomed", "v1", ("shared.txt", shared), ("only.txt", only), ("t.csv", "a,b\n1,2\n"u8.ToArray()));
        await hub.PushAsync("kept", "v1", ("copy.txt", shared));

        var store = server.Services.GetRequiredService<IObjectStore>();
        static string Sha(byte[] b) => Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(b));
        Assert.NotNull(await store.HeadAsync(BlobStore.KeyFor(Sha(only))));

        // What a write cut off by a crash leaves in the local store's staging folder.
        var root = server.Services.GetRequiredService<IOptions<StorageOptions>>().Value.ResolveLocalRoot(server.Services.GetRequiredService<IOptions<CubeOptions>>().Value);
        var leftover = Path.Combine(root, ".incoming", Guid.NewGuid().ToString("N"));
        await File.WriteAllBytesAsync(leftover, [1, 2, 3], TestContext.Current.CancellationToken);
        File.SetLastWriteTimeUtc(leftover, DateTime.UtcNow.AddMinutes(-1));

        await DataHubClient.EnsureAsync(await admin.DeleteAsync(hub.Base("doomed")));
        var accepted = await admin.PostAsync("/api/admin/datahub/gc", null);
        var run = (await accepted.Content.ReadFromJsonAsync<RunDto>())!;
        var deadline = DateTime.UtcNow.AddSeconds(30);
        RunDto done;
        do
        {
            await Task.Delay(100);
            done = (await admin.GetFromJsonAsync<RunDto>($"/api/runs/{run.Id}"))!;
            Assert.True(DateTime.UtcNow < deadline);
        }
        while (done.State is "queued" or "running");

        Assert.Equal("succeeded", done.State);
        Assert.Equal(1, done.Result!.Value.GetProperty("datasetsPurged").GetInt32());
        Assert.True(done.Result!.Value.GetProperty("blobsDeleted").GetInt32() >= 3); // only.txt, t.csv and its Parquet table
        Assert.Equal(1, done.Result!.Value.GetProperty("interruptedWritesDeleted").GetInt32());
        Assert.False(File.Exists(leftover));
        Assert.Null(await store.HeadAsync(BlobStore.KeyFor(Sha(only))));
        Assert.NotNull(await store.HeadAsync(BlobStore.KeyFor(Sha(shared))));
        Assert.Equal(shared, await admin.GetByteArrayAsync($"{hub.Base("kept")}/versions/1/files/copy.txt"));

        // The name is free again.
        await hub.CreateDatasetAsync("doomed");
    }

    [Fact]
    public async Task Gc_IsAdminOnly()
    {
        var (user, _) = await app.CreateUserClientAsync();
        Assert.Equal(System.Net.HttpStatusCode.Forbidden, (await user.PostAsync("/api/admin/datahub/gc", null)).StatusCode);
    }
}
