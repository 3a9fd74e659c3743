using System.ClientModel;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Options;
using OpenAI;

namespace Cube.Knowledge.Embeddings;

/// <summary>
/// The model clients of the module, built from configuration: the embedder (built-in hashing, OpenAI-compatible or a local ONNX model)
/// and, when configured, the chat model. Both speak Microsoft.Extensions.AI so any compatible client can stand in.
/// </summary>
public sealed class KnowledgeAi : IDisposable
{
    public KnowledgeAi(IOptions<KnowledgeOptions> options)
    {
        var value = options.Value;
        var embeddings = value.Embeddings;
        if (embeddings.Provider == "OpenAI")
        {
            if (string.IsNullOrWhiteSpace(embeddings.Endpoint) || string.IsNullOrWhiteSpace(embeddings.Model))
                throw Invalid($"{KnowledgeOptions.SectionName}:Embeddings:Endpoint and :Model are required when the provider is OpenAI.");
            Embedder = new OpenAI.Embeddings.EmbeddingClient(embeddings.Model, Credential(embeddings.ApiKey), ClientOptions(embeddings.Endpoint))
                .AsIEmbeddingGenerator(embeddings.Dimensions);
            EmbeddingModel = embeddings.Model;
        }
        else if (embeddings.Provider == "Onnx")
        {
            if (string.IsNullOrWhiteSpace(embeddings.ModelPath))
                throw Invalid($"{KnowledgeOptions.SectionName}:Embeddings:ModelPath is required when the provider is Onnx.");
            try
            {
                var onnx = new OnnxEmbeddingGenerator(embeddings.ModelPath, embeddings.VocabularyPath, embeddings.ModelMaxTokens, embeddings.LowerCase);
                (Embedder, EmbeddingModel) = (onnx, onnx.ModelId);
            }
            catch (InvalidOperationException e)
            {
                throw Invalid($"{KnowledgeOptions.SectionName}:Embeddings: {e.Message}");
            }
        }
        else
        {
            Embedder = new HashingEmbeddingGenerator(embeddings.Dimensions);
            EmbeddingModel = HashingEmbeddingGenerator.ModelId;
        }
        EmbeddingBatchSize = embeddings.BatchSize;
        if (value.Chat.IsConfigured)
            Chat = new OpenAI.Chat.ChatClient(value.Chat.Model, Credential(value.Chat.ApiKey), ClientOptions(value.Chat.Endpoint!)).AsIChatClient();
    }

    public IEmbeddingGenerator<string, Embedding<float>> Embedder { get; }
    public string EmbeddingModel { get; }
    public int EmbeddingBatchSize { get; }

    /// <summary>Null when no chat model is configured.</summary>
    public IChatClient? Chat { get; }

    /// <summary>Embeds texts in batches of the configured size, in order.</summary>
    public async Task<List<float[]>> EmbedAsync(IReadOnlyList<string> texts, CancellationToken cancellationToken)
    {
        var vectors = new List<float[]>(texts.Count);
        for (var i = 0; i < texts.Count; i += EmbeddingBatchSize)
        {
            var batch = texts.Skip(i).Take(EmbeddingBatchSize).ToList();
            var embeddings = await Embedder.GenerateAsync(batch, cancellationToken: cancellationToken);
            if (embeddings.Count != batch.Count)
                throw new InvalidOperationException($"The embedder returned {embeddings.Count} vectors for {batch.Count} texts.");
            vectors.AddRange(embeddings.Select(e => Normalize(e.Vector.ToArray())));
        }
        return vectors;
    }

    /// <summary>Unit length, so cosine similarity is a dot product everywhere (embedded index and Elasticsearch alike).</summary>
    public static float[] Normalize(float[] vector)
    {
        var norm = System.Numerics.Tensors.TensorPrimitives.Norm(vector);
        if (norm > 0 && Math.Abs(norm - 1) > 1e-4) System.Numerics.Tensors.TensorPrimitives.Divide(vector, norm, vector);
        return vector;
    }

    private static OptionsValidationException Invalid(string message) =>
        new(KnowledgeOptions.SectionName, typeof(KnowledgeOptions), [message]);

    private static ApiKeyCredential Credential(string? key) => new(string.IsNullOrWhiteSpace(key) ? "unused" : key);

    private static OpenAIClientOptions ClientOptions(string endpoint) => new() { Endpoint = new Uri(endpoint) };

    public void Dispose()
    {
        Embedder.Dispose();
        Chat?.Dispose();
    }
}
