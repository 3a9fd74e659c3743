using System.Security.Claims;
using Cube.Core.Data;
using Cube.Core.Errors;
using Cube.Core.Identity;
using Cube.Core.Net;
using Cube.Core.Projects;
using Cube.Core.Webhooks;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Cube.Core.Apis;

public sealed record WebhookEventTypeDto(string Name, string Description);

public sealed record CreateWebhookRequest(string Url, IReadOnlyList<string> Events, string? Description, string? Secret);

public sealed record UpdateWebhookRequest(string? Url, IReadOnlyList<string>? Events, string? Description, bool? Active);

/// <summary>A subscription as listed: the secret never appears after creation.</summary>
public sealed record WebhookDto(Guid Id, string Url, IReadOnlyList<string> Events, string? Description, bool Active, DateTimeOffset CreatedAt,
    WebhookDeliveryDto? LastDelivery);

/// <summary>The answer to creating a subscription or rotating its secret: the one time the secret is shown.</summary>
public sealed record WebhookWithSecretDto(WebhookDto Webhook, string Secret);

public sealed record WebhookDeliveryDto(Guid Id, Guid EventId, string EventType, string State, int Attempts, int? LastStatus, string? LastError,
    long? LastDurationMs, DateTimeOffset CreatedAt, DateTimeOffset? NextAttemptAt, DateTimeOffset? DeliveredAt);

/// <summary>Signed webhooks per project: managers subscribe URLs to event types and watch the deliveries.</summary>
public static class WebhooksApi
{
    public const int MaxSubscriptionsPerProject = 25;

    public static IEndpointRouteBuilder MapWebhooksApi(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapGet("/api/webhooks/events", ListEventTypes).WithTags("Webhooks").WithName("ListWebhookEventTypes")
            .WithSummary("Every event type a subscription can name.").RequireAuthorization(CubePolicies.User);
        // Signed-in users; every handler then requires the manager role (non-members get 404, so project names do not leak).
        var group = endpoints.MapGroup("/api/projects/{project}/webhooks").WithTags("Webhooks").RequireAuthorization(CubePolicies.User);
        group.MapGet("/", ListAsync).WithName("ListWebhooks").WithSummary("The project's webhook subscriptions with their last delivery.");
        group.MapPost("/", CreateAsync).WithName("CreateWebhook")
            .WithSummary("Subscribes a URL to event types. The answer holds the signing secret; it is not shown again.");
        group.MapGet("/{id:guid}", GetAsync).WithName("GetWebhook").WithSummary("One subscription.");
        group.MapPatch("/{id:guid}", UpdateAsync).WithName("UpdateWebhook").WithSummary("Changes the URL, events or description, or pauses and resumes it.");
        group.MapDelete("/{id:guid}", DeleteAsync).WithName("DeleteWebhook").WithSummary("Removes the subscription and its delivery log.");
        group.MapPost("/{id:guid}/rotate-secret", RotateSecretAsync).WithName("RotateWebhookSecret")
            .WithSummary("Replaces the signing secret; the answer holds the new one.");
        group.MapPost("/{id:guid}/ping", PingAsync).WithName("PingWebhook").WithSummary("Queues a signed test event to this subscription only.");
        group.MapGet("/{id:guid}/deliveries", ListDeliveriesAsync).WithName("ListWebhookDeliveries").WithSummary("Deliveries, newest first, with their attempts and last answer.");
        group.MapPost("/{id:guid}/deliveries/{deliveryId:guid}/redeliver", RedeliverAsync).WithName("RedeliverWebhook")
            .WithSummary("Sends a delivered or failed event again, as a new delivery with the same event id.");
        return endpoints;
    }

    private static Ok<List<WebhookEventTypeDto>> ListEventTypes(IEnumerable<WebhookEventType> types) =>
        TypedResults.Ok(AllTypes(types).Select(t => new WebhookEventTypeDto(t.Name, t.Description)).ToList());

    private static IEnumerable<WebhookEventType> AllTypes(IEnumerable<WebhookEventType> types) =>
        types.Prepend(WebhookOutbox.Ping).DistinctBy(t => t.Name).OrderBy(t => t.Name, StringComparer.Ordinal);

