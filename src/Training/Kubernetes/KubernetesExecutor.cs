using System.Text.Json;
using Cube.Training.Execution;
using Cube.Training.Specs;
using Microsoft.Extensions.Logging;

namespace Cube.Training.Kubernetes;

/// <summary>
/// Runs a job on Kubernetes: creates the rendered objects, follows the primary object's status with List+Watch
/// (listing again when the watch says 410 Gone), streams every pod's log, and deletes the objects when cancelled.
/// </summary>
public sealed class KubernetesExecutor(Func<IKubeApi> apiFactory, TrainingKubernetesOptions options, TimeProvider time, ILogger<KubernetesExecutor> logger) : ITrainingExecutor
{
    public bool Handles(Distribution distribution) => distribution != Distribution.Local;

    public async Task<ExecutionResult> ExecuteAsync(JobSpec spec, JobContext context, IJobObserver observer, CancellationToken cancellationToken)
    {
        var api = apiFactory();
        var job = ManifestRenderer.Render(spec, context, options.Namespace);
        using var gate = new SemaphoreSlim(1, 1);
        var sink = new SerialObserver(observer, gate);
        try
        {
            foreach (var obj in job.Objects)
            {
                try
                {
                    await api.CreateAsync(obj, job.Namespace, cancellationToken);
                }
                catch (KubeApiException e) when (e.StatusCode == 409)
                {
                    // A retry of the same run after a worker crash finds its own objects: adopt them.
                    await sink.StatusAsync($"{obj.Resource.Kind} {obj.Name} already exists; following it.", cancellationToken);
                }
            }
            await sink.StatusAsync($"Created {job.Primary.Resource.Kind} {job.Namespace}/{job.Name}.", cancellationToken);

            using var pollStop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            using var followStop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            var logs = FollowPodLogsAsync(api, job, sink, pollStop.Token, followStop.Token);
            ExecutionResult result;
            try
            {
                result = await WaitForEndAsync(api, job, sink, cancellationToken);
            }
            finally
            {
                // Stop looking for new pods (after one last look); log streams end by themselves when their containers
                // exit, and are cut after the drain time if they do not.
                await pollStop.CancelAsync();
                followStop.CancelAfter(options.LogDrainTime);
                await logs;
            }
            return result;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            foreach (var obj in job.Objects.Reverse())
            {
                try
                {
                    await api.DeleteAsync(obj.Resource, job.Namespace, obj.Name, CancellationToken.None);
                }
                catch (KubeApiException e)
                {
                    logger.LogWarning("Could not delete {Kind} {Namespace}/{Name} of a cancelled job: {Error}", obj.Resource.Kind, job.Namespace, obj.Name, e.Message);
                }
            }
            throw;
        }
    }

    private async Task<ExecutionResult> WaitForEndAsync(IKubeApi api, RenderedJob job, IJobObserver observer, CancellationToken cancellationToken)
    {
        var field = $"metadata.name={job.Name}";
        string? lastMessage = null;
        async Task<ExecutionResult?> ObserveAsync(JsonElement obj)
        {
            var (phase, message) = JobStatus.Read(job.Primary.Resource, obj);
            var line = $"{phase}{(message is null ? "" : ": " + message)}";
            if (line != lastMessage)
            {
                lastMessage = line;
                await observer.StatusAsync(line, cancellationToken);
            }
            return phase switch
            {
                KubeJobPhase.Succeeded => new ExecutionResult(true, 0, null),
                KubeJobPhase.Failed => new ExecutionResult(false, null, message ?? "The job failed."),
                _ => null,
            };
        }

        while (true)
        {
            // List first: it gives the current state and the version to watch from.
            var list = await api.ListAsync(job.Primary.Resource, job.Namespace, field, null, cancellationToken);
            if (list.Items.Count == 0) return new ExecutionResult(false, null, $"{job.Primary.Resource.Kind} {job.Namespace}/{job.Name} was deleted.");
            if (await ObserveAsync(list.Items[0]) is { } listed) return listed;
            var version = list.ResourceVersion;
            try
            {
                while (true)
                {
                    await foreach (var e in api.WatchAsync(job.Primary.Resource, job.Namespace, field, version, cancellationToken))
                    {
                        if (e.Object.TryGetProperty("metadata", out var meta) && meta.TryGetProperty("resourceVersion", out var rv) && rv.GetString() is { Length: > 0 } v)
                            version = v;
                        if (e.Type == "BOOKMARK") continue;
                        if (e.Type == "DELETED") return new ExecutionResult(false, null, $"{job.Primary.Resource.Kind} {job.Namespace}/{job.Name} was deleted.");
                        if (await ObserveAsync(e.Object) is { } watched) return watched;
                    }
                    // The server ends watches after a timeout; resume from the last version seen.
                }
            }
            catch (KubeGoneException)
            {
                await observer.StatusAsync("Watch expired (410 Gone); listing again.", cancellationToken);
            }
        }
    }

