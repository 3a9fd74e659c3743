using Cube.Core.Errors;
using Cube.Core.Identity;
using Cube.DataHub.Catalog;
using Cube.DataHub.Data;
using Cube.DataHub.Images;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Microsoft.EntityFrameworkCore;

namespace Cube.DataHub.Apis;

public sealed record ImageDto(string Path, int Width, int Height, string Format, long Size, string ThumbnailUrl);
public sealed record ImagePageDto(IReadOnlyList<ImageDto> Items, string? NextCursor);
public sealed record CountBin(double Lower, double Upper, int Count);
public sealed record ImageStatsDto(int Count, IReadOnlyDictionary<string, int> Formats, int MinWidth, int MaxWidth, int MinHeight, int MaxHeight,
    IReadOnlyList<CountBin> Widths, IReadOnlyList<CountBin> Heights, IReadOnlyList<CountBin> AspectRatios);

/// <summary>Images of a version: the grid with thumbnails, and statistics on formats and dimensions ready for charts.</summary>
public static class ImagesApi
{
    public static IEndpointRouteBuilder MapImagesApi(this IEndpointRouteBuilder endpoints)
    {
        var group = endpoints.MapGroup("/api/projects/{project}/datasets/{dataset}/versions/{version}").WithTags("Images")
            .RequireAuthorization(CubePolicies.ProjectViewer);
        group.MapGet("/images", ListAsync).WithName("ListImages").WithSummary("Images with dimensions and thumbnail URLs, by path prefix, paged.");
        group.MapGet("/images/stats", StatsAsync).WithName("ImageStatistics").WithSummary("Count, formats and width, height and aspect-ratio distributions.");
        group.MapGet("/thumbnails/{**path}", ThumbnailAsync).WithName("GetThumbnail").WithSummary("A WebP thumbnail (?size=64|128|256|512; transparency kept, EXIF orientation applied), cached by content hash.");
        return endpoints;
    }

    private static async Task<DatasetVersion> VersionAsync(HttpContext http, DatasetResolver resolver, string dataset, string version, CancellationToken cancellationToken)
    {
        var found = await resolver.DatasetAsync((await http.GetProjectAsync()).Id, dataset, cancellationToken);
        return await resolver.VersionAsync(found, version, cancellationToken);
    }

    private static async Task<Ok<ImagePageDto>> ListAsync(string dataset, string version, string? prefix, string? cursor, int? limit, HttpContext http, DatasetResolver resolver, DataHubDbContext db, CancellationToken cancellationToken)
    {
        var v = await VersionAsync(http, resolver, dataset, version, cancellationToken);
        var take = Math.Clamp(limit ?? 200, 1, 1000);
        var query = db.VersionImages.AsNoTracking().Where(i => i.VersionId == v.Id);
        if (!string.IsNullOrEmpty(prefix)) query = query.Where(i => i.Path.StartsWith(prefix));
        if (!string.IsNullOrEmpty(cursor)) query = query.Where(i => string.Compare(i.Path, cursor) > 0);
        var rows = await query.OrderBy(i => i.Path)
            .Join(db.VersionFiles.Where(f => f.VersionId == v.Id), i => i.Path, f => f.Path, (i, f) => new { Image = i, f.Size })
            .Take(take + 1).ToListAsync(cancellationToken);
        var basePath = $"{http.Request.PathBase}{http.Request.Path.Value![..http.Request.Path.Value!.LastIndexOf("/images", StringComparison.Ordinal)]}";
        var items = rows.Take(take).Select(r => new ImageDto(r.Image.Path, r.Image.Width, r.Image.Height, r.Image.Format, r.Size,
            $"{basePath}/thumbnails/{Uri.EscapeDataString(r.Image.Path).Replace("%2F", "/", StringComparison.Ordinal)}?size=256")).ToList();
        return TypedResults.Ok(new ImagePageDto(items, rows.Count > take ? items[^1].Path : null));
    }

    private static async Task<Ok<ImageStatsDto>> StatsAsync(string dataset, string version, HttpContext http, DatasetResolver resolver, DataHubDbContext db, CancellationToken cancellationToken)
    {
        var v = await VersionAsync(http, resolver, dataset, version, cancellationToken);
        var images = await db.VersionImages.AsNoTracking().Where(i => i.VersionId == v.Id).Select(i => new { i.Width, i.Height, i.Format }).ToListAsync(cancellationToken);
        if (images.Count == 0) return TypedResults.Ok(new ImageStatsDto(0, new Dictionary<string, int>(), 0, 0, 0, 0, [], [], []));
        return TypedResults.Ok(new ImageStatsDto(
            images.Count,
            images.GroupBy(i => i.Format).OrderByDescending(g => g.Count()).ToDictionary(g => g.Key, g => g.Count()),
            images.Min(i => i.Width), images.Max(i => i.Width), images.Min(i => i.Height), images.Max(i => i.Height),
            Histogram(images.Select(i => (double)i.Width).ToList()),
            Histogram(images.Select(i => (double)i.Height).ToList()),
            Histogram(images.Select(i => (double)i.Width / i.Height).ToList())));
    }

    private static async Task<IResult> ThumbnailAsync(string dataset, string version, string path, int? size, HttpContext http, DatasetResolver resolver, DataHubDbContext db, ImageCatalog images, CancellationToken cancellationToken)
    {
        var v = await VersionAsync(http, resolver, dataset, version, cancellationToken);
        path = RoutePaths.Decode(path);
        var image = await db.VersionImages.AsNoTracking().FirstOrDefaultAsync(i => i.VersionId == v.Id && i.Path == path, cancellationToken)
            ?? throw new NotFoundException($"Image in version {v.Number}", path);
        var pixels = size ?? 256;
        http.Response.Headers.CacheControl = "private, max-age=31536000, immutable";
        http.Response.Headers.ETag = $"\"{image.Sha256}-{pixels}\"";
        return TypedResults.Stream(await images.ThumbnailAsync(image.Sha256, pixels, cancellationToken), ImageCatalog.ThumbnailContentType);
    }

    /// <summary>Up to 20 equal-width bins over the values' range.</summary>
    internal static List<CountBin> Histogram(IReadOnlyList<double> values)
    {
        var min = values.Min();
        var max = values.Max();
        if (max <= min) return [new CountBin(min, max, values.Count)];
        const int bins = 20;
        var width = (max - min) / bins;
        var counts = new int[bins];
        foreach (var value in values) counts[Math.Min(bins - 1, (int)((value - min) / width))]++;
        return counts.Select((c, i) => new CountBin(min + i * width, min + (i + 1) * width, c)).ToList();
    }
}
