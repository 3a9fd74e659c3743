using System.Text.Json;
using System.Text.Json.Nodes;
using Cube.Core.Errors;
using Cube.Labeling.Configs;
using Cube.Labeling.Data;
using Cube.Labeling.Formats.Interchange;
using Cube.Labeling.Hosting;
using Cube.Labeling.Projects;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Cube.Labeling.Predictions;

/// <summary>A prediction to attach: to a task by id, or by its external key (the task data's <c>key</c>, else its <c>image</c>).</summary>
public sealed record NewPrediction(Guid? TaskId, string? Key, string Model, string? ModelVersion, JsonElement Result, double? Score);

/// <summary>Attaches predictions to tasks, and imports files as new tasks with their predictions, each in one transaction.</summary>
public sealed class PredictionStore(LabelingDbContext db, [FromKeyedServices(LabelingClock.Key)] TimeProvider time, WriteGate gate)
{
    public const int MaxPerRequest = 10_000;

    /// <summary>Validates every prediction against its task and the configuration, then stores all or none.</summary>
    public async Task<List<Prediction>> AttachAsync(LabelingProject project, IReadOnlyList<NewPrediction> predictions, CancellationToken cancellationToken)
    {
        var config = LabelingProjects.Config(project);
        var errors = new Dictionary<string, string[]>();
        var ids = predictions.Where(p => p.TaskId is not null).Select(p => p.TaskId!.Value).Distinct().ToList();
        var byId = new Dictionary<Guid, LabelingTask>();
        foreach (var chunk in ids.Chunk(1_000))
            foreach (var task in await db.Tasks.AsNoTracking().Where(t => t.LabelingProjectId == project.Id && chunk.Contains(t.Id)).ToListAsync(cancellationToken))
                byId[task.Id] = task;
        var keys = predictions.Where(p => p.TaskId is null && p.Key is not null).Select(p => p.Key!).ToHashSet(StringComparer.Ordinal);
        var byKey = keys.Count == 0 ? [] : await KeysAsync(project.Id, keys, cancellationToken);
        var rows = new List<Prediction>();
        var now = time.GetUtcNow();
        for (var i = 0; i < predictions.Count; i++)
        {
            var p = predictions[i];
            var at = $"predictions[{i}]";
            LabelingTask? task = null;
            if (p.TaskId is { } id && !byId.TryGetValue(id, out task)) errors[$"{at}.task"] = [$"Task {id} is not in this labeling project."];
            else if (p.TaskId is null && p.Key is { } key)
            {
                if (!byKey.TryGetValue(key, out var matches)) errors[$"{at}.key"] = [$"No task has the key '{key}'."];
                else if (matches.Count > 1) errors[$"{at}.key"] = [$"{matches.Count} tasks have the key '{key}'; name the task by id."];
                else task = matches[0];
            }
            else if (p.TaskId is null) errors[at] = ["Name the task by 'task' (id) or 'key'."];
            if (string.IsNullOrWhiteSpace(p.Model) || p.Model.Length > 200) errors[$"{at}.model"] = ["A model name of 1 to 200 characters is required."];
            if (p.ModelVersion is { Length: > 200 }) errors[$"{at}.modelVersion"] = ["A model version is at most 200 characters."];
            if (p.Score is { } score && (double.IsNaN(score) || score < 0 || score > 1)) errors[$"{at}.score"] = ["A score is between 0 and 1."];
            if (task is null) continue;
            try
            {
                AnnotationValidator.Validate(config, p.Result, LabelingProjects.Subject(task));
            }
            catch (ValidationException e)
            {
                foreach (var (path, messages) in e.Errors) errors[$"{at}{path["result".Length..].Insert(0, ".result")}"] = messages;
                continue;
            }
            rows.Add(new Prediction
            {
                LabelingProjectId = project.Id, TaskId = task.Id, Model = p.Model.Trim(), ModelVersion = p.ModelVersion, ResultJson = p.Result.GetRawText(), Score = p.Score, CreatedAt = now,
            });
        }
        if (errors.Count > 0) throw new ValidationException(errors);
        using var gated = await gate.EnterAsync(db, cancellationToken);
        db.Predictions.AddRange(rows);
        await db.SaveChangesAsync(cancellationToken);
        db.ChangeTracker.Clear();
        return rows;
    }

