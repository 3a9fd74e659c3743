using Cube.Knowledge.Embeddings;
using Cube.Testing;
using Microsoft.Extensions.Options;

namespace Cube.Knowledge.Tests.Embeddings;

/// <summary>The ONNX embedder on a real (tiny) ONNX model run by ONNX Runtime, with the model's WordPiece vocabulary.</summary>
public sealed class OnnxEmbeddingGeneratorTests : IDisposable
{
    private readonly TempDirectory _directory = new();

    private static float[] Mean(params int[] tokens)
    {
        var mean = new float[TinyOnnxModel.Dimensions];
        foreach (var token in tokens)
            for (var d = 0; d < mean.Length; d++) mean[d] += TinyOnnxModel.Row(token)[d] / tokens.Length;
        return mean;
    }

    [Fact]
    public async Task Embedding_IsTheMeanOfItsTokenVectors_WithSpecialTokensAndWithoutPadding()
    {
        using var embedder = new OnnxEmbeddingGenerator(TinyOnnxModel.Write(_directory.Path));

        // "The cats sat" -> [CLS] the cat ##s sat [SEP]; "dog" -> [CLS] dog [SEP], padded to six tokens in the batch.
        var batch = await embedder.GenerateAsync(["The cats sat", "dog"]);
        var single = await embedder.GenerateAsync(["dog"]);

        Assert.Equal("onnx:model", embedder.ModelId);
        Assert.Equal(Mean(2, 5, 6, 12, 8, 3), batch[0].Vector.ToArray(), (a, b) => Math.Abs(a - b) < 1e-5);
        Assert.Equal(Mean(2, 7, 3), batch[1].Vector.ToArray(), (a, b) => Math.Abs(a - b) < 1e-5);
        Assert.Equal(single[0].Vector.ToArray(), batch[1].Vector.ToArray(), (a, b) => Math.Abs(a - b) < 1e-5);
        // An unknown word is [UNK], not an error.
        Assert.Equal(Mean(2, 1, 3), (await embedder.GenerateAsync(["zebra"]))[0].Vector.ToArray(), (a, b) => Math.Abs(a - b) < 1e-5);
    }

    [Fact]
    public async Task KnowledgeAi_WithTheOnnxProvider_NamesTheModel_AndGivesUnitVectorsThatRankBySharedWords()
    {
        var options = new KnowledgeOptions { Embeddings = { Provider = "Onnx", ModelPath = TinyOnnxModel.Write(_directory.Path), BatchSize = 2 } };
        using var ai = new KnowledgeAi(Options.Create(options));

        var vectors = await ai.EmbedAsync(["the cat sat on the mat", "the cat sat", "export error lock"], CancellationToken.None);

        Assert.Equal("onnx:model", ai.EmbeddingModel);
        Assert.All(vectors, v => Assert.Equal(1f, System.Numerics.Tensors.TensorPrimitives.Norm(v), 4));
        var similar = System.Numerics.Tensors.TensorPrimitives.Dot(vectors[0], vectors[1]);
        var different = System.Numerics.Tensors.TensorPrimitives.Dot(vectors[0], vectors[2]);
        Assert.True(similar > different, $"{similar} should exceed {different}");
    }

    [Fact]
    public void Misconfiguration_IsACleanOptionsErrorNamingTheProblem()
    {
        string Error(Action<EmbeddingOptions> configure)
        {
            var options = new KnowledgeOptions { Embeddings = { Provider = "Onnx" } };
            configure(options.Embeddings);
            return Assert.Throws<OptionsValidationException>(() => new KnowledgeAi(Options.Create(options))).Message;
        }

        Assert.Contains("ModelPath is required", Error(_ => { }), StringComparison.Ordinal);
        Assert.Contains("does not exist", Error(e => e.ModelPath = Path.Combine(_directory.Path, "missing.onnx")), StringComparison.Ordinal);

        var corrupt = Path.Combine(_directory.Path, "corrupt.onnx");
        File.WriteAllBytes(corrupt, "this is not protobuf"u8.ToArray());
        File.WriteAllLines(Path.Combine(_directory.Path, "vocab.txt"), TinyOnnxModel.Vocabulary);
        Assert.Contains("not a model ONNX Runtime can load", Error(e => e.ModelPath = corrupt), StringComparison.Ordinal);

        using var other = new TempDirectory();
        var renamed = TinyOnnxModel.Write(other.Path, inputName: "tokens");
        Assert.Contains("no 'input_ids' input (it has", Error(e => e.ModelPath = renamed), StringComparison.Ordinal);
        File.Delete(Path.Combine(other.Path, "vocab.txt"));
        Assert.Contains("vocab.txt", Error(e => e.ModelPath = renamed), StringComparison.Ordinal);
    }

    public void Dispose() => _directory.Dispose();
}
