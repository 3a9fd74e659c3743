using System.Text.Json;
using Cube.Core.Errors;
using Cube.Core.Webhooks;
using Cube.Labeling.Configs;
using Cube.Labeling.Data;
using Cube.Labeling.Distribution;
using Cube.Labeling.Hosting;
using Cube.Labeling.Prelabel;
using Cube.Labeling.Projects;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Cube.Labeling.Annotations;

/// <summary>What an annotator sends: the result, whether it is only a draft (autosave), and the time spent since the last save.</summary>
public sealed record AnnotationInput(JsonElement Result, bool Draft, long TimeSpentMs);

/// <summary>
/// Drafts, submits, updates and skips. Every change commits in one transaction before the caller answers, so an
/// acknowledged submit is durable; versions guard against lost updates (the ETag, checked with If-Match).
/// </summary>
public sealed class AnnotationService(LabelingDbContext db, History history, [FromKeyedServices(LabelingClock.Key)] TimeProvider time, WriteGate gate,
    WebhookOutbox outbox)
{
    public const long MaxTimeSpentMs = 24L * 3600 * 1000;

    // The reads every submit makes, compiled once (see Distributor).
    private static readonly PerModel<Func<LabelingDbContext, Guid, Guid, Guid, CancellationToken, Task<Lease?>>> OwnedQuery = new(() => EF.CompileAsyncQuery(
        (LabelingDbContext db, Guid projectId, Guid taskId, Guid annotatorId, CancellationToken _) => db.Assignments.AsNoTracking()
            .Where(a => a.TaskId == taskId && a.AnnotatorId == annotatorId && a.LabelingProjectId == projectId)
            .Join(db.Tasks.AsNoTracking(), a => a.TaskId, t => t.Id, (a, t) => new Lease(a, t))
            .FirstOrDefault()));

    private static readonly PerModel<Func<LabelingDbContext, Guid, Guid, CancellationToken, Task<Annotation?>>> TrackedAnnotationQuery = new(() => EF.CompileAsyncQuery(
        (LabelingDbContext db, Guid taskId, Guid annotatorId, CancellationToken _) => db.Annotations.FirstOrDefault(a => a.TaskId == taskId && a.AnnotatorId == annotatorId)));

    private static readonly PerModel<Func<LabelingDbContext, Guid, CancellationToken, Task<int>>> CompletedQuery = new(() => EF.CompileAsyncQuery(
        (LabelingDbContext db, Guid taskId, CancellationToken _) => db.Tasks.Where(t => t.Id == taskId).Select(t => t.Completed).First()));

    /// <summary>The annotator's hold on the task; annotators only ever see tasks they were given, so anything else is 404.</summary>
    public async Task<(Assignment Assignment, LabelingTask Task)> OwnAsync(LabelingProject project, Guid taskId, Guid annotatorId, CancellationToken cancellationToken)
    {
        var owned = await OwnedQuery.For(db)(db, project.Id, taskId, annotatorId, cancellationToken) ?? throw new NotFoundException("Task", taskId.ToString());
        return (owned.Assignment, owned.Task);
    }

    public Task<Annotation?> FindAsync(Guid taskId, Guid annotatorId, CancellationToken cancellationToken) =>
        db.Annotations.AsNoTracking().FirstOrDefaultAsync(a => a.TaskId == taskId && a.AnnotatorId == annotatorId, cancellationToken);

    /// <summary>Saves a draft, submits, or updates a submitted annotation. <paramref name="expectedVersion"/> comes from If-Match.</summary>
    public async Task<Annotation> SaveAsync(LabelingProject project, Guid taskId, Guid annotatorId, AnnotationInput input, long? expectedVersion, CancellationToken cancellationToken)
    {
        if (input.TimeSpentMs is < 0 or > MaxTimeSpentMs) throw new ValidationException("timeSpentMs", $"Time spent must be between 0 and {MaxTimeSpentMs} ms.");
        var (assignment, task) = await OwnAsync(project, taskId, annotatorId, cancellationToken);
        if (input.Draft)
        {
            if (input.Result.ValueKind != JsonValueKind.Object) throw new ValidationException("result", "The result must be a JSON object.");
        }
        else
        {
            AnnotationValidator.Validate(LabelingProjects.Config(project), input.Result, LabelingProjects.Subject(task));
        }
        var now = time.GetUtcNow();
        using var gated = await gate.EnterAsync(db, cancellationToken);
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        var annotation = await TrackedAnnotationQuery.For(db)(db, taskId, annotatorId, cancellationToken);
        if (expectedVersion is { } expected && annotation?.Version != expected)
            throw new PreconditionFailedException($"The annotation changed since it was read (current ETag {(annotation is null ? "none" : Core.Apis.ETags.For(annotation.Version))}); read it again and retry.");
        string action;
        var taskCompleted = false;
        var stood = TrainingLabels.Stands(annotation);
        switch (annotation?.Status)
        {
            case AnnotationStatus.Accepted:
                throw new ConflictException("The annotation was accepted by a reviewer and can no longer change.");
            case AnnotationStatus.Skipped:
                throw new ConflictException("The task was skipped; it cannot be annotated any more.");
            case AnnotationStatus.Submitted when input.Draft:
                throw new ConflictException("The annotation is already submitted; send an update (draft: false) instead.");
            case AnnotationStatus.Submitted:
                action = "updated";
                break;
            default:
                if (input.Draft)
                {
                    // Drafts need the live lease (or returned work), like submits, so autosave cannot revive a lost task.
                    if (!(assignment.Status == AssignmentStatus.Returned || (assignment.Status == AssignmentStatus.Active && assignment.ExpiresAt >= now)))
                        throw LeaseEnded(assignment);
                    action = "draft-saved";
                    break;
                }
                // The slot turns into a completed annotation only while the lease is live: expiry and submit race
                // through this one conditional update, and exactly one of them wins.
                var finished = await db.Assignments
                    .Where(a => a.Id == assignment.Id && (a.Status == AssignmentStatus.Returned || (a.Status == AssignmentStatus.Active && a.ExpiresAt >= now)))
                    .ExecuteUpdateAsync(s => s.SetProperty(a => a.Status, AssignmentStatus.Submitted).SetProperty(a => a.FinishedAt, now), cancellationToken);
                if (finished == 0) throw LeaseEnded(assignment);
                var counted = await db.Tasks.Where(t => t.Id == taskId && t.Completed < t.Reserved)
                    .ExecuteUpdateAsync(s => s.SetProperty(t => t.Completed, t => t.Completed + 1), cancellationToken);
                if (counted == 0) throw new ConflictException("The task already has all the annotations it needs.");
                // Row-locked by the update above: exactly one transaction sees the count reach the overlap.
                taskCompleted = !task.IsGold && await CompletedQuery.For(db)(db, taskId, cancellationToken) >= task.Required;
                action = "submitted";
                break;
        }
        if (annotation is null)
        {
            annotation = new Annotation { LabelingProjectId = project.Id, TaskId = taskId, AnnotatorId = annotatorId, CreatedAt = now, Version = 0 };
            db.Annotations.Add(annotation);
        }
        annotation.ResultJson = input.Result.GetRawText();
        annotation.TimeSpentMs = Math.Min(MaxTimeSpentMs, annotation.TimeSpentMs + input.TimeSpentMs);
        annotation.UpdatedAt = now;
        annotation.Version++;
        if (!input.Draft)
        {
            annotation.SubmittedAt ??= now;
            if (annotation.Status != AnnotationStatus.Submitted)
                annotation.ReviewState = annotation.Status == AnnotationStatus.Rejected || Random.Shared.NextDouble() < project.ReviewRate
                    ? ReviewState.Pending : ReviewState.NotSampled;
            annotation.Status = AnnotationStatus.Submitted;
        }
        else annotation.Status = AnnotationStatus.Draft;
        history.Add(project.Id, taskId, annotation.Id, annotatorId, action, new { version = annotation.Version, result = input.Result, timeSpentMs = input.TimeSpentMs });
        if (action is "submitted" or "updated")
            outbox.Add(db, project.ProjectId, action == "submitted" ? LabelingEvents.AnnotationCreated.Name : LabelingEvents.AnnotationUpdated.Name,
                LabelingEvents.Annotation(project, annotation, input.Result));
        if (taskCompleted) outbox.Add(db, project.ProjectId, LabelingEvents.TaskCompleted.Name, new { labelingProjectId = project.Id, taskId, required = task.Required });
        await SaveChangesAsync(cancellationToken);
        // Both take the project row until the commit, so they come last.
        await TrainingLabels.CountAsync(db, project, stood, annotation, cancellationToken);
        if (taskCompleted && await LabelingEvents.ProjectCompletedIfDoneAsync(db, outbox, project, cancellationToken)) await SaveChangesAsync(cancellationToken);
        // Committed before the response is written: an acknowledged submit survives the server dying right after, and
        // so do the events it caused.
        await transaction.CommitAsync(cancellationToken);
        if (action is "submitted" or "updated") outbox.Committed();
        return annotation;
    }

    /// <summary>Gives the task back with a reason; the slot returns to the pool and the annotator never gets the task again.</summary>
    public async Task<Annotation> SkipAsync(LabelingProject project, Guid taskId, Guid annotatorId, string reason, long timeSpentMs, CancellationToken cancellationToken)
    {
        if (string.IsNullOrWhiteSpace(reason) || reason.Length > 2000) throw new ValidationException("reason", "Give a reason for skipping (at most 2000 characters).");
        if (timeSpentMs is < 0 or > MaxTimeSpentMs) throw new ValidationException("timeSpentMs", $"Time spent must be between 0 and {MaxTimeSpentMs} ms.");
        var (assignment, _) = await OwnAsync(project, taskId, annotatorId, cancellationToken);
        var now = time.GetUtcNow();
        using var gated = await gate.EnterAsync(db, cancellationToken);
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        var ended = await db.Assignments
            .Where(a => a.Id == assignment.Id && (a.Status == AssignmentStatus.Returned || (a.Status == AssignmentStatus.Active && a.ExpiresAt >= now)))
            .ExecuteUpdateAsync(s => s.SetProperty(a => a.Status, AssignmentStatus.Skipped).SetProperty(a => a.FinishedAt, now), cancellationToken);
        if (ended == 0) throw LeaseEnded(assignment);
        await db.Tasks.Where(t => t.Id == taskId).ExecuteUpdateAsync(s => s.SetProperty(t => t.Reserved, t => t.Reserved - 1), cancellationToken);
        var annotation = await db.Annotations.FirstOrDefaultAsync(a => a.TaskId == taskId && a.AnnotatorId == annotatorId, cancellationToken);
        if (annotation is null)
        {
            annotation = new Annotation { LabelingProjectId = project.Id, TaskId = taskId, AnnotatorId = annotatorId, CreatedAt = now, Version = 0 };
            db.Annotations.Add(annotation);
        }
        annotation.Status = AnnotationStatus.Skipped;
        annotation.SkipReason = reason.Trim();
        annotation.ReviewState = ReviewState.NotSampled;
        annotation.TimeSpentMs = Math.Min(MaxTimeSpentMs, annotation.TimeSpentMs + timeSpentMs);
        annotation.UpdatedAt = now;
        annotation.Version++;
        history.Add(project.Id, taskId, annotation.Id, annotatorId, "skipped", new { reason = annotation.SkipReason });
        await SaveChangesAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return annotation;
    }

    private async Task SaveChangesAsync(CancellationToken cancellationToken)
    {
        try
        {
            await db.SaveChangesAsync(cancellationToken);
        }
        catch (DbUpdateConcurrencyException)
        {
            throw new PreconditionFailedException("The annotation changed while this request ran; read it again and retry.");
        }
        catch (DbUpdateException)
        {
            throw new ConflictException("The annotation was created by a concurrent request; read it again and retry.");
        }
    }

    private static ConflictException LeaseEnded(Assignment assignment) =>
        (ConflictException)new ConflictException(assignment.Status switch
        {
            AssignmentStatus.Skipped => "The task was skipped.",
            AssignmentStatus.Submitted => "The annotation is already submitted.",
            _ => "The lease on this task has expired and the task went back to the pool; ask for the next task.",
        }).With("leaseStatus", assignment.Status.ToString().ToLowerInvariant());
}