    /// <summary>
    /// Adds the file's tasks and their predictions in one transaction: ordinals are reserved by the same conditional
    /// update as any task insert, and a failure anywhere rolls everything back. Annotations a file carries are
    /// stored as predictions of <paramref name="annotationModel"/> (the annotator, when named, as its version): Cube's
    /// annotations are only ever made by its annotators.
    /// </summary>
    public async Task<(int Tasks, int Predictions)> ImportAsync(LabelingProject project, IReadOnlyList<InterchangeTask> tasks, string annotationModel, CancellationToken cancellationToken)
    {
        if (tasks.Count == 0) throw new UnprocessableException("The file holds no tasks.");
        var now = time.GetUtcNow();
        using var gated = await gate.EnterAsync(db, cancellationToken);
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        await db.Projects.Where(p => p.Id == project.Id)
            .ExecuteUpdateAsync(s => s.SetProperty(p => p.NextOrdinal, p => p.NextOrdinal + tasks.Count), cancellationToken);
        var ordinal = await db.Projects.Where(p => p.Id == project.Id).Select(p => p.NextOrdinal).FirstAsync(cancellationToken) - tasks.Count;
        var predictions = 0;
        foreach (var task in tasks)
        {
            var data = (JsonObject)task.Data.DeepClone();
            if (task.Key is not null && data["key"] is null) data["key"] = task.Key;
            var row = new LabelingTask
            {
                LabelingProjectId = project.Id, Ordinal = ordinal++, RandomKey = Random.Shared.Next(), DataJson = data.ToJsonString(),
                Required = project.Overlap, CreatedAt = now,
            };
            db.Tasks.Add(row);
            foreach (var p in task.Predictions)
                db.Predictions.Add(new Prediction { LabelingProjectId = project.Id, TaskId = row.Id, Model = Clip(p.Source) ?? "import", ResultJson = p.Result.ToJsonString(), Score = p.Score, CreatedAt = now });
            foreach (var a in task.Annotations)
                db.Predictions.Add(new Prediction { LabelingProjectId = project.Id, TaskId = row.Id, Model = annotationModel, ModelVersion = Clip(a.Source), ResultJson = a.Result.ToJsonString(), CreatedAt = now });
            predictions += task.Predictions.Count + task.Annotations.Count;
        }
        await db.SaveChangesAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        db.ChangeTracker.Clear();
        return (tasks.Count, predictions);
    }

    /// <summary>
    /// Stores a model's new predictions for a set of tasks in place of that model's earlier ones on the same tasks, in
    /// one transaction, so a re-run never piles predictions up nor leaves a scored task without one midway. Predictions
    /// on tasks outside <paramref name="taskIds"/> stay: those are what annotators of already labelled tasks were shown.
    /// </summary>
    public async Task ReplaceAsync(Guid labelingId, string model, IReadOnlyCollection<Guid> taskIds, IReadOnlyList<Prediction> rows, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        foreach (var row in rows)
        {
            if (row.LabelingProjectId != labelingId || row.Model != model || !taskIds.Contains(row.TaskId))
                throw new InvalidOperationException($"Prediction for task {row.TaskId} is not one of model {model}'s replacements in labeling project {labelingId}.");
            row.CreatedAt = now;
        }
        var ids = taskIds.ToList();
        using var gated = await gate.EnterAsync(db, cancellationToken);
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        await db.Predictions.Where(p => p.LabelingProjectId == labelingId && p.Model == model && ids.Contains(p.TaskId)).ExecuteDeleteAsync(cancellationToken);
        db.Predictions.AddRange(rows);
        await db.SaveChangesAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        db.ChangeTracker.Clear();
    }

    public Task<List<Prediction>> ForTaskAsync(Guid taskId, CancellationToken cancellationToken) =>
        db.Predictions.AsNoTracking().Where(p => p.TaskId == taskId).OrderByDescending(p => p.Score).ThenBy(p => p.Id).ToListAsync(cancellationToken);

    private static string? Clip(string? value) => value is null ? null : value.Length <= 200 ? value : value[..200];

    /// <summary>Tasks by external key, read a page at a time so only the keys asked for are held.</summary>
    private async Task<Dictionary<string, List<LabelingTask>>> KeysAsync(Guid projectId, HashSet<string> keys, CancellationToken cancellationToken)
    {
        var found = new Dictionary<string, List<LabelingTask>>(StringComparer.Ordinal);
        long after = -1;
        while (true)
        {
            var page = await db.Tasks.AsNoTracking().Where(t => t.LabelingProjectId == projectId && t.Ordinal > after).OrderBy(t => t.Ordinal).Take(5_000).ToListAsync(cancellationToken);
            if (page.Count == 0) return found;
            foreach (var task in page)
            {
                using var data = JsonDocument.Parse(task.DataJson);
                var key = data.RootElement.TryGetProperty("key", out var k) && k.ValueKind == JsonValueKind.String ? k.GetString()
                    : data.RootElement.TryGetProperty("image", out var image) && image.ValueKind == JsonValueKind.String ? image.GetString() : null;
                if (key is null || !keys.Contains(key)) continue;
                if (!found.TryGetValue(key, out var list)) found[key] = list = [];
                list.Add(task);
            }
            after = page[^1].Ordinal;
        }
    }
}
