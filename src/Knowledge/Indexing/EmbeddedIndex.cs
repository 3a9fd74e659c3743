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
/// One process owns an index directory (Lucene's write lock); servers and workers on several machines share
/// knowledge bases through the Elasticsearch backend instead.
/// </summary>
public sealed class EmbeddedIndex(string root, VectorSearchOptions? vectorOptions = null) : IKnowledgeIndex, IDisposable
{
    private static readonly LuceneVersion Version = LuceneVersion.LUCENE_48;
    private readonly ConcurrentDictionary<Guid, Lazy<Store>> _stores = new();

    private Store Open(Guid knowledgeBaseId)
    {
        var lazy = _stores.GetOrAdd(knowledgeBaseId, id => new Lazy<Store>(() => new Store(Path.Combine(root, id.ToString("N")), vectorOptions)));
        try
        {
            return lazy.Value;
        }
        catch (Exception)
        {
            // Lazy caches its exception; forget it so a later call (after the lock holder went away, say) can open the index.
            _stores.TryRemove(new KeyValuePair<Guid, Lazy<Store>>(knowledgeBaseId, lazy));
            throw;
        }
    }

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

    public Task<IReadOnlyList<SearchHit>> SearchAsync(Guid knowledgeBaseId, SearchQuery query, CancellationToken cancellationToken = default) =>
        Task.FromResult(Open(knowledgeBaseId).Search(query));

    /// <summary>Whether the knowledge base's vector searches currently take the int8 path (for the benchmark and tests).</summary>
    internal bool IsQuantized(Guid knowledgeBaseId) => Open(knowledgeBaseId).Quantized;

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
        private readonly VectorIndex _vectors;
        private readonly ReaderWriterLockSlim _lock = new();
        private readonly Similarity _similarity = new BM25Similarity();
        private readonly ConcurrentDictionary<string, Filter> _filters = new(StringComparer.Ordinal);

        public Store(string path, VectorSearchOptions? vectorOptions)
        {
            _vectors = new VectorIndex(vectorOptions);
            System.IO.Directory.CreateDirectory(path);
            _directory = FSDirectory.Open(path);
            // BM25 is set explicitly on both sides: index-time norms and query-time scoring must use the same similarity.
            _writer = new IndexWriter(_directory, new IndexWriterConfig(Version, _analyzer) { OpenMode = OpenMode.CREATE_OR_APPEND, Similarity = _similarity });
            _searchers = new SearcherManager(_writer, true, null);
            LoadVectors();
        }

