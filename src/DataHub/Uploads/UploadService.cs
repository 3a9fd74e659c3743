using System.Security.Cryptography;
using System.Text;
using Cube.Core.Errors;
using Cube.DataHub.Blobs;
using Cube.DataHub.Data;
using Cube.DataHub.Ingest;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Cube.DataHub.Uploads;

/// <summary>A byte range of a resumable upload, from a <c>Content-Range: bytes start-end/total</c> header.</summary>
public readonly record struct ChunkRange(long Start, long End, long Total)
{
    public long Length => End - Start + 1;

    public static ChunkRange? Parse(string? header)
    {
        if (string.IsNullOrEmpty(header)) return null;
        if (!System.Net.Http.Headers.ContentRangeHeaderValue.TryParse(header, out var value) || value.Unit != "bytes"
            || value.From is not { } from || value.To is not { } to || value.Length is not { } total || from > to || to >= total)
            throw new BadRequestException($"Content-Range '{header}' is not of the form 'bytes start-end/total'.");
        return new ChunkRange(from, to, total);
    }
}

/// <summary>
/// Staging of files for the next version. Whole files arrive in one request; large ones arrive as ordered chunks that
/// a client resumes from <see cref="StagedFile.ReceivedBytes"/> after a dropped connection. Nothing staged is visible
/// in any version until the session is committed.
/// </summary>
public sealed class UploadService(DataHubDbContext db, BlobStore blobs, IOptions<DataHubOptions> options, TimeProvider time)
{
    public async Task<UploadSession> CreateSessionAsync(Dataset dataset, Guid userId, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var session = new UploadSession { DatasetId = dataset.Id, CreatedBy = userId, CreatedAt = now, ExpiresAt = now + options.Value.UploadSessionLifetime, State = UploadSessionState.Open };
        db.UploadSessions.Add(session);
        await db.SaveChangesAsync(cancellationToken);
        return session;
    }

    public async Task<UploadSession> OpenSessionAsync(Dataset dataset, Guid sessionId, CancellationToken cancellationToken)
    {
        var session = await db.UploadSessions.FirstOrDefaultAsync(s => s.Id == sessionId && s.DatasetId == dataset.Id, cancellationToken)
            ?? throw new NotFoundException("Upload session", sessionId.ToString());
        if (session.State != UploadSessionState.Open)
            throw new ConflictException($"Upload session {sessionId} is {session.State.ToString().ToLowerInvariant()}; start a new one.");
        if (session.ExpiresAt < time.GetUtcNow()) throw new ConflictException($"Upload session {sessionId} expired at {session.ExpiresAt:u}.");
        return session;
    }

