using System.Numerics.Tensors;

namespace Cube.Knowledge.Indexing;

/// <summary>
/// Exact nearest-neighbour search over unit vectors kept in one contiguous matrix: cosine similarity is a SIMD dot
/// product (TensorPrimitives), scanned in parallel slices with a bounded heap per slice. Not thread-safe for writes;
/// <see cref="EmbeddedIndex"/> guards it with a reader-writer lock.
/// </summary>
internal sealed class VectorIndex
{
    private float[] _matrix = [];
    private readonly List<VectorRow> _rows = [];

    public int Dimensions { get; private set; }
    public int Count => _rows.Count;

    internal sealed record VectorRow(Guid ChunkId, Guid DocumentId, string[] Tags);

    public void Add(Guid chunkId, Guid documentId, IReadOnlyList<string> tags, ReadOnlySpan<float> vector)
    {
        if (Dimensions == 0) Dimensions = vector.Length;
        else if (vector.Length != Dimensions)
            throw new InvalidOperationException($"Vector has {vector.Length} dimensions; this index holds {Dimensions}.");
        var needed = (_rows.Count + 1) * Dimensions;
        if (_matrix.Length < needed) Array.Resize(ref _matrix, Math.Max(needed, _matrix.Length * 2));
        vector.CopyTo(_matrix.AsSpan(_rows.Count * Dimensions, Dimensions));
        _rows.Add(new VectorRow(chunkId, documentId, [.. tags]));
    }

    /// <summary>Removes the document's rows, compacting the matrix in place.</summary>
    public void RemoveDocument(Guid documentId)
    {
        var write = 0;
        for (var read = 0; read < _rows.Count; read++)
        {
            if (_rows[read].DocumentId == documentId) continue;
            if (write != read)
            {
                _matrix.AsSpan(read * Dimensions, Dimensions).CopyTo(_matrix.AsSpan(write * Dimensions, Dimensions));
                _rows[write] = _rows[read];
            }
            write++;
        }
        _rows.RemoveRange(write, _rows.Count - write);
    }

    public IReadOnlyList<(VectorRow Row, float Score)> Search(ReadOnlySpan<float> query, int k, Func<VectorRow, bool>? allow)
    {
        if (_rows.Count == 0 || k <= 0) return [];
        if (query.Length != Dimensions)
            throw new Core.Errors.BadRequestException($"The query vector has {query.Length} dimensions; this knowledge base's vectors have {Dimensions}.");
        var q = query.ToArray();
        var slices = _rows.Count < 20_000 ? 1 : Math.Min(Environment.ProcessorCount, 8);
        var sliceSize = (_rows.Count + slices - 1) / slices;
        var partial = new List<(int Row, float Score)>[slices];
        Parallel.For(0, slices, slice =>
        {
            var heap = new PriorityQueue<int, float>(k + 1);
            var end = Math.Min(_rows.Count, (slice + 1) * sliceSize);
            for (var row = slice * sliceSize; row < end; row++)
            {
                if (allow is not null && !allow(_rows[row])) continue;
                var score = TensorPrimitives.Dot(_matrix.AsSpan(row * Dimensions, Dimensions), q);
                if (heap.Count < k) heap.Enqueue(row, score);
                else if (heap.TryPeek(out _, out var lowest) && score > lowest) heap.EnqueueDequeue(row, score);
            }
            var list = new List<(int, float)>(heap.Count);
            while (heap.TryDequeue(out var row, out var score)) list.Add((row, score));
            partial[slice] = list;
        });
        return partial.SelectMany(p => p)
            .OrderByDescending(p => p.Score).ThenBy(p => p.Row)
            .Take(k)
            .Select(p => (_rows[p.Row], p.Score))
            .ToList();
    }
}