    /// <summary>Finds the job's pods as they appear and follows each one's log once it has started.</summary>
    private async Task FollowPodLogsAsync(IKubeApi api, RenderedJob job, IJobObserver observer, CancellationToken poll, CancellationToken follow)
    {
        var followed = new Dictionary<string, Task>(StringComparer.Ordinal);
        async Task LookAsync(CancellationToken cancellationToken)
        {
            var pods = await api.ListAsync(KubeResource.Pod, job.Namespace, null, job.PodSelector, cancellationToken);
            foreach (var pod in pods.Items)
            {
                var name = pod.GetProperty("metadata").GetProperty("name").GetString()!;
                var phase = pod.TryGetProperty("status", out var s) && s.TryGetProperty("phase", out var p) ? p.GetString() : null;
                if (phase is "Running" or "Succeeded" or "Failed" && !followed.ContainsKey(name))
                    followed[name] = FollowOneAsync(api, job.Namespace, name, observer, follow);
            }
        }

        try
        {
            while (!poll.IsCancellationRequested)
            {
                await LookAsync(poll);
                await Task.Delay(options.PodPollInterval, time, poll);
            }
        }
        catch (OperationCanceledException)
        {
        }
        catch (KubeApiException e)
        {
            logger.LogWarning("Listing the pods of {Job} failed: {Error}", job.Name, e.Message);
        }
        try
        {
            // Pods that finished between two looks still get their logs read.
            if (!follow.IsCancellationRequested) await LookAsync(follow);
        }
        catch (Exception e) when (e is OperationCanceledException or KubeApiException)
        {
        }
        await Task.WhenAll(followed.Values);
    }

    private async Task FollowOneAsync(IKubeApi api, string ns, string pod, IJobObserver observer, CancellationToken cancellationToken)
    {
        try
        {
            await using var stream = await api.FollowLogAsync(ns, pod, ManifestRenderer.ContainerName, cancellationToken);
            using var reader = new StreamReader(stream);
            while (await reader.ReadLineAsync(cancellationToken) is { } line)
            {
                if (MetricLine.TryParse(line, out var samples))
                    foreach (var sample in samples) await observer.MetricAsync(sample, cancellationToken);
                await observer.LogAsync(pod, line, cancellationToken);
            }
        }
        catch (OperationCanceledException)
        {
        }
        catch (Exception e) when (e is KubeApiException or IOException or HttpRequestException)
        {
            logger.LogWarning("The log stream of pod {Pod} broke: {Error}", pod, e.Message);
        }
    }

    /// <summary>Serialises calls from the status loop and the log followers into the one observer.</summary>
    private sealed class SerialObserver(IJobObserver inner, SemaphoreSlim gate) : IJobObserver
    {
        public ValueTask LogAsync(string source, string line, CancellationToken cancellationToken) => Locked(() => inner.LogAsync(source, line, cancellationToken));
        public ValueTask MetricAsync(MetricSample sample, CancellationToken cancellationToken) => Locked(() => inner.MetricAsync(sample, cancellationToken));
        public ValueTask StatusAsync(string message, CancellationToken cancellationToken) => Locked(() => inner.StatusAsync(message, cancellationToken));

        private async ValueTask Locked(Func<ValueTask> call)
        {
            await gate.WaitAsync(CancellationToken.None);
            try
            {
                await call();
            }
            finally
            {
                gate.Release();
            }
        }
    }
}
