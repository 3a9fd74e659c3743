using System.Security.Claims;
using Cube.Core.Apis;
using Cube.Core.Errors;
using Cube.Core.Identity;
using Cube.Core.Runs;
using Cube.Core.Storage;
using Cube.DataHub.Blobs;
using Cube.DataHub.Data;
using Cube.Knowledge.Data;
using Cube.Knowledge.Extraction;
using Cube.Knowledge.Indexing;
using Cube.Knowledge.Ingestion;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Cube.Knowledge.Apis;

public sealed record DocumentDto(
    Guid Id, string Name, string? Title, string SourceKind, Guid? DatasetId, int? DatasetVersion, string Sha256, long SizeBytes, IReadOnlyList<string> Tags,
    string State, string? Error, int Chunks, int? Pages, Guid? RunId, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt)
{
    public static DocumentDto From(KnowledgeDocument d) => new(d.Id, d.Name, d.Title, d.SourceKind, d.DatasetId, d.DatasetVersion, d.Sha256, d.SizeBytes,
        d.TagList, d.State.ToString().ToLowerInvariant(), d.Error, d.ChunkCount, d.Pages, d.RunId, d.CreatedAt, d.UpdatedAt);
}

/// <summary>What an upload did: the documents queued for ingestion (with the run doing it) and those left as they were.</summary>
public sealed record AddDocumentsResult(RunDto? Run, IReadOnlyList<DocumentDto> Queued, IReadOnlyList<DocumentDto> Unchanged);
public sealed record AddFromDatasetRequest(string Dataset, int? Version, string? Prefix, IReadOnlyList<string>? Tags);
public sealed record ChunkDto(Guid Id, int Ordinal, string HeadingPath, int? Page, int StartOffset, int EndOffset, int TokenCount, string Text);

/// <summary>Documents of a knowledge base: upload (multipart), add from a DataHub dataset version, list, read chunks, delete.</summary>
public static class DocumentsApi
{
    public static IEndpointRouteBuilder MapDocumentsApi(this IEndpointRouteBuilder endpoints)
    {
        var group = endpoints.MapGroup(KnowledgeBasesApi.Route + "/{kb}/documents").WithTags("Knowledge");
        group.MapGet("/", ListAsync).WithName("ListKnowledgeDocuments").WithSummary("Documents with their ingestion state.")
            .RequireAuthorization(CubePolicies.ProjectViewer);
        group.MapPost("/", UploadAsync).WithName("UploadKnowledgeDocuments")
            .WithSummary("Uploads documents (multipart, field 'files'; optional 'tags'); a file with the name of an existing document replaces it.")
            .RequireAuthorization(CubePolicies.ProjectAnnotator)
            .DisableAntiforgery().WithMetadata(new Microsoft.AspNetCore.Mvc.DisableRequestSizeLimitAttribute());
        group.MapPost("/from-dataset", AddFromDatasetAsync).WithName("AddKnowledgeDocumentsFromDataset")
            .WithSummary("Adds the supported files of a dataset version (optionally under a prefix) as documents.")
            .RequireAuthorization(CubePolicies.ProjectAnnotator);
        group.MapGet("/{document:guid}/chunks", ChunksAsync).WithName("ListKnowledgeChunks").WithSummary("A document's chunks in order.")
            .RequireAuthorization(CubePolicies.ProjectViewer);
        group.MapDelete("/{document:guid}", DeleteAsync).WithName("DeleteKnowledgeDocument").WithSummary("Removes a document and its chunks from the index.")
            .RequireAuthorization(CubePolicies.ProjectAnnotator);
        return endpoints;
    }

    private static async Task<Ok<List<DocumentDto>>> ListAsync(string kb, HttpContext http, KnowledgeDbContext db, CancellationToken cancellationToken)
    {
        var found = await KnowledgeBasesApi.ResolveAsync(http, db, kb, cancellationToken);
        var documents = await db.Documents.AsNoTracking().Where(d => d.KnowledgeBaseId == found.Id).OrderBy(d => d.Name).ToListAsync(cancellationToken);
        return TypedResults.Ok(documents.Where(d => !found.Hides(d)).Select(DocumentDto.From).ToList());
    }

