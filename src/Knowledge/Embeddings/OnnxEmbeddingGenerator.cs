using Microsoft.Extensions.AI;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using Microsoft.ML.Tokenizers;

namespace Cube.Knowledge.Embeddings;

/// <summary>
/// Sentence embeddings from a local ONNX encoder (a BERT-family model exported with <c>input_ids</c>, and optionally
/// <c>attention_mask</c> and <c>token_type_ids</c>), tokenised with the model's WordPiece vocabulary. A model whose
/// output is already one vector per text (<c>[batch, dim]</c>, e.g. <c>sentence_embedding</c>) is used as is; a
/// token-level output (<c>[batch, tokens, dim]</c>, e.g. <c>last_hidden_state</c>) is mean-pooled over the real
/// tokens (padding excluded by the attention mask). Runs in process on the CPU; nothing is downloaded.
/// </summary>
public sealed class OnnxEmbeddingGenerator : IEmbeddingGenerator<string, Embedding<float>>
{
    private readonly InferenceSession _session;
    private readonly BertTokenizer _tokenizer;
    private readonly int _maxTokens;
    private readonly string _output;
    private readonly bool _pooledOutput;
    private readonly bool _hasMask;
    private readonly bool _hasTokenTypes;
    private readonly EmbeddingGeneratorMetadata _metadata;

    /// <param name="modelPath">The <c>.onnx</c> file.</param>
    /// <param name="vocabularyPath">The WordPiece <c>vocab.txt</c>; by default the one beside the model.</param>
    /// <param name="maxTokens">Longer texts are cut to this many tokens, special tokens included (the model's limit, often 512).</param>
    /// <param name="lowerCase">Whether the model is uncased (most sentence-embedding models are).</param>
    /// <param name="threads">ONNX Runtime threads for one batch; by default half the cores.</param>
    public OnnxEmbeddingGenerator(string modelPath, string? vocabularyPath = null, int maxTokens = 256, bool lowerCase = true, int? threads = null)
    {
        if (!File.Exists(modelPath)) throw new InvalidOperationException($"The ONNX embedding model '{modelPath}' does not exist.");
        vocabularyPath ??= Path.Combine(Path.GetDirectoryName(Path.GetFullPath(modelPath))!, "vocab.txt");
        if (!File.Exists(vocabularyPath)) throw new InvalidOperationException($"The model's vocabulary '{vocabularyPath}' does not exist (a WordPiece vocab.txt, one token per line).");
        if (maxTokens < 3) throw new InvalidOperationException("The token limit of the ONNX embedder must leave room for text between [CLS] and [SEP].");

        _tokenizer = BertTokenizer.Create(vocabularyPath, new BertOptions { LowerCaseBeforeTokenization = lowerCase });
        _maxTokens = maxTokens;
        var options = new SessionOptions { InterOpNumThreads = 1, IntraOpNumThreads = threads ?? Math.Max(1, Environment.ProcessorCount / 2) };
        try
        {
            _session = new InferenceSession(modelPath, options);
        }
        catch (OnnxRuntimeException e)
        {
            throw new InvalidOperationException($"'{modelPath}' is not a model ONNX Runtime can load: {e.Message}", e);
        }
        finally
        {
            options.Dispose();
        }

        var inputs = _session.InputMetadata;
        if (!inputs.ContainsKey("input_ids"))
            throw Fail($"The ONNX model has no 'input_ids' input (it has {string.Join(", ", inputs.Keys)}).");
        _hasMask = inputs.ContainsKey("attention_mask");
        _hasTokenTypes = inputs.ContainsKey("token_type_ids");
        var unknown = inputs.Keys.Except(["input_ids", "attention_mask", "token_type_ids"]).ToList();
        if (unknown.Count > 0) throw Fail($"The ONNX model needs inputs this embedder cannot give: {string.Join(", ", unknown)}.");
        if (inputs["input_ids"].ElementDataType != TensorElementType.Int64)
            throw Fail("The ONNX model's 'input_ids' must be int64.");

        // A pooled sentence output wins over token states; otherwise the first output of rank 2 or 3.
        var outputs = _session.OutputMetadata;
        var chosen = outputs.FirstOrDefault(o => o.Key == "sentence_embedding" && o.Value.Dimensions.Length == 2);
        if (chosen.Key is null) chosen = outputs.FirstOrDefault(o => o.Key == "last_hidden_state" && o.Value.Dimensions.Length == 3);
        if (chosen.Key is null) chosen = outputs.FirstOrDefault(o => o.Value.Dimensions.Length is 2 or 3 && o.Value.ElementDataType == TensorElementType.Float);
        if (chosen.Key is null || chosen.Value.ElementDataType != TensorElementType.Float)
            throw Fail("The ONNX model has no float output shaped [batch, dim] or [batch, tokens, dim].");
        _output = chosen.Key;
        _pooledOutput = chosen.Value.Dimensions.Length == 2;
        var dimensions = chosen.Value.Dimensions[^1];
        ModelId = $"onnx:{Path.GetFileNameWithoutExtension(modelPath)}";
        _metadata = new EmbeddingGeneratorMetadata("onnx", null, ModelId, dimensions > 0 ? dimensions : null);

        InvalidOperationException Fail(string message)
        {
            _session.Dispose();
            return new InvalidOperationException($"'{modelPath}': {message}");
        }
    }

