using System.Text.Json;
using Cube.Labeling.Data;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata;
using Microsoft.EntityFrameworkCore.Storage;
using Npgsql;

/// <summary>
/// Fills a project with plain text tasks the way <c>LabelingProjects.AddTasksAsync</c> makes them, but in bulk: EF's
/// change tracker costs about 130 µs a row, which made seeding a million tasks take minutes. Columns and value
/// conversions come from the EF model, so the rows match what the service writes.
/// </summary>
internal static class TaskSeeder
{
    /// <summary>Adds <paramref name="count"/> tasks; the first <paramref name="done"/> already have all k annotations counted (without the annotation rows), as in a project part-way through.</summary>
    public static async Task SeedAsync(LabelingDbContext db, LabelingProject project, int count, int done)
    {
        var entity = db.Model.FindEntityType(typeof(LabelingTask))!;
        var table = StoreObjectIdentifier.Table(entity.GetTableName()!, entity.GetSchema());
        var columns = entity.GetProperties().Select(p => (Property: p, Column: p.GetColumnName(table)!)).ToList();
        var now = DateTimeOffset.UtcNow;
        IEnumerable<LabelingTask> Tasks() => Enumerable.Range(0, count).Select(i => new LabelingTask
        {
            LabelingProjectId = project.Id, Ordinal = i, RandomKey = Random.Shared.Next(), Required = project.Overlap, CreatedAt = now,
            Reserved = i < done ? project.Overlap : 0, Completed = i < done ? project.Overlap : 0,
            DataJson = JsonSerializer.Serialize(new { text = $"review {i}" }),
        });

        await db.Database.OpenConnectionAsync();
        try
        {
            if (db.Database.GetDbConnection() is NpgsqlConnection npgsql)
            {
                var names = string.Join(", ", columns.Select(c => $"\"{c.Column}\""));
                await using var importer = await npgsql.BeginBinaryImportAsync($"COPY {table.Name} ({names}) FROM STDIN (FORMAT BINARY)");
                foreach (var task in Tasks())
                {
                    await importer.StartRowAsync();
                    foreach (var (property, _) in columns)
                    {
                        var value = property.GetGetter().GetClrValueUsingContainingEntity(task);
                        if (value is null) await importer.WriteNullAsync();
                        else await importer.WriteAsync(value, property.GetColumnType());
                    }
                }
                await importer.CompleteAsync();
            }
            else
            {
                // One transaction and one prepared statement: SQLite then writes each page once instead of once per row.
                await using var transaction = await db.Database.BeginTransactionAsync();
                await using var insert = db.Database.GetDbConnection().CreateCommand();
                insert.Transaction = transaction.GetDbTransaction();
                insert.CommandText = $"INSERT INTO {table.Name} ({string.Join(", ", columns.Select(c => $"\"{c.Column}\""))}) " +
                    $"VALUES ({string.Join(", ", columns.Select((_, i) => $"@p{i}"))})";
                foreach (var task in Tasks())
                {
                    // The type mapping writes each value as EF does (GUIDs as upper-case text, times as binary integers).
                    insert.Parameters.Clear();
                    for (var i = 0; i < columns.Count; i++)
                    {
                        var property = columns[i].Property;
                        insert.Parameters.Add(property.GetRelationalTypeMapping().CreateParameter(insert, $"@p{i}", property.GetGetter().GetClrValueUsingContainingEntity(task), property.IsNullable));
                    }
                    await insert.ExecuteNonQueryAsync();
                }
                await transaction.CommitAsync();
            }
        }
        finally
        {
            await db.Database.CloseConnectionAsync();
        }
        await db.Projects.Where(p => p.Id == project.Id).ExecuteUpdateAsync(s => s.SetProperty(p => p.NextOrdinal, count));
        project.NextOrdinal = count;
    }
}
