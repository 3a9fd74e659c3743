using System.Collections.Concurrent;
using System.Diagnostics;
using Cube.Core.Apis;
using Microsoft.AspNetCore.Http;

namespace Cube.Tests.Webhooks;

/// <summary>A server whose dispatcher polls only every ten minutes: anything sent sooner was woken for.</summary>
public sealed class SqliteSlowPollApp : SqliteCubeApp
{
    protected override IDictionary<string, string?> FixtureSettings => new Dictionary<string, string?> { ["Cube:Webhooks:PollInterval"] = "00:10:00" };
}

public sealed class PostgresSlowPollApp : PostgresCubeApp
{
    protected override IDictionary<string, string?> FixtureSettings => new Dictionary<string, string?> { ["Cube:Webhooks:PollInterval"] = "00:10:00" };
}

/// <summary>
/// When the dispatcher wakes. The bounds are generous (a minute, against a ten-minute poll) so a loaded machine does not
/// make them flaky, yet a dispatcher that waited for its poll would miss them by far.
/// </summary>
public abstract class WebhookDispatcherTests(CubeAppFixture app)
{
    private static readonly TimeSpan WellUnderThePoll = TimeSpan.FromMinutes(1);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private async Task<(HttpClient Manager, string Root, Guid Webhook)> SubscribeAsync(string url)
    {
        var (manager, name) = await app.CreateUserClientAsync("hooks");
        var slug = await app.CreateProjectAsync((name, "manager"));
        var root = $"/api/projects/{slug}/webhooks";
        var created = await manager.PostAsJsonAsync(root, new CreateWebhookRequest(url, ["ping"], null, null), Ct);
        return (manager, root, (await created.Content.ReadFromJsonAsync<WebhookWithSecretDto>(Ct))!.Webhook.Id);
    }

    private static async Task<WebhookDeliveryDto> FinishedAsync(HttpClient manager, string root, Guid webhook, TimeSpan within)
    {
        var watch = Stopwatch.StartNew();
        while (true)
        {
            var page = await manager.GetFromJsonAsync<Page<WebhookDeliveryDto>>($"{root}/{webhook}/deliveries", Ct);
            if (page!.Items.FirstOrDefault() is { State: not "pending" } done) return done;
            Assert.True(watch.Elapsed < within, $"Still pending after {watch.Elapsed}: the dispatcher waited for its poll.");
            await Task.Delay(100, Ct);
        }
    }

    [Fact]
    public async Task Dispatcher_SendsACommittedEvent_WithoutWaitingForThePoll()
    {
        await using var receiver = await FakeHttpServer.StartAsync((context, _) => { context.Response.StatusCode = 204; return Task.CompletedTask; });
        var (manager, root, webhook) = await SubscribeAsync(receiver.Url);
        Assert.Equal(HttpStatusCode.Accepted, (await manager.PostAsync($"{root}/{webhook}/ping", null, Ct)).StatusCode);
        var delivery = await FinishedAsync(manager, root, webhook, WellUnderThePoll);
        Assert.Equal(("delivered", 1), (delivery.State, delivery.Attempts));
    }

    [Fact]
    public async Task Dispatcher_RetriesWhenTheBackoffEnds_WithoutWaitingForThePoll()
    {
        var answers = new ConcurrentQueue<int>([503]);
        await using var receiver = await FakeHttpServer.StartAsync((context, _) =>
        {
            context.Response.StatusCode = answers.TryDequeue(out var status) ? status : 200;
            return Task.CompletedTask;
        });
        var (manager, root, webhook) = await SubscribeAsync(receiver.Url);
        await manager.PostAsync($"{root}/{webhook}/ping", null, Ct);
        // The second attempt is due 0.2 s after the first (the test servers' backoff); nothing commits in between.
        var delivery = await FinishedAsync(manager, root, webhook, WellUnderThePoll);
        Assert.Equal(("delivered", 2, 200), (delivery.State, delivery.Attempts, delivery.LastStatus));
    }
}

public sealed class SqliteWebhookDispatcherTests(SqliteSlowPollApp app) : WebhookDispatcherTests(app), IClassFixture<SqliteSlowPollApp>;

public sealed class PostgresWebhookDispatcherTests(PostgresSlowPollApp app) : WebhookDispatcherTests(app), IClassFixture<PostgresSlowPollApp>;