    private static IReadOnlyList<string> ParseTags(IEnumerable<string?> values)
    {
        var tags = values.SelectMany(v => (v ?? "").Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
        foreach (var tag in tags)
            if (!IsValidTag(tag)) throw new ValidationException("tags", $"Tag '{tag}' is not valid: {TagRule}.");
        return tags;
    }

    internal const string TagRule = "up to 64 letters, digits, '-', '_', '.' or ':'";

    /// <summary>A document tag (also the key of an access rule): 1 to 64 ASCII letters, digits, '-', '_', '.' or ':'.</summary>
    internal static bool IsValidTag(string tag) =>
        tag.Length is > 0 and <= 64 && tag.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' or ':');

    private static async Task<Results<Accepted<AddDocumentsResult>, Ok<AddDocumentsResult>>> UploadAsync(string kb, HttpContext http, ClaimsPrincipal user,
        KnowledgeDbContext db, IObjectStore store, RunService runs, IOptions<KnowledgeOptions> options, TimeProvider time, CancellationToken cancellationToken)
    {
        var found = await KnowledgeBasesApi.ResolveAsync(http, db, kb, cancellationToken);
        if (!http.Request.HasFormContentType) throw new BadRequestException("Send the documents as multipart/form-data in the field 'files'.");
        var limit = options.Value.MaxDocumentBytes;
        var form = await ReadUploadAsync(http, options.Value, cancellationToken);
        if (form.Files.Count == 0) throw new ValidationException("files", "No files were sent.");
        if (form.Files.Count > options.Value.MaxFilesPerUpload)
            throw new ValidationException("files", $"{form.Files.Count} files were sent; one upload takes up to {options.Value.MaxFilesPerUpload} (Cube:Knowledge:MaxFilesPerUpload).");
        var tags = ParseTags(form["tags"]);
        foreach (var file in form.Files)
        {
            if (file.Length > limit) throw new PayloadTooLargeException($"'{file.FileName}' is larger than the limit of {limit:N0} bytes.", limit);
            if (DocumentExtractor.DetectFormat(file.FileName, file.ContentType) is null)
                throw new CubeException(415, "Unsupported media type", $"'{file.FileName}' is not a supported format (PDF, Markdown, HTML, plain text, CSV or JSON Lines).").With("file", file.FileName);
        }
        var names = form.Files.Select(f => Path.GetFileName(f.FileName)).ToList();
        if (names.Distinct(StringComparer.Ordinal).Count() != names.Count) throw new ValidationException("files", "Two files have the same name.");
        var sources = new List<(string Name, string? ContentType, string Sha256, long Size, string Key)>();
        foreach (var file in form.Files)
        {
            await using var stream = file.OpenReadStream();
            var info = await store.PutContentAddressedAsync(stream, sha => IngestionPipeline.StorageKey(found.Id, sha), limit, cancellationToken);
            var sha = info.Sha256 ?? throw new InvalidOperationException("The object store returned no content hash.");
            sources.Add((Path.GetFileName(file.FileName), file.ContentType, sha, info.Size, IngestionPipeline.StorageKey(found.Id, sha)));
        }
        return await QueueAsync(found, sources, "upload", null, null, tags, user, db, runs, time, cancellationToken);
    }

    /// <summary>
    /// Reads the multipart body within <see cref="KnowledgeOptions.MaxUploadRequestBytes"/>: a declared length over it is
    /// refused before anything is read, and a body that grows past it while streaming (chunked, or a lying
    /// Content-Length) is cut off, so no upload can fill the server's temporary disk.
    /// </summary>
    private static async Task<Microsoft.AspNetCore.Http.IFormCollection> ReadUploadAsync(HttpContext http, KnowledgeOptions options, CancellationToken cancellationToken)
    {
        var max = options.MaxUploadRequestBytes;
        PayloadTooLargeException TooLarge() =>
            new($"The upload is larger than the limit of {max:N0} bytes for one request (Cube:Knowledge:MaxUploadRequestBytes); send the files in several requests.", max);
        if (http.Request.ContentLength > max) throw TooLarge();
        if (http.Features.Get<Microsoft.AspNetCore.Http.Features.IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } size) size.MaxRequestBodySize = max;
        try
        {
            return await http.Request.ReadFormAsync(new Microsoft.AspNetCore.Http.Features.FormOptions
            {
                MultipartBodyLengthLimit = max,
                ValueCountLimit = options.MaxFilesPerUpload + 64,
            }, cancellationToken);
        }
        catch (Microsoft.AspNetCore.Http.BadHttpRequestException e) when (e.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            throw TooLarge();
        }
        catch (InvalidDataException e) when (e.Message.Contains("length limit", StringComparison.OrdinalIgnoreCase))
        {
            throw TooLarge();
        }
    }

