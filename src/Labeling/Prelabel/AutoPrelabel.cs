using Cube.Core.Runs;
using Cube.Labeling.Data;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;

namespace Cube.Labeling.Prelabel;

/// <summary>
/// Starts a built-in pre-label run each time a project with <see cref="LabelingProject.AutoPrelabelEvery"/> has gained
/// that many training labels (<see cref="TrainingLabels.Standing"/>) since the last automatic run, or since it was enabled.
/// </summary>
public sealed class AutoPrelabel(LabelingDbContext db, WriteGate gate, RunService runs, ILogger<AutoPrelabel> logger)
{
    /// <summary>
    /// Called after an annotation was submitted or accepted, with that annotation. Costs nothing for projects without the
    /// setting and one read by primary key for the others: the count is kept by the labels' own transactions, and the
    /// training labels are only loaded when the count has reached the mark and the label could bring a missing class.
    /// </summary>
    public async Task AfterLabelAsync(LabelingProject project, Annotation annotation)
    {
        if (project.AutoPrelabelEvery is null) return;
        // The label that triggered this is already committed and acknowledged: nothing here may fail the request, and a
        // client hanging up must not stop a run half-way between moving the mark and queuing.
        var cancellationToken = CancellationToken.None;
        try
        {
            var state = await db.Projects.AsNoTracking().Where(p => p.Id == project.Id)
                .Select(p => new { p.AutoPrelabelEvery, p.PrelabelMark, p.TrainingLabelCount, p.PrelabelSoleClass }).FirstOrDefaultAsync(cancellationToken);
            if (state?.AutoPrelabelEvery is not { } every) return;
            var count = state.TrainingLabelCount;
            if (count < state.PrelabelMark + every) return;
            // Two classes are needed to train; until then the mark stays, so the run starts as soon as they are there. A
            // class only appears in the training labels through a label that names it, so once the labels were found to
            // have one class, a label of that class alone cannot change the answer.
            if (state.PrelabelSoleClass is { } sole && TrainingLabels.Labels(annotation.ResultJson).All(l => l == sole)) return;
            var classes = (await TrainingLabels.LoadAsync(db, project, cancellationToken)).SelectMany(l => l.Labels).Distinct(StringComparer.Ordinal).Take(2).ToList();
            int moved;
            using (await gate.EnterAsync(db, cancellationToken))
            {
                if (classes.Count < 2)
                {
                    // Only while the mark is where this request read it: a request that saw two classes may have moved it.
                    await db.Projects.Where(p => p.Id == project.Id && p.PrelabelMark == state.PrelabelMark)
                        .ExecuteUpdateAsync(s => s.SetProperty(p => p.PrelabelSoleClass, classes.Count == 0 ? "" : classes[0]), cancellationToken);
                    return;
                }
                // Only the request that moves the mark from the value it read starts the run: concurrent submits
                // crossing the same threshold (in this process or another) start one run between them.
                moved = await db.Projects.Where(p => p.Id == project.Id && p.PrelabelMark == state.PrelabelMark)
                    .ExecuteUpdateAsync(s => s.SetProperty(p => p.PrelabelMark, count).SetProperty(p => p.PrelabelSoleClass, (string?)null), cancellationToken);
            }
            if (moved == 0) return;
            var run = await runs.EnqueueAsync(PrelabelHandler.RunKind, new PrelabelParameters(project.Id, PrelabelSource.Builtin), null, project.ProjectId, cancellationToken);
            logger.LogInformation("Labeling project {LabelingProjectId} reached {Count} training labels; pre-label run {RunId} queued", project.Id, count, run.Id);
        }
        catch (Exception e) when (e is System.Data.Common.DbException or DbUpdateException or InvalidOperationException or TimeoutException)
        {
            logger.LogWarning(e, "Automatic pre-labeling of labeling project {LabelingProjectId} could not be started", project.Id);
        }
    }
}
