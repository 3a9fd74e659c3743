using Cube.Knowledge.Tests.Fakes;
using Cube.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace Cube.Knowledge.Tests.Api;

/// <summary>Cube servers whose chat model is the in-process fake OpenAI-compatible server.</summary>
public sealed class SqliteKnowledgeApp : SqliteCubeApp, IAsyncLifetime
{
    public FakeHttpServer OpenAi { get; } = FakeOpenAi.StartAsync().GetAwaiter().GetResult();

    protected override void ConfigureServices(IServiceCollection services) => KnowledgeApps.UseFakeChat(services, OpenAi);

    ValueTask IAsyncLifetime.InitializeAsync() => InitializeAsync();

    async ValueTask IAsyncDisposable.DisposeAsync()
    {
        await DisposeAsync();
        await OpenAi.DisposeAsync();
    }
}

public sealed class PostgresKnowledgeApp : PostgresCubeApp, IAsyncLifetime
{
    public FakeHttpServer OpenAi { get; } = FakeOpenAi.StartAsync().GetAwaiter().GetResult();

    protected override void ConfigureServices(IServiceCollection services) => KnowledgeApps.UseFakeChat(services, OpenAi);

    ValueTask IAsyncLifetime.InitializeAsync() => InitializeAsync();

    async ValueTask IAsyncDisposable.DisposeAsync()
    {
        await DisposeAsync();
        await OpenAi.DisposeAsync();
    }
}

internal static class KnowledgeApps
{
    public static void UseFakeChat(IServiceCollection services, FakeHttpServer server) =>
        services.PostConfigure<KnowledgeOptions>(o =>
        {
            o.Chat.Endpoint = server.Url + "/v1";
            o.Chat.Model = "fake-model";
            o.Chat.ApiKey = "test-key";
            // Reranking only when a request asks for it, so the other tests see the index's own ranking.
            o.Rerank.Endpoint = server.Url + "/v1";
            o.Rerank.Model = "fake-reranker";
            // Small chunks so the test documents yield several chunks each.
            o.Chunking.MaxTokens = 64;
            o.Chunking.OverlapTokens = 8;
        });
}
