using System.IO.Compression;
using System.Security.Claims;
using System.Text.Json;
using Cube.Core.Apis;
using Cube.Core.Errors;
using Cube.Core.Identity;
using Cube.Core.Storage;
using Cube.DataHub.Blobs;
using Cube.DataHub.Catalog;
using Cube.DataHub.Data;
using Cube.DataHub.Tables;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Microsoft.EntityFrameworkCore;

namespace Cube.DataHub.Apis;

public sealed record VersionDto(
    Guid Id, int Number, Guid? ParentId, string Message, Guid AuthorId, DateTimeOffset CreatedAt, int FileCount, long TotalBytes,
    string SourceKind, JsonElement? Source, IReadOnlyList<string> Tags)
{
    public static VersionDto From(DatasetVersion v, IReadOnlyList<string> tags) => new(v.Id, v.Number, v.ParentId, v.Message, v.AuthorId, v.CreatedAt,
        v.FileCount, v.TotalBytes, v.SourceKind, v.SourceJson is null ? null : JsonDocument.Parse(v.SourceJson).RootElement.Clone(), tags);
}

public sealed record FileDto(string Path, string Sha256, long Size, string? ContentType, bool IsTable);
public sealed record FilePageDto(IReadOnlyList<FileDto> Items, string? NextCursor);
public sealed record DiffDto(int From, int To, IReadOnlyList<FileDto> Added, IReadOnlyList<FileDto> Removed, IReadOnlyList<FileChangeDto> Changed, IReadOnlyList<TableChangeDto> Tables);
public sealed record FileChangeDto(string Path, string FromSha256, string ToSha256, long FromSize, long ToSize);
public sealed record TableChangeDto(string Path, long? FromRows, long? ToRows, IReadOnlyList<string> AddedColumns, IReadOnlyList<string> RemovedColumns, IReadOnlyList<string> RetypedColumns);
public sealed record TagDto(string Name, int Version, DateTimeOffset CreatedAt);
public sealed record SetTagRequest(string Version);

/// <summary>Versions of a dataset: history, manifests, downloads, diffs and named tags.</summary>
public static class VersionsApi
{
    public static IEndpointRouteBuilder MapVersionsApi(this IEndpointRouteBuilder endpoints)
    {
        var group = endpoints.MapGroup("/api/projects/{project}/datasets/{dataset}").WithTags("Versions");
        group.MapGet("/versions", ListAsync).WithName("ListVersions").WithSummary("Version history, newest first.").RequireAuthorization(CubePolicies.ProjectViewer);
        group.MapGet("/versions/{version}", GetAsync).WithName("GetVersion").WithSummary("One version by number, 'v3', tag or 'latest'.").RequireAuthorization(CubePolicies.ProjectViewer);
        group.MapGet("/versions/{version}/files", FilesAsync).WithName("ListFiles").WithSummary("The version's manifest, by path prefix, paged.").RequireAuthorization(CubePolicies.ProjectViewer);
        group.MapGet("/versions/{version}/files/{**path}", DownloadAsync).WithName("DownloadFile")
            .WithSummary("Streams one file (Range supported); ?presign=true returns a presigned URL when the store has them.").RequireAuthorization(CubePolicies.ProjectViewer);
        group.MapGet("/versions/{version}/archive", ArchiveAsync).WithName("DownloadArchive").WithSummary("The whole version as a zip, streamed.").RequireAuthorization(CubePolicies.ProjectViewer);
        group.MapGet("/diff", DiffAsync).WithName("DiffVersions").WithSummary("Added, removed and changed paths between two versions, with table row and schema changes.").RequireAuthorization(CubePolicies.ProjectViewer);
        group.MapGet("/tags", TagsAsync).WithName("ListVersionTags").WithSummary("Named version tags.").RequireAuthorization(CubePolicies.ProjectViewer);
        group.MapPut("/tags/{tag}", SetTagAsync).WithName("SetVersionTag").WithSummary("Points a tag at a version (creates or moves it).").RequireAuthorization(CubePolicies.ProjectManager);
        group.MapDelete("/tags/{tag}", DeleteTagAsync).WithName("DeleteVersionTag").WithSummary("Removes a tag.").RequireAuthorization(CubePolicies.ProjectManager);
        return endpoints;
    }

    private static async Task<Dataset> DatasetAsync(HttpContext http, DatasetResolver resolver, string dataset, CancellationToken cancellationToken) =>
        await resolver.DatasetAsync((await http.GetProjectAsync()).Id, dataset, cancellationToken);

