using System.Text.Json;
using Cube.Core;
using Cube.Core.Errors;
using Cube.Core.Runs;
using Cube.Core.Storage;
using Cube.DataHub.Blobs;
using Cube.DataHub.Data;
using Cube.Training.Data;
using Cube.Training.Execution;
using Cube.Training.MlNet;
using Cube.Training.Registry;
using Cube.Training.Specs;
using Cube.Training.Tracking;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Cube.Training.Jobs;

/// <summary>
/// Runs one training job as a Cube run: materialises its inputs (local jobs), hands it to the executor of its
/// distribution, records logs and metrics as they come, uploads what it wrote to its output directory as artifacts,
/// and ends the job in the state the executor reported.
/// </summary>
public sealed class TrainingJobHandler(IEnumerable<ITrainingExecutor> executors, IOptions<TrainingOptions> options, IOptions<CubeOptions> cube, TimeProvider time) : IRunHandler
{
    public const string RunKind = "training.job";

    public string Kind => RunKind;

    // Not idempotent: the training code has side effects Cube cannot see (a cluster job, external writes), so a run
    // whose worker died is failed with a reason rather than started again.
    public bool Idempotent => false;

    public async Task<object?> ExecuteAsync(RunContext context, CancellationToken cancellationToken)
    {
        var parameters = context.GetParameters<JobRunParameters>();
        var db = context.Services.GetRequiredService<TrainingDbContext>();
        var job = await db.Jobs.FirstOrDefaultAsync(j => j.Id == parameters.JobId, cancellationToken)
            ?? throw new NotFoundException("Training job", parameters.JobId.ToString());
        if (job.State is JobState.Cancelled) return new { jobId = job.Id, state = "cancelled" };
        var spec = JsonSerializer.Deserialize<JobSpec>(job.SpecJson, JobService.SpecJson)!;
        var executor = executors.FirstOrDefault(e => e.Handles(spec))
            ?? throw new UnprocessableException($"No executor for distribution '{job.Distribution}' is configured on this worker.");

        job.RunId = context.RunId;
        await GpuQueue.WaitForTurnAsync(db, context.Services.GetRequiredService<Core.Data.CoreDbContext>(), job, context, options.Value.QueuePollInterval, time, cancellationToken);
        job.State = JobState.Running;
        job.StartedAt = time.GetUtcNow();
        job.Message = "Starting";
        // Local processes report over REST with this token; cluster pods use stdout lines (a token there belongs in a Secret).
        var trackingToken = spec.Distribution == Distribution.Local ? JobTokens.Mint(job) : null;
        await db.SaveChangesAsync(cancellationToken);

        var root = options.Value.WorkDirectory is { Length: > 0 } configured ? configured : Path.Combine(cube.Value.DataPath, "training");
        var workDirectory = Path.Combine(root, job.Id.ToString("N"));
        var outputDirectory = Path.Combine(workDirectory, "outputs");
        Directory.CreateDirectory(outputDirectory);
        using var recorder = new JobRecorder(db, job, context, options.Value.MaxLogLines, time);
        using var stopFlusher = new CancellationTokenSource();
        var flusher = recorder.RunFlusherAsync(stopFlusher.Token);
        try
        {
            var inputs = await ResolveInputsAsync(context.Services, db, job, materialise: spec.Distribution == Distribution.Local && executor is not MlNetExecutor, workDirectory, cancellationToken);
            var jobContext = new JobContext(job.Id, context.RunId, job.ProjectId)
            {
                Inputs = inputs,
                OutputDirectory = spec.Distribution == Distribution.Local ? outputDirectory : null,
                WorkingDirectory = workDirectory,
                TrackingToken = trackingToken,
                TrackingUrl = trackingToken is null ? null : TrackingUrl(context.Services),
            };
            await context.ReportAsync(0, "Running");
            ExecutionResult result;
            try
            {
                result = await executor.ExecuteAsync(spec, jobContext, recorder, cancellationToken);
            }
            catch (OperationCanceledException)
            {
                await stopFlusher.CancelAsync();
                await flusher;
                await recorder.FlushAsync();
                job.State = JobState.Cancelled;
                job.FinishedAt = time.GetUtcNow();
                job.Message = "Cancelled";
                await db.SaveChangesAsync(CancellationToken.None);
                throw;
            }
            await stopFlusher.CancelAsync();
            await flusher;
            await recorder.FlushAsync();

            var artifacts = await UploadArtifactsAsync(context.Services.GetRequiredService<IObjectStore>(), db, job, outputDirectory, cancellationToken);
            job.ExitCode = result.ExitCode;
            job.FinishedAt = time.GetUtcNow();
            job.State = result.Succeeded ? JobState.Succeeded : JobState.Failed;
            job.Error = result.Error is { Length: > 4000 } error ? error[..4000] : result.Error;
            job.Message = result.Succeeded ? "Succeeded" : "Failed";
            int? modelVersion = null;
            if (result.Succeeded && result.Model is { } produced)
            {
                // Final before the registration's save, which writes the job too: a reader never sees a later message change.
                job.Message = $"Succeeded: model {produced.ModelName}";
                try
                {
                    // Saves the job's succeeded state and the new version together: a client never sees one without the other.
                    var version = await context.Services.GetRequiredService<ModelRegistry>().RegisterFromJobAsync(job, produced.ModelName, produced.ArtifactPath,
                        produced.Flavor, $"Trained by job '{job.Name}'", produced.SignatureJson, CancellationToken.None);
                    modelVersion = version.Number;
                }
                catch (CubeException e)
                {
                    // The registration was not saved: drop its pending rows and end the job failed, its artifact kept.
                    foreach (var entry in db.ChangeTracker.Entries().Where(e => e.Entity is not TrainingJob).ToList())
                        if (entry.State == EntityState.Added) entry.State = EntityState.Detached;
                        else if (entry.State == EntityState.Modified) await entry.ReloadAsync(CancellationToken.None);
                    job.State = JobState.Failed;
                    job.Error = $"The model could not be registered: {e.Message}";
                    job.Message = "Failed";
                    await db.SaveChangesAsync(CancellationToken.None);
                    throw new UnprocessableException($"Training job '{job.Name}' failed: {job.Error}");
                }
            }
            else await db.SaveChangesAsync(CancellationToken.None);
            if (job.State != JobState.Succeeded) throw new UnprocessableException($"Training job '{job.Name}' failed: {result.Error}");
            await context.ReportAsync(100, "Succeeded");
            return new { jobId = job.Id, state = "succeeded", artifacts, model = result.Model?.ModelName, modelVersion };
        }
        catch (Exception e) when (e is not OperationCanceledException && job.State == JobState.Running)
        {
            // The flusher shares the DbContext: stop it before writing the failure.
            await stopFlusher.CancelAsync();
            await flusher;
            job.State = JobState.Failed;
            job.FinishedAt = time.GetUtcNow();
            job.Error = e.Message.Length > 4000 ? e.Message[..4000] : e.Message;
            job.Message = "Failed";
            await db.SaveChangesAsync(CancellationToken.None);
            throw;
        }
        finally
        {
            await stopFlusher.CancelAsync();
            await flusher;
            TryDelete(workDirectory);
            if (job.StudyId is { } studyId) await AdvanceStudyAsync(context.Services, studyId);
        }
    }

