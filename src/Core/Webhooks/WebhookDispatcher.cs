using System.Buffers;
using System.Diagnostics;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Cube.Core.Data;
using Cube.Core.Net;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Cube.Core.Webhooks;

/// <summary>
/// Turns committed events into signed HTTP POSTs. Events become one delivery per matching active subscription; each
/// delivery is tried until the receiver answers 2xx, with exponential backoff, up to <see cref="WebhookOptions.MaxAttempts"/>.
/// Delivery is at least once: a process killed after the POST and before recording it sends it again, with the same
/// <c>Cube-Webhook-Id</c>, so receivers deduplicate by that id. Several processes may dispatch from one database: claims
/// are conditional updates, so each attempt is made by one of them.
/// </summary>
public sealed class WebhookDispatcher : BackgroundService
{
    public const string SecretPurpose = "Cube.Webhooks.Secret";
    private const int ErrorSnippetBytes = 500;

    private readonly IServiceScopeFactory _scopes;
    private readonly WebhookSignal _signal;
    private readonly WebhookOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger<WebhookDispatcher> _logger;
    private readonly HttpClient _http;
    private DateTimeOffset _lastCleanup = DateTimeOffset.MinValue;

    public WebhookDispatcher(IServiceScopeFactory scopes, WebhookSignal signal, IOptions<WebhookOptions> options, TimeProvider time, ILogger<WebhookDispatcher> logger)
    {
        (_scopes, _signal, _options, _time, _logger) = (scopes, signal, options.Value, time, logger);
        _http = new HttpClient(new NetworkGuard(_options, "Webhook delivery to", WebhookOptions.SectionName).CreateHandler()) { Timeout = _options.Timeout };
        _http.DefaultRequestHeaders.UserAgent.Add(new ProductInfoHeaderValue("Cube-Webhooks", "1"));
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            var idle = _options.PollInterval;
            try
            {
                while (await RunOnceAsync(stoppingToken) > 0) { }
                idle = await IdleAsync(stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                _logger.LogError(e, "Webhook dispatch pass failed; retrying in {Interval}", _options.PollInterval);
            }
            try
            {
                // Woken at once by this process's commits (WebhookOutbox.Committed); otherwise at the next retry or poll.
                await _signal.WaitAsync(idle, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    /// <summary>
    /// How long to sleep after a pass that found nothing to do: until the earliest pending delivery falls due (a retry's
    /// backoff, or another process's lease running out), at most the poll interval, which only has to catch events
    /// committed by other processes.
    /// </summary>
    private async Task<TimeSpan> IdleAsync(CancellationToken cancellationToken)
    {
        await using var scope = _scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<CoreDbContext>();
        var next = await db.WebhookDeliveries.AsNoTracking().Where(d => d.State == WebhookDeliveryState.Pending)
            .OrderBy(d => d.NextAttemptAt).Select(d => (DateTimeOffset?)d.NextAttemptAt).FirstOrDefaultAsync(cancellationToken);
        return next is { } due ? TimeSpan.FromTicks(Math.Clamp((due - _time.GetUtcNow()).Ticks, 0, _options.PollInterval.Ticks)) : _options.PollInterval;
    }

    /// <summary>One pass: fan out new events, make the attempts that are due. Returns how many of either it handled.</summary>
    public async Task<int> RunOnceAsync(CancellationToken cancellationToken)
    {
        var work = await FanOutAsync(cancellationToken);
        var due = await DueAsync(cancellationToken);
        await Parallel.ForEachAsync(due, new ParallelOptions { MaxDegreeOfParallelism = _options.Concurrency, CancellationToken = cancellationToken },
            async (id, ct) => await AttemptAsync(id, ct));
        await CleanUpAsync(cancellationToken);
        return work + due.Count;
    }

    private async Task<int> FanOutAsync(CancellationToken cancellationToken)
    {
        await using var scope = _scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<CoreDbContext>();
        var events = await db.WebhookEvents.AsNoTracking().Where(e => !e.Dispatched).OrderBy(e => e.CreatedAt).Take(200).ToListAsync(cancellationToken);
        if (events.Count == 0) return 0;
        var projects = events.Select(e => e.ProjectId).Distinct().ToList();
        var subscriptions = await db.WebhookSubscriptions.AsNoTracking().Where(s => projects.Contains(s.ProjectId) && s.Active).ToListAsync(cancellationToken);
        var now = _time.GetUtcNow();
        foreach (var e in events)
        {
            await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
            // The claim: only the process that flips the flag fans the event out.
            if (await db.WebhookEvents.Where(x => x.Id == e.Id && !x.Dispatched).ExecuteUpdateAsync(s => s.SetProperty(x => x.Dispatched, true), cancellationToken) == 0)
                continue;
            foreach (var subscription in subscriptions.Where(s => s.ProjectId == e.ProjectId && s.EventList.Contains(e.Type)))
                db.WebhookDeliveries.Add(NewDelivery(subscription.Id, e, now));
            await db.SaveChangesAsync(cancellationToken);
            await transaction.CommitAsync(cancellationToken);
            db.ChangeTracker.Clear();
        }
        return events.Count;
    }

    internal static WebhookDelivery NewDelivery(Guid subscriptionId, WebhookEvent e, DateTimeOffset now) => new()
    {
        SubscriptionId = subscriptionId, EventId = e.Id, EventType = e.Type, State = WebhookDeliveryState.Pending, NextAttemptAt = now, CreatedAt = now,
    };

    private async Task<List<Guid>> DueAsync(CancellationToken cancellationToken)
    {
        await using var scope = _scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<CoreDbContext>();
        var now = _time.GetUtcNow();
        return await db.WebhookDeliveries.AsNoTracking().Where(d => d.State == WebhookDeliveryState.Pending && d.NextAttemptAt <= now)
            .OrderBy(d => d.NextAttemptAt).Select(d => d.Id).Take(100).ToListAsync(cancellationToken);
    }

    private async Task AttemptAsync(Guid id, CancellationToken cancellationToken)
    {
        await using var scope = _scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<CoreDbContext>();
        var now = _time.GetUtcNow();
        // The lease: moving the due time past this attempt's longest possible duration hides it from other processes;
        // if this one dies mid-attempt, the delivery becomes due again when the lease runs out.
        var lease = now + _options.Timeout * 3;
        var claimed = await db.WebhookDeliveries.Where(d => d.Id == id && d.State == WebhookDeliveryState.Pending && d.NextAttemptAt <= now)
            .ExecuteUpdateAsync(s => s.SetProperty(d => d.NextAttemptAt, lease), cancellationToken);
        if (claimed == 0) return;
        var delivery = await db.WebhookDeliveries.FirstAsync(d => d.Id == id, cancellationToken);
        var subscription = await db.WebhookSubscriptions.AsNoTracking().FirstOrDefaultAsync(s => s.Id == delivery.SubscriptionId, cancellationToken);
        var e = await db.WebhookEvents.AsNoTracking().FirstOrDefaultAsync(x => x.Id == delivery.EventId, cancellationToken);
        delivery.Attempts++;
        if (subscription is null || e is null || !subscription.Active)
        {
            delivery.State = WebhookDeliveryState.Failed;
            delivery.LastError = subscription is null ? "The subscription was deleted." : e is null ? "The event expired." : "The subscription is disabled.";
            await db.SaveChangesAsync(cancellationToken);
            return;
        }

        var (status, error, elapsed) = await PostAsync(subscription, e, scope.ServiceProvider, cancellationToken);
        delivery.LastStatus = status;
        delivery.LastError = error;
        delivery.LastDurationMs = elapsed;
        if (error is null)
        {
            delivery.State = WebhookDeliveryState.Delivered;
            delivery.DeliveredAt = _time.GetUtcNow();
        }
        else if (delivery.Attempts >= _options.MaxAttempts)
        {
            delivery.State = WebhookDeliveryState.Failed;
            _logger.LogWarning("Webhook delivery {DeliveryId} ({Event}) to {Url} failed after {Attempts} attempts: {Error}",
                delivery.Id, e.Type, NetworkGuard.Display(new Uri(subscription.Url)), delivery.Attempts, error);
        }
        else delivery.NextAttemptAt = _time.GetUtcNow() + Backoff(delivery.Attempts);
        await db.SaveChangesAsync(cancellationToken);
    }

    /// <summary>Wait after the given number of failed attempts: first backoff doubled each time, capped.</summary>
    public TimeSpan Backoff(int attempts) =>
        TimeSpan.FromTicks(Math.Min(_options.MaxBackoff.Ticks, _options.FirstBackoff.Ticks * (1L << Math.Min(attempts - 1, 30))));

    private async Task<(int? Status, string? Error, long Elapsed)> PostAsync(WebhookSubscription subscription, WebhookEvent e, IServiceProvider services, CancellationToken cancellationToken)
    {
        var secret = services.GetRequiredService<IDataProtectionProvider>().CreateProtector(SecretPurpose).Unprotect(subscription.ProtectedSecret);
        var body = Body(e);
        var timestamp = _time.GetUtcNow().ToUnixTimeSeconds();
        using var request = new HttpRequestMessage(HttpMethod.Post, subscription.Url) { Content = new ByteArrayContent(body) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json") { CharSet = "utf-8" };
        request.Headers.Add(WebhookSignature.IdHeader, e.Id.ToString());
        request.Headers.Add(WebhookSignature.EventHeader, e.Type);
        request.Headers.Add(WebhookSignature.TimestampHeader, timestamp.ToString(System.Globalization.CultureInfo.InvariantCulture));
        request.Headers.Add(WebhookSignature.SignatureHeader, WebhookSignature.Sign(secret, timestamp, body));
        var watch = Stopwatch.StartNew();
        try
        {
            using var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
            var status = (int)response.StatusCode;
            if (response.IsSuccessStatusCode) return (status, null, watch.ElapsedMilliseconds);
            return (status, $"HTTP {status} {response.ReasonPhrase}: {await SnippetAsync(response, cancellationToken)}".TrimEnd(' ', ':'), watch.ElapsedMilliseconds);
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException && !cancellationToken.IsCancellationRequested)
        {
            var reason = ex is TaskCanceledException ? $"No answer within {_options.Timeout.TotalSeconds:0.#} s." : ex.Message;
            return (null, reason, watch.ElapsedMilliseconds);
        }
    }

    private static async Task<string> SnippetAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(ErrorSnippetBytes);
        try
        {
            await using var stream = await response.Content.ReadAsStreamAsync(cancellationToken);
            var read = await stream.ReadAtLeastAsync(buffer.AsMemory(0, ErrorSnippetBytes), ErrorSnippetBytes, throwOnEndOfStream: false, cancellationToken);
            return Encoding.UTF8.GetString(buffer, 0, read).ReplaceLineEndings(" ").Trim();
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>The request body: the same bytes on every attempt, so a signature check and deduplication by id both work.</summary>
    public static byte[] Body(WebhookEvent e)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteString("id", e.Id);
            writer.WriteString("type", e.Type);
            writer.WriteString("createdAt", e.CreatedAt);
            writer.WriteString("projectId", e.ProjectId);
            writer.WritePropertyName("data");
            writer.WriteRawValue(e.PayloadJson, skipInputValidation: true);
            writer.WriteEndObject();
        }
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>Hourly: finished deliveries and their events are kept for the retention period, then removed.</summary>
    private async Task CleanUpAsync(CancellationToken cancellationToken)
    {
        var now = _time.GetUtcNow();
        if (now - _lastCleanup < TimeSpan.FromHours(1)) return;
        _lastCleanup = now;
        await using var scope = _scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<CoreDbContext>();
        var before = now - _options.Retention;
        await db.WebhookDeliveries.Where(d => d.State != WebhookDeliveryState.Pending && d.CreatedAt < before).ExecuteDeleteAsync(cancellationToken);
        await db.WebhookEvents.Where(e => e.Dispatched && e.CreatedAt < before && !db.WebhookDeliveries.Any(d => d.EventId == e.Id))
            .ExecuteDeleteAsync(cancellationToken);
    }
}
