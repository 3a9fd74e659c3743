using System.Text.Json;
using System.Text.Json.Nodes;
using Cube.Core.Errors;
using Cube.DataHub.Catalog;
using Cube.DataHub.Data;
using Cube.DataHub.Tables;
using Cube.Labeling.Configs;
using Cube.Labeling.Data;
using Cube.Labeling.Hosting;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Cube.Labeling.Projects;

/// <summary>A task to add: what the annotator sees, its priority, and for gold tasks the known answer.</summary>
public sealed record NewTask(JsonElement Data, int Priority = 0, bool IsGold = false, JsonElement? GoldAnswer = null);

/// <summary>Where a project's tasks come from: files of a dataset version (under a prefix), or rows of one of its tables.</summary>
public sealed record TaskSource(string Dataset, string? Version = null, string? Prefix = null, string? Table = null, string? Column = null);

/// <summary>Labeling projects and their task pools.</summary>
public sealed class LabelingProjects(LabelingDbContext db, DataHubDbContext hub, DatasetResolver datasets, TableCatalog tables, [FromKeyedServices(LabelingClock.Key)] TimeProvider time, WriteGate gate)
{
    public const int MaxTasksPerRequest = 10_000;
    public const int MaxTasksFromDataset = 1_000_000;
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    /// <summary>The labeling project inside the given Cube project; another project's id is simply not found.</summary>
    public async Task<LabelingProject> FindAsync(Guid cubeProjectId, Guid id, CancellationToken cancellationToken, bool tracking = false)
    {
        var query = tracking ? db.Projects : db.Projects.AsNoTracking();
        return await query.FirstOrDefaultAsync(p => p.Id == id && p.ProjectId == cubeProjectId, cancellationToken)
            ?? throw new NotFoundException("Labeling project", id.ToString());
    }

    public static LabelConfig Config(LabelingProject project) =>
        JsonSerializer.Deserialize<LabelConfig>(project.ConfigJson, Json) ?? throw new InvalidOperationException("A stored label configuration is empty.");

    public static string Serialize(LabelConfig config) => JsonSerializer.Serialize(config, Json);

    /// <summary>The image size or text a result is validated against, read from the task's data.</summary>
    public static TaskSubject Subject(LabelingTask task)
    {
        using var document = JsonDocument.Parse(task.DataJson);
        var data = document.RootElement;
        int? Int(string name) => data.ValueKind == JsonValueKind.Object && data.TryGetProperty(name, out var v) && v.TryGetInt32(out var i) ? i : null;
        var text = data.ValueKind == JsonValueKind.Object && data.TryGetProperty("text", out var t) && t.ValueKind == JsonValueKind.String ? t.GetString() : null;
        return new TaskSubject(Int("width"), Int("height"), text);
    }

    /// <summary>Adds tasks with consecutive ordinals; the ordinal block is reserved by one conditional update on the project.</summary>
    public async Task<IReadOnlyList<LabelingTask>> AddTasksAsync(LabelingProject project, IReadOnlyList<NewTask> tasks, CancellationToken cancellationToken)
    {
        if (tasks.Count == 0) return [];
        var config = Config(project);
        var errors = new Dictionary<string, string[]>();
        for (var i = 0; i < tasks.Count; i++)
        {
            var task = tasks[i];
            if (task.Data.ValueKind != JsonValueKind.Object) errors[$"tasks[{i}].data"] = ["Task data must be a JSON object."];
            if (task.IsGold && task.GoldAnswer is not { ValueKind: JsonValueKind.Object })
                errors[$"tasks[{i}].goldAnswer"] = ["A gold task needs its answer, a result object."];
            if (task.GoldAnswer is { ValueKind: JsonValueKind.Object } answer && task.Data.ValueKind == JsonValueKind.Object)
            {
                try
                {
                    AnnotationValidator.Validate(config, answer, Subject(new LabelingTask { DataJson = task.Data.GetRawText() }));
                }
                catch (ValidationException e)
                {
                    foreach (var (key, value) in e.Errors) errors[$"tasks[{i}].goldAnswer{key["result".Length..]}"] = value;
                }
            }
        }
        if (errors.Count > 0) throw new ValidationException(errors);

        var created = new List<LabelingTask>(tasks.Count);
        foreach (var chunk in tasks.Chunk(5_000)) created.AddRange(await InsertAsync(project, chunk, cancellationToken));
        return created;
    }

