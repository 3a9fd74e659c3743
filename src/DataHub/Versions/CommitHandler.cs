using System.Text.Json;
using Cube.Core.Errors;
using Cube.Core.Runs;
using Cube.DataHub.Blobs;
using Cube.DataHub.Data;
using Cube.DataHub.Tables;
using Cube.DataHub.Uploads;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Cube.DataHub.Versions;

/// <summary>
/// Parameters of a commit run. <c>Mode</c> is <c>merge</c> (the parent's files plus the staged changes) or
/// <c>replace</c> (only the staged files).
/// </summary>
public sealed record CommitParameters(Guid DatasetId, Guid SessionId, string Message, Guid AuthorId, string Mode = "merge");

/// <summary>What a commit produced.</summary>
public sealed record CommitResult(Guid VersionId, int Number, int FileCount, long TotalBytes, int Tables);

/// <summary>
/// Turns an upload session into a version: expands staged archives, converts tabular files to Parquet with schema and
/// statistics, then makes the version visible in one transaction. Idempotent: blobs are content-addressed, and a
/// session already committed returns its version, so a commit interrupted by a crash is simply run again.
/// </summary>
public sealed class CommitHandler : IRunHandler
{
    public const string RunKind = "datahub.commit";

    public string Kind => RunKind;
    public bool Idempotent => true;

    public async Task<object?> ExecuteAsync(RunContext context, CancellationToken cancellationToken)
    {
        var parameters = context.GetParameters<CommitParameters>();
        var db = context.Services.GetRequiredService<DataHubDbContext>();
        try
        {
            return await CommitAsync(context, parameters, db, cancellationToken);
        }
        catch (Exception) when (!cancellationToken.IsCancellationRequested)
        {
            // Bad input fails the run and commits nothing; the session reopens so the client can fix a file and retry.
            await db.UploadSessions.Where(s => s.Id == parameters.SessionId && s.State == UploadSessionState.Committing)
                .ExecuteUpdateAsync(s => s.SetProperty(x => x.State, UploadSessionState.Open), CancellationToken.None);
            throw;
        }
    }

    private static async Task<CommitResult> CommitAsync(RunContext context, CommitParameters parameters, DataHubDbContext db, CancellationToken cancellationToken)
    {
        var services = context.Services;
        var session = await db.UploadSessions.FirstOrDefaultAsync(s => s.Id == parameters.SessionId, cancellationToken)
            ?? throw new NotFoundException("Upload session", parameters.SessionId.ToString());
        if (session.State == UploadSessionState.Committed)
        {
            var existing = await db.Versions.AsNoTracking().FirstAsync(v => v.RunId == session.RunId, cancellationToken);
            return new CommitResult(existing.Id, existing.Number, existing.FileCount, existing.TotalBytes, 0);
        }

        await context.ReportAsync(1, "Reading staged files");
        var staged = await db.StagedFiles.AsNoTracking().Where(f => f.SessionId == session.Id).ToListAsync(cancellationToken);
        var incomplete = staged.Where(f => !f.IsComplete).Select(f => f.Path).Take(10).ToList();
        if (incomplete.Count > 0)
            throw new ConflictException($"Some files are still uploading: {string.Join(", ", incomplete)}.").With("paths", incomplete);

        var dataset = await db.Datasets.AsNoTracking().FirstAsync(d => d.Id == parameters.DatasetId, cancellationToken);
        var parent = await ParentState.LoadAsync(db, dataset, cancellationToken);
        var files = parameters.Mode == "replace" ? new Dictionary<string, ManifestEntry>(StringComparer.Ordinal) : new Dictionary<string, ManifestEntry>(parent.Files, StringComparer.Ordinal);

        var blobs = services.GetRequiredService<BlobStore>();
        var expander = services.GetRequiredService<ArchiveExpansion>();
        foreach (var file in staged.OrderBy(f => f.Path, StringComparer.Ordinal))
        {
            if (file.Delete)
            {
                if (!files.Remove(file.Path) && files.Keys.Where(k => k.StartsWith(file.Path + "/", StringComparison.Ordinal)).ToList() is { Count: > 0 } folder)
                    foreach (var key in folder) files.Remove(key);
                continue;
            }
            if (file.Extract)
            {
                await context.ReportAsync(5, $"Expanding {file.Path}");
                foreach (var entry in await expander.ExpandAsync(file, blobs, cancellationToken)) files[entry.Path] = entry;
                continue;
            }
            files[file.Path] = new ManifestEntry(file.Path, file.Sha256!, file.ReceivedBytes, ContentTypes.For(file.Path));
        }
        var limit = services.GetRequiredService<IOptions<DataHubOptions>>().Value;
        if (files.Count > limit.MaxFilesPerCommit)
            throw new PayloadTooLargeException($"A version holds at most {limit.MaxFilesPerCommit:N0} files.", limit.MaxFilesPerCommit);

        var tables = limit.ConvertTables
            ? await parent.BuildTablesAsync(files.Values, services.GetRequiredService<TableCatalog>(), context, cancellationToken)
            : [];

        var images = await parent.BuildImagesAsync(files.Values, services.GetRequiredService<Images.ImageCatalog>(), context, cancellationToken);

        await context.ReportAsync(95, "Writing the version");
        var version = await services.GetRequiredService<VersionWriter>().CreateAsync(new NewVersion(
            dataset.Id, files.Values.OrderBy(f => f.Path, StringComparer.Ordinal).ToList(), tables, parameters.Message, parameters.AuthorId,
            "upload", JsonSerializer.Serialize(new { session = session.Id, staged = staged.Count }), context.RunId, CommitsSessionId: session.Id, Images: images), cancellationToken);
        return new CommitResult(version.Id, version.Number, version.FileCount, version.TotalBytes, tables.Count);
    }
}

/// <summary>Content types for common file extensions, used for downloads.</summary>
public static class ContentTypes
{
    public static string For(string path) => Path.GetExtension(path).ToLowerInvariant() switch
    {
        ".csv" => "text/csv",
        ".tsv" or ".tab" => "text/tab-separated-values",
        ".json" => "application/json",
        ".jsonl" or ".ndjson" => "application/x-ndjson",
        ".txt" or ".md" => "text/plain",
        ".parquet" => "application/vnd.apache.parquet",
        ".arrow" or ".ipc" or ".feather" => "application/vnd.apache.arrow.file",
        ".png" => "image/png",
        ".jpg" or ".jpeg" => "image/jpeg",
        ".gif" => "image/gif",
        ".webp" => "image/webp",
        ".bmp" => "image/bmp",
        ".zip" => "application/zip",
        ".pdf" => "application/pdf",
        ".html" or ".htm" => "text/html",
        _ => "application/octet-stream",
    };
}
