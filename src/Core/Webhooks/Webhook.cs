using Microsoft.EntityFrameworkCore;

namespace Cube.Core.Webhooks;

/// <summary>A project's subscription: where to POST which events, signed with a secret only the receiver and Cube know.</summary>
public sealed class WebhookSubscription
{
    public Guid Id { get; set; } = Guid.CreateVersion7();
    public Guid ProjectId { get; set; }
    public required string Url { get; set; }
    /// <summary>Event types, space-separated (<c>annotation.created task.completed</c>).</summary>
    public required string Events { get; set; }
    public string? Description { get; set; }
    /// <summary>The signing secret, encrypted with the deployment's data-protection keys; never returned after creation.</summary>
    public required string ProtectedSecret { get; set; }
    public bool Active { get; set; } = true;
    public Guid CreatedBy { get; set; }
    public DateTimeOffset CreatedAt { get; set; }

    public IReadOnlyList<string> EventList => Events.Split(' ', StringSplitOptions.RemoveEmptyEntries);
}

/// <summary>
/// Something that happened in a project, written by the module in the same transaction as the change itself (the
/// outbox): if the change committed, the event exists, whatever happens to the process next. The dispatcher turns it
/// into one delivery per matching subscription.
/// </summary>
public sealed class WebhookEvent
{
    public Guid Id { get; set; } = Guid.CreateVersion7();
    public Guid ProjectId { get; set; }
    public required string Type { get; set; }
    public required string PayloadJson { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    /// <summary>Set for events that must happen once (a project completing); a second event with the same key is dropped.</summary>
    public string? DedupKey { get; set; }
    /// <summary>Fanned out into deliveries.</summary>
    public bool Dispatched { get; set; }

    /// <summary>
    /// The table mapping. Core's context owns the table and its migrations; a module context maps it too, excluded
    /// from its migrations, so the module can add events inside its own transactions.
    /// </summary>
    public static void Map(ModelBuilder modelBuilder, bool owned) => modelBuilder.Entity<WebhookEvent>(e =>
    {
        e.ToTable("core_webhook_events", t => { if (!owned) t.ExcludeFromMigrations(); });
        e.Property(x => x.Type).HasMaxLength(100);
        e.Property(x => x.DedupKey).HasMaxLength(200);
        e.HasIndex(x => x.DedupKey).IsUnique();
        e.HasIndex(x => new { x.Dispatched, x.CreatedAt });
    });
}

public enum WebhookDeliveryState
{
    Pending,
    Delivered,
    Failed,
}

/// <summary>One event on its way to one subscription, with its attempts.</summary>
public sealed class WebhookDelivery
{
    public Guid Id { get; set; } = Guid.CreateVersion7();
    public Guid SubscriptionId { get; set; }
    public Guid EventId { get; set; }
    public required string EventType { get; set; }
    public WebhookDeliveryState State { get; set; }
    public int Attempts { get; set; }
    /// <summary>When the next attempt is due; a worker claiming the delivery moves it forward (its lease).</summary>
    public DateTimeOffset NextAttemptAt { get; set; }
    public int? LastStatus { get; set; }
    public string? LastError { get; set; }
    public long? LastDurationMs { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset? DeliveredAt { get; set; }
}
