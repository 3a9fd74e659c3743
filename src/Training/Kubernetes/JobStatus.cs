using System.Text.Json;

namespace Cube.Training.Kubernetes;

/// <summary>A job's state as read from its primary object's status.</summary>
public enum KubeJobPhase
{
    Pending,
    Running,
    Succeeded,
    Failed,
}

/// <summary>Maps each kind's status to one phase: PyTorchJob and batch/v1 Job conditions, Volcano's <c>status.state.phase</c>.</summary>
public static class JobStatus
{
    public static (KubeJobPhase Phase, string? Message) Read(KubeResource resource, JsonElement obj)
    {
        if (!obj.TryGetProperty("status", out var status) || status.ValueKind != JsonValueKind.Object) return (KubeJobPhase.Pending, null);
        if (resource == KubeResource.VolcanoJob)
        {
            if (!status.TryGetProperty("state", out var state) || !state.TryGetProperty("phase", out var phaseNode)) return (KubeJobPhase.Pending, null);
            var message = state.TryGetProperty("message", out var m) ? m.GetString() : null;
            return phaseNode.GetString() switch
            {
                "Completed" => (KubeJobPhase.Succeeded, message),
                "Failed" or "Aborted" or "Terminated" => (KubeJobPhase.Failed, message ?? $"Volcano reports the job {phaseNode.GetString()!.ToLowerInvariant()}."),
                "Running" or "Completing" or "Restarting" => (KubeJobPhase.Running, message),
                _ => (KubeJobPhase.Pending, message),
            };
        }

        var conditions = status.TryGetProperty("conditions", out var c) && c.ValueKind == JsonValueKind.Array ? c.EnumerateArray().ToList() : [];
        bool Holds(string type, out string? text)
        {
            foreach (var condition in conditions)
            {
                if (condition.TryGetProperty("type", out var t) && t.GetString() == type
                    && condition.TryGetProperty("status", out var s) && s.GetString() == "True")
                {
                    text = condition.TryGetProperty("message", out var msg) ? msg.GetString() : condition.TryGetProperty("reason", out var reason) ? reason.GetString() : null;
                    return true;
                }
            }
            text = null;
            return false;
        }

        if (Holds("Failed", out var failed)) return (KubeJobPhase.Failed, failed ?? "The job failed.");
        // batch/v1 reports Complete (and SuccessCriteriaMet); Kubeflow reports Succeeded.
        if (Holds("Succeeded", out var done) || Holds("Complete", out done)) return (KubeJobPhase.Succeeded, done);
        if (resource == KubeResource.BatchJob)
            return status.TryGetProperty("active", out var active) && active.GetInt32() > 0 ? (KubeJobPhase.Running, null) : (KubeJobPhase.Pending, null);
        if (Holds("Running", out var running)) return (KubeJobPhase.Running, running);
        if (Holds("Restarting", out var restarting)) return (KubeJobPhase.Running, restarting);
        return (KubeJobPhase.Pending, Holds("Created", out var created) ? created : null);
    }
}