        public bool Quantized
        {
            get
            {
                _lock.EnterReadLock();
                try
                {
                    return _vectors.Quantized;
                }
                finally
                {
                    _lock.ExitReadLock();
                }
            }
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

        /// <summary>
        /// Ranks with ids only, fuses, then loads the stored fields of the final top-k alone: loading candidates' stored
        /// fields (text and vector) was the bulk of hybrid latency.
        /// </summary>
        public IReadOnlyList<SearchHit> Search(SearchQuery query)
        {
            if (query.Mode != SearchMode.Bm25 && query.Vector is null) throw new ArgumentException("A vector search needs a query vector.", nameof(query));
            IndexSearcher searcher;
            IReadOnlyList<(Guid ChunkId, float Score)> vector = [];
            // Hybrid: the BM25 ranking is offered to another core while this thread scans the vectors (IndexSearcher is
            // thread-safe), so the query costs the longer of the two rather than their sum; with no core free, this
            // thread ranks it after the vectors.
            ForkedWork<List<(int Doc, Guid ChunkId, float Score)>>? lexical = null;
            // The searcher and the vector ranking are taken under one read lock, so they see the same commit: a chunk
            // the vectors rank is always loadable from the searcher, and a deleted one is in neither.
            _lock.EnterReadLock();
            try
            {
                searcher = _searchers.Acquire();
                searcher.Similarity = _similarity;
                try
                {
                    if (query.Mode == SearchMode.Hybrid) lexical = ForkedWork<List<(int Doc, Guid ChunkId, float Score)>>.Start(() => Bm25Ranked(searcher, query, query.CandidateCount));
                    if (query.Mode != SearchMode.Bm25) vector = VectorRanked(query, query.Mode == SearchMode.Vector ? query.K : query.CandidateCount);
                }
                catch
                {
                    // The searcher goes back only once nothing uses it.
                    lexical?.Settle();
                    _searchers.Release(searcher);
                    throw;
                }
            }
            finally
            {
                _lock.ExitReadLock();
            }
            try
            {
                switch (query.Mode)
                {
                    case SearchMode.Bm25:
                        return Bm25Ranked(searcher, query, query.K).Select(r => Load(searcher, r.Doc, r.Score)).ToList();
                    case SearchMode.Vector:
                        return vector.Select(r => Load(searcher, r.ChunkId, r.Score)).OfType<SearchHit>().ToList();
                    default:
                        var bm25 = lexical!.Join();
                        var luceneDocs = bm25.ToDictionary(b => b.ChunkId, b => b.Doc);
                        var fused = Fusion.Fuse(bm25.Select(b => Stub(b.ChunkId, b.Score)).ToList(), vector.Select(v => Stub(v.ChunkId, v.Score)).ToList(), query);
                        return fused
                            .Select(f => (luceneDocs.TryGetValue(f.ChunkId, out var doc) ? Load(searcher, doc, f.Score) : Load(searcher, f.ChunkId, f.Score)) is { } hit
                                ? hit with { Bm25Rank = f.Bm25Rank, VectorRank = f.VectorRank }
                                : null)
                            .OfType<SearchHit>()
                            .ToList();
                }
            }
            finally
            {
                // A failed ranking above may leave the lexical ranking running; it must end before the searcher is released.
                lexical?.Settle();
                _searchers.Release(searcher);
            }
        }

        private static SearchHit Stub(Guid chunkId, double score) => new(chunkId, Guid.Empty, 0, "", null, "", null, score);

        private static readonly HashSet<string> HitFields = ["chunk_id", "doc_id", "text", "title", "heading", "ordinal", "page"];

        private List<(int Doc, Guid ChunkId, float Score)> Bm25Ranked(IndexSearcher searcher, SearchQuery query, int k)
        {
            var terms = Analyze(query.Text);
            if (terms.Count == 0) return [];
            var boolean = new BooleanQuery();
            foreach (var term in terms.Distinct(StringComparer.Ordinal)) boolean.Add(new TermQuery(new Term("content", term)), Occur.SHOULD);
            var top = searcher.Search(boolean, Filter(query), k);
            return top.ScoreDocs.Select(d => (d.Doc, ChunkId(searcher, d.Doc), d.Score)).ToList();
        }

        /// <summary>
        /// The chunk id of a Lucene document from the per-segment field cache of the indexed <c>chunk_id</c> terms:
        /// reading it from stored fields decompressed a block of text and vectors per candidate, which was most of a
        /// BM25 ranking's time. The cache is built once per segment and dropped with it.
        /// </summary>
        private static Guid ChunkId(IndexSearcher searcher, int doc)
        {
            var leaves = searcher.IndexReader.Leaves;
            var leaf = leaves[ReaderUtil.SubIndex(doc, leaves)];
            var ids = FieldCache.DEFAULT.GetTerms(leaf.AtomicReader, "chunk_id", false);
            var bytes = new BytesRef();
            ids.Get(doc - leaf.DocBase, bytes);
            return Guid.Parse(bytes.Bytes.AsSpan(bytes.Offset, bytes.Length), null);
        }

        /// <summary>The vector ranking with the query's pre-filters applied to each row before it is scored; the caller holds the read lock.</summary>
        private List<(Guid ChunkId, float Score)> VectorRanked(SearchQuery query, int k)
        {
            var documents = query.DocumentIds is { Count: > 0 } ids ? ids.ToHashSet() : null;
            var tags = query.Tags is { Count: > 0 } t ? t.ToHashSet(StringComparer.Ordinal) : null;
            var excluded = query.ExcludedTags is { Count: > 0 } x ? x.ToHashSet(StringComparer.Ordinal) : null;
            Func<VectorIndex.VectorRow, bool>? allow = documents is null && tags is null && excluded is null ? null
                : row => (documents is null || documents.Contains(row.DocumentId)) && (tags is null || AnyOf(row.Tags, tags))
                    && (excluded is null || !AnyOf(row.Tags, excluded));
            return _vectors.Search(query.Vector, k, allow).Select(f => (f.Row.ChunkId, f.Score)).ToList();
        }

        /// <summary>Runs once per row and query: a plain loop, where LINQ with a method group allocated per row.</summary>
        private static bool AnyOf(string[] rowTags, HashSet<string> wanted)
        {
            foreach (var tag in rowTags)
                if (wanted.Contains(tag)) return true;
            return false;
        }

        private static SearchHit Load(IndexSearcher searcher, int doc, double score) => ToHit(searcher.Doc(doc, HitFields), score);

        /// <summary>A chunk by id, or null when it was deleted between the vector scan and this lookup.</summary>
        private static SearchHit? Load(IndexSearcher searcher, Guid chunkId, double score)
        {
            var top = searcher.Search(new TermQuery(new Term("chunk_id", chunkId.ToString("N"))), 1);
            return top.ScoreDocs.Length == 1 ? Load(searcher, top.ScoreDocs[0].Doc, score) : null;
        }

        /// <summary>
        /// The query's pre-filter, cached per segment: a knowledge base's hidden tags come with every query, and
        /// evaluating "all documents minus the hidden ones" afresh each time cost a pass over every document.
        /// </summary>
        private Filter? Filter(SearchQuery query)
        {
            var key = FilterKey(query);
            if (key.Length == 0) return null;
            if (_filters.TryGetValue(key, out var cached)) return cached;
            // Bounded: per-document filters vary by request; forgetting them all now and then is cheaper than an LRU.
            if (_filters.Count >= 256) _filters.Clear();
            return _filters.GetOrAdd(key, _ => new CachingWrapperFilter(BuildFilter(query)!));
        }

        private static string FilterKey(SearchQuery query)
        {
            var key = new System.Text.StringBuilder();
            if (query.DocumentIds is { Count: > 0 } ids) key.Append("d:").AppendJoin(',', ids.Select(i => i.ToString("N")).Order(StringComparer.Ordinal)).Append('\n');
            if (query.Tags is { Count: > 0 } tags) key.Append("t:").AppendJoin('\u0001', tags.Order(StringComparer.Ordinal)).Append('\n');
            if (query.ExcludedTags is { Count: > 0 } excluded) key.Append("x:").AppendJoin('\u0001', excluded.Order(StringComparer.Ordinal)).Append('\n');
            return key.ToString();
        }

        private static QueryWrapperFilter? BuildFilter(SearchQuery query)
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
            if (query.ExcludedTags is { Count: > 0 } excluded)
            {
                // A query of only MUST_NOT clauses matches nothing in Lucene: exclusions subtract from everything.
                if (clauses.Clauses.Count == 0) clauses.Add(new MatchAllDocsQuery(), Occur.MUST);
                foreach (var tag in excluded) clauses.Add(new TermQuery(new Term("tag", tag)), Occur.MUST_NOT);
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