    private static async Task<Ok<List<WebhookDto>>> ListAsync(HttpContext http, ProjectAccess access, CoreDbContext db, CancellationToken cancellationToken)
    {
        var info = await access.RequireAsync(http, ProjectRole.Manager);
        // Two queries however many subscriptions: each one's last delivery id (an index seek per subscription inside
        // the one query), then those deliveries.
        var subscriptions = await db.WebhookSubscriptions.AsNoTracking().Where(s => s.ProjectId == info.Project.Id).OrderBy(s => s.CreatedAt)
            .Select(s => new { Subscription = s, Last = db.WebhookDeliveries.Where(d => d.SubscriptionId == s.Id).OrderByDescending(d => d.Id).Select(d => (Guid?)d.Id).FirstOrDefault() })
            .ToListAsync(cancellationToken);
        var lastIds = subscriptions.Where(x => x.Last is not null).Select(x => x.Last!.Value).ToList();
        var last = lastIds.Count == 0 ? [] : await db.WebhookDeliveries.AsNoTracking().Where(d => lastIds.Contains(d.Id)).ToDictionaryAsync(d => d.Id, cancellationToken);
        return TypedResults.Ok(subscriptions.Select(x => ToDto(x.Subscription, x.Last is { } id ? last.GetValueOrDefault(id) : null)).ToList());
    }

    private static async Task<Created<WebhookWithSecretDto>> CreateAsync(CreateWebhookRequest request, HttpContext http, ProjectAccess access, CoreDbContext db,
        IEnumerable<WebhookEventType> types, IDataProtectionProvider protection, IOptions<WebhookOptions> options, ClaimsPrincipal user, TimeProvider time,
        CancellationToken cancellationToken)
    {
        var info = await access.RequireAsync(http, ProjectRole.Manager);
        var events = CheckEvents(request.Events, types);
        CheckDescription(request.Description);
        var url = await CheckUrlAsync(request.Url, options.Value, cancellationToken);
        var secret = request.Secret ?? WebhookSignature.NewSecret();
        if (secret.Length is < 16 or > 200) throw new ValidationException("secret", "A secret is 16 to 200 characters; leave it out to get a generated one.");
        if (await db.WebhookSubscriptions.CountAsync(s => s.ProjectId == info.Project.Id, cancellationToken) >= MaxSubscriptionsPerProject)
            throw new ConflictException($"A project has at most {MaxSubscriptionsPerProject} webhook subscriptions.");
        var subscription = new WebhookSubscription
        {
            ProjectId = info.Project.Id, Url = url, Events = string.Join(' ', events), Description = request.Description?.Trim(),
            ProtectedSecret = Protector(protection).Protect(secret), CreatedBy = user.RequireUserId(), CreatedAt = time.GetUtcNow(),
        };
        db.WebhookSubscriptions.Add(subscription);
        await db.SaveChangesAsync(cancellationToken);
        return TypedResults.Created($"/api/projects/{info.Project.Slug}/webhooks/{subscription.Id}",
            new WebhookWithSecretDto(await ToDtoAsync(db, subscription, cancellationToken), secret));
    }

    private static async Task<Ok<WebhookDto>> GetAsync(Guid id, HttpContext http, ProjectAccess access, CoreDbContext db, CancellationToken cancellationToken)
    {
        var subscription = await FindAsync(id, http, access, db, cancellationToken);
        return TypedResults.Ok(await ToDtoAsync(db, subscription, cancellationToken));
    }

    private static async Task<Ok<WebhookDto>> UpdateAsync(Guid id, UpdateWebhookRequest request, HttpContext http, ProjectAccess access, CoreDbContext db,
        IEnumerable<WebhookEventType> types, IOptions<WebhookOptions> options, CancellationToken cancellationToken)
    {
        var subscription = await FindAsync(id, http, access, db, cancellationToken);
        if (request.Url is { } url) subscription.Url = await CheckUrlAsync(url, options.Value, cancellationToken);
        if (request.Events is { } events) subscription.Events = string.Join(' ', CheckEvents(events, types));
        if (request.Description is { } description)
        {
            CheckDescription(description);
            subscription.Description = description.Trim();
        }
        if (request.Active is { } active) subscription.Active = active;
        await db.SaveChangesAsync(cancellationToken);
        return TypedResults.Ok(await ToDtoAsync(db, subscription, cancellationToken));
    }