    private static async Task<Results<Accepted<AddDocumentsResult>, Ok<AddDocumentsResult>>> AddFromDatasetAsync(string kb, AddFromDatasetRequest request, HttpContext http,
        ClaimsPrincipal user, KnowledgeDbContext db, DataHubDbContext hub, RunService runs, IOptions<KnowledgeOptions> options, TimeProvider time, CancellationToken cancellationToken)
    {
        var found = await KnowledgeBasesApi.ResolveAsync(http, db, kb, cancellationToken);
        var project = await http.GetProjectAsync();
        var dataset = await hub.Datasets.AsNoTracking().FirstOrDefaultAsync(d => d.ProjectId == project.Id && d.Name == request.Dataset && d.DeletedAt == null, cancellationToken)
            ?? throw new NotFoundException("Dataset", request.Dataset ?? "");
        var number = request.Version ?? dataset.LatestVersion;
        var version = await hub.Versions.AsNoTracking().FirstOrDefaultAsync(v => v.DatasetId == dataset.Id && v.Number == number, cancellationToken)
            ?? throw new NotFoundException("Version", $"{dataset.Name}@{number}");
        var prefix = request.Prefix ?? "";
        var files = await hub.VersionFiles.AsNoTracking().Where(f => f.VersionId == version.Id && f.Path.StartsWith(prefix)).OrderBy(f => f.Path).ToListAsync(cancellationToken);
        var supported = files.Where(f => DocumentExtractor.DetectFormat(f.Path, f.ContentType) is not null).ToList();
        if (supported.Count == 0)
            throw new UnprocessableException($"Version {number} of '{dataset.Name}' has no PDF, Markdown, HTML, text, CSV or JSON Lines files{(prefix.Length > 0 ? $" under '{prefix}'" : "")}.");
        var limit = options.Value.MaxDocumentBytes;
        if (supported.FirstOrDefault(f => f.Size > limit) is { } large)
            throw new PayloadTooLargeException($"'{large.Path}' is larger than the limit of {limit:N0} bytes.", limit);
        var sources = supported.Select(f => ($"{dataset.Name}/{f.Path}", f.ContentType, f.Sha256, f.Size, BlobStore.KeyFor(f.Sha256))).ToList();
        return await QueueAsync(found, sources, "dataset", dataset.Id, number, ParseTags(request.Tags ?? []), user, db, runs, time, cancellationToken);
    }

