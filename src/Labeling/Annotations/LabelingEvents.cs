using System.Text.Json;
using Cube.Core.Webhooks;
using Cube.Labeling.Data;
using Microsoft.EntityFrameworkCore;

namespace Cube.Labeling.Annotations;

/// <summary>The webhook events Labeling emits, and their payloads.</summary>
public static class LabelingEvents
{
    public static readonly WebhookEventType AnnotationCreated = new("annotation.created", "An annotator submitted an annotation.");
    public static readonly WebhookEventType AnnotationUpdated = new("annotation.updated", "A submitted annotation changed: edited by its annotator or corrected by a reviewer.");
    public static readonly WebhookEventType AnnotationReviewed = new("annotation.reviewed", "A reviewer accepted, rejected or corrected an annotation.");
    public static readonly WebhookEventType TaskCompleted = new("task.completed", "A task received all the annotations its overlap requires.");
    public static readonly WebhookEventType ProjectCompleted = new("project.completed", "Every task of a labeling project is complete (sent once per project).");

    public static IReadOnlyList<WebhookEventType> All { get; } = [AnnotationCreated, AnnotationUpdated, AnnotationReviewed, TaskCompleted, ProjectCompleted];

    public static object Annotation(LabelingProject project, Annotation annotation, JsonElement result) => new
    {
        labelingProjectId = project.Id,
        taskId = annotation.TaskId,
        annotationId = annotation.Id,
        annotatorId = annotation.AnnotatorId,
        version = annotation.Version,
        status = annotation.Status.ToString().ToLowerInvariant(),
        result,
        timeSpentMs = annotation.TimeSpentMs,
    };

    /// <summary>
    /// In the transaction of a submit that completed a task: when no ordinary task is left incomplete, adds the
    /// project-completed event (once per project) to the pending changes, so it commits with the completion itself and
    /// a process dying right after the commit cannot lose it. Returns whether it added the event. Call it last before the
    /// commit: it holds the project row until then.
    /// </summary>
    public static async Task<bool> ProjectCompletedIfDoneAsync(LabelingDbContext db, WebhookOutbox outbox, LabelingProject project, CancellationToken cancellationToken)
    {
        // Completions take turns on the project row from here to their commit, so of two last tasks completing together
        // the later one sees the earlier one's commit: one of them records the event, and only one.
        await db.Projects.Where(p => p.Id == project.Id).ExecuteUpdateAsync(s => s.SetProperty(p => p.NextOrdinal, p => p.NextOrdinal), cancellationToken);
        if (await db.Tasks.AnyAsync(t => t.LabelingProjectId == project.Id && !t.IsGold && t.Completed < t.Required, cancellationToken)) return false;
        var key = $"{ProjectCompleted.Name}:{project.Id}";
        // Already sent when a rejected annotation's resubmit completes the project a second time.
        if (await db.Set<WebhookEvent>().AnyAsync(e => e.DedupKey == key, cancellationToken)) return false;
        var tasks = await db.Tasks.CountAsync(t => t.LabelingProjectId == project.Id && !t.IsGold, cancellationToken);
        outbox.Add(db, project.ProjectId, ProjectCompleted.Name, new { labelingProjectId = project.Id, name = project.Name, tasks }, dedupKey: key);
        return true;
    }
}
