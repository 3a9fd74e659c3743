using Cube.Core.Runs;
using Cube.Core.Storage;
using Cube.DataHub.Data;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Cube.DataHub.Blobs;

public sealed record GarbageCollectionResult(int DatasetsPurged, int BlobsDeleted, long BytesFreed, int StagingObjectsDeleted, int SessionsExpired, int InterruptedWritesDeleted);

/// <summary>
/// Reclaims storage nothing references: purges soft-deleted datasets, expires idle upload sessions, then deletes
/// blobs and staging objects that no version, table or open session references and that are older than the grace
/// period (a commit in flight may be about to reference a young blob), and what writes cut off by a crash left in the
/// object store (staged files, unfinished multipart uploads) older than that period. Idempotent: run it as often as you like.
/// </summary>
public sealed class GarbageCollector : IRunHandler
{
    public const string RunKind = "datahub.gc";

    public string Kind => RunKind;
    public bool Idempotent => true;

    public async Task<object?> ExecuteAsync(RunContext context, CancellationToken cancellationToken)
    {
        var db = context.Services.GetRequiredService<DataHubDbContext>();
        var store = context.Services.GetRequiredService<IObjectStore>();
        var options = context.Services.GetRequiredService<IOptions<DataHubOptions>>().Value;
        var time = context.Services.GetRequiredService<TimeProvider>();
        var now = time.GetUtcNow();
        var cutoff = now - options.GarbageGracePeriod;

        await context.ReportAsync(5, "Purging deleted datasets");
        var purged = await db.Datasets.Where(d => d.DeletedAt != null).ExecuteDeleteAsync(cancellationToken);
        var expired = await db.UploadSessions.Where(s => s.State == UploadSessionState.Open && s.ExpiresAt < now)
            .ExecuteUpdateAsync(s => s.SetProperty(x => x.State, UploadSessionState.Aborted), cancellationToken);

        await context.ReportAsync(15, "Collecting references");
        var referenced = new HashSet<string>(StringComparer.Ordinal);
        foreach (var sha in await db.VersionFiles.AsNoTracking().Select(f => f.Sha256).Distinct().ToListAsync(cancellationToken)) referenced.Add(sha);
        foreach (var sha in await db.VersionTables.AsNoTracking().Select(t => t.ParquetSha256).Distinct().ToListAsync(cancellationToken)) referenced.Add(sha);
        var liveSessions = await db.UploadSessions.AsNoTracking()
            .Where(s => s.State == UploadSessionState.Open || s.State == UploadSessionState.Committing).Select(s => s.Id).ToListAsync(cancellationToken);
        foreach (var sha in await db.StagedFiles.AsNoTracking().Where(f => liveSessions.Contains(f.SessionId) && f.Sha256 != null).Select(f => f.Sha256!).ToListAsync(cancellationToken))
            referenced.Add(sha);
        var liveSessionKeys = liveSessions.Select(id => $"{BlobStore.StagingPrefix}uploads/{id:N}/").ToList();

        await context.ReportAsync(30, "Deleting unreferenced blobs");
        int deleted = 0, staging = 0;
        long freed = 0;
        var orphaned = new List<string>();
        await foreach (var item in store.ListAllAsync(BlobStore.BlobPrefix, cancellationToken))
        {
            var sha = item.Key[(item.Key.LastIndexOf('/') + 1)..];
            if (referenced.Contains(sha) || item.LastModified > cutoff) continue;
            if (await store.DeleteAsync(item.Key, cancellationToken))
            {
                deleted++;
                freed += item.Size;
                orphaned.Add(sha);
            }
        }
        foreach (var chunk in orphaned.Chunk(500))
            await db.Blobs.Where(b => chunk.Contains(b.Sha256)).ExecuteDeleteAsync(cancellationToken);

        await context.ReportAsync(80, "Deleting abandoned staging objects");
        await foreach (var item in store.ListAllAsync(BlobStore.StagingPrefix, cancellationToken))
        {
            if (item.LastModified > cutoff || liveSessionKeys.Any(k => item.Key.StartsWith(k, StringComparison.Ordinal))) continue;
            if (await store.DeleteAsync(item.Key, cancellationToken)) staging++;
        }

        await context.ReportAsync(95, "Deleting what interrupted writes left");
        var interrupted = await store.DeleteInterruptedWritesAsync(cutoff, cancellationToken);
        return new GarbageCollectionResult(purged, deleted, freed, staging, expired, interrupted);
    }
}
