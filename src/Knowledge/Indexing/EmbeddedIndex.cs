using System.Collections.Concurrent;
using System.Runtime.InteropServices;
using Cube.Knowledge.Retrieval;
using Lucene.Net.Analysis;
using Lucene.Net.Analysis.En;
using Lucene.Net.Analysis.TokenAttributes;
using Lucene.Net.Documents;
using Lucene.Net.Index;
using Lucene.Net.Search;
using Lucene.Net.Search.Similarities;
using Lucene.Net.Store;
using Lucene.Net.Util;
using LuceneDirectory = Lucene.Net.Store.Directory;

namespace Cube.Knowledge.Indexing;

/// <summary>
/// The embedded engine: per knowledge base, a Lucene index on disk (BM25 over heading path and text; stored fields
/// carry text, ids and the vector) and an in-memory <see cref="VectorIndex"/> rebuilt from those stored vectors on
/// first use. Lucene's commit is the single point of durability, so the two never disagree after a restart.
/// </summary>
public sealed class EmbeddedIndex(string root) : IKnowledgeIndex, IDisposable
{
    private static readonly LuceneVersion Version = LuceneVersion.LUCENE_48;
    private readonly ConcurrentDictionary<Guid, Lazy<Store>> _stores = new();

    private Store Open(Guid knowledgeBaseId) =>
        _stores.GetOrAdd(knowledgeBaseId, id => new Lazy<Store>(() => new Store(Path.Combine(root, id.ToString("N"))))).Value;

    public Task ReplaceDocumentAsync(Guid knowledgeBaseId, Guid documentId, IReadOnlyList<IndexedChunk> chunks, CancellationToken cancellationToken = default)
    {
        Open(knowledgeBaseId).Replace(documentId, chunks);
        return Task.CompletedTask;
    }

    public Task DeleteDocumentAsync(Guid knowledgeBaseId, Guid documentId, CancellationToken cancellationToken = default)
    {
        Open(knowledgeBaseId).Replace(documentId, []);
        return Task.CompletedTask;
    }

    public Task DropAsync(Guid knowledgeBaseId, CancellationToken cancellationToken = default)
    {
        if (_stores.TryRemove(knowledgeBaseId, out var store) && store.IsValueCreated) store.Value.Dispose();
        var path = Path.Combine(root, knowledgeBaseId.ToString("N"));
        if (System.IO.Directory.Exists(path)) System.IO.Directory.Delete(path, recursive: true);
        return Task.CompletedTask;
    }

    public Task<IReadOnlyList<SearchHit>> SearchAsync(Guid knowledgeBaseId, SearchQuery query, CancellationToken cancellationToken = default)
    {
        var store = Open(knowledgeBaseId);
        IReadOnlyList<SearchHit> hits = query.Mode switch
        {
            SearchMode.Bm25 => store.Bm25(query, query.K),
            SearchMode.Vector => store.Vector(query, query.K),
            _ => Fusion.ReciprocalRank(store.Bm25(query, query.CandidateCount), store.Vector(query, query.CandidateCount), query.K),
        };
        return Task.FromResult(hits);
    }

    public void Dispose()
    {
        foreach (var store in _stores.Values.Where(s => s.IsValueCreated)) store.Value.Dispose();
        _stores.Clear();
    }

    private sealed class Store : IDisposable
    {
        private readonly LuceneDirectory _directory;
        private readonly Analyzer _analyzer = new EnglishAnalyzer(Version);
        private readonly IndexWriter _writer;
        private readonly SearcherManager _searchers;
        private readonly VectorIndex _vectors = new();
        private readonly ReaderWriterLockSlim _lock = new();
        private readonly Similarity _similarity = new BM25Similarity();

        public Store(string path)
        {
            System.IO.Directory.CreateDirectory(path);
            _directory = FSDirectory.Open(path);
            // BM25 is set explicitly on both sides: index-time norms and query-time scoring must use the same similarity.
            _writer = new IndexWriter(_directory, new IndexWriterConfig(Version, _analyzer) { OpenMode = OpenMode.CREATE_OR_APPEND, Similarity = _similarity });
            _searchers = new SearcherManager(_writer, true, null);
            LoadVectors();
        }

        private void LoadVectors()
        {
            var searcher = _searchers.Acquire();
            try
            {
                foreach (var leaf in searcher.IndexReader.Leaves)
                {
                    var reader = leaf.AtomicReader;
                    var live = reader.LiveDocs;
                    for (var i = 0; i < reader.MaxDoc; i++)
                    {
                        if (live is not null && !live.Get(i)) continue;
                        var document = reader.Document(i);
                        var bytes = document.GetBinaryValue("vector");
                        var vector = MemoryMarshal.Cast<byte, float>(bytes.Bytes.AsSpan(bytes.Offset, bytes.Length));
                        _vectors.Add(Guid.Parse(document.Get("chunk_id")), Guid.Parse(document.Get("doc_id")), document.GetValues("tag"), vector);
                    }
                }
            }
            finally
            {
                _searchers.Release(searcher);
            }
        }

