using Cube.Core.Errors;
using Cube.DataHub.Data;
using Microsoft.EntityFrameworkCore;

namespace Cube.DataHub.Catalog;

/// <summary>Finds datasets by name inside a project and versions by reference (number, <c>v3</c>, tag, <c>latest</c>).</summary>
public sealed class DatasetResolver(DataHubDbContext db)
{
    public async Task<Dataset> DatasetAsync(Guid projectId, string name, CancellationToken cancellationToken = default, bool tracking = false)
    {
        var query = tracking ? db.Datasets.Include(d => d.Tags) : db.Datasets.AsNoTracking().Include(d => d.Tags);
        return await query.FirstOrDefaultAsync(d => d.ProjectId == projectId && d.Name == name && d.DeletedAt == null, cancellationToken)
            ?? throw new NotFoundException("Dataset", name);
    }

    public async Task<DatasetVersion> VersionAsync(Dataset dataset, string reference, CancellationToken cancellationToken = default)
    {
        var versions = db.Versions.AsNoTracking().Where(v => v.DatasetId == dataset.Id);
        DatasetVersion? version;
        if (reference is "latest" or "head")
            version = await versions.OrderByDescending(v => v.Number).FirstOrDefaultAsync(cancellationToken);
        else if (int.TryParse(reference.StartsWith('v') ? reference[1..] : reference, out var number))
            version = await versions.FirstOrDefaultAsync(v => v.Number == number, cancellationToken);
        else
        {
            var tag = await db.VersionTags.AsNoTracking().FirstOrDefaultAsync(t => t.DatasetId == dataset.Id && t.Name == reference, cancellationToken);
            version = tag is null ? null : await versions.FirstOrDefaultAsync(v => v.Id == tag.VersionId, cancellationToken);
        }
        return version ?? throw new NotFoundException($"Version of dataset '{dataset.Name}'", reference);
    }
}