    private static async Task<Ok<Page<VersionDto>>> ListAsync(string dataset, string? cursor, int? limit, HttpContext http, DatasetResolver resolver, DataHubDbContext db, CancellationToken cancellationToken)
    {
        var found = await DatasetAsync(http, resolver, dataset, cancellationToken);
        var take = Cursor.Limit(limit);
        var before = Cursor.Decode(cursor);
        var query = db.Versions.AsNoTracking().Where(v => v.DatasetId == found.Id);
        if (before is { } b) query = query.Where(v => v.Id < b);
        var rows = await query.OrderByDescending(v => v.Number).Take(take + 1).ToListAsync(cancellationToken);
        var tags = await db.VersionTags.AsNoTracking().Where(t => t.DatasetId == found.Id).ToListAsync(cancellationToken);
        return TypedResults.Ok(Cursor.Build(rows.Select(v => VersionDto.From(v, tags.Where(t => t.VersionId == v.Id).Select(t => t.Name).ToList())).ToList(), take, v => v.Id));
    }

    private static async Task<Ok<VersionDto>> GetAsync(string dataset, string version, HttpContext http, DatasetResolver resolver, DataHubDbContext db, CancellationToken cancellationToken)
    {
        var found = await DatasetAsync(http, resolver, dataset, cancellationToken);
        var v = await resolver.VersionAsync(found, version, cancellationToken);
        var tags = await db.VersionTags.AsNoTracking().Where(t => t.VersionId == v.Id).Select(t => t.Name).ToListAsync(cancellationToken);
        return TypedResults.Ok(VersionDto.From(v, tags));
    }

    private static async Task<Ok<FilePageDto>> FilesAsync(string dataset, string version, string? prefix, string? cursor, int? limit, HttpContext http, DatasetResolver resolver, DataHubDbContext db, CancellationToken cancellationToken)
    {
        var found = await DatasetAsync(http, resolver, dataset, cancellationToken);
        var v = await resolver.VersionAsync(found, version, cancellationToken);
        var take = Math.Clamp(limit ?? 1000, 1, 10_000);
        var query = db.VersionFiles.AsNoTracking().Where(f => f.VersionId == v.Id);
        if (!string.IsNullOrEmpty(prefix)) query = query.Where(f => f.Path.StartsWith(prefix));
        if (!string.IsNullOrEmpty(cursor)) query = query.Where(f => string.Compare(f.Path, cursor) > 0);
        var rows = await query.OrderBy(f => f.Path).Take(take + 1).ToListAsync(cancellationToken);
        var tables = (await db.VersionTables.AsNoTracking().Where(t => t.VersionId == v.Id).Select(t => t.Path).ToListAsync(cancellationToken)).ToHashSet(StringComparer.Ordinal);
        var items = rows.Take(take).Select(f => new FileDto(f.Path, f.Sha256, f.Size, f.ContentType, tables.Contains(f.Path))).ToList();
        return TypedResults.Ok(new FilePageDto(items, rows.Count > take ? items[^1].Path : null));
    }

    private static async Task<IResult> DownloadAsync(string dataset, string version, string path, bool? presign, HttpContext http, DatasetResolver resolver, DataHubDbContext db, BlobStore blobs, CancellationToken cancellationToken)
    {
        var found = await DatasetAsync(http, resolver, dataset, cancellationToken);
        var v = await resolver.VersionAsync(found, version, cancellationToken);
        path = RoutePaths.Decode(path);
        var file = await db.VersionFiles.AsNoTracking().FirstOrDefaultAsync(f => f.VersionId == v.Id && f.Path == path, cancellationToken)
            ?? throw new NotFoundException($"File in version {v.Number}", path);
        if (presign == true)
        {
            var url = await blobs.Objects.GetPresignedUrlAsync(BlobStore.KeyFor(file.Sha256), TimeSpan.FromHours(1), cancellationToken)
                ?? throw new BadRequestException($"The {blobs.Objects.Kind} object store has no presigned URLs; download the file directly.");
            return TypedResults.Ok(new { url, expiresInSeconds = 3600 });
        }
        http.Response.Headers.ETag = $"\"{file.Sha256}\"";
        http.Response.Headers.AcceptRanges = "bytes";
        var fileName = Path.GetFileName(file.Path);
        http.Response.Headers.ContentDisposition = new System.Net.Mime.ContentDisposition { FileName = fileName, Inline = true }.ToString();
        var range = ParseRange(http.Request.Headers.Range.ToString(), file.Size);
        if (range is { } r)
        {
            if (r.Offset >= file.Size)
            {
                http.Response.Headers.ContentRange = $"bytes */{file.Size}";
                return TypedResults.Problem(statusCode: 416, title: "Range not satisfiable", detail: $"The file has {file.Size:N0} bytes.");
            }
            var length = Math.Min(r.Length ?? file.Size - r.Offset, file.Size - r.Offset);
            http.Response.StatusCode = 206;
            http.Response.Headers.ContentRange = $"bytes {r.Offset}-{r.Offset + length - 1}/{file.Size}";
            http.Response.ContentLength = length;
            http.Response.ContentType = file.ContentType ?? "application/octet-stream";
            await using var part = await blobs.OpenAsync(file.Sha256, new ByteRange(r.Offset, length), cancellationToken);
            await part.CopyToAsync(http.Response.Body, cancellationToken);
            return TypedResults.Empty;
        }
        var stream = await blobs.OpenAsync(file.Sha256, null, cancellationToken);
        http.Response.ContentLength = file.Size;
        return TypedResults.Stream(stream, file.ContentType ?? "application/octet-stream");
    }

