using Cube.Core.Runs;
using Cube.Knowledge.Data;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Cube.Knowledge.Ingestion;

public sealed record IngestParameters(Guid KnowledgeBaseId, IReadOnlyList<Guid> DocumentIds) : IRunSubject
{
    Guid IRunSubject.SubjectId => KnowledgeBaseId;
}

public sealed record IngestResult(int Indexed, int Unchanged, int Failed, int Chunks);

/// <summary>
/// Ingests a batch of documents as one run, one document at a time with per-document state and run progress.
/// Idempotent: each document is replaced whole in the index and the database, and a document already indexed
/// with the same content hash is skipped, so a run re-queued after a crash finishes the batch.
/// </summary>
public sealed class IngestHandler : IRunHandler
{
    public const string RunKind = "knowledge.ingest";

    public string Kind => RunKind;
    public bool Idempotent => true;

    public async Task<object?> ExecuteAsync(RunContext context, CancellationToken cancellationToken)
    {
        var parameters = context.GetParameters<IngestParameters>();
        var db = context.Services.GetRequiredService<KnowledgeDbContext>();
        var pipeline = context.Services.GetRequiredService<IngestionPipeline>();
        var documents = await db.Documents
            .Where(d => d.KnowledgeBaseId == parameters.KnowledgeBaseId && parameters.DocumentIds.Contains(d.Id))
            .OrderBy(d => d.Name)
            .ToListAsync(cancellationToken);
        int indexed = 0, unchanged = 0, failed = 0, chunks = 0;
        for (var i = 0; i < documents.Count; i++)
        {
            var document = documents[i];
            await context.ReportAsync(100.0 * i / documents.Count, $"Document {i + 1} of {documents.Count}: {document.Name}");
            switch (await pipeline.ProcessAsync(db, document, context.RunId, cancellationToken))
            {
                case IngestOutcome.Indexed:
                    indexed++;
                    chunks += document.ChunkCount;
                    break;
                case IngestOutcome.Unchanged:
                    unchanged++;
                    break;
                default:
                    failed++;
                    break;
            }
        }
        await context.ReportAsync(100, $"{indexed} indexed, {unchanged} unchanged, {failed} failed");
        return new IngestResult(indexed, unchanged, failed, chunks);
    }
}
