using System.Globalization;
using Cube.Core.Data;
using Cube.Core.Errors;
using Cube.Core.Runs;
using Cube.Training.Data;
using Microsoft.EntityFrameworkCore;

namespace Cube.Training.Jobs;

/// <summary>
/// Per-project GPU quotas: a job that needs GPUs starts only when the project's running jobs leave room for it
/// and no older GPU job of the project is still waiting (first come, first served, so a large job is not starved
/// by a stream of small ones). Until then it stays queued and its message shows its position.
/// </summary>
/// <remarks>
/// Admission is a read followed by the write that marks the job running, so two jobs admitted in the same instant
/// on different workers can exceed the quota briefly; the next admissions see both.
/// </remarks>
internal static class GpuQueue
{
    public static async Task WaitForTurnAsync(TrainingDbContext db, CoreDbContext core, TrainingJob job, RunContext run, TimeSpan poll, TimeProvider time, CancellationToken cancellationToken)
    {
        if (job.Gpus == 0) return;
        string? last = null;
        while (true)
        {
            var quota = await db.Quotas.AsNoTracking().FirstOrDefaultAsync(q => q.ProjectId == job.ProjectId, cancellationToken);
            if (quota is null) return;
            if (job.Gpus > quota.MaxGpus)
                throw new UnprocessableException($"The job needs {job.Gpus} GPUs but the project's quota was lowered to {quota.MaxGpus}; it can never start.");
            var inUse = await db.Jobs.AsNoTracking().Where(j => j.ProjectId == job.ProjectId && j.State == JobState.Running).SumAsync(j => j.Gpus, cancellationToken);
            var older = await db.Jobs.AsNoTracking()
                .Where(j => j.ProjectId == job.ProjectId && j.State == JobState.Queued && j.Gpus > 0 && j.Id < job.Id)
                .Select(j => j.RunId).ToListAsync(cancellationToken);
            // A queued job whose run already ended (cancelled, or failed by recovery) holds no place in the queue.
            var ahead = older.Count == 0 ? 0 : await core.Runs.AsNoTracking()
                .CountAsync(r => older.Contains(r.Id) && (r.State == RunState.Queued || r.State == RunState.Running), cancellationToken);
            if (ahead == 0 && inUse + job.Gpus <= quota.MaxGpus) return;
            var message = string.Create(CultureInfo.InvariantCulture,
                $"Waiting for GPUs: position {ahead + 1} in the project's queue; {inUse} of {quota.MaxGpus} GPUs in use, this job needs {job.Gpus}.");
            if (message != last)
            {
                last = message;
                job.Message = message;
                await db.SaveChangesAsync(cancellationToken);
                await run.ReportAsync(0, message);
            }
            await Task.Delay(poll, time, cancellationToken);
        }
    }
}