    /// <summary>One <c>bytes=a-b</c>, <c>bytes=a-</c> or <c>bytes=-n</c> range; multi-range requests get the whole file.</summary>
    internal static ByteRange? ParseRange(string header, long size)
    {
        if (string.IsNullOrEmpty(header) || !header.StartsWith("bytes=", StringComparison.Ordinal) || header.Contains(',')) return null;
        var spec = header[6..].Split('-', 2);
        if (spec.Length != 2) return null;
        if (spec[0].Length == 0)
            return long.TryParse(spec[1], out var suffix) && suffix > 0 ? new ByteRange(Math.Max(0, size - suffix), Math.Min(suffix, size)) : null;
        if (!long.TryParse(spec[0], out var start) || start < 0) return null;
        if (spec[1].Length == 0) return new ByteRange(start, null);
        return long.TryParse(spec[1], out var end) && end >= start ? new ByteRange(start, end - start + 1) : null;
    }

    private static async Task ArchiveAsync(string dataset, string version, HttpContext http, DatasetResolver resolver, DataHubDbContext db, BlobStore blobs, CancellationToken cancellationToken)
    {
        var found = await DatasetAsync(http, resolver, dataset, cancellationToken);
        var v = await resolver.VersionAsync(found, version, cancellationToken);
        var files = await db.VersionFiles.AsNoTracking().Where(f => f.VersionId == v.Id).OrderBy(f => f.Path).ToListAsync(cancellationToken);
        http.Response.ContentType = "application/zip";
        http.Response.Headers.ContentDisposition = $"attachment; filename=\"{found.Name}-v{v.Number}.zip\"";
        // ZipArchive writes synchronously; the response body is wrapped so the archive streams without buffering the whole version.
        http.Features.Get<Microsoft.AspNetCore.Http.Features.IHttpBodyControlFeature>()!.AllowSynchronousIO = true;
        using var zip = new ZipArchive(http.Response.Body, ZipArchiveMode.Create, leaveOpen: true);
        foreach (var file in files)
        {
            var entry = zip.CreateEntry(file.Path, CompressionLevel.Fastest);
            await using var target = entry.Open();
            await using var source = await blobs.OpenAsync(file.Sha256, null, cancellationToken);
            await source.CopyToAsync(target, cancellationToken);
        }
    }