    private static async Task<NoContent> DeleteAsync(Guid id, HttpContext http, ProjectAccess access, CoreDbContext db, CancellationToken cancellationToken)
    {
        var subscription = await FindAsync(id, http, access, db, cancellationToken);
        db.WebhookSubscriptions.Remove(subscription);
        await db.SaveChangesAsync(cancellationToken);
        return TypedResults.NoContent();
    }

    private static async Task<Ok<WebhookWithSecretDto>> RotateSecretAsync(Guid id, HttpContext http, ProjectAccess access, CoreDbContext db,
        IDataProtectionProvider protection, CancellationToken cancellationToken)
    {
        var subscription = await FindAsync(id, http, access, db, cancellationToken);
        var secret = WebhookSignature.NewSecret();
        subscription.ProtectedSecret = Protector(protection).Protect(secret);
        await db.SaveChangesAsync(cancellationToken);
        return TypedResults.Ok(new WebhookWithSecretDto(await ToDtoAsync(db, subscription, cancellationToken), secret));
    }

    private static async Task<Accepted<WebhookDeliveryDto>> PingAsync(Guid id, HttpContext http, ProjectAccess access, CoreDbContext db, WebhookOutbox outbox,
        TimeProvider time, ClaimsPrincipal user, CancellationToken cancellationToken)
    {
        var subscription = await FindAsync(id, http, access, db, cancellationToken);
        if (!subscription.Active) throw new ConflictException("The subscription is paused; resume it before sending a test event.");
        var e = outbox.Add(db, subscription.ProjectId, WebhookOutbox.Ping.Name, new { webhookId = subscription.Id, requestedBy = user.Identity?.Name });
        // Addressed to this subscription alone: already fanned out.
        e.Dispatched = true;
        var delivery = WebhookDispatcher.NewDelivery(subscription.Id, e, time.GetUtcNow());
        db.WebhookDeliveries.Add(delivery);
        await db.SaveChangesAsync(cancellationToken);
        outbox.Committed();
        return TypedResults.Accepted($"/api/projects/{http.GetRouteValue("project")}/webhooks/{id}/deliveries", ToDto(delivery));
    }

    private static async Task<Ok<Page<WebhookDeliveryDto>>> ListDeliveriesAsync(Guid id, string? state, string? cursor, int? limit, HttpContext http,
        ProjectAccess access, CoreDbContext db, CancellationToken cancellationToken)
    {
        var subscription = await FindAsync(id, http, access, db, cancellationToken);
        var query = db.WebhookDeliveries.AsNoTracking().Where(d => d.SubscriptionId == subscription.Id);
        if (state is not null)
        {
            if (!Enum.TryParse<WebhookDeliveryState>(state, ignoreCase: true, out var parsed) || !Enum.IsDefined(parsed))
                throw new ValidationException("state", "The state is one of pending, delivered, failed.");
            query = query.Where(d => d.State == parsed);
        }
        if (Cursor.Decode(cursor) is { } after) query = query.Where(d => d.Id.CompareTo(after) < 0);
        var take = Cursor.Limit(limit);
        var rows = await query.OrderByDescending(d => d.Id).Take(take + 1).ToListAsync(cancellationToken);
        return TypedResults.Ok(Cursor.Build(rows.Select(ToDto).ToList(), take, d => d.Id));
    }

