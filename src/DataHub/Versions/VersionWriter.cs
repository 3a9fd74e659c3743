using Cube.Core.Errors;
using Cube.DataHub.Data;
using Microsoft.EntityFrameworkCore;

namespace Cube.DataHub.Versions;

/// <summary>A file of a new version: its path and the blob holding its bytes.</summary>
public sealed record ManifestEntry(string Path, string Sha256, long Size, string? ContentType = null);

/// <summary>A tabular file of a new version, already converted to a Parquet blob.</summary>
public sealed record TableEntry(string Path, string ParquetSha256, long ParquetSize, long RowCount, string SchemaJson, string StatisticsJson);

/// <summary>Everything a new version consists of. Blobs must already be stored.</summary>
public sealed record NewVersion(
    Guid DatasetId,
    IReadOnlyList<ManifestEntry> Files,
    IReadOnlyList<TableEntry> Tables,
    string Message,
    Guid AuthorId,
    string SourceKind,
    string? SourceJson = null,
    Guid? RunId = null,
    IReadOnlyList<Guid>? Upstream = null,
    string LineageKind = "derived",
    Guid? ParentId = null,
    Guid? CommitsSessionId = null,
    IReadOnlyList<Images.ImageEntry>? Images = null);

/// <summary>
/// Makes versions visible. Everything of a version (row, manifest, tables, lineage) is inserted in one transaction
/// guarded by the dataset's row version, so concurrent commits get consecutive numbers and a crash shows either the
/// old state or the whole new version. Other modules (pipelines, labeling exports, training outputs) write through here.
/// </summary>
public sealed class VersionWriter(DataHubDbContext db, TimeProvider time)
{
    public async Task<DatasetVersion> CreateAsync(NewVersion request, CancellationToken cancellationToken = default)
    {
        var duplicates = request.Files.GroupBy(f => f.Path, StringComparer.Ordinal).Where(g => g.Count() > 1).Select(g => g.Key).Take(5).ToList();
        if (duplicates.Count > 0)
            throw new UnprocessableException($"The version lists the same path more than once: {string.Join(", ", duplicates)}.").With("paths", duplicates);

        for (var attempt = 0; ; attempt++)
        {
            db.ChangeTracker.Clear();
            var dataset = await db.Datasets.FirstOrDefaultAsync(d => d.Id == request.DatasetId && d.DeletedAt == null, cancellationToken)
                ?? throw new NotFoundException("Dataset", request.DatasetId.ToString());
            var parentId = request.ParentId ?? await db.Versions.Where(v => v.DatasetId == dataset.Id && v.Number == dataset.LatestVersion)
                .Select(v => (Guid?)v.Id).FirstOrDefaultAsync(cancellationToken);
            var now = time.GetUtcNow();
            var version = new DatasetVersion
            {
                DatasetId = dataset.Id,
                Number = dataset.LatestVersion + 1,
                ParentId = parentId,
                Message = request.Message,
                AuthorId = request.AuthorId,
                CreatedAt = now,
                FileCount = request.Files.Count,
                TotalBytes = request.Files.Sum(f => f.Size),
                SourceKind = request.SourceKind,
                SourceJson = request.SourceJson,
                RunId = request.RunId,
            };
            dataset.LatestVersion = version.Number;
            dataset.UpdatedAt = now;
            dataset.RowVersion++;

            await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
            try
            {
                db.Versions.Add(version);
                db.VersionFiles.AddRange(request.Files.Select(f => new VersionFile { VersionId = version.Id, Path = f.Path, Sha256 = f.Sha256, Size = f.Size, ContentType = f.ContentType }));
                db.VersionTables.AddRange(request.Tables.Select(t => new VersionTable
                {
                    VersionId = version.Id, Path = t.Path, ParquetSha256 = t.ParquetSha256, ParquetSize = t.ParquetSize,
                    RowCount = t.RowCount, SchemaJson = t.SchemaJson, StatisticsJson = t.StatisticsJson,
                }));
                db.VersionImages.AddRange((request.Images ?? []).Select(i => new VersionImage
                {
                    VersionId = version.Id, Path = i.Path, Sha256 = i.Sha256, Width = i.Width, Height = i.Height, Format = i.Format,
                }));
                foreach (var upstream in request.Upstream ?? [])
                    db.LineageEdges.Add(new LineageEdge { UpstreamVersionId = upstream, DownstreamVersionId = version.Id, Kind = request.LineageKind, RunId = request.RunId });
                await RegisterBlobsAsync(request, now, cancellationToken);
                if (request.CommitsSessionId is { } sessionId)
                {
                    // The session closes in the version's own transaction: a retried commit can never make a second version.
                    var session = await db.UploadSessions.FirstAsync(s => s.Id == sessionId, cancellationToken);
                    if (session.State == UploadSessionState.Committed)
                        throw new ConflictException($"Upload session {sessionId} is already committed.");
                    session.State = UploadSessionState.Committed;
                    session.RunId = request.RunId;
                }
                await db.SaveChangesAsync(cancellationToken);
                await transaction.CommitAsync(cancellationToken);
                return version;
            }
            catch (DbUpdateException) when (attempt < 5)
            {
                // Another commit took this number first (row version or unique index): retry on the new head.
                await transaction.RollbackAsync(CancellationToken.None);
            }
        }
    }

    private async Task RegisterBlobsAsync(NewVersion request, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var all = request.Files.Select(f => (f.Sha256, f.Size)).Concat(request.Tables.Select(t => (Sha256: t.ParquetSha256, Size: t.ParquetSize)))
            .DistinctBy(b => b.Sha256).ToList();
        foreach (var chunk in all.Chunk(500))
        {
            var hashes = chunk.Select(c => c.Sha256).ToList();
            var known = await db.Blobs.Where(b => hashes.Contains(b.Sha256)).Select(b => b.Sha256).ToListAsync(cancellationToken);
            var knownSet = known.ToHashSet(StringComparer.Ordinal);
            db.Blobs.AddRange(chunk.Where(c => !knownSet.Contains(c.Sha256)).Select(c => new Blob { Sha256 = c.Sha256, Size = c.Size, CreatedAt = now }));
        }
    }
}
