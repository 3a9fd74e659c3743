using System.Text.Json;
using Microsoft.EntityFrameworkCore;

namespace Cube.Core.Webhooks;

/// <summary>An event type a module emits, listed so subscriptions can be checked and the web app can offer them.</summary>
public sealed record WebhookEventType(string Name, string Description);

/// <summary>How modules emit events: inside their own transaction, then a nudge to the dispatcher once committed.</summary>
public sealed class WebhookOutbox(WebhookSignal signal, TimeProvider time)
{
    /// <summary>Sent by the test endpoint; always available.</summary>
    public static readonly WebhookEventType Ping = new("ping", "A test event sent on request.");

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    /// <summary>
    /// Adds the event to <paramref name="db"/>'s pending changes; it is written by the caller's next SaveChanges, in the
    /// caller's transaction. The context must map <see cref="WebhookEvent"/> (see <see cref="WebhookEvent.Map"/>).
    /// </summary>
    public WebhookEvent Add(DbContext db, Guid projectId, string type, object data, string? dedupKey = null)
    {
        var e = new WebhookEvent
        {
            ProjectId = projectId, Type = type, PayloadJson = JsonSerializer.Serialize(data, Json), CreatedAt = time.GetUtcNow(), DedupKey = dedupKey,
        };
        db.Set<WebhookEvent>().Add(e);
        return e;
    }

    /// <summary>Tells this process's dispatcher that committed events are waiting (others find them by polling).</summary>
    public void Committed() => signal.Notify();
}

/// <summary>Wakes the dispatcher early; several notifications before it wakes count as one.</summary>
public sealed class WebhookSignal
{
    private readonly SemaphoreSlim _semaphore = new(0, 1);

    public void Notify()
    {
        // Most notifications find one already pending (every submit sends one); skip those without the cost of a throw.
        if (_semaphore.CurrentCount > 0) return;
        try
        {
            _semaphore.Release();
        }
        catch (SemaphoreFullException)
        {
            // A concurrent notification got there first.
        }
    }

    /// <summary>Returns after a notification or the timeout.</summary>
    public Task WaitAsync(TimeSpan timeout, CancellationToken cancellationToken) => _semaphore.WaitAsync(timeout, cancellationToken);
}
