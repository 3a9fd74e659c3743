using System.Net;
using System.Runtime.CompilerServices;
using System.Text.Json;
using k8s;
using k8s.Autorest;
using k8s.Models;

namespace Cube.Training.Kubernetes;

/// <summary><see cref="IKubeApi"/> over the official KubernetesClient library.</summary>
public sealed class KubernetesClientApi(IKubernetes client) : IKubeApi
{
    public async Task CreateAsync(KubeObject obj, string ns, CancellationToken cancellationToken)
    {
        await CallAsync(async () =>
        {
            if (obj.Resource == KubeResource.Service)
                await client.CoreV1.CreateNamespacedServiceAsync(KubernetesJson.Deserialize<V1Service>(obj.Body.ToJsonString()), ns, cancellationToken: cancellationToken);
            else
                await client.CustomObjects.CreateNamespacedCustomObjectAsync(obj.Body, obj.Resource.Group, obj.Resource.Version, ns, obj.Resource.Plural, cancellationToken: cancellationToken);
            return 0;
        });
    }

    public Task<KubeList> ListAsync(KubeResource resource, string ns, string? fieldSelector, string? labelSelector, CancellationToken cancellationToken) =>
        CallAsync(async () =>
        {
            JsonElement list;
            if (resource.Group.Length == 0)
            {
                // Core kinds (pods) are listed through the typed API and re-read as JSON so callers see one shape.
                var pods = await client.CoreV1.ListNamespacedPodAsync(ns, fieldSelector: fieldSelector, labelSelector: labelSelector, cancellationToken: cancellationToken);
                using var doc = JsonDocument.Parse(KubernetesJson.Serialize(pods));
                list = doc.RootElement.Clone();
            }
            else
            {
                list = await client.CustomObjects.ListNamespacedCustomObjectAsync<JsonElement>(resource.Group, resource.Version, ns, resource.Plural,
                    fieldSelector: fieldSelector, labelSelector: labelSelector, cancellationToken: cancellationToken);
            }
            var items = list.TryGetProperty("items", out var array) && array.ValueKind == JsonValueKind.Array ? array.EnumerateArray().Select(i => i.Clone()).ToList() : [];
            var version = list.TryGetProperty("metadata", out var meta) && meta.TryGetProperty("resourceVersion", out var rv) ? rv.GetString() ?? "" : "";
            return new KubeList(items, version);
        });

    public async IAsyncEnumerable<KubeWatchEvent> WatchAsync(KubeResource resource, string ns, string? fieldSelector, string resourceVersion,
        [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        Exception? failure = null;
        var events = client.CustomObjects.WatchListNamespacedCustomObjectAsync(resource.Group, resource.Version, ns, resource.Plural,
            allowWatchBookmarks: true, fieldSelector: fieldSelector, resourceVersion: resourceVersion, onError: e => failure ??= e, cancellationToken: cancellationToken);
        await foreach (var (type, item) in events)
            yield return new KubeWatchEvent(type.ToString().ToUpperInvariant(), item is JsonElement json ? json : JsonSerializer.SerializeToElement(item));
        switch (failure)
        {
            case null:
                break;
            // The server sends an ERROR event whose object is a Status with code 410 when the version is too old.
            case KubernetesException { Status.Code: 410 } gone:
                throw new KubeGoneException(gone.Status.Message ?? "resourceVersion too old");
            case HttpOperationException { Response.StatusCode: HttpStatusCode.Gone }:
                throw new KubeGoneException("resourceVersion too old");
            case OperationCanceledException when cancellationToken.IsCancellationRequested:
                throw failure;
            case HttpOperationException http:
                throw new KubeApiException((int)http.Response.StatusCode, http.Response.Content);
            default:
                throw new KubeApiException(0, failure.Message);
        }
    }

    public async Task DeleteAsync(KubeResource resource, string ns, string name, CancellationToken cancellationToken)
    {
        var options = new V1DeleteOptions { PropagationPolicy = "Background" };
        try
        {
            await CallAsync(async () =>
            {
                if (resource == KubeResource.Service) await client.CoreV1.DeleteNamespacedServiceAsync(name, ns, options, cancellationToken: cancellationToken);
                else await client.CustomObjects.DeleteNamespacedCustomObjectAsync(resource.Group, resource.Version, ns, resource.Plural, name, options, cancellationToken: cancellationToken);
                return 0;
            });
        }
        catch (KubeApiException e) when (e.StatusCode == 404)
        {
            // Already gone: deleting is idempotent.
        }
    }

    public Task<Stream> FollowLogAsync(string ns, string pod, string container, CancellationToken cancellationToken) =>
        CallAsync(() => client.CoreV1.ReadNamespacedPodLogAsync(pod, ns, container: container, follow: true, cancellationToken: cancellationToken));

    private static async Task<T> CallAsync<T>(Func<Task<T>> call)
    {
        try
        {
            return await call();
        }
        catch (HttpOperationException e)
        {
            throw new KubeApiException((int)e.Response.StatusCode, $"{(int)e.Response.StatusCode} {StatusMessage(e.Response.Content)}");
        }
    }

    private static string StatusMessage(string? body)
    {
        if (string.IsNullOrEmpty(body)) return "(no body)";
        try
        {
            using var doc = JsonDocument.Parse(body);
            return doc.RootElement.TryGetProperty("message", out var m) ? m.GetString() ?? body : body;
        }
        catch (JsonException)
        {
            return body;
        }
    }
}
