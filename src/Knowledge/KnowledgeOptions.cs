using System.ComponentModel.DataAnnotations;

namespace Cube.Knowledge;

/// <summary>Knowledge bases: chunking, embeddings, index backend and chat model (section <c>Cube:Knowledge</c>).</summary>
public sealed class KnowledgeOptions
{
    public const string SectionName = "Cube:Knowledge";

    /// <summary>Largest document accepted by upload.</summary>
    [Range(1, long.MaxValue)]
    public long MaxDocumentBytes { get; set; } = 100L * 1024 * 1024;

    /// <summary>Largest upload request (all its files together): refused from its Content-Length, or while it streams.</summary>
    [Range(1, long.MaxValue)]
    public long MaxUploadRequestBytes { get; set; } = 1024L * 1024 * 1024;

    /// <summary>Most files one upload request may carry.</summary>
    [Range(1, 100_000)]
    public int MaxFilesPerUpload { get; set; } = 1_000;

    public ChunkingOptions Chunking { get; set; } = new();
    public EmbeddingOptions Embeddings { get; set; } = new();
    public IndexOptions Index { get; set; } = new();
    public ChatOptions Chat { get; set; } = new();
    public RerankOptions Rerank { get; set; } = new();
}

public sealed class ChunkingOptions
{
    /// <summary>Most tokens (cl100k) in one chunk.</summary>
    [Range(16, 8192)]
    public int MaxTokens { get; set; } = 350;

    /// <summary>Tokens repeated from the end of a chunk at the start of the next one inside the same section.</summary>
    [Range(0, 4096)]
    public int OverlapTokens { get; set; } = 40;
}

public sealed class EmbeddingOptions
{
    /// <summary>
    /// <c>Hashing</c> (built in, no network), <c>OpenAI</c> (any OpenAI-compatible <c>/embeddings</c> endpoint) or
    /// <c>Onnx</c> (a local sentence-embedding model file, see <see cref="ModelPath"/>).
    /// </summary>
    [RegularExpression("^(Hashing|OpenAI|Onnx)$")]
    public string Provider { get; set; } = "Hashing";

    /// <summary>Vector length of the hashing embedder; for OpenAI, the requested dimensions when the model supports it.</summary>
    [Range(8, 8192)]
    public int Dimensions { get; set; } = 384;

    /// <summary>Base URL of the OpenAI-compatible API, e.g. <c>http://localhost:8000/v1</c>.</summary>
    public string? Endpoint { get; set; }
    public string? Model { get; set; }
    public string? ApiKey { get; set; }

    /// <summary>For <c>Onnx</c>: the <c>.onnx</c> file of a BERT-family sentence encoder.</summary>
    public string? ModelPath { get; set; }

    /// <summary>For <c>Onnx</c>: its WordPiece <c>vocab.txt</c>; by default the one beside the model.</summary>
    public string? VocabularyPath { get; set; }

    /// <summary>For <c>Onnx</c>: longer texts are cut to this many tokens (the model's limit; chunks are sized well below it).</summary>
    [Range(3, 8192)]
    public int ModelMaxTokens { get; set; } = 512;

    /// <summary>For <c>Onnx</c>: whether the model is uncased.</summary>
    public bool LowerCase { get; set; } = true;

    /// <summary>Texts per embeddings request.</summary>
    [Range(1, 4096)]
    public int BatchSize { get; set; } = 64;
}

public sealed class IndexOptions
{
    /// <summary><c>Embedded</c> (Lucene BM25 + in-process vectors under the data directory) or <c>Elasticsearch</c>.</summary>
    [RegularExpression("^(Embedded|Elasticsearch)$")]
    public string Backend { get; set; } = "Embedded";

    /// <summary>Vector search of the embedded backend.</summary>
    public VectorSearchOptions Vectors { get; set; } = new();

    public ElasticsearchOptions Elasticsearch { get; set; } = new();
}

/// <summary>How the embedded backend's vector index searches (section <c>Cube:Knowledge:Index:Vectors</c>).</summary>
public sealed class VectorSearchOptions
{
    /// <summary>
    /// <c>Auto</c>: exact float scan below <see cref="ExactBelow"/> vectors, int8 scan with float rescoring from there;
    /// <c>Exact</c> or <c>Int8</c> to force one path.
    /// </summary>
    public VectorQuantization Quantization { get; set; } = VectorQuantization.Auto;

    /// <summary>Knowledge bases with fewer vectors than this are scanned exactly under <c>Auto</c> (the exact scan is already fast there).</summary>
    [Range(0, int.MaxValue)]
    public int ExactBelow { get; set; } = 20_000;

    /// <summary>The int8 scan keeps this many candidates per requested result and rescores them with the float vectors.</summary>
    [Range(1, 100)]
    public int RescoreFactor { get; set; } = 4;
}

public enum VectorQuantization
{
    Auto,
    Exact,
    Int8,
}

public sealed class ElasticsearchOptions
{
    /// <summary>Cluster URL, e.g. <c>http://localhost:9200</c>.</summary>
    public string? Url { get; set; }
    /// <summary>Sent as <c>Authorization: ApiKey ...</c> when set.</summary>
    public string? ApiKey { get; set; }
    public string? UserName { get; set; }
    public string? Password { get; set; }
    /// <summary>Prefix of the per-knowledge-base index names.</summary>
    [RegularExpression("^[a-z0-9][a-z0-9_-]*$")]
    public string IndexPrefix { get; set; } = "cube-kb";
}

public sealed class ChatOptions
{
    /// <summary>Base URL of an OpenAI-compatible API (vLLM, llama.cpp server, Ollama, OpenAI); chat is unavailable without it.</summary>
    public string? Endpoint { get; set; }
    public string? Model { get; set; }
    public string? ApiKey { get; set; }

    /// <summary>Passages retrieved for one question.</summary>
    [Range(1, 50)]
    public int Passages { get; set; } = 6;

    public bool IsConfigured => !string.IsNullOrWhiteSpace(Endpoint) && !string.IsNullOrWhiteSpace(Model);
}

/// <summary>
/// A reranker: a cross-encoder behind a <c>/rerank</c> endpoint in the shape vLLM, llama.cpp server, Infinity, Jina and
/// Cohere share (<c>{model, query, documents, top_n}</c> → <c>{results: [{index, relevance_score}]}</c>).
/// </summary>
public sealed class RerankOptions
{
    /// <summary>Base URL, e.g. <c>http://localhost:8000/v1</c>; <c>rerank</c> is appended. No reranking without it.</summary>
    public string? Endpoint { get; set; }
    public string? Model { get; set; }
    public string? ApiKey { get; set; }

    /// <summary>Candidates retrieved and rescored for a request that asks for k results (at least k, at most 100).</summary>
    [Range(1, 100)]
    public int Candidates { get; set; } = 30;

    /// <summary>Whether searches and chat rerank when the request does not say.</summary>
    public bool ByDefault { get; set; }

    public bool IsConfigured => !string.IsNullOrWhiteSpace(Endpoint);
}
