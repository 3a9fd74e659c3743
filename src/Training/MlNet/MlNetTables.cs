using System.Text.Json;
using Cube.DataHub.Data;
using Cube.DataHub.Tables;
using Microsoft.EntityFrameworkCore;

namespace Cube.Training.MlNet;

/// <summary>The table of a dataset version an ML.NET job trains on, with its schema, resolved the same way at submission and at run time.</summary>
public static class MlNetTables
{
    public sealed record ResolvedTable(string Path, long RowCount, IReadOnlyList<ColumnSchema> Schema, IReadOnlyList<FeatureColumn> Features);

    /// <summary>
    /// The table named by <c>table</c>, or the version's only table; errors go to <paramref name="error"/> under the
    /// field they concern (<c>hyperparameters.table</c>, <c>hyperparameters.label</c>, <c>inputs[0]</c>). Null on error.
    /// </summary>
    public static async Task<ResolvedTable?> ResolveAsync(DataHubDbContext hub, Guid versionId, string dataset, int version, MlNetSettings settings,
        Action<string, string> error, CancellationToken cancellationToken)
    {
        var tables = await hub.VersionTables.AsNoTracking().Where(t => t.VersionId == versionId)
            .Select(t => new { t.Path, t.RowCount, t.SchemaJson }).ToListAsync(cancellationToken);
        var table = settings.Table is { } path ? tables.FirstOrDefault(t => t.Path == path) : tables.Count == 1 ? tables[0] : null;
        if (table is null)
        {
            if (settings.Table is not null)
                error("hyperparameters.table", $"Version {version} of dataset '{dataset}' has no table '{settings.Table}'; its tables are {List(tables.Select(t => t.Path))}.");
            else if (tables.Count == 0)
                error("inputs[0]", $"Version {version} of dataset '{dataset}' has no table (CSV, JSON lines, Parquet or Arrow file) to train on.");
            else
                error("hyperparameters.table", $"Version {version} of dataset '{dataset}' has {tables.Count} tables; name one with the 'table' hyperparameter: {List(tables.Select(t => t.Path))}.");
            return null;
        }
        if (table.RowCount == 0)
        {
            error("inputs[0]", $"Table '{table.Path}' of dataset '{dataset}' version {version} is empty.");
            return null;
        }
        var schema = JsonSerializer.Deserialize<List<ColumnSchema>>(table.SchemaJson, new JsonSerializerOptions(JsonSerializerDefaults.Web)) ?? [];
        var failed = false;
        var features = settings.ResolveColumns(schema, (field, message) =>
        {
            failed = true;
            error(field, message);
        });
        return failed ? null : new ResolvedTable(table.Path, table.RowCount, schema, features);
    }

    private static string List(IEnumerable<string> paths)
    {
        var list = paths.Order(StringComparer.Ordinal).ToList();
        return list.Count == 0 ? "none" : string.Join(", ", list);
    }
}