    /// <summary>Stages a whole file, or one chunk of a resumable upload, streaming it to storage.</summary>
    public async Task<StagedFile> StageAsync(UploadSession session, string rawPath, Stream body, ChunkRange? range, bool extract, CancellationToken cancellationToken)
    {
        var path = DatasetPath.Normalize(rawPath);
        var limit = options.Value.MaxFileBytes;
        var staged = await db.StagedFiles.FirstOrDefaultAsync(f => f.SessionId == session.Id && f.Path == path, cancellationToken);
        if (staged is null)
        {
            if (await db.StagedFiles.CountAsync(f => f.SessionId == session.Id, cancellationToken) >= options.Value.MaxFilesPerCommit)
                throw new PayloadTooLargeException($"An upload session holds at most {options.Value.MaxFilesPerCommit:N0} files.", options.Value.MaxFilesPerCommit);
            staged = new StagedFile { SessionId = session.Id, Path = path };
            db.StagedFiles.Add(staged);
        }

        if (range is not { } r)
        {
            var blob = await blobs.PutAsync(body, limit, cancellationToken);
            await DeleteChunksAsync(session.Id, path, staged.ChunkCount, cancellationToken);
            staged.DeclaredSize = staged.ReceivedBytes = blob.Size;
            staged.ChunkCount = 0;
            staged.Sha256 = blob.Sha256;
        }
        else
        {
            if (r.Total > limit) throw new PayloadTooLargeException(limit).With("file", path);
            if (staged.Sha256 is not null && r.Start == 0) staged.ReceivedBytes = staged.ChunkCount = 0; // a fresh upload of a completed path
            if (staged.ReceivedBytes > 0 && staged.DeclaredSize != r.Total)
                throw new ConflictException($"'{path}' was declared as {staged.DeclaredSize:N0} bytes, not {r.Total:N0}.").With("receivedBytes", staged.ReceivedBytes);
            if (r.Start != staged.ReceivedBytes)
                throw new ConflictException($"'{path}' continues at byte {staged.ReceivedBytes:N0}, not {r.Start:N0}; resume from there.").With("receivedBytes", staged.ReceivedBytes);

            // The chunk is durable in storage before the row says it arrived; a crash in between re-sends one chunk.
            var key = ChunkKey(session.Id, path, staged.ChunkCount);
            using var counted = new Core.Storage.HashingReadStream(body, r.Length);
            var written = await blobs.Objects.PutAsync(key, counted, cancellationToken);
            if (written.Size != r.Length)
            {
                await blobs.Objects.DeleteAsync(key, CancellationToken.None);
                throw new BadRequestException($"Chunk of '{path}' had {written.Size:N0} bytes; Content-Range announced {r.Length:N0}.");
            }
            staged.DeclaredSize = r.Total;
            staged.ReceivedBytes += r.Length;
            staged.ChunkCount++;
            staged.Sha256 = null;
            if (staged.ReceivedBytes == r.Total) await AssembleAsync(staged, cancellationToken);
        }
        staged.Delete = false;
        staged.Extract = extract;
        staged.UpdatedAt = time.GetUtcNow();
        try
        {
            await db.SaveChangesAsync(cancellationToken);
        }
        catch (DbUpdateException)
        {
            throw new ConflictException($"'{path}' was changed by a concurrent request; read the session and resume.");
        }
        return staged;
    }

    /// <summary>Marks paths of the parent version for removal in the next version.</summary>
    public async Task StageDeletionsAsync(UploadSession session, IEnumerable<string> paths, CancellationToken cancellationToken)
    {
        foreach (var raw in paths)
        {
            var path = DatasetPath.Normalize(raw);
            var staged = await db.StagedFiles.FirstOrDefaultAsync(f => f.SessionId == session.Id && f.Path == path, cancellationToken);
            if (staged is null)
            {
                staged = new StagedFile { SessionId = session.Id, Path = path };
                db.StagedFiles.Add(staged);
            }
            staged.Delete = true;
            staged.Sha256 = null;
            staged.UpdatedAt = time.GetUtcNow();
        }
        await db.SaveChangesAsync(cancellationToken);
    }

    private async Task AssembleAsync(StagedFile staged, CancellationToken cancellationToken)
    {
        var parts = Enumerable.Range(0, staged.ChunkCount)
            .Select(i => (Func<CancellationToken, Task<Stream>>)(ct => blobs.Objects.GetAsync(ChunkKey(staged.SessionId, staged.Path, i), null, ct)))
            .ToList();
        await using var whole = new ConcatenatedStream(parts);
        var blob = await blobs.PutAsync(whole, options.Value.MaxFileBytes, cancellationToken);
        if (blob.Size != staged.DeclaredSize)
            throw new ConflictException($"'{staged.Path}' assembled to {blob.Size:N0} bytes instead of {staged.DeclaredSize:N0}.");
        staged.Sha256 = blob.Sha256;
        await DeleteChunksAsync(staged.SessionId, staged.Path, staged.ChunkCount, cancellationToken);
    }

    private async Task DeleteChunksAsync(Guid sessionId, string path, int count, CancellationToken cancellationToken)
    {
        for (var i = 0; i < count; i++) await blobs.Objects.DeleteAsync(ChunkKey(sessionId, path, i), cancellationToken);
    }

    /// <summary>Chunks live under the session, keyed by a hash of the path so any dataset path maps to a valid key.</summary>
    private static string ChunkKey(Guid sessionId, string path, int index) =>
        $"{BlobStore.StagingPrefix}uploads/{sessionId:N}/{Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(path)))[..32]}/{index:D6}";
}
