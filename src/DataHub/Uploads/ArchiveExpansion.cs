using System.IO.Compression;
using Cube.DataHub.Blobs;
using Cube.DataHub.Data;
using Cube.DataHub.Ingest;
using Cube.DataHub.Versions;
using Microsoft.Extensions.Options;

namespace Cube.DataHub.Uploads;

/// <summary>Expands a staged zip into manifest entries under the archive's folder, each entry stored as a blob.</summary>
public sealed class ArchiveExpansion(IOptions<DataHubOptions> options)
{
    public async Task<IReadOnlyList<ManifestEntry>> ExpandAsync(StagedFile archive, BlobStore blobs, CancellationToken cancellationToken)
    {
        // ZipArchive needs seeking: work on a local copy (the store's own file when local, a verified cache copy otherwise).
        var local = await blobs.GetLocalPathAsync(archive.Sha256!, cancellationToken);
        await using var file = new FileStream(local, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.Asynchronous);
        ZipArchive zip;
        try
        {
            zip = new ZipArchive(file, ZipArchiveMode.Read, leaveOpen: true);
        }
        catch (InvalidDataException e)
        {
            throw ZipExpander.Dangerous(archive.Path, "(archive)", $"it is not a readable zip archive ({e.Message})");
        }
        using (zip)
        {
            var folder = archive.Path.Contains('/') ? archive.Path[..archive.Path.LastIndexOf('/')] + "/" : "";
            var entries = new List<ManifestEntry>();
            foreach (var item in new ZipExpander(options.Value.Zip).List(zip, archive.Path))
            {
                await using var content = OpenEntry(item, archive.Path);
                BlobInfo blob;
                try
                {
                    blob = await blobs.PutAsync(content, options.Value.MaxFileBytes, cancellationToken);
                }
                catch (InvalidDataException e)
                {
                    throw ZipExpander.Dangerous(archive.Path, item.Path, $"its data is corrupt ({e.Message})");
                }
                var path = DatasetPath.Normalize(folder + item.Path);
                entries.Add(new ManifestEntry(path, blob.Sha256, blob.Size, ContentTypes.For(path)));
            }
            return entries;
        }
    }

    private static Stream OpenEntry(ZipItem item, string archive)
    {
        try
        {
            return item.Open();
        }
        catch (InvalidDataException e)
        {
            throw ZipExpander.Dangerous(archive, item.Path, $"it cannot be read ({e.Message})");
        }
    }
}
