using System.Text.Json;
using Cube.Core.Errors;
using Cube.Core.Identity;
using Cube.DataHub.Blobs;
using Cube.DataHub.Catalog;
using Cube.DataHub.Data;
using Cube.DataHub.Tables;
using Cube.DataHub.Tables.Statistics;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Microsoft.EntityFrameworkCore;

namespace Cube.DataHub.Apis;

public sealed record TableSummaryDto(string Path, long RowCount, IReadOnlyList<ColumnSchema> Columns);
public sealed record TableDetailDto(string Path, long RowCount, long ParquetSize, IReadOnlyList<ColumnSchema> Columns, IReadOnlyList<ColumnStatistics> Statistics);
public sealed record PreviewDto(string Path, long RowCount, long Offset, IReadOnlyList<string> Columns, IReadOnlyList<IReadOnlyDictionary<string, object?>> Rows);

/// <summary>Tables of a version: schema, column statistics (ready for charts), paged or sampled preview, streamed export.</summary>
public static class TablesApi
{
    public static IEndpointRouteBuilder MapTablesApi(this IEndpointRouteBuilder endpoints)
    {
        var group = endpoints.MapGroup("/api/projects/{project}/datasets/{dataset}/versions/{version}").WithTags("Tables")
            .RequireAuthorization(CubePolicies.ProjectViewer);
        group.MapGet("/tables", ListAsync).WithName("ListTables").WithSummary("Every table of the version with row count and schema.");
        group.MapGet("/table", GetAsync).WithName("GetTable").WithSummary("Schema and per-column statistics (count, nulls, distinct, min/max/mean/stddev, quantiles, top values, histogram).");
        group.MapGet("/table/preview", PreviewAsync).WithName("PreviewTable").WithSummary("Rows offset..offset+limit, or a seeded random sample with ?sample=N.");
        group.MapGet("/table/export", ExportAsync).WithName("ExportTable").WithSummary("Streams the table as parquet, csv, jsonl or arrow (IPC stream), optionally a subset of columns.");
        return endpoints;
    }

    private static async Task<(DatasetVersion Version, VersionTable Table)> TableAsync(HttpContext http, DatasetResolver resolver, DataHubDbContext db, string dataset, string version, string path, CancellationToken cancellationToken)
    {
        var found = await resolver.DatasetAsync((await http.GetProjectAsync()).Id, dataset, cancellationToken);
        var v = await resolver.VersionAsync(found, version, cancellationToken);
        var table = await db.VersionTables.AsNoTracking().FirstOrDefaultAsync(t => t.VersionId == v.Id && t.Path == path, cancellationToken)
            ?? throw new NotFoundException($"Table in version {v.Number}", path);
        return (v, table);
    }

    private static async Task<Ok<List<TableSummaryDto>>> ListAsync(string dataset, string version, HttpContext http, DatasetResolver resolver, DataHubDbContext db, CancellationToken cancellationToken)
    {
        var found = await resolver.DatasetAsync((await http.GetProjectAsync()).Id, dataset, cancellationToken);
        var v = await resolver.VersionAsync(found, version, cancellationToken);
        var tables = await db.VersionTables.AsNoTracking().Where(t => t.VersionId == v.Id).OrderBy(t => t.Path).ToListAsync(cancellationToken);
        return TypedResults.Ok(tables.Select(t => new TableSummaryDto(t.Path, t.RowCount, JsonSerializer.Deserialize<List<ColumnSchema>>(t.SchemaJson, TableCatalog.Json)!)).ToList());
    }

    private static async Task<Ok<TableDetailDto>> GetAsync(string dataset, string version, string path, HttpContext http, DatasetResolver resolver, DataHubDbContext db, CancellationToken cancellationToken)
    {
        var (_, t) = await TableAsync(http, resolver, db, dataset, version, path, cancellationToken);
        return TypedResults.Ok(new TableDetailDto(t.Path, t.RowCount, t.ParquetSize,
            JsonSerializer.Deserialize<List<ColumnSchema>>(t.SchemaJson, TableCatalog.Json)!, JsonSerializer.Deserialize<List<ColumnStatistics>>(t.StatisticsJson, TableCatalog.Json)!));
    }

    private static async Task<Ok<PreviewDto>> PreviewAsync(string dataset, string version, string path, long? offset, int? limit, int? sample, int? seed,
        HttpContext http, DatasetResolver resolver, DataHubDbContext db, BlobStore blobs, CancellationToken cancellationToken)
    {
        var (_, t) = await TableAsync(http, resolver, db, dataset, version, path, cancellationToken);
        var take = Math.Clamp(limit ?? 100, 1, 1000);
        var start = Math.Max(0, offset ?? 0);
        using var reader = TableReader.Open(await blobs.GetLocalPathAsync(t.ParquetSha256, cancellationToken));
        var rows = sample is { } n
            ? await reader.SampleAsync(Math.Clamp(n, 1, 1000), seed ?? 0, null, cancellationToken)
            : await reader.PreviewAsync(start, take, null, cancellationToken);
        return TypedResults.Ok(new PreviewDto(t.Path, t.RowCount, sample is null ? start : 0, reader.Schema.FieldsList.Select(f => f.Name).ToList(), rows));
    }

    private static async Task ExportAsync(string dataset, string version, string path, string? format, string? columns,
        HttpContext http, DatasetResolver resolver, DataHubDbContext db, BlobStore blobs, CancellationToken cancellationToken)
    {
        var (v, t) = await TableAsync(http, resolver, db, dataset, version, path, cancellationToken);
        var selected = string.IsNullOrWhiteSpace(columns) ? null : columns.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        var local = await blobs.GetLocalPathAsync(t.ParquetSha256, cancellationToken);
        using var reader = TableReader.Open(local);
        if (selected is not null && selected.FirstOrDefault(c => reader.Schema.GetFieldIndex(c) < 0) is { } unknown)
            throw new ValidationException("columns", $"Column '{unknown}' is not in the table; it has {string.Join(", ", reader.Schema.FieldsList.Select(f => f.Name))}.");
        var stem = Path.GetFileNameWithoutExtension(t.Path);
        var kind = (format ?? "parquet").ToLowerInvariant();
        var (contentType, extension) = kind switch
        {
            "parquet" => ("application/vnd.apache.parquet", "parquet"),
            "csv" => ("text/csv; charset=utf-8", "csv"),
            "jsonl" or "ndjson" => ("application/x-ndjson", "jsonl"),
            "arrow" or "ipc" => ("application/vnd.apache.arrow.stream", "arrows"),
            _ => throw new ValidationException("format", "A format is parquet, csv, jsonl or arrow."),
        };
        if (kind == "parquet" && selected is not null) throw new ValidationException("columns", "Column selection applies to csv, jsonl and arrow exports; parquet is the stored file.");
        http.Response.ContentType = contentType;
        http.Response.Headers.ContentDisposition = $"attachment; filename=\"{stem}-v{v.Number}.{extension}\"";
        var body = http.Response.Body;
        switch (kind)
        {
            case "parquet": await TableExport.CopyParquetAsync(local, body, cancellationToken); break;
            case "csv": await TableExport.WriteCsvAsync(reader, body, selected, cancellationToken); break;
            case "jsonl" or "ndjson": await TableExport.WriteJsonLinesAsync(reader, body, selected, cancellationToken); break;
            default: await TableExport.WriteArrowStreamAsync(reader, body, selected, cancellationToken); break;
        }
    }
}
