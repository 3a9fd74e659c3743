using System.Numerics.Tensors;
using Cube.Knowledge.Embeddings;

namespace Cube.Knowledge.Tests.Embeddings;

public sealed class HashingEmbeddingGeneratorTests
{
    [Fact]
    public async Task GenerateAsync_IsDeterministicAndUnitLength()
    {
        using var generator = new HashingEmbeddingGenerator(256);
        var first = await generator.GenerateAsync(["Rotate the API tokens every month."]);
        var second = await new HashingEmbeddingGenerator(256).GenerateAsync(["Rotate the API tokens every month."]);
        Assert.Equal(first[0].Vector.ToArray(), second[0].Vector.ToArray());
        Assert.Equal(256, first[0].Vector.Length);
        Assert.Equal(1f, TensorPrimitives.Norm(first[0].Vector.Span), 3);
    }

    [Fact]
    public void Embed_PutsWordFormsAndTyposCloserThanUnrelatedText()
    {
        var generator = new HashingEmbeddingGenerator(384);
        var query = generator.Embed("kubernetes pod autoscaling");
        var typo = generator.Embed("kuberntes pods autoscaler");
        var unrelated = generator.Embed("reset a forgotten password by email");
        Assert.True(TensorPrimitives.Dot(query, typo) > TensorPrimitives.Dot(query, unrelated) + 0.2f);
    }
}
