using Cube.Core.Identity;
using Cube.DataHub.Catalog;
using Cube.DataHub.Data;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Microsoft.EntityFrameworkCore;

namespace Cube.DataHub.Apis;

public sealed record LineageNodeDto(Guid VersionId, Guid DatasetId, string Dataset, Guid ProjectId, int Number, string SourceKind, DateTimeOffset CreatedAt);
public sealed record LineageEdgeDto(Guid From, Guid To, string Kind, Guid? RunId);
public sealed record LineageGraphDto(Guid Root, IReadOnlyList<LineageNodeDto> Nodes, IReadOnlyList<LineageEdgeDto> Edges);

/// <summary>The upstream and downstream graph of a version: where its data came from and what was made from it.</summary>
public static class LineageApi
{
    public static IEndpointRouteBuilder MapLineageApi(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapGet("/api/projects/{project}/datasets/{dataset}/versions/{version}/lineage", GetAsync).WithTags("Lineage")
            .WithName("GetLineage").WithSummary("Upstream and downstream versions up to ?depth (default 5), with the runs that connect them.")
            .RequireAuthorization(CubePolicies.ProjectViewer);
        return endpoints;
    }

    private static async Task<Ok<LineageGraphDto>> GetAsync(string dataset, string version, int? depth, HttpContext http, DatasetResolver resolver, DataHubDbContext db, CancellationToken cancellationToken)
    {
        var found = await resolver.DatasetAsync((await http.GetProjectAsync()).Id, dataset, cancellationToken);
        var root = await resolver.VersionAsync(found, version, cancellationToken);
        var maxDepth = Math.Clamp(depth ?? 5, 1, 20);
        var edges = new Dictionary<Guid, LineageEdge>();
        var seen = new HashSet<Guid> { root.Id };
        var up = new List<Guid> { root.Id };
        var down = new List<Guid> { root.Id };
        for (var level = 0; level < maxDepth && (up.Count > 0 || down.Count > 0); level++)
        {
            var upEdges = up.Count == 0 ? [] : await db.LineageEdges.AsNoTracking().Where(e => up.Contains(e.DownstreamVersionId)).ToListAsync(cancellationToken);
            var downEdges = down.Count == 0 ? [] : await db.LineageEdges.AsNoTracking().Where(e => down.Contains(e.UpstreamVersionId)).ToListAsync(cancellationToken);
            foreach (var e in upEdges.Concat(downEdges)) edges.TryAdd(e.Id, e);
            up = upEdges.Select(e => e.UpstreamVersionId).Where(seen.Add).ToList();
            down = downEdges.Select(e => e.DownstreamVersionId).Where(seen.Add).ToList();
        }
        var ids = seen.ToList();
        var nodes = await db.Versions.AsNoTracking().Where(v => ids.Contains(v.Id))
            .Join(db.Datasets, v => v.DatasetId, d => d.Id, (v, d) => new LineageNodeDto(v.Id, d.Id, d.Name, d.ProjectId, v.Number, v.SourceKind, v.CreatedAt))
            .ToListAsync(cancellationToken);
        return TypedResults.Ok(new LineageGraphDto(root.Id, nodes, edges.Values.Select(e => new LineageEdgeDto(e.UpstreamVersionId, e.DownstreamVersionId, e.Kind, e.RunId)).ToList()));
    }
}