    /// <summary>A trial ended: its study takes the next step now rather than at the scheduler's next tick.</summary>
    /// <summary>Where local jobs reach this server: the configured URL, else the first address it listens on.</summary>
    private string? TrackingUrl(IServiceProvider services)
    {
        if (options.Value.TrackingUrl is { Length: > 0 } configured) return configured.TrimEnd('/');
        var address = services.GetService<IServer>()?.Features.Get<IServerAddressesFeature>()?.Addresses.FirstOrDefault();
        if (address is null || !Uri.TryCreate(address.Replace("://+", "://0.0.0.0").Replace("://*", "://0.0.0.0"), UriKind.Absolute, out var uri)) return null;
        var host = uri.Host is "0.0.0.0" or "[::]" or "::" ? "127.0.0.1" : uri.Host;
        return $"{uri.Scheme}://{host}:{uri.Port}";
    }

    private static async Task AdvanceStudyAsync(IServiceProvider services, Guid studyId)
    {
        try
        {
            await using var scope = services.GetRequiredService<IServiceScopeFactory>().CreateAsyncScope();
            await scope.ServiceProvider.GetRequiredService<Search.StudyService>().AdvanceAsync(studyId, CancellationToken.None);
        }
        catch (Exception e)
        {
            // Best effort: the study scheduler's next tick does the same pass.
            services.GetRequiredService<ILogger<TrainingJobHandler>>().LogWarning(e, "Study {StudyId} could not be advanced after a trial ended", studyId);
        }
    }