    public string ModelId { get; }

    public Task<GeneratedEmbeddings<Embedding<float>>> GenerateAsync(IEnumerable<string> values, EmbeddingGenerationOptions? options = null, CancellationToken cancellationToken = default)
    {
        var texts = values as IReadOnlyList<string> ?? values.ToList();
        var result = new GeneratedEmbeddings<Embedding<float>>(texts.Count);
        if (texts.Count == 0) return Task.FromResult(result);
        cancellationToken.ThrowIfCancellationRequested();

        var ids = texts.Select(text => _tokenizer.EncodeToIds(text, _maxTokens, addSpecialTokens: true, out _, out _)).ToList();
        var length = ids.Max(x => x.Count);
        var inputIds = new DenseTensor<long>([texts.Count, length]);
        var mask = new DenseTensor<long>([texts.Count, length]);
        for (var row = 0; row < ids.Count; row++)
            for (var column = 0; column < ids[row].Count; column++)
            {
                inputIds[row, column] = ids[row][column];
                mask[row, column] = 1;
            }
        var feeds = new List<NamedOnnxValue> { NamedOnnxValue.CreateFromTensor("input_ids", inputIds) };
        if (_hasMask) feeds.Add(NamedOnnxValue.CreateFromTensor("attention_mask", mask));
        if (_hasTokenTypes) feeds.Add(NamedOnnxValue.CreateFromTensor("token_type_ids", new DenseTensor<long>([texts.Count, length])));

        using var outputs = _session.Run(feeds, [_output]);
        var states = outputs[0].AsTensor<float>();
        for (var row = 0; row < texts.Count; row++)
        {
            var vector = _pooledOutput ? Row(states, row) : MeanPool(states, row, ids[row].Count);
            result.Add(new Embedding<float>(vector) { ModelId = ModelId });
        }
        return Task.FromResult(result);
    }

    private static float[] Row(Tensor<float> states, int row)
    {
        var vector = new float[states.Dimensions[1]];
        for (var d = 0; d < vector.Length; d++) vector[d] = states[row, d];
        return vector;
    }

    /// <summary>The mean of the token vectors of one text over its real tokens (the padding after them is left out).</summary>
    private static float[] MeanPool(Tensor<float> states, int row, int tokens)
    {
        var vector = new float[states.Dimensions[2]];
        for (var t = 0; t < tokens; t++)
            for (var d = 0; d < vector.Length; d++) vector[d] += states[row, t, d];
        for (var d = 0; d < vector.Length; d++) vector[d] /= tokens;
        return vector;
    }

    public object? GetService(Type serviceType, object? serviceKey = null) =>
        serviceKey is not null ? null
        : serviceType == typeof(EmbeddingGeneratorMetadata) ? _metadata
        : serviceType.IsInstanceOfType(this) ? this
        : null;

    public void Dispose() => _session.Dispose();
}
