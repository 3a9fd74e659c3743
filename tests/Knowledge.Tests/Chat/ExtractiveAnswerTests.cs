using Cube.Knowledge.Chat;
using Cube.Knowledge.Retrieval;

namespace Cube.Knowledge.Tests.Chat;

public sealed class ExtractiveAnswerTests
{
    private static RetrievedChunk Passage(string document, string text, int? page = null) =>
        new(Guid.NewGuid(), Guid.NewGuid(), document, null, "", page, 0, 1, 1, 1, text[..Math.Min(40, text.Length)], text);

    [Fact]
    public void Extract_QuotesTheBestMatchingSentencePerPassage_WithValidCitations()
    {
        RetrievedChunk[] passages =
        [
            Passage("manual.pdf", "Exports run nightly. Error E4012 means the retention lock of the bucket is active. Contact support otherwise.", page: 2),
            Passage("faq.md", "Unrelated words only here. Nothing about it."),
            Passage("storage.md", "Buckets hold objects. A retention lock blocks deletes and exports until it expires."),
        ];

        var answer = ChatService.Extract("Why does the export fail with E4012 under a retention lock?", passages);

        Assert.Equal("Error E4012 means the retention lock of the bucket is active. [1] A retention lock blocks deletes and exports until it expires. [3]", answer);
        var (citations, invalid) = ChatService.Validate(answer, passages);
        Assert.Equal([1, 3], citations.Select(c => c.N));
        Assert.Equal(2, citations[0].Page);
        Assert.Empty(invalid);
    }

    [Fact]
    public void Extract_SaysSo_WhenNothingWasRetrieved() =>
        Assert.Equal("The knowledge base has no passage that answers this question.", ChatService.Extract("anything?", []));
}
