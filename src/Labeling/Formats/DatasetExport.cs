using System.Text.Json;
using Cube.Core.Errors;
using Cube.DataHub.Blobs;
using Cube.DataHub.Catalog;
using Cube.DataHub.Data;
using Cube.DataHub.Tables;
using Cube.DataHub.Versions;
using Cube.Labeling.Data;
using Cube.Labeling.Hosting;
using Cube.Labeling.Projects;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Cube.Labeling.Formats;

/// <summary>
/// Writes a project's results as the next version of a dataset (created when missing): <c>labels.jsonl</c> always and,
/// for classification, <c>labels.csv</c> as a table. The version's lineage points at the version the tasks came from.
/// </summary>
public sealed class DatasetExport(ResultExport export, BlobStore blobs, VersionWriter versions, TableCatalog tables, DataHubDbContext hub,
    [FromKeyedServices(LabelingClock.Key)] TimeProvider time)
{
    public async Task<(Dataset Dataset, DatasetVersion Version)> ExportAsync(LabelingProject project, string datasetName, string? message, Guid authorId, CancellationToken cancellationToken)
    {
        var name = Names.Dataset(datasetName);
        var dataset = await hub.Datasets.AsNoTracking().FirstOrDefaultAsync(d => d.ProjectId == project.ProjectId && d.Name == name && d.DeletedAt == null, cancellationToken);
        if (dataset is null)
        {
            var now = time.GetUtcNow();
            dataset = new Dataset { ProjectId = project.ProjectId, Name = name, Description = $"Labels of labeling project '{project.Name}'.", Kind = DatasetKind.Mixed, OwnerId = authorId, CreatedAt = now, UpdatedAt = now };
            hub.Datasets.Add(dataset);
            try
            {
                await hub.SaveChangesAsync(cancellationToken);
            }
            catch (DbUpdateException)
            {
                throw new ConflictException($"A dataset named '{name}' was created at the same time; retry the export.");
            }
        }
        var files = new List<ManifestEntry>();
        var tableEntries = new List<TableEntry>();
        files.Add(await StoreAsync("labels.jsonl", "application/jsonl", s => export.WriteJsonLinesAsync(project, s, cancellationToken), cancellationToken));
        if (LabelingProjects.Config(project).IsClassification)
        {
            var csv = await StoreAsync("labels.csv", "text/csv", s => export.WriteCsvAsync(project, s, cancellationToken), cancellationToken);
            files.Add(csv);
            tableEntries.Add(await tables.ConvertAsync(csv, cancellationToken));
        }
        var version = await versions.CreateAsync(new NewVersion(dataset.Id, files, tableEntries, message ?? $"Labels of '{project.Name}'", authorId, "labeling",
            JsonSerializer.Serialize(new { labelingProjectId = project.Id, sourceVersionId = project.SourceVersionId }),
            Upstream: project.SourceVersionId is { } source ? [source] : null, LineageKind: "labeling"), cancellationToken);
        return (dataset, version);
    }

    private async Task<ManifestEntry> StoreAsync(string path, string contentType, Func<Stream, Task> write, CancellationToken cancellationToken)
    {
        var temp = Path.GetTempFileName();
        try
        {
            await using (var file = new FileStream(temp, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16, FileOptions.Asynchronous))
                await write(file);
            var blob = await blobs.PutFileAsync(temp, cancellationToken);
            return new ManifestEntry(path, blob.Sha256, blob.Size, contentType);
        }
        finally
        {
            File.Delete(temp);
        }
    }
}