    private static async Task<Accepted<WebhookDeliveryDto>> RedeliverAsync(Guid id, Guid deliveryId, HttpContext http, ProjectAccess access, CoreDbContext db,
        WebhookOutbox outbox, TimeProvider time, CancellationToken cancellationToken)
    {
        var subscription = await FindAsync(id, http, access, db, cancellationToken);
        var previous = await db.WebhookDeliveries.AsNoTracking().FirstOrDefaultAsync(d => d.Id == deliveryId && d.SubscriptionId == subscription.Id, cancellationToken)
            ?? throw new NotFoundException("Webhook delivery", deliveryId.ToString());
        if (previous.State == WebhookDeliveryState.Pending) throw new ConflictException("The delivery is still being attempted.");
        var e = await db.WebhookEvents.AsNoTracking().FirstOrDefaultAsync(x => x.Id == previous.EventId, cancellationToken)
            ?? throw new ConflictException("The event is past the retention period and cannot be sent again.");
        var delivery = WebhookDispatcher.NewDelivery(subscription.Id, e, time.GetUtcNow());
        db.WebhookDeliveries.Add(delivery);
        await db.SaveChangesAsync(cancellationToken);
        outbox.Committed();
        return TypedResults.Accepted($"/api/projects/{http.GetRouteValue("project")}/webhooks/{id}/deliveries", ToDto(delivery));
    }

    private static async Task<WebhookSubscription> FindAsync(Guid id, HttpContext http, ProjectAccess access, CoreDbContext db, CancellationToken cancellationToken)
    {
        var info = await access.RequireAsync(http, ProjectRole.Manager);
        return await db.WebhookSubscriptions.FirstOrDefaultAsync(s => s.Id == id && s.ProjectId == info.Project.Id, cancellationToken)
            ?? throw new NotFoundException("Webhook", id.ToString());
    }

    private static async Task<string> CheckUrlAsync(string? url, WebhookOptions options, CancellationToken cancellationToken)
    {
        if (string.IsNullOrWhiteSpace(url) || url.Length > 2000 || !Uri.TryCreate(url.Trim(), UriKind.Absolute, out var uri))
            throw new ValidationException("url", "The URL must be an absolute http or https URL of at most 2000 characters.");
        if (uri.Scheme is not ("http" or "https")) throw new ValidationException("url", $"The scheme '{uri.Scheme}' is not allowed; use http or https.");
        // Refused now, with the reason, rather than failing every delivery later.
        await new NetworkGuard(options, "Webhook delivery to", WebhookOptions.SectionName).CheckAsync(uri, cancellationToken);
        return uri.ToString();
    }

    private static List<string> CheckEvents(IReadOnlyList<string>? events, IEnumerable<WebhookEventType> types)
    {
        var known = AllTypes(types).Select(t => t.Name).ToHashSet(StringComparer.Ordinal);
        if (events is null || events.Count == 0) throw new ValidationException("events", $"Name at least one event type: {string.Join(", ", known)}.");
        var unknown = events.Where(e => !known.Contains(e)).ToList();
        if (unknown.Count > 0)
            throw new ValidationException("events", $"Unknown event type{(unknown.Count > 1 ? "s" : "")} {string.Join(", ", unknown.Select(u => $"'{u}'"))}; known: {string.Join(", ", known)}.");
        return events.Distinct(StringComparer.Ordinal).ToList();
    }

    private static void CheckDescription(string? description)
    {
        if (description is { Length: > 500 }) throw new ValidationException("description", "A description is at most 500 characters.");
    }

    private static IDataProtector Protector(IDataProtectionProvider protection) => protection.CreateProtector(WebhookDispatcher.SecretPurpose);

    private static async Task<WebhookDto> ToDtoAsync(CoreDbContext db, WebhookSubscription s, CancellationToken cancellationToken)
    {
        var last = await db.WebhookDeliveries.AsNoTracking().Where(d => d.SubscriptionId == s.Id).OrderByDescending(d => d.Id).FirstOrDefaultAsync(cancellationToken);
        return ToDto(s, last);
    }

    private static WebhookDto ToDto(WebhookSubscription s, WebhookDelivery? last) =>
        new(s.Id, s.Url, s.EventList, s.Description, s.Active, s.CreatedAt, last is null ? null : ToDto(last));

    private static WebhookDeliveryDto ToDto(WebhookDelivery d) => new(d.Id, d.EventId, d.EventType, d.State.ToString().ToLowerInvariant(), d.Attempts,
        d.LastStatus, d.LastError, d.LastDurationMs, d.CreatedAt, d.State == WebhookDeliveryState.Pending ? d.NextAttemptAt : null, d.DeliveredAt);
}
