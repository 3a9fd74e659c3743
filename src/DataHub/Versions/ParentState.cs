using Cube.Core.Runs;
using Cube.DataHub.Data;
using Cube.DataHub.Images;
using Cube.DataHub.Tables;
using Microsoft.EntityFrameworkCore;

namespace Cube.DataHub.Versions;

/// <summary>
/// The head version a new version builds on: its manifest and its converted tables, so unchanged tabular files
/// reuse their Parquet conversion instead of being converted again.
/// </summary>
internal sealed class ParentState
{
    public DatasetVersion? Version { get; private init; }
    public Dictionary<string, ManifestEntry> Files { get; } = new(StringComparer.Ordinal);
    public Dictionary<string, VersionTable> Tables { get; } = new(StringComparer.Ordinal);
    public Dictionary<string, VersionImage> Images { get; } = new(StringComparer.Ordinal);

    public static async Task<ParentState> LoadAsync(DataHubDbContext db, Dataset dataset, CancellationToken cancellationToken)
    {
        var parent = await db.Versions.AsNoTracking().FirstOrDefaultAsync(v => v.DatasetId == dataset.Id && v.Number == dataset.LatestVersion, cancellationToken);
        var state = new ParentState { Version = parent };
        if (parent is null) return state;
        foreach (var f in await db.VersionFiles.AsNoTracking().Where(f => f.VersionId == parent.Id).ToListAsync(cancellationToken))
            state.Files[f.Path] = new ManifestEntry(f.Path, f.Sha256, f.Size, f.ContentType);
        foreach (var t in await db.VersionTables.AsNoTracking().Where(t => t.VersionId == parent.Id).ToListAsync(cancellationToken))
            state.Tables[t.Path] = t;
        foreach (var i in await db.VersionImages.AsNoTracking().Where(i => i.VersionId == parent.Id).ToListAsync(cancellationToken))
            state.Images[i.Path] = i;
        return state;
    }

    /// <summary>
    /// Tables of the new manifest: the parent's conversion where the bytes are unchanged, a fresh conversion otherwise.
    /// Bad input anywhere throws and fails the whole version, naming file, row and column.
    /// </summary>
    public async Task<List<TableEntry>> BuildTablesAsync(IEnumerable<ManifestEntry> files, TableCatalog catalog, RunContext context, CancellationToken cancellationToken)
    {
        var tables = new List<TableEntry>();
        var tabular = files.Where(f => TableCatalog.IsTabular(f.Path)).ToList();
        for (var i = 0; i < tabular.Count; i++)
        {
            var file = tabular[i];
            if (Tables.TryGetValue(file.Path, out var previous) && Files.TryGetValue(file.Path, out var old) && old.Sha256 == file.Sha256)
            {
                tables.Add(new TableEntry(previous.Path, previous.ParquetSha256, previous.ParquetSize, previous.RowCount, previous.SchemaJson, previous.StatisticsJson));
                continue;
            }
            await context.ReportAsync(10 + 80.0 * i / tabular.Count, $"Converting {file.Path} to Parquet ({i + 1} of {tabular.Count})");
            tables.Add(await catalog.ConvertAsync(file, cancellationToken));
        }
        return tables;
    }

    /// <summary>Dimensions and format of every image of the new manifest, reusing the parent's where the bytes are unchanged.</summary>
    public async Task<List<ImageEntry>> BuildImagesAsync(IEnumerable<ManifestEntry> files, ImageCatalog catalog, RunContext context, CancellationToken cancellationToken)
    {
        var images = new List<ImageEntry>();
        var candidates = files.Where(f => ImageCatalog.IsImage(f.Path)).ToList();
        for (var i = 0; i < candidates.Count; i++)
        {
            var file = candidates[i];
            if (Images.TryGetValue(file.Path, out var previous) && previous.Sha256 == file.Sha256)
            {
                images.Add(new ImageEntry(previous.Path, previous.Sha256, previous.Width, previous.Height, previous.Format));
                continue;
            }
            if (i % 50 == 0) await context.ReportAsync(90 + 4.0 * i / candidates.Count, $"Reading images ({i + 1} of {candidates.Count})");
            images.Add(await catalog.DescribeAsync(file, cancellationToken));
        }
        return images;
    }
}
