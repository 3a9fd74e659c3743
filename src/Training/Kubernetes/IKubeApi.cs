using System.Text.Json;

namespace Cube.Training.Kubernetes;

/// <summary>A list response: the items and the collection's resourceVersion to watch from.</summary>
public sealed record KubeList(IReadOnlyList<JsonElement> Items, string ResourceVersion);

/// <summary>One watch event: ADDED, MODIFIED, DELETED or BOOKMARK, with the object.</summary>
public sealed record KubeWatchEvent(string Type, JsonElement Object);

/// <summary>The API server said 410 Gone: the resourceVersion watched from is too old; list again.</summary>
public sealed class KubeGoneException(string message) : Exception(message);

/// <summary>An API call the server refused, with its HTTP status and the Status message.</summary>
public sealed class KubeApiException(int statusCode, string message) : Exception(message)
{
    public int StatusCode { get; } = statusCode;
}

/// <summary>
/// The few Kubernetes API calls the training executor makes, owned by this module so the executor's logic is
/// independent of the client library. <see cref="KubernetesClientApi"/> is the adapter over KubernetesClient.
/// </summary>
public interface IKubeApi
{
    /// <summary>Creates the object; throws <see cref="KubeApiException"/> with 409 when it already exists.</summary>
    Task CreateAsync(KubeObject obj, string ns, CancellationToken cancellationToken);

    Task<KubeList> ListAsync(KubeResource resource, string ns, string? fieldSelector, string? labelSelector, CancellationToken cancellationToken);

    /// <summary>Watches from <paramref name="resourceVersion"/>; ends when the server closes the stream; throws <see cref="KubeGoneException"/> on 410.</summary>
    IAsyncEnumerable<KubeWatchEvent> WatchAsync(KubeResource resource, string ns, string? fieldSelector, string resourceVersion, CancellationToken cancellationToken);

    /// <summary>Deletes the object and, in the background, what it owns; a missing object is not an error.</summary>
    Task DeleteAsync(KubeResource resource, string ns, string name, CancellationToken cancellationToken);

    /// <summary>Follows a container's log until the container ends.</summary>
    Task<Stream> FollowLogAsync(string ns, string pod, string container, CancellationToken cancellationToken);
}
