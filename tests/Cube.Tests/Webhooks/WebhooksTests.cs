using System.Collections.Concurrent;
using System.Text;
using System.Text.Json;
using Cube.Core.Apis;
using Cube.Core.Webhooks;
using Microsoft.AspNetCore.Http;

namespace Cube.Tests.Webhooks;

/// <summary>Subscriptions, signed deliveries, retries and the delivery log, on SQLite and PostgreSQL.</summary>
public abstract class WebhooksTests(CubeAppFixture app)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private async Task<(HttpClient Manager, string Slug)> ProjectAsync()
    {
        var (manager, name) = await app.CreateUserClientAsync("hooks");
        return (manager, await app.CreateProjectAsync((name, "manager")));
    }

    private static async Task<WebhookWithSecretDto> CreateAsync(HttpClient client, string slug, string url, params string[] events)
    {
        var response = await client.PostAsJsonAsync($"/api/projects/{slug}/webhooks", new CreateWebhookRequest(url, events, "tests", null), Ct);
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<WebhookWithSecretDto>(Ct))!;
    }

    private static async Task<WebhookDeliveryDto> WaitForDeliveryAsync(HttpClient client, string slug, Guid webhook, Func<WebhookDeliveryDto, bool> done)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (true)
        {
            var page = await client.GetFromJsonAsync<Page<WebhookDeliveryDto>>($"/api/projects/{slug}/webhooks/{webhook}/deliveries", Ct);
            if (page!.Items.FirstOrDefault() is { } latest && done(latest)) return latest;
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"Delivery not done: {JsonSerializer.Serialize(page)}");
            await Task.Delay(100, Ct);
        }
    }

    [Fact]
    public async Task Ping_ArrivesSignedWithTheSecretShownOnce()
    {
        var (manager, slug) = await ProjectAsync();
        await using var receiver = await FakeHttpServer.StartAsync((context, _) => { context.Response.StatusCode = 204; return Task.CompletedTask; });
        var created = await CreateAsync(manager, slug, receiver.Url + "/hooks", "ping", "annotation.created");
        Assert.StartsWith("whsec_", created.Secret);
        Assert.Equal(["ping", "annotation.created"], created.Webhook.Events);
        var listed = await manager.GetStringAsync($"/api/projects/{slug}/webhooks", Ct);
        Assert.DoesNotContain(created.Secret, listed);
        Assert.DoesNotContain("secret", listed, StringComparison.OrdinalIgnoreCase);

        var ping = await manager.PostAsync($"/api/projects/{slug}/webhooks/{created.Webhook.Id}/ping", null, Ct);
        Assert.Equal(HttpStatusCode.Accepted, ping.StatusCode);
        var delivery = await WaitForDeliveryAsync(manager, slug, created.Webhook.Id, d => d.State != "pending");
        Assert.Equal(("delivered", 1, 204), (delivery.State, delivery.Attempts, delivery.LastStatus));

        var request = Assert.Single(receiver.Requests);
        Assert.Equal(("POST", "/hooks"), (request.Method, request.PathAndQuery));
        var timestamp = long.Parse(request.Headers[WebhookSignature.TimestampHeader], System.Globalization.CultureInfo.InvariantCulture);
        Assert.InRange(DateTimeOffset.UtcNow.ToUnixTimeSeconds() - timestamp, 0, 120);
        Assert.True(WebhookSignature.Verify(created.Secret, timestamp, Encoding.UTF8.GetBytes(request.Body), request.Headers[WebhookSignature.SignatureHeader]));
        Assert.False(WebhookSignature.Verify("whsec_someone-else-entirely", timestamp, Encoding.UTF8.GetBytes(request.Body), request.Headers[WebhookSignature.SignatureHeader]));
        using var body = JsonDocument.Parse(request.Body);
        Assert.Equal("ping", body.RootElement.GetProperty("type").GetString());
        Assert.Equal(request.Headers[WebhookSignature.IdHeader], body.RootElement.GetProperty("id").GetString());
        Assert.Equal(delivery.EventId.ToString(), request.Headers[WebhookSignature.IdHeader]);
        Assert.Equal(created.Webhook.Id, body.RootElement.GetProperty("data").GetProperty("webhookId").GetGuid());

        // A rotated secret signs the next delivery; the old one no longer verifies.
        var rotated = await (await manager.PostAsync($"/api/projects/{slug}/webhooks/{created.Webhook.Id}/rotate-secret", null, Ct))
            .Content.ReadFromJsonAsync<WebhookWithSecretDto>(Ct);
        Assert.NotEqual(created.Secret, rotated!.Secret);
        await manager.PostAsync($"/api/projects/{slug}/webhooks/{created.Webhook.Id}/ping", null, Ct);
        await WaitForDeliveryAsync(manager, slug, created.Webhook.Id, d => d.State == "delivered" && d.Id != delivery.Id);
        var second = receiver.Requests.Last();
        var ts = long.Parse(second.Headers[WebhookSignature.TimestampHeader], System.Globalization.CultureInfo.InvariantCulture);
        Assert.True(WebhookSignature.Verify(rotated.Secret, ts, Encoding.UTF8.GetBytes(second.Body), second.Headers[WebhookSignature.SignatureHeader]));
        Assert.False(WebhookSignature.Verify(created.Secret, ts, Encoding.UTF8.GetBytes(second.Body), second.Headers[WebhookSignature.SignatureHeader]));
    }

    [Fact]
    public async Task AFailingReceiver_IsRetriedWithTheSameEvent_UntilItAnswers()
    {
        var (manager, slug) = await ProjectAsync();
        var answers = new ConcurrentQueue<int>([500, 503]);
        await using var receiver = await FakeHttpServer.StartAsync((context, _) =>
        {
            context.Response.StatusCode = answers.TryDequeue(out var status) ? status : 200;
            return context.Response.WriteAsync("busy");
        });
        var created = await CreateAsync(manager, slug, receiver.Url, "ping");
        await manager.PostAsync($"/api/projects/{slug}/webhooks/{created.Webhook.Id}/ping", null, Ct);
        var delivery = await WaitForDeliveryAsync(manager, slug, created.Webhook.Id, d => d.State != "pending");
        Assert.Equal(("delivered", 3, 200), (delivery.State, delivery.Attempts, delivery.LastStatus));
        var requests = receiver.Requests.ToList();
        Assert.Equal(3, requests.Count);
        Assert.Single(requests.Select(r => r.Headers[WebhookSignature.IdHeader]).Distinct());
        Assert.Single(requests.Select(r => r.Body).Distinct());
    }

    [Fact]
    public async Task AReceiverThatKeepsFailing_EndsFailedWithItsAnswer_AndCanBeRedelivered()
    {
        var (manager, slug) = await ProjectAsync();
        var healthy = false;
        await using var receiver = await FakeHttpServer.StartAsync((context, _) =>
        {
            context.Response.StatusCode = Volatile.Read(ref healthy) ? 200 : 500;
            return context.Response.WriteAsync("database down\nretry later");
        });
        var created = await CreateAsync(manager, slug, receiver.Url, "ping");
        await manager.PostAsync($"/api/projects/{slug}/webhooks/{created.Webhook.Id}/ping", null, Ct);
        // The test servers give up after three attempts.
        var failed = await WaitForDeliveryAsync(manager, slug, created.Webhook.Id, d => d.State != "pending");
        Assert.Equal(("failed", 3, 500), (failed.State, failed.Attempts, failed.LastStatus));
        Assert.Equal("HTTP 500 Internal Server Error: database down retry later", failed.LastError);
        var listed = await manager.GetFromJsonAsync<List<WebhookDto>>($"/api/projects/{slug}/webhooks", Ct);
        Assert.Equal("failed", Assert.Single(listed!).LastDelivery!.State);

        Volatile.Write(ref healthy, true);
        var again = await manager.PostAsync($"/api/projects/{slug}/webhooks/{created.Webhook.Id}/deliveries/{failed.Id}/redeliver", null, Ct);
        Assert.Equal(HttpStatusCode.Accepted, again.StatusCode);
        var redelivered = await WaitForDeliveryAsync(manager, slug, created.Webhook.Id, d => d.Id != failed.Id && d.State != "pending");
        Assert.Equal(("delivered", failed.EventId), (redelivered.State, redelivered.EventId));
        var failedOnly = await manager.GetFromJsonAsync<Page<WebhookDeliveryDto>>($"/api/projects/{slug}/webhooks/{created.Webhook.Id}/deliveries?state=failed", Ct);
        Assert.Equal(failed.Id, Assert.Single(failedOnly!.Items).Id);
    }

    [Fact]
    public async Task BadSubscriptions_AreRefusedWithTheReason()
    {
        var (manager, slug) = await ProjectAsync();
        async Task<(HttpStatusCode, string)> Create(string url, params string[] events)
        {
            var response = await manager.PostAsJsonAsync($"/api/projects/{slug}/webhooks", new CreateWebhookRequest(url, events, null, null), Ct);
            return (response.StatusCode, await response.Content.ReadAsStringAsync(Ct));
        }

        var (status, body) = await Create("https://hooks.example.com/x", "annotation.created", "annotation.exploded");
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Contains("Unknown event type 'annotation.exploded'", body);
        (status, body) = await Create("https://hooks.example.com/x");
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Contains("at least one event type", body);
        (status, body) = await Create("ftp://hooks.example.com/x", "ping");
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Contains("scheme 'ftp'", body);
        (status, body) = await Create("not a url", "ping");
        Assert.Equal(HttpStatusCode.BadRequest, status);
        // The platform's own network is off limits unless allow-listed (the test servers allow 127.0.0.1 only).
        (status, body) = await Create("http://10.1.2.3/hook", "ping");
        Assert.Equal(HttpStatusCode.Forbidden, status);
        Assert.Contains("internal address", body);
        Assert.Contains("Cube:Webhooks", body);
        (status, _) = await Create("http://169.254.169.254/latest/meta-data", "ping");
        Assert.Equal(HttpStatusCode.Forbidden, status);
    }

    [Fact]
    public async Task OnlyManagersOfTheProject_SeeOrChangeItsWebhooks()
    {
        var (manager, slug) = await ProjectAsync();
        var created = await CreateAsync(manager, slug, "http://127.0.0.1:9/hook", "ping");
        var (reviewer, reviewerName) = await app.CreateUserClientAsync("reviewer");
        var (outsider, _) = await app.CreateUserClientAsync("outsider");
        using var admin = await app.AdminAsync();
        (await admin.PutAsJsonAsync($"/api/projects/{slug}/members/{reviewerName}", new SetMemberRequest("reviewer"), Ct)).EnsureSuccessStatusCode();
        var root = $"/api/projects/{slug}/webhooks";
        Assert.Equal(HttpStatusCode.Forbidden, (await reviewer.GetAsync(root, Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await reviewer.PostAsync($"{root}/{created.Webhook.Id}/ping", null, Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await outsider.GetAsync(root, Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await app.Anonymous().GetAsync(root, Ct)).StatusCode);
        // Another project's manager cannot reach this subscription through their own project.
        var (other, otherSlug) = await ProjectAsync();
        Assert.Equal(HttpStatusCode.NotFound, (await other.GetAsync($"/api/projects/{otherSlug}/webhooks/{created.Webhook.Id}", Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await other.DeleteAsync($"/api/projects/{otherSlug}/webhooks/{created.Webhook.Id}", Ct)).StatusCode);

        // Paused subscriptions take no test events; deleting removes it.
        var paused = await manager.PatchAsJsonAsync($"{root}/{created.Webhook.Id}", new UpdateWebhookRequest(null, null, null, false), Ct);
        Assert.False((await paused.Content.ReadFromJsonAsync<WebhookDto>(Ct))!.Active);
        Assert.Equal(HttpStatusCode.Conflict, (await manager.PostAsync($"{root}/{created.Webhook.Id}/ping", null, Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await manager.DeleteAsync($"{root}/{created.Webhook.Id}", Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await manager.GetAsync($"{root}/{created.Webhook.Id}", Ct)).StatusCode);
    }

    [Fact]
    public async Task TheEventCatalogue_ListsEveryModulesEvents()
    {
        var (manager, _) = await ProjectAsync();
        var types = await manager.GetFromJsonAsync<List<WebhookEventTypeDto>>("/api/webhooks/events", Ct);
        Assert.Contains(types!, t => t.Name == "ping");
        Assert.Contains(types!, t => t.Name == "task.completed");
        Assert.Contains(types!, t => t.Name == "project.completed");
    }
}

public sealed class SqliteWebhooksTests(SqliteCubeApp app) : WebhooksTests(app), IClassFixture<SqliteCubeApp>;

public sealed class PostgresWebhooksTests(PostgresCubeApp app) : WebhooksTests(app), IClassFixture<PostgresCubeApp>;
