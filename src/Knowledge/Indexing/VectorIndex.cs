using System.Numerics.Tensors;

namespace Cube.Knowledge.Indexing;

/// <summary>
/// Nearest-neighbour search over unit vectors kept in one contiguous float matrix, plus an int8 copy of every vector
/// (<see cref="Int8Vectors"/>). Below <see cref="VectorSearchOptions.ExactBelow"/> rows a query is an exact SIMD scan
/// of the floats; from there on it scans the int8 codes (a quarter of the memory traffic), keeps
/// <see cref="VectorSearchOptions.RescoreFactor"/> × k candidates and rescores them with the float vectors, so the
/// returned scores are exact cosine similarities and the ranking is exact unless a true top-k row fell out of the
/// candidate set. Filters are applied to every row before it is scored (pre-filter), so a filtered search still
/// returns k rows when k are allowed. Not thread-safe for writes; <see cref="EmbeddedIndex"/> guards it with a
/// reader-writer lock.
/// </summary>
internal sealed class VectorIndex(VectorSearchOptions? options = null)
{
    private readonly VectorSearchOptions _options = options ?? new VectorSearchOptions();
    private float[] _matrix = [];
    private readonly Int8Vectors _codes = new();
    private readonly List<VectorRow> _rows = [];

    public int Dimensions { get; private set; }
    public int Count => _rows.Count;

    internal sealed record VectorRow(Guid ChunkId, Guid DocumentId, string[] Tags);

    /// <summary>Whether a search over the current rows scans the int8 codes (true) or the floats.</summary>
    public bool Quantized => _options.Quantization switch
    {
        VectorQuantization.Exact => false,
        VectorQuantization.Int8 => true,
        _ => _rows.Count >= _options.ExactBelow,
    };

    public void Add(Guid chunkId, Guid documentId, IReadOnlyList<string> tags, ReadOnlySpan<float> vector)
    {
        if (Dimensions == 0) Dimensions = vector.Length;
        else if (vector.Length != Dimensions)
            throw new InvalidOperationException($"Vector has {vector.Length} dimensions; this index holds {Dimensions}.");
        var needed = (_rows.Count + 1) * Dimensions;
        if (_matrix.Length < needed) Array.Resize(ref _matrix, Math.Max(needed, _matrix.Length * 2));
        vector.CopyTo(_matrix.AsSpan(_rows.Count * Dimensions, Dimensions));
        _codes.Add(_rows.Count, vector);
        _rows.Add(new VectorRow(chunkId, documentId, [.. tags]));
    }

    /// <summary>Removes the document's rows, compacting both matrices in place.</summary>
    public void RemoveDocument(Guid documentId)
    {
        var write = 0;
        for (var read = 0; read < _rows.Count; read++)
        {
            if (_rows[read].DocumentId == documentId) continue;
            if (write != read)
            {
                _matrix.AsSpan(read * Dimensions, Dimensions).CopyTo(_matrix.AsSpan(write * Dimensions, Dimensions));
                _codes.Move(read, write);
                _rows[write] = _rows[read];
            }
            write++;
        }
        _rows.RemoveRange(write, _rows.Count - write);
    }

    /// <summary>The configured path: exact or int8 with rescoring, by <see cref="Quantized"/>.</summary>
    public IReadOnlyList<(VectorRow Row, float Score)> Search(ReadOnlySpan<float> query, int k, Func<VectorRow, bool>? allow) =>
        Quantized ? SearchInt8(query, k, allow) : SearchExact(query, k, allow);

    /// <summary>Exact top-k by a float scan of every allowed row: the oracle the quantised path is tested against.</summary>
    public IReadOnlyList<(VectorRow Row, float Score)> SearchExact(ReadOnlySpan<float> query, int k, Func<VectorRow, bool>? allow)
    {
        if (_rows.Count == 0 || k <= 0) return [];
        Check(query);
        var q = query.ToArray();
        return Ranked(Scan(k, (from, to, heap) =>
        {
            for (var row = from; row < to; row++)
            {
                if (allow is not null && !allow(_rows[row])) continue;
                Offer(heap, k, row, TensorPrimitives.Dot(_matrix.AsSpan(row * Dimensions, Dimensions), q));
            }
        }), k);
    }

    /// <summary>
    /// Int8 scan for <see cref="VectorSearchOptions.RescoreFactor"/> × k candidates (at least k + 16), then exact float
    /// scores for those candidates alone.
    /// </summary>
    public IReadOnlyList<(VectorRow Row, float Score)> SearchInt8(ReadOnlySpan<float> query, int k, Func<VectorRow, bool>? allow)
    {
        if (_rows.Count == 0 || k <= 0) return [];
        Check(query);
        var q = query.ToArray();
        var codes = new sbyte[Dimensions];
        Int8Vectors.Quantize(query, codes);
        var candidates = Math.Max(k * _options.RescoreFactor, k + 16);
        var approximate = Scan(candidates, (from, to, heap) =>
        {
            for (var row = from; row < to; row++)
            {
                if (allow is not null && !allow(_rows[row])) continue;
                Offer(heap, candidates, row, _codes.Score(row, codes));
            }
        });
        var rescored = new List<(int Row, float Score)>(approximate.Count);
        foreach (var (row, _) in approximate) rescored.Add((row, TensorPrimitives.Dot(_matrix.AsSpan(row * Dimensions, Dimensions), q)));
        return Ranked(rescored, k);
    }

    private void Check(ReadOnlySpan<float> query)
    {
        if (query.Length != Dimensions)
            throw new Core.Errors.BadRequestException($"The query vector has {query.Length} dimensions; this knowledge base's vectors have {Dimensions}.");
    }

    private static void Offer(PriorityQueue<int, float> heap, int size, int row, float score)
    {
        if (heap.Count < size) heap.Enqueue(row, score);
        else if (heap.TryPeek(out _, out var lowest) && score > lowest) heap.EnqueueDequeue(row, score);
    }

    /// <summary>Runs <paramref name="scan"/> over parallel slices of the rows, each with its own bounded min-heap, and returns every slice's survivors.</summary>
    private List<(int Row, float Score)> Scan(int size, Action<int, int, PriorityQueue<int, float>> scan)
    {
        var slices = _rows.Count < 20_000 ? 1 : Math.Min(Environment.ProcessorCount, 8);
        var sliceSize = (_rows.Count + slices - 1) / slices;
        var partial = new List<(int, float)>[slices];
        Parallel.For(0, slices, slice =>
        {
            var heap = new PriorityQueue<int, float>(size + 1);
            scan(slice * sliceSize, Math.Min(_rows.Count, (slice + 1) * sliceSize), heap);
            var list = new List<(int, float)>(heap.Count);
            while (heap.TryDequeue(out var row, out var score)) list.Add((row, score));
            partial[slice] = list;
        });
        return partial.SelectMany(p => p).ToList();
    }

    /// <summary>Ties (identical chunks in several documents) go by chunk id, not row position: positions change when the index is reopened or compacted, results must not.</summary>
    private List<(VectorRow Row, float Score)> Ranked(List<(int Row, float Score)> scored, int k) =>
        scored.Select(p => (Row: _rows[p.Row], p.Score)).OrderByDescending(p => p.Score).ThenBy(p => p.Row.ChunkId).Take(k).ToList();
}
