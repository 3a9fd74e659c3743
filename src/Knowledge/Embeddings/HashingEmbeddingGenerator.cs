using System.IO.Hashing;
using System.Numerics.Tensors;
using System.Runtime.InteropServices;
using Microsoft.Extensions.AI;

namespace Cube.Knowledge.Embeddings;

/// <summary>
/// The built-in embedder: signed feature hashing of word stems, word bigrams and character 4-grams into a fixed-length,
/// L2-normalised vector. Deterministic, no model and no network; it captures lexical and sub-word similarity (word
/// forms, typos, shared phrases), not meaning, so it complements BM25 in hybrid search rather than replacing a
/// trained model, which any OpenAI-compatible endpoint can provide instead.
/// </summary>
public sealed class HashingEmbeddingGenerator(int dimensions) : IEmbeddingGenerator<string, Embedding<float>>
{
    public const string ModelId = "cube-hashing-v1";

    private static readonly HashSet<string> StopWords =
    [
        "a", "an", "and", "are", "as", "at", "be", "by", "for", "from", "has", "have", "how", "i", "in", "is", "it", "its", "of", "on",
        "or", "that", "the", "this", "to", "was", "were", "what", "when", "where", "which", "who", "why", "will", "with", "do", "does",
        "can", "you", "your", "we", "our", "they", "their", "there", "these", "those", "not", "but", "if", "then", "so", "than", "into",
    ];

    private readonly EmbeddingGeneratorMetadata _metadata = new("cube-hashing", null, ModelId, dimensions);

    public int Dimensions => dimensions;

    public Task<GeneratedEmbeddings<Embedding<float>>> GenerateAsync(IEnumerable<string> values, EmbeddingGenerationOptions? options = null, CancellationToken cancellationToken = default)
    {
        var result = new GeneratedEmbeddings<Embedding<float>>();
        foreach (var value in values)
        {
            cancellationToken.ThrowIfCancellationRequested();
            result.Add(new Embedding<float>(Embed(value)) { ModelId = ModelId });
        }
        return Task.FromResult(result);
    }

    public float[] Embed(string text)
    {
        var vector = new float[dimensions];
        string? previous = null;
        foreach (var word in Words(text))
        {
            var stem = Stem(word);
            if (!StopWords.Contains(word))
            {
                Add(vector, "w:" + stem, 1f);
                var padded = "<" + stem + ">";
                for (var i = 0; i + 4 <= padded.Length; i++) Add(vector, "c:" + padded.Substring(i, 4), 0.25f);
                if (previous is not null) Add(vector, "b:" + previous + " " + stem, 0.5f);
                previous = stem;
            }
        }
        var norm = TensorPrimitives.Norm(vector);
        if (norm > 0) TensorPrimitives.Divide(vector, norm, vector);
        return vector;
    }

    private void Add(float[] vector, string feature, float weight)
    {
        var hash = XxHash64.HashToUInt64(MemoryMarshal.AsBytes(feature.AsSpan()));
        var index = (int)(hash % (ulong)dimensions);
        // The sign bit comes from other bits of the hash, so colliding features cancel on average instead of adding up.
        vector[index] += (hash >> 63) == 0 ? weight : -weight;
    }

    private static IEnumerable<string> Words(string text)
    {
        var start = -1;
        for (var i = 0; i <= text.Length; i++)
        {
            var isWord = i < text.Length && char.IsLetterOrDigit(text[i]);
            if (isWord && start < 0) start = i;
            else if (!isWord && start >= 0)
            {
                yield return text[start..i].ToLowerInvariant();
                start = -1;
            }
        }
    }

    /// <summary>A light suffix stripper: enough to bring plural and verb forms together.</summary>
    internal static string Stem(string word)
    {
        if (word.Length <= 4) return word;
        foreach (var suffix in (ReadOnlySpan<string>)["ations", "ation", "ings", "ing", "ies", "ed", "es", "ly", "s"])
        {
            if (word.EndsWith(suffix, StringComparison.Ordinal) && word.Length - suffix.Length >= 3)
                return suffix == "ies" ? word[..^3] + "y" : word[..^suffix.Length];
        }
        return word;
    }

    public object? GetService(Type serviceType, object? serviceKey = null) =>
        serviceKey is null && serviceType.IsInstanceOfType(this) ? this
        : serviceKey is null && serviceType == typeof(EmbeddingGeneratorMetadata) ? _metadata
        : null;

    public void Dispose() { }
}