    private static async Task<Ok<DiffDto>> DiffAsync(string dataset, string from, string to, HttpContext http, DatasetResolver resolver, DataHubDbContext db, CancellationToken cancellationToken)
    {
        var found = await DatasetAsync(http, resolver, dataset, cancellationToken);
        var a = await resolver.VersionAsync(found, from, cancellationToken);
        var b = await resolver.VersionAsync(found, to, cancellationToken);
        var left = await db.VersionFiles.AsNoTracking().Where(f => f.VersionId == a.Id).ToDictionaryAsync(f => f.Path, StringComparer.Ordinal, cancellationToken);
        var right = await db.VersionFiles.AsNoTracking().Where(f => f.VersionId == b.Id).ToDictionaryAsync(f => f.Path, StringComparer.Ordinal, cancellationToken);
        var leftTables = await db.VersionTables.AsNoTracking().Where(t => t.VersionId == a.Id).ToDictionaryAsync(t => t.Path, StringComparer.Ordinal, cancellationToken);
        var rightTables = await db.VersionTables.AsNoTracking().Where(t => t.VersionId == b.Id).ToDictionaryAsync(t => t.Path, StringComparer.Ordinal, cancellationToken);

        static FileDto Dto(VersionFile f) => new(f.Path, f.Sha256, f.Size, f.ContentType, false);
        var added = right.Values.Where(f => !left.ContainsKey(f.Path)).OrderBy(f => f.Path, StringComparer.Ordinal).Select(Dto).ToList();
        var removed = left.Values.Where(f => !right.ContainsKey(f.Path)).OrderBy(f => f.Path, StringComparer.Ordinal).Select(Dto).ToList();
        var changed = right.Values.Where(f => left.TryGetValue(f.Path, out var old) && old.Sha256 != f.Sha256).OrderBy(f => f.Path, StringComparer.Ordinal)
            .Select(f => new FileChangeDto(f.Path, left[f.Path].Sha256, f.Sha256, left[f.Path].Size, f.Size)).ToList();

        var tableChanges = new List<TableChangeDto>();
        foreach (var path in leftTables.Keys.Union(rightTables.Keys).Order(StringComparer.Ordinal))
        {
            leftTables.TryGetValue(path, out var lt);
            rightTables.TryGetValue(path, out var rt);
            if (lt?.ParquetSha256 == rt?.ParquetSha256) continue;
            var ls = lt is null ? [] : JsonSerializer.Deserialize<List<ColumnSchema>>(lt.SchemaJson, TableCatalog.Json)!;
            var rs = rt is null ? [] : JsonSerializer.Deserialize<List<ColumnSchema>>(rt.SchemaJson, TableCatalog.Json)!;
            tableChanges.Add(new TableChangeDto(path, lt?.RowCount, rt?.RowCount,
                rs.Where(c => ls.All(o => o.Name != c.Name)).Select(c => c.Name).ToList(),
                ls.Where(c => rs.All(n => n.Name != c.Name)).Select(c => c.Name).ToList(),
                rs.Where(c => ls.Any(o => o.Name == c.Name && o.Type != c.Type)).Select(c => $"{c.Name}: {ls.First(o => o.Name == c.Name).Type} -> {c.Type}").ToList()));
        }
        return TypedResults.Ok(new DiffDto(a.Number, b.Number, added, removed, changed, tableChanges));
    }

    private static async Task<Ok<List<TagDto>>> TagsAsync(string dataset, HttpContext http, DatasetResolver resolver, DataHubDbContext db, CancellationToken cancellationToken)
    {
        var found = await DatasetAsync(http, resolver, dataset, cancellationToken);
        var tags = await db.VersionTags.AsNoTracking().Where(t => t.DatasetId == found.Id)
            .Join(db.Versions, t => t.VersionId, v => v.Id, (t, v) => new TagDto(t.Name, v.Number, t.CreatedAt)).ToListAsync(cancellationToken);
        return TypedResults.Ok(tags.OrderBy(t => t.Name, StringComparer.Ordinal).ToList());
    }

    private static async Task<Ok<TagDto>> SetTagAsync(string dataset, string tag, SetTagRequest request, HttpContext http, ClaimsPrincipal user, DatasetResolver resolver, DataHubDbContext db, TimeProvider time, CancellationToken cancellationToken)
    {
        var found = await DatasetAsync(http, resolver, dataset, cancellationToken);
        Names.Tag(tag, "tag");
        if (tag is "latest" or "head") throw new ValidationException("tag", $"'{tag}' is reserved.");
        var v = await resolver.VersionAsync(found, request.Version, cancellationToken);
        var row = await db.VersionTags.FirstOrDefaultAsync(t => t.DatasetId == found.Id && t.Name == tag, cancellationToken);
        var now = time.GetUtcNow();
        if (row is null) db.VersionTags.Add(row = new VersionTag { DatasetId = found.Id, Name = tag, VersionId = v.Id, CreatedBy = user.RequireUserId(), CreatedAt = now });
        else
        {
            row.VersionId = v.Id;
            row.CreatedAt = now;
            row.CreatedBy = user.RequireUserId();
        }
        await db.SaveChangesAsync(cancellationToken);
        return TypedResults.Ok(new TagDto(tag, v.Number, now));
    }

    private static async Task<NoContent> DeleteTagAsync(string dataset, string tag, HttpContext http, DatasetResolver resolver, DataHubDbContext db, CancellationToken cancellationToken)
    {
        var found = await DatasetAsync(http, resolver, dataset, cancellationToken);
        var removed = await db.VersionTags.Where(t => t.DatasetId == found.Id && t.Name == tag).ExecuteDeleteAsync(cancellationToken);
        return removed == 0 ? throw new NotFoundException("Tag", tag) : TypedResults.NoContent();
    }
}
