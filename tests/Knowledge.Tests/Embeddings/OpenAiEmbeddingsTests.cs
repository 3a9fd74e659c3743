using System.Text.Json;
using Cube.Knowledge.Embeddings;
using Cube.Testing;
using Microsoft.Extensions.Options;

namespace Cube.Knowledge.Tests.Embeddings;

/// <summary>The OpenAI-compatible embedder against a fake <c>/v1/embeddings</c> server speaking the documented shapes.</summary>
public sealed class OpenAiEmbeddingsTests
{
    [Fact]
    public async Task EmbedAsync_SendsBatchesToTheEmbeddingsEndpoint_AndNormalisesVectors()
    {
        await using var server = await FakeHttpServer.StartAsync((context, request) =>
        {
            using var body = JsonDocument.Parse(request.Body);
            var inputs = body.RootElement.GetProperty("input").EnumerateArray().Select(i => i.GetString()!).ToList();
            // Vector i is (len(text), i+1, 0): not unit length, so normalisation is visible.
            var data = string.Join(',', inputs.Select((text, i) =>
                $$"""{"object":"embedding","index":{{i}},"embedding":[{{text.Length}}.0,{{i + 1}}.0,0.0]}"""));
            return FakeHttpServer.Json(context, 200, $$$"""{"object":"list","data":[{{{data}}}],"model":"fake-embed","usage":{"prompt_tokens":5,"total_tokens":5}}""");
        });
        var options = new KnowledgeOptions
        {
            Embeddings = { Provider = "OpenAI", Endpoint = server.Url + "/v1", Model = "fake-embed", ApiKey = "sk-test", Dimensions = 3, BatchSize = 2 },
        };
        using var ai = new KnowledgeAi(Options.Create(options));

        var vectors = await ai.EmbedAsync(["abc", "abcd", "x"], CancellationToken.None);

        Assert.Equal("fake-embed", ai.EmbeddingModel);
        Assert.Equal(3, vectors.Count);
        Assert.Equal([0.8944f, 0.4472f, 0f], vectors[1].Select(v => MathF.Round(v, 4)));
        Assert.All(vectors, v => Assert.Equal(1f, System.Numerics.Tensors.TensorPrimitives.Norm(v), 4));
        var requests = server.Requests.ToList();
        Assert.Equal(2, requests.Count);
        Assert.All(requests, r => Assert.Equal("POST /v1/embeddings", $"{r.Method} {r.PathAndQuery}"));
        Assert.All(requests, r => Assert.Equal("Bearer sk-test", r.Authorization));
        using var first = JsonDocument.Parse(requests[0].Body);
        Assert.Equal("fake-embed", first.RootElement.GetProperty("model").GetString());
        Assert.Equal(["abc", "abcd"], first.RootElement.GetProperty("input").EnumerateArray().Select(e => e.GetString()));
    }
}
