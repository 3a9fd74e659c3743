using Cube.Training.Data;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Cube.Training.Search;

/// <summary>
/// Moves every open study on at <see cref="TrainingOptions.StudyPollInterval"/>: the safety net behind the pass a trial's
/// end triggers, and what carries studies on after a restart (their state is in the database, nothing in memory).
/// </summary>
public sealed class StudyScheduler(IServiceScopeFactory scopes, IOptions<TrainingOptions> options, TimeProvider time, ILogger<StudyScheduler> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            using var timer = new PeriodicTimer(options.Value.StudyPollInterval, time);
            do
            {
                await PassAsync(stoppingToken);
            }
            while (await timer.WaitForNextTickAsync(stoppingToken));
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    /// <summary>One pass over the open studies; a failing study is logged and tried again next time.</summary>
    public async Task PassAsync(CancellationToken cancellationToken)
    {
        List<Guid> open;
        try
        {
            await using var scope = scopes.CreateAsyncScope();
            open = await scope.ServiceProvider.GetRequiredService<TrainingDbContext>().Studies.AsNoTracking()
                .Where(s => s.State == StudyState.Running || s.State == StudyState.Cancelling).OrderBy(s => s.Id).Select(s => s.Id).ToListAsync(cancellationToken);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            logger.LogWarning(e, "Could not list open studies");
            return;
        }
        foreach (var id in open)
        {
            try
            {
                await using var scope = scopes.CreateAsyncScope();
                await scope.ServiceProvider.GetRequiredService<StudyService>().AdvanceAsync(id, cancellationToken);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                logger.LogWarning(e, "Study {StudyId} could not be advanced; trying again at the next tick", id);
            }
        }
    }
}
