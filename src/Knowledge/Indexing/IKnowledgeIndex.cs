namespace Cube.Knowledge.Indexing;

/// <summary>One chunk as the index stores it: text for BM25, vector for similarity, ids and tags for filters and citations.</summary>
public sealed record IndexedChunk(
    Guid ChunkId, Guid DocumentId, int Ordinal, string Text, string? Title, string HeadingPath, int? Page, IReadOnlyList<string> Tags, float[] Vector);

public enum SearchMode
{
    Bm25,
    Vector,
    Hybrid,
}

/// <summary>
/// A retrieval request. Document ids and tags are pre-filters: they restrict the candidates before ranking, so a
/// filtered search still returns its full top-k. A chunk matches the tag filter when its document has any of the tags.
/// A chunk whose document has any of <see cref="ExcludedTags"/> is never a candidate (document-level access).
/// Hybrid results are fused by reciprocal rank unless <see cref="VectorWeight"/> asks for a weighted sum of normalised scores.
/// </summary>
public sealed record SearchQuery(string Text, float[]? Vector, SearchMode Mode, int K,
    IReadOnlyCollection<Guid>? DocumentIds = null, IReadOnlyCollection<string>? Tags = null, double? VectorWeight = null,
    IReadOnlyCollection<string>? ExcludedTags = null)
{
    /// <summary>How many candidates each ranker contributes to hybrid fusion.</summary>
    public int CandidateCount => Math.Max(K * 4, 50);
}

/// <summary>A ranked chunk. For hybrid results the ranks of each contributing ranker are kept (null when it missed).</summary>
public sealed record SearchHit(
    Guid ChunkId, Guid DocumentId, int Ordinal, string Text, string? Title, string HeadingPath, int? Page, double Score,
    int? Bm25Rank = null, int? VectorRank = null);

/// <summary>
/// The search engine behind knowledge bases: one index per knowledge base. Adapters: <see cref="EmbeddedIndex"/>
/// (Lucene BM25 + in-process exact vectors, on disk) and <see cref="ElasticsearchIndex"/> (REST API).
/// </summary>
public interface IKnowledgeIndex
{
    /// <summary>Replaces every chunk of the document with <paramref name="chunks"/> (an empty list removes the document).</summary>
    Task ReplaceDocumentAsync(Guid knowledgeBaseId, Guid documentId, IReadOnlyList<IndexedChunk> chunks, CancellationToken cancellationToken = default);

    Task DeleteDocumentAsync(Guid knowledgeBaseId, Guid documentId, CancellationToken cancellationToken = default);

    /// <summary>Removes the whole index of a knowledge base.</summary>
    Task DropAsync(Guid knowledgeBaseId, CancellationToken cancellationToken = default);

    Task<IReadOnlyList<SearchHit>> SearchAsync(Guid knowledgeBaseId, SearchQuery query, CancellationToken cancellationToken = default);
}