    /// <summary>
    /// Creates or updates the document rows and queues one ingestion run for those whose content changed. A document
    /// with the same name and content hash that is already indexed is left alone.
    /// </summary>
    private static async Task<Results<Accepted<AddDocumentsResult>, Ok<AddDocumentsResult>>> QueueAsync(KnowledgeBase kb,
        IReadOnlyList<(string Name, string? ContentType, string Sha256, long Size, string Key)> sources, string sourceKind, Guid? datasetId, int? datasetVersion,
        IReadOnlyList<string> tags, ClaimsPrincipal user, KnowledgeDbContext db, RunService runs, TimeProvider time, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var names = sources.Select(s => s.Name).ToList();
        var existing = await db.Documents.Where(d => d.KnowledgeBaseId == kb.Id && names.Contains(d.Name)).ToDictionaryAsync(d => d.Name, StringComparer.Ordinal, cancellationToken);
        var queued = new List<KnowledgeDocument>();
        var unchanged = new List<KnowledgeDocument>();
        var tagText = string.Join(',', tags);
        foreach (var source in sources)
        {
            if (existing.TryGetValue(source.Name, out var document))
            {
                // Replacing a document the caller cannot see would reveal it exists and let them rewrite it.
                if (kb.Hides(document))
                    throw new ConflictException($"A document named '{source.Name}' exists and is not visible to you; upload under another name.");
                if (document.Sha256 == source.Sha256 && document.State is DocumentState.Ready && document.Tags == tagText)
                {
                    unchanged.Add(document);
                    continue;
                }
                document.Sha256 = source.Sha256;
                document.StorageKey = source.Key;
                document.SizeBytes = source.Size;
                document.ContentType = source.ContentType;
                // New tags with the same content still re-index: tags live on every chunk as filter fields.
                if (document.Tags != tagText) document.IndexedSha256 = null;
                document.Tags = tagText;
                document.State = DocumentState.Queued;
                document.UpdatedAt = now;
            }
            else
            {
                document = new KnowledgeDocument
                {
                    KnowledgeBaseId = kb.Id, Name = source.Name, ContentType = source.ContentType, Sha256 = source.Sha256, SizeBytes = source.Size,
                    StorageKey = source.Key, SourceKind = sourceKind, DatasetId = datasetId, DatasetVersion = datasetVersion, Tags = tagText,
                    CreatedAt = now, UpdatedAt = now,
                };
                db.Documents.Add(document);
            }
            document.DatasetVersion = datasetVersion ?? document.DatasetVersion;
            queued.Add(document);
        }
        kb.UpdatedAt = now;
        await db.SaveChangesAsync(cancellationToken);
        if (queued.Count == 0) return TypedResults.Ok(new AddDocumentsResult(null, [], unchanged.Select(DocumentDto.From).ToList()));
        var run = await runs.EnqueueAsync(IngestHandler.RunKind, new IngestParameters(kb.Id, queued.Select(d => d.Id).ToList()), user.GetUserId(), kb.ProjectId, cancellationToken);
        await db.Documents.Where(d => queued.Select(q => q.Id).Contains(d.Id)).ExecuteUpdateAsync(s => s.SetProperty(d => d.RunId, run.Id), cancellationToken);
        foreach (var document in queued) document.RunId = run.Id;
        return TypedResults.Accepted($"/api/runs/{run.Id}", new AddDocumentsResult(RunDto.From(run), queued.Select(DocumentDto.From).ToList(), unchanged.Select(DocumentDto.From).ToList()));
    }

    private static async Task<Ok<List<ChunkDto>>> ChunksAsync(string kb, Guid document, HttpContext http, KnowledgeDbContext db, CancellationToken cancellationToken)
    {
        var found = await KnowledgeBasesApi.ResolveAsync(http, db, kb, cancellationToken);
        var row = await db.Documents.AsNoTracking().FirstOrDefaultAsync(d => d.Id == document && d.KnowledgeBaseId == found.Id, cancellationToken);
        if (row is null || found.Hides(row)) throw new NotFoundException("Document", document.ToString());
        var chunks = await db.Chunks.AsNoTracking().Where(c => c.DocumentId == document).OrderBy(c => c.Ordinal)
            .Select(c => new ChunkDto(c.Id, c.Ordinal, c.HeadingPath, c.Page, c.StartOffset, c.EndOffset, c.TokenCount, c.Text)).ToListAsync(cancellationToken);
        return TypedResults.Ok(chunks);
    }

    private static async Task<NoContent> DeleteAsync(string kb, Guid document, HttpContext http, KnowledgeDbContext db, IKnowledgeIndex index, CancellationToken cancellationToken)
    {
        var found = await KnowledgeBasesApi.ResolveAsync(http, db, kb, cancellationToken);
        var row = await db.Documents.FirstOrDefaultAsync(d => d.Id == document && d.KnowledgeBaseId == found.Id, cancellationToken);
        if (row is null || found.Hides(row)) throw new NotFoundException("Document", document.ToString());
        // Index first: a crash after this leaves a row without chunks (visible, re-deletable), never chunks without a row.
        await index.DeleteDocumentAsync(found.Id, row.Id, cancellationToken);
        db.Documents.Remove(row);
        await db.SaveChangesAsync(cancellationToken);
        return TypedResults.NoContent();
    }
}