    private async Task<List<LabelingTask>> InsertAsync(LabelingProject project, NewTask[] tasks, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        using var gated = await gate.EnterAsync(db, cancellationToken);
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        await db.Projects.Where(p => p.Id == project.Id)
            .ExecuteUpdateAsync(s => s.SetProperty(p => p.NextOrdinal, p => p.NextOrdinal + tasks.Length), cancellationToken);
        if (tasks.Any(t => t.GoldAnswer is { ValueKind: JsonValueKind.Object })) await Prelabel.TrainingLabels.ForgetSoleClassAsync(db, project.Id, cancellationToken);
        var next = await db.Projects.Where(p => p.Id == project.Id).Select(p => p.NextOrdinal).FirstAsync(cancellationToken);
        var ordinal = next - tasks.Length;
        var created = tasks.Select(t => new LabelingTask
        {
            LabelingProjectId = project.Id, Ordinal = ordinal++, RandomKey = Random.Shared.Next(), Priority = t.Priority, IsGold = t.IsGold,
            GoldAnswerJson = t.GoldAnswer is { ValueKind: JsonValueKind.Object } g ? g.GetRawText() : null, DataJson = t.Data.GetRawText(),
            Required = t.IsGold ? int.MaxValue : project.Overlap, CreatedAt = now,
        }).ToList();
        db.Tasks.AddRange(created);
        await db.SaveChangesAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        db.ChangeTracker.Clear();
        return created;
    }

    /// <summary>
    /// The tasks a dataset version yields: for image configurations each image file (with its size, so boxes can be
    /// checked against it) or each row's image path in a table column; for text configurations each row's text in a
    /// table column.
    /// </summary>
    public async Task<(Guid DatasetId, Guid VersionId, List<NewTask> Tasks)> TasksFromDatasetAsync(Guid cubeProjectId, string projectSlug, LabelConfig config,
        TaskSource source, CancellationToken cancellationToken)
    {
        var dataset = await datasets.DatasetAsync(cubeProjectId, source.Dataset, cancellationToken);
        var version = await datasets.VersionAsync(dataset, source.Version ?? "latest", cancellationToken);
        var fileBase = $"/api/projects/{projectSlug}/datasets/{dataset.Name}/versions/{version.Number}/files/";
        var tasks = new List<NewTask>();
        if (source.Table is null)
        {
            if (!config.IsImage)
                throw new ValidationException("source.table", "Text labeling reads its tasks from a table: name the table and its text column.");
            var prefix = source.Prefix ?? "";
            var images = await hub.VersionImages.AsNoTracking()
                .Where(i => i.VersionId == version.Id && i.Path.StartsWith(prefix))
                .OrderBy(i => i.Path).Take(MaxTasksFromDataset + 1).ToListAsync(cancellationToken);
            if (images.Count > MaxTasksFromDataset) throw new UnprocessableException($"The version has more than {MaxTasksFromDataset:N0} images under '{prefix}'.");
            foreach (var image in images)
                tasks.Add(new NewTask(JsonSerializer.SerializeToElement(new
                {
                    image = image.Path, url = fileBase + image.Path, sha256 = image.Sha256, width = image.Width, height = image.Height,
                }, Json)));
            if (tasks.Count == 0) throw new UnprocessableException($"Version {version.Number} of dataset '{dataset.Name}' has no images under '{prefix}'.");
            return (dataset.Id, version.Id, tasks);
        }
        if (string.IsNullOrWhiteSpace(source.Column)) throw new ValidationException("source.column", "Name the column that holds each row's text or image path.");
        var sizes = config.IsImage
            ? await hub.VersionImages.AsNoTracking().Where(i => i.VersionId == version.Id)
                .ToDictionaryAsync(i => i.Path, i => (i.Width, i.Height), StringComparer.Ordinal, cancellationToken)
            : null;
        using (var reader = await tables.OpenAsync(version.Id, source.Table, cancellationToken))
        {
            if (reader.Schema.GetFieldIndex(source.Column) < 0)
                throw new ValidationException("source.column", $"Table '{source.Table}' has no column '{source.Column}'; it has {string.Join(", ", reader.Schema.FieldsList.Select(f => f.Name))}.");
            if (reader.RowCount > MaxTasksFromDataset) throw new UnprocessableException($"Table '{source.Table}' has more than {MaxTasksFromDataset:N0} rows.");
            long row = 0;
            await foreach (var batch in reader.ReadAsync([source.Column], null, 0, cancellationToken))
            {
                var column = batch.Column(0);
                for (var i = 0; i < batch.Length; i++, row++)
                {
                    var value = ArrowValues.Get(column, i);
                    if (value is null) continue;
                    var text = Convert.ToString(value, System.Globalization.CultureInfo.InvariantCulture) ?? "";
                    var data = new JsonObject { ["row"] = row };
                    if (sizes is null) data["text"] = text;
                    else
                    {
                        if (!sizes.TryGetValue(text, out var size))
                            throw new UnprocessableException($"Row {row} of '{source.Table}' names image '{text}', which is not an image file of version {version.Number}.");
                        data["image"] = text;
                        data["url"] = fileBase + text;
                        data["width"] = size.Width;
                        data["height"] = size.Height;
                    }
                    tasks.Add(new NewTask(JsonSerializer.SerializeToElement(data, Json)));
                }
            }
        }
        if (tasks.Count == 0) throw new UnprocessableException($"Column '{source.Column}' of '{source.Table}' has no values.");
        return (dataset.Id, version.Id, tasks);
    }
}
