using System.Collections.Concurrent;
using System.Data.Common;
using Cube.Core.Apis;
using Cube.Core.Data;
using Cube.Core.Webhooks;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Microsoft.Extensions.Hosting;

namespace Cube.Tests.Webhooks;

/// <summary>Records the queries Core's database receives.</summary>
public sealed class CoreQueryLog : DbCommandInterceptor
{
    private readonly ConcurrentQueue<string> _commands = new();

    public IReadOnlyList<string> Commands => [.. _commands];

    public void Clear() => _commands.Clear();

    public override InterceptionResult<DbDataReader> ReaderExecuting(DbCommand command, CommandEventData eventData, InterceptionResult<DbDataReader> result)
    {
        _commands.Enqueue(command.CommandText);
        return result;
    }

    public override ValueTask<InterceptionResult<DbDataReader>> ReaderExecutingAsync(DbCommand command, CommandEventData eventData,
        InterceptionResult<DbDataReader> result, CancellationToken cancellationToken = default)
    {
        _commands.Enqueue(command.CommandText);
        return ValueTask.FromResult(result);
    }

    /// <summary>Logs Core's queries; no dispatcher runs, so every webhook query in the log comes from the request under test.</summary>
    public static void Install(IServiceCollection services, CoreQueryLog log)
    {
        services.ConfigureDbContext<SqliteCoreDbContext>(o => o.AddInterceptors(log));
        services.ConfigureDbContext<PostgresCoreDbContext>(o => o.AddInterceptors(log));
        foreach (var dispatcher in services.Where(d => d.ServiceType == typeof(IHostedService) && d.ImplementationType == typeof(WebhookDispatcher)).ToList())
            services.Remove(dispatcher);
    }
}

public sealed class SqliteQueryLoggedApp : SqliteCubeApp
{
    public CoreQueryLog Log { get; } = new();

    protected override void ConfigureServices(IServiceCollection services) => CoreQueryLog.Install(services, Log);
}

public sealed class PostgresQueryLoggedApp : PostgresCubeApp
{
    public CoreQueryLog Log { get; } = new();

    protected override void ConfigureServices(IServiceCollection services) => CoreQueryLog.Install(services, Log);
}

/// <summary>The subscription list: what it costs in queries, and that each subscription shows its own last delivery.</summary>
public abstract class WebhookListTests(CubeAppFixture app, CoreQueryLog log)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task List_ReadsSubscriptionsAndTheirLastDeliveries_InAFixedNumberOfQueries()
    {
        var (manager, name) = await app.CreateUserClientAsync("hooks");
        var slug = await app.CreateProjectAsync((name, "manager"));
        var root = $"/api/projects/{slug}/webhooks";
        async Task<Guid> CreateAsync(int i)
        {
            var response = await manager.PostAsJsonAsync(root, new CreateWebhookRequest($"http://127.0.0.1:9/hook{i}", ["ping"], null, null), Ct);
            return (await response.Content.ReadFromJsonAsync<WebhookWithSecretDto>(Ct))!.Webhook.Id;
        }
        async Task<Guid> PingAsync(Guid id) =>
            (await (await manager.PostAsync($"{root}/{id}/ping", null, Ct)).Content.ReadFromJsonAsync<WebhookDeliveryDto>(Ct))!.Id;
        async Task<(List<WebhookDto> Listed, int WebhookQueries)> ListAsync()
        {
            log.Clear();
            var listed = (await manager.GetFromJsonAsync<List<WebhookDto>>(root, Ct))!;
            return (listed, log.Commands.Count(c => c.Contains("core_webhook", StringComparison.Ordinal)));
        }

        var first = await CreateAsync(0);
        await PingAsync(first);
        var (_, withOne) = await ListAsync();

        var ids = new List<Guid> { first };
        for (var i = 1; i < 6; i++) ids.Add(await CreateAsync(i));
        var lastDeliveries = new Dictionary<Guid, Guid> { [first] = await PingAsync(first) };
        // The first subscription has two deliveries (the newer one shows), the last none.
        for (var i = 1; i < 5; i++) lastDeliveries[ids[i]] = await PingAsync(ids[i]);
        var (listed, withSix) = await ListAsync();

        Assert.Equal(ids, listed.Select(w => w.Id));
        foreach (var webhook in listed) Assert.Equal(lastDeliveries.TryGetValue(webhook.Id, out var d) ? d : null, webhook.LastDelivery?.Id);
        Assert.Equal(withOne, withSix);
        Assert.InRange(withSix, 1, 2);
    }
}

public sealed class SqliteWebhookListTests(SqliteQueryLoggedApp app) : WebhookListTests(app, app.Log), IClassFixture<SqliteQueryLoggedApp>;

public sealed class PostgresWebhookListTests(PostgresQueryLoggedApp app) : WebhookListTests(app, app.Log), IClassFixture<PostgresQueryLoggedApp>;
