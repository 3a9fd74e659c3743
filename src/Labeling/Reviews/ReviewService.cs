using System.Text.Json;
using Cube.Core.Errors;
using Cube.Core.Webhooks;
using Cube.Labeling.Annotations;
using Cube.Labeling.Configs;
using Cube.Labeling.Data;
using Cube.Labeling.Distribution;
using Cube.Labeling.Hosting;
using Cube.Labeling.Prelabel;
using Cube.Labeling.Projects;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Cube.Labeling.Reviews;

/// <summary>A reviewer's decision: accept; reject with a comment (the work returns to its annotator); or correct and accept.</summary>
public sealed record ReviewInput(ReviewDecision Decision, string? Comment, JsonElement? CorrectedResult);

public sealed class ReviewService(LabelingDbContext db, History history, [FromKeyedServices(LabelingClock.Key)] TimeProvider time, WriteGate gate,
    WebhookOutbox outbox)
{
    public async Task<(Annotation Annotation, Data.Review Review)> ReviewAsync(LabelingProject project, Guid annotationId, Guid reviewerId, ReviewInput input,
        long? expectedVersion, CancellationToken cancellationToken)
    {
        var annotation = await db.Annotations.FirstOrDefaultAsync(a => a.Id == annotationId && a.LabelingProjectId == project.Id, cancellationToken)
            ?? throw new NotFoundException("Annotation", annotationId.ToString());
        if (expectedVersion is { } expected && expected != annotation.Version)
            throw new PreconditionFailedException($"The annotation changed since it was read (current ETag {Core.Apis.ETags.For(annotation.Version)}); read it again and retry.");
        if (annotation.AnnotatorId == reviewerId) throw new ForbiddenException("Reviewers cannot review their own annotations.");
        if (annotation.Status != AnnotationStatus.Submitted)
            throw new ConflictException($"Only submitted annotations can be reviewed; this one is {annotation.Status.ToString().ToLowerInvariant()}.");
        var comment = input.Comment?.Trim();
        if (comment is { Length: > 4000 }) throw new ValidationException("comment", "Comments are at most 4000 characters.");
        var now = time.GetUtcNow();
        var review = new Data.Review
        {
            LabelingProjectId = project.Id, AnnotationId = annotation.Id, TaskId = annotation.TaskId, ReviewerId = reviewerId,
            Decision = input.Decision, Comment = string.IsNullOrEmpty(comment) ? null : comment, CreatedAt = now,
        };
        var stood = TrainingLabels.Stands(annotation);
        using var gated = await gate.EnterAsync(db, cancellationToken);
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        switch (input.Decision)
        {
            case ReviewDecision.Accept:
                annotation.Status = AnnotationStatus.Accepted;
                annotation.ReviewState = ReviewState.Accepted;
                break;
            case ReviewDecision.Correct:
                if (input.CorrectedResult is not { ValueKind: JsonValueKind.Object } corrected)
                    throw new ValidationException("result", "A correction needs the corrected result.");
                var task = await db.Tasks.AsNoTracking().FirstAsync(t => t.Id == annotation.TaskId, cancellationToken);
                AnnotationValidator.Validate(LabelingProjects.Config(project), corrected, LabelingProjects.Subject(task));
                review.CorrectedResultJson = corrected.GetRawText();
                annotation.ResultJson = review.CorrectedResultJson;
                annotation.Status = AnnotationStatus.Accepted;
                annotation.ReviewState = ReviewState.Corrected;
                break;
            default:
                if (review.Comment is null) throw new ValidationException("comment", "Say why the annotation is rejected; the annotator sees the comment.");
                // The work goes back to the same annotator: their slot stays reserved, the completed count drops until they resubmit.
                var returned = await db.Assignments.Where(a => a.TaskId == annotation.TaskId && a.AnnotatorId == annotation.AnnotatorId && a.Status == AssignmentStatus.Submitted)
                    .ExecuteUpdateAsync(s => s.SetProperty(a => a.Status, AssignmentStatus.Returned).SetProperty(a => a.FinishedAt, now), cancellationToken);
                if (returned == 0) throw new ConflictException("The annotation is no longer submitted; read it again.");
                await db.Tasks.Where(t => t.Id == annotation.TaskId && t.Completed > 0)
                    .ExecuteUpdateAsync(s => s.SetProperty(t => t.Completed, t => t.Completed - 1), cancellationToken);
                annotation.Status = AnnotationStatus.Rejected;
                annotation.ReviewState = ReviewState.Rejected;
                break;
        }
        annotation.UpdatedAt = now;
        annotation.Version++;
        db.Reviews.Add(review);
        history.Add(project.Id, annotation.TaskId, annotation.Id, reviewerId, input.Decision switch
        {
            ReviewDecision.Accept => "accepted",
            ReviewDecision.Correct => "corrected",
            _ => "rejected",
        }, new { reviewId = review.Id, comment = review.Comment, correctedResult = input.CorrectedResult });
        outbox.Add(db, project.ProjectId, LabelingEvents.AnnotationReviewed.Name, new
        {
            labelingProjectId = project.Id, taskId = annotation.TaskId, annotationId = annotation.Id, reviewId = review.Id, reviewerId,
            decision = input.Decision.ToString().ToLowerInvariant(), comment = review.Comment,
        });
        if (input.Decision == ReviewDecision.Correct)
            outbox.Add(db, project.ProjectId, LabelingEvents.AnnotationUpdated.Name, LabelingEvents.Annotation(project, annotation, input.CorrectedResult!.Value));
        try
        {
            await db.SaveChangesAsync(cancellationToken);
        }
        catch (DbUpdateConcurrencyException)
        {
            throw new PreconditionFailedException("The annotation changed while this review ran; read it again and retry.");
        }
        await TrainingLabels.CountAsync(db, project, stood, annotation, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        outbox.Committed();
        return (annotation, review);
    }
}
