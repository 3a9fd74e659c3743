using Cube.Core.Errors;
using Cube.Core.Storage;
using Cube.Knowledge.Chunking;
using Cube.Knowledge.Data;
using Cube.Knowledge.Embeddings;
using Cube.Knowledge.Extraction;
using Cube.Knowledge.Indexing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Cube.Knowledge.Ingestion;

/// <summary>What became of one document.</summary>
public enum IngestOutcome
{
    Indexed,
    Unchanged,
    Failed,
}

/// <summary>
/// Extract → chunk → embed → index for one document. The index is written before the database rows, and each step
/// replaces the document whole, so running it again after a crash converges on the same state.
/// </summary>
public sealed class IngestionPipeline(IKnowledgeIndex index, KnowledgeAi ai, IObjectStore store, IOptions<KnowledgeOptions> options, TimeProvider time)
{
    private readonly Chunker _chunker = new(options.Value.Chunking);

    public static string StorageKey(Guid knowledgeBaseId, string sha256) => $"knowledge/{knowledgeBaseId:N}/{sha256}";

    /// <summary>What gets embedded: the heading path gives a chunk the context its text alone may lack.</summary>
    public static string EmbeddingText(string? title, Chunk chunk) =>
        string.Join('\n', new[] { title, chunk.HeadingPath, chunk.Text }.Where(s => !string.IsNullOrWhiteSpace(s)));

    public (ExtractedDocument Document, IReadOnlyList<Chunk> Chunks) Prepare(byte[] content, string name, string? contentType)
    {
        var format = DocumentExtractor.DetectFormat(name, contentType)
            ?? throw new UnprocessableException($"'{name}' is not a supported format (PDF, Markdown, HTML, plain text, CSV or JSON Lines).");
        var document = DocumentExtractor.Extract(content, format);
        var chunks = _chunker.Split(document);
        if (chunks.Count == 0) throw new UnprocessableException("The document has no text.");
        return (document, chunks);
    }

    public async Task<IngestOutcome> ProcessAsync(KnowledgeDbContext db, KnowledgeDocument document, Guid? runId, CancellationToken cancellationToken)
    {
        if (document.State == DocumentState.Ready && document.IndexedSha256 == document.Sha256) return IngestOutcome.Unchanged;
        document.State = DocumentState.Processing;
        document.RunId = runId;
        document.UpdatedAt = time.GetUtcNow();
        await db.SaveChangesAsync(cancellationToken);
        try
        {
            var content = await ReadAsync(document, cancellationToken);
            var (extracted, chunks) = Prepare(content, document.Name, document.ContentType);
            var title = extracted.Title ?? Path.GetFileNameWithoutExtension(document.Name);
            var vectors = await ai.EmbedAsync(chunks.Select(c => EmbeddingText(title, c)).ToList(), cancellationToken);
            var tags = document.TagList;
            var indexed = chunks.Select((c, i) => new IndexedChunk(Guid.CreateVersion7(), document.Id, c.Ordinal, c.Text, title, c.HeadingPath, c.Page, tags, vectors[i])).ToList();
            await index.ReplaceDocumentAsync(document.KnowledgeBaseId, document.Id, indexed, cancellationToken);

            await db.Chunks.Where(c => c.DocumentId == document.Id).ExecuteDeleteAsync(cancellationToken);
            db.Chunks.AddRange(indexed.Select((c, i) => new KnowledgeChunk
            {
                Id = c.ChunkId, DocumentId = document.Id, KnowledgeBaseId = document.KnowledgeBaseId, Ordinal = c.Ordinal, HeadingPath = c.HeadingPath,
                Page = c.Page, StartOffset = chunks[i].Start, EndOffset = chunks[i].End, TokenCount = chunks[i].TokenCount, Text = c.Text,
            }));
            document.State = DocumentState.Ready;
            document.Error = null;
            document.Title = Truncate(title, 1024);
            document.Pages = extracted.Pages;
            document.ChunkCount = indexed.Count;
            document.IndexedSha256 = document.Sha256;
            document.UpdatedAt = time.GetUtcNow();
            await db.SaveChangesAsync(cancellationToken);
            return IngestOutcome.Indexed;
        }
        catch (CubeException e) when (!cancellationToken.IsCancellationRequested)
        {
            // The document's own problem (corrupt, encrypted, empty, unsupported): it fails alone, with no chunks left behind.
            await index.DeleteDocumentAsync(document.KnowledgeBaseId, document.Id, cancellationToken);
            await db.Chunks.Where(c => c.DocumentId == document.Id).ExecuteDeleteAsync(cancellationToken);
            document.State = DocumentState.Failed;
            document.Error = Truncate(e.Message, 4000);
            document.ChunkCount = 0;
            document.IndexedSha256 = null;
            document.UpdatedAt = time.GetUtcNow();
            await db.SaveChangesAsync(cancellationToken);
            return IngestOutcome.Failed;
        }
    }

    private async Task<byte[]> ReadAsync(KnowledgeDocument document, CancellationToken cancellationToken)
    {
        var limit = options.Value.MaxDocumentBytes;
        if (document.SizeBytes > limit) throw new PayloadTooLargeException($"'{document.Name}' is larger than the limit of {limit:N0} bytes.", limit);
        try
        {
            await using var stream = await store.GetAsync(document.StorageKey, cancellationToken: cancellationToken);
            using var buffer = new MemoryStream(checked((int)Math.Max(0, document.SizeBytes)));
            await stream.CopyToAsync(buffer, cancellationToken);
            return buffer.ToArray();
        }
        catch (ObjectNotFoundException)
        {
            throw new UnprocessableException($"The content of '{document.Name}' is no longer in storage.");
        }
    }

    private static string Truncate(string value, int length) => value.Length <= length ? value : value[..length];
}
