using System.Text.Json;
using Apache.Arrow;
using Apache.Arrow.Types;
using Cube.DataHub.Blobs;
using Cube.DataHub.Data;
using Cube.DataHub.Versions;
using Microsoft.EntityFrameworkCore;

namespace Cube.DataHub.Tables;

/// <summary>One column of a table's schema as the API shows it.</summary>
public sealed record ColumnSchema(string Name, string Type, bool Nullable, bool Dictionary);

/// <summary>
/// Tables of dataset versions: conversion of tabular files to Parquet at commit, and opening a version's table as a
/// stream of Arrow record batches, which is the API the other modules read data through.
/// </summary>
public sealed class TableCatalog(BlobStore blobs, DataHubDbContext db)
{
    internal static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);
    private static readonly string[] TableExtensions = [".csv", ".tsv", ".tab", ".jsonl", ".ndjson", ".parquet", ".arrow", ".ipc", ".feather"];

    public static bool IsTabular(string path) => TableExtensions.Contains(Path.GetExtension(path).ToLowerInvariant());

    /// <summary>Converts one stored file to a Parquet blob. Throws <see cref="TableFormatException"/> naming file, row and column.</summary>
    public Task<TableEntry> ConvertAsync(ManifestEntry file, CancellationToken cancellationToken = default) =>
        StoreAsync(file.Path, async output =>
        {
            await using var input = await blobs.OpenAsync(file.Sha256, null, cancellationToken);
            return await TableIngest.IngestAsync(input, file.Path, output, null, cancellationToken);
        }, cancellationToken);

    /// <summary>
    /// Stores batches a producer computes as a Parquet table (see <see cref="TableIngest.WriteAsync"/>) and returns its
    /// entry for a new version, named <paramref name="path"/>.
    /// </summary>
    public Task<TableEntry> WriteAsync(string path, Schema schema, Func<BatchSink, CancellationToken, Task> produce, CancellationToken cancellationToken = default) =>
        StoreAsync(path, output => TableIngest.WriteAsync(output, schema, produce, null, cancellationToken), cancellationToken);

    /// <summary>Has <paramref name="write"/> make a Parquet file in a scratch place, stores it as a blob and describes it as a table entry.</summary>
    private async Task<TableEntry> StoreAsync(string path, Func<string, Task<TableIngestResult>> write, CancellationToken cancellationToken)
    {
        var output = Path.Combine(Path.GetTempPath(), $"cube-table-{Guid.NewGuid():N}.parquet");
        try
        {
            var result = await write(output);
            var parquet = await blobs.PutFileAsync(output, cancellationToken);
            return new TableEntry(path, parquet.Sha256, parquet.Size, result.RowCount,
                JsonSerializer.Serialize(DescribeSchema(result.Schema), Json),
                JsonSerializer.Serialize(result.Columns, Json));
        }
        finally
        {
            if (File.Exists(output)) File.Delete(output);
        }
    }

    /// <summary>
    /// Opens a table of a version for reading; dispose the reader when done. <paramref name="dictionaryStrings"/>: text
    /// columns come back dictionary-encoded (see <see cref="TableReader.Open(string, bool)"/>).
    /// </summary>
    public async Task<TableReader> OpenAsync(Guid versionId, string path, CancellationToken cancellationToken = default, bool dictionaryStrings = false)
    {
        var table = await db.VersionTables.AsNoTracking().FirstOrDefaultAsync(t => t.VersionId == versionId && t.Path == path, cancellationToken)
            ?? throw new Core.Errors.NotFoundException("Table", path);
        return TableReader.Open(await blobs.GetLocalPathAsync(table.ParquetSha256, cancellationToken), dictionaryStrings);
    }

    /// <summary>Reads a version's table as Arrow record batches, with optional column projection and row limit.</summary>
    public async IAsyncEnumerable<RecordBatch> ReadAsync(Guid versionId, string path, IReadOnlyList<string>? columns = null, long? limit = null,
        [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken = default, bool dictionaryStrings = false)
    {
        using var reader = await OpenAsync(versionId, path, cancellationToken, dictionaryStrings);
        await foreach (var batch in reader.ReadAsync(columns, limit, 0, cancellationToken)) yield return batch;
    }

    public static IReadOnlyList<ColumnSchema> DescribeSchema(Schema schema) =>
        schema.FieldsList.Select(f => new ColumnSchema(f.Name, TypeName(f.DataType), f.IsNullable, f.DataType is DictionaryType)).ToList();

    private static string TypeName(IArrowType type) => type switch
    {
        DictionaryType d => TypeName(d.ValueType),
        TimestampType t => t.Timezone is { Length: > 0 } tz ? $"timestamp[{t.Unit.ToString().ToLowerInvariant()}, {tz}]" : $"timestamp[{t.Unit.ToString().ToLowerInvariant()}]",
        _ => type.Name,
    };
}