    private static async Task<List<ResolvedInput>> ResolveInputsAsync(IServiceProvider services, TrainingDbContext db, TrainingJob job, bool materialise, string workDirectory, CancellationToken cancellationToken)
    {
        var rows = await db.Inputs.AsNoTracking().Where(i => i.JobId == job.Id).OrderBy(i => i.Name).ToListAsync(cancellationToken);
        var resolved = new List<ResolvedInput>();
        if (rows.Count == 0) return resolved;
        var hub = services.GetRequiredService<DataHubDbContext>();
        var blobs = services.GetRequiredService<BlobStore>();
        foreach (var row in rows)
        {
            string? local = null;
            if (materialise)
            {
                local = Path.Combine(workDirectory, "inputs", row.Name);
                Directory.CreateDirectory(local);
                var files = await hub.VersionFiles.AsNoTracking().Where(f => f.VersionId == row.VersionId).ToListAsync(cancellationToken);
                foreach (var file in files)
                {
                    var target = Path.GetFullPath(Path.Combine(local, file.Path));
                    // Version paths are validated at commit; this guards the write against any that escape the folder.
                    if (!target.StartsWith(local + Path.DirectorySeparatorChar, StringComparison.Ordinal)) continue;
                    Directory.CreateDirectory(Path.GetDirectoryName(target)!);
                    await using var source = await blobs.OpenAsync(file.Sha256, null, cancellationToken);
                    await using var destination = File.Create(target);
                    await source.CopyToAsync(destination, cancellationToken);
                }
            }
            resolved.Add(new ResolvedInput(row.Name, row.Dataset, row.VersionNumber, row.VersionId, local));
        }
        return resolved;
    }

    /// <summary>Artifacts live under training/{project}/jobs/{job}/ in the object store, outside DataHub's blob garbage collection.</summary>
    public static string ArtifactKey(Guid projectId, Guid jobId, string path) => $"training/{projectId:N}/jobs/{jobId:N}/{path}";

    private static async Task<int> UploadArtifactsAsync(IObjectStore store, TrainingDbContext db, TrainingJob job, string outputDirectory, CancellationToken cancellationToken)
    {
        if (!Directory.Exists(outputDirectory)) return 0;
        var count = 0;
        foreach (var file in Directory.EnumerateFiles(outputDirectory, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
        {
            var relative = Path.GetRelativePath(outputDirectory, file).Replace(Path.DirectorySeparatorChar, '/');
            var key = ArtifactKey(job.ProjectId, job.Id, relative);
            await using var content = File.OpenRead(file);
            var info = await store.PutAsync(key, content, cancellationToken);
            db.Artifacts.Add(new JobArtifact { JobId = job.Id, Path = relative, ObjectKey = key, Sha256 = info.Sha256 ?? "", Size = info.Size });
            count++;
        }
        await db.SaveChangesAsync(CancellationToken.None);
        return count;
    }

    private static void TryDelete(string directory)
    {
        try
        {
            if (Directory.Exists(directory)) Directory.Delete(directory, recursive: true);
        }
        catch (IOException)
        {
            // A scratch folder left behind is harmless; the next job uses its own.
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
