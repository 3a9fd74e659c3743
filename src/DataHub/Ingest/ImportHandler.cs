using System.Text.Json;
using Cube.Core.Errors;
using Cube.Core.Net;
using Cube.Core.Runs;
using Cube.Core.Storage;
using Cube.DataHub.Blobs;
using Cube.DataHub.Data;
using Cube.DataHub.Tables;
using Cube.DataHub.Versions;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Cube.DataHub.Ingest;

/// <summary>An S3 (or MinIO) location to import every object under a prefix from.</summary>
public sealed record S3Source(string Endpoint, string Bucket, string? Prefix, string? AccessKey, string? SecretKey, string? Region);

/// <summary>
/// Parameters of an import run: a URL or an S3 prefix, placed under <c>TargetFolder</c> in the next version.
/// The S3 secret travels in the run's parameters to reach the worker; it is never returned by the API.
/// </summary>
public sealed record ImportParameters(Guid DatasetId, Guid AuthorId, string Message, string? Url, S3Source? S3, string? TargetFolder);

/// <summary>
/// Imports into a new version: downloads through <see cref="NetworkGuard"/> into content-addressed blobs, converts
/// tables, and commits the parent's files plus the imported ones. Idempotent: re-running downloads again and
/// produces the same blobs; the version is written once, at the end.
/// </summary>
public sealed class ImportHandler : IRunHandler
{
    public const string RunKind = "datahub.import";

    public string Kind => RunKind;
    public bool Idempotent => true;

    public async Task<object?> ExecuteAsync(RunContext context, CancellationToken cancellationToken)
    {
        var p = context.GetParameters<ImportParameters>();
        var services = context.Services;
        var db = services.GetRequiredService<DataHubDbContext>();
        var blobs = services.GetRequiredService<BlobStore>();
        var options = services.GetRequiredService<IOptions<DataHubOptions>>().Value;
        var guard = new NetworkGuard(options.Import);
        var folder = string.IsNullOrEmpty(p.TargetFolder) ? "" : DatasetPath.Normalize(p.TargetFolder.Trim('/')) + "/";
        var imported = new List<ManifestEntry>();
        object source;

        if (p.Url is { } url)
        {
            using var fetcher = new UrlFetcher(guard, options.Import);
            await context.ReportAsync(2, $"Downloading {url}");
            using var fetched = await fetcher.FetchAsync(new Uri(url), cancellationToken);
            var blob = await blobs.PutAsync(fetched.Content, options.MaxFileBytes, cancellationToken);
            var path = DatasetPath.Normalize(folder + fetched.FileName);
            imported.Add(new ManifestEntry(path, blob.Sha256, blob.Size, ContentTypes.For(path)));
            source = new { url = NetworkGuard.Display(new Uri(url)) };
        }
        else if (p.S3 is { } s3)
        {
            var endpoint = new Uri(s3.Endpoint);
            await guard.CheckAsync(endpoint, cancellationToken);
            using var store = new S3ObjectStore(new S3StorageOptions
            {
                Endpoint = s3.Endpoint, Bucket = s3.Bucket, AccessKey = s3.AccessKey ?? "", SecretKey = s3.SecretKey ?? "",
                Region = s3.Region ?? "us-east-1", CreateBucket = false,
            }, services.GetService<ILogger<S3ObjectStore>>());
            var prefix = s3.Prefix ?? "";
            var listing = new List<ObjectInfo>();
            await foreach (var item in store.ListAllAsync(prefix, cancellationToken)) listing.Add(item);
            if (listing.Count > options.MaxFilesPerCommit)
                throw new PayloadTooLargeException($"The prefix holds {listing.Count:N0} objects; a version holds at most {options.MaxFilesPerCommit:N0}.", options.MaxFilesPerCommit);
            for (var i = 0; i < listing.Count; i++)
            {
                var item = listing[i];
                await context.ReportAsync(2 + 60.0 * i / Math.Max(1, listing.Count), $"Copying {item.Key} ({i + 1} of {listing.Count})");
                var relative = item.Key[prefix.Length..].TrimStart('/');
                if (relative.Length == 0) continue;
                await using var content = await store.GetAsync(item.Key, null, cancellationToken);
                var blob = await blobs.PutAsync(content, options.MaxFileBytes, cancellationToken);
                var path = DatasetPath.Normalize(folder + relative);
                imported.Add(new ManifestEntry(path, blob.Sha256, blob.Size, ContentTypes.For(path)));
            }
            source = new { s3 = new { endpoint = NetworkGuard.Display(endpoint), bucket = s3.Bucket, prefix, objects = listing.Count } };
        }
        else
        {
            throw new ValidationException("source", "An import names a url or an s3 location.");
        }

        var dataset = await db.Datasets.AsNoTracking().FirstAsync(d => d.Id == p.DatasetId, cancellationToken);
        var parent = await ParentState.LoadAsync(db, dataset, cancellationToken);
        var files = new Dictionary<string, ManifestEntry>(parent.Files, StringComparer.Ordinal);
        foreach (var entry in imported) files[entry.Path] = entry;
        var tables = options.ConvertTables ? await parent.BuildTablesAsync(files.Values, services.GetRequiredService<TableCatalog>(), context, cancellationToken) : [];
        var images = await parent.BuildImagesAsync(files.Values, services.GetRequiredService<Images.ImageCatalog>(), context, cancellationToken);
        await context.ReportAsync(95, "Writing the version");
        var version = await services.GetRequiredService<VersionWriter>().CreateAsync(new NewVersion(
            dataset.Id, files.Values.OrderBy(f => f.Path, StringComparer.Ordinal).ToList(), tables, p.Message, p.AuthorId,
            p.Url is null ? "s3" : "url", JsonSerializer.Serialize(source), context.RunId, Images: images), cancellationToken);
        return new CommitResult(version.Id, version.Number, version.FileCount, version.TotalBytes, tables.Count);
    }
}