        public void Replace(Guid documentId, IReadOnlyList<IndexedChunk> chunks)
        {
            var key = documentId.ToString("N");
            _lock.EnterWriteLock();
            try
            {
                _writer.DeleteDocuments(new Term("doc_id", key));
                _writer.AddDocuments(chunks.Select(ToDocument));
                _writer.Commit();
                _searchers.MaybeRefreshBlocking();
                _vectors.RemoveDocument(documentId);
                foreach (var chunk in chunks) _vectors.Add(chunk.ChunkId, chunk.DocumentId, chunk.Tags, chunk.Vector);
            }
            finally
            {
                _lock.ExitWriteLock();
            }
        }

        private static Document ToDocument(IndexedChunk chunk)
        {
            var document = new Document
            {
                new StringField("chunk_id", chunk.ChunkId.ToString("N"), Field.Store.YES),
                new StringField("doc_id", chunk.DocumentId.ToString("N"), Field.Store.YES),
                new TextField("content", chunk.HeadingPath + "\n" + chunk.Text, Field.Store.NO),
                new StoredField("text", chunk.Text),
                new StoredField("heading", chunk.HeadingPath),
                new StoredField("ordinal", chunk.Ordinal),
                new StoredField("vector", MemoryMarshal.AsBytes(chunk.Vector.AsSpan()).ToArray()),
            };
            if (chunk.Title is not null) document.Add(new StoredField("title", chunk.Title));
            if (chunk.Page is { } page) document.Add(new StoredField("page", page));
            foreach (var tag in chunk.Tags) document.Add(new StringField("tag", tag, Field.Store.YES));
            return document;
        }

        public IReadOnlyList<SearchHit> Bm25(SearchQuery query, int k)
        {
            var terms = Analyze(query.Text);
            if (terms.Count == 0) return [];
            var boolean = new BooleanQuery();
            foreach (var term in terms.Distinct(StringComparer.Ordinal)) boolean.Add(new TermQuery(new Term("content", term)), Occur.SHOULD);
            var searcher = _searchers.Acquire();
            try
            {
                searcher.Similarity = _similarity;
                var top = searcher.Search(boolean, Filter(query), k);
                return top.ScoreDocs.Select(d => ToHit(searcher.Doc(d.Doc), d.Score)).ToList();
            }
            finally
            {
                _searchers.Release(searcher);
            }
        }

        public IReadOnlyList<SearchHit> Vector(SearchQuery query, int k)
        {
            if (query.Vector is null) throw new ArgumentException("A vector search needs a query vector.", nameof(query));
            IReadOnlyList<(VectorIndex.VectorRow Row, float Score)> found;
            var documents = query.DocumentIds is { Count: > 0 } ids ? ids.ToHashSet() : null;
            var tags = query.Tags is { Count: > 0 } t ? t.ToHashSet(StringComparer.Ordinal) : null;
            Func<VectorIndex.VectorRow, bool>? allow = documents is null && tags is null ? null
                : row => (documents is null || documents.Contains(row.DocumentId)) && (tags is null || row.Tags.Any(tags.Contains));
            _lock.EnterReadLock();
            try
            {
                found = _vectors.Search(query.Vector, k, allow);
            }
            finally
            {
                _lock.ExitReadLock();
            }
            if (found.Count == 0) return [];
            var searcher = _searchers.Acquire();
            try
            {
                var hits = new List<SearchHit>(found.Count);
                foreach (var (row, score) in found)
                {
                    var top = searcher.Search(new TermQuery(new Term("chunk_id", row.ChunkId.ToString("N"))), 1);
                    // A chunk deleted between the vector scan and this lookup is simply left out.
                    if (top.ScoreDocs.Length == 1) hits.Add(ToHit(searcher.Doc(top.ScoreDocs[0].Doc), score));
                }
                return hits;
            }
            finally
            {
                _searchers.Release(searcher);
            }
        }

        private static QueryWrapperFilter? Filter(SearchQuery query)
        {
            var clauses = new BooleanQuery();
            if (query.DocumentIds is { Count: > 0 } ids)
            {
                var any = new BooleanQuery();
                foreach (var id in ids) any.Add(new TermQuery(new Term("doc_id", id.ToString("N"))), Occur.SHOULD);
                clauses.Add(any, Occur.MUST);
            }
            if (query.Tags is { Count: > 0 } tags)
            {
                var any = new BooleanQuery();
                foreach (var tag in tags) any.Add(new TermQuery(new Term("tag", tag)), Occur.SHOULD);
                clauses.Add(any, Occur.MUST);
            }
            return clauses.Clauses.Count == 0 ? null : new QueryWrapperFilter(clauses);
        }

        private List<string> Analyze(string text)
        {
            var terms = new List<string>();
            using var stream = _analyzer.GetTokenStream("content", text);
            var attribute = stream.AddAttribute<ICharTermAttribute>();
            stream.Reset();
            while (stream.IncrementToken()) terms.Add(attribute.ToString());
            stream.End();
            return terms;
        }

        private static SearchHit ToHit(Document document, double score) => new(
            Guid.Parse(document.Get("chunk_id")), Guid.Parse(document.Get("doc_id")), document.GetField("ordinal").GetInt32Value() ?? 0,
            document.Get("text"), document.Get("title"), document.Get("heading") ?? "", document.GetField("page")?.GetInt32Value(), score);

        public void Dispose()
        {
            _searchers.Dispose();
            _writer.Dispose();
            _analyzer.Dispose();
            _directory.Dispose();
            _lock.Dispose();
        }
    }
}
