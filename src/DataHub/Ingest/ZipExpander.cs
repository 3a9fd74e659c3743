using System.IO.Compression;
using Cube.Core.Errors;

namespace Cube.DataHub.Ingest;

/// <summary>Limits for expanding an uploaded archive (section <c>Cube:DataHub:Zip</c>).</summary>
public sealed class ZipLimits
{
    public int MaxEntries { get; set; } = 100_000;
    public long MaxTotalBytes { get; set; } = 50L * 1024 * 1024 * 1024;
    public long MaxEntryBytes { get; set; } = 20L * 1024 * 1024 * 1024;
    /// <summary>Uncompressed to compressed size, per entry and for the whole archive.</summary>
    public double MaxCompressionRatio { get; set; } = 200;
}

/// <summary>One file of an archive, readable once as a stream that enforces the limits while it is read.</summary>
public sealed record ZipItem(string Path, long CompressedSize, Func<Stream> Open);

/// <summary>
/// Expands a zip archive defensively. Paths are validated like any dataset path (no zip-slip), symlinks, encrypted
/// entries and duplicates are refused, and sizes are counted on the bytes actually inflated: a zip bomb's headers
/// may lie, the inflater cannot. Violations are problems naming the archive and the entry (413 for limits, 422 for
/// malformed or dangerous entries); the caller commits nothing on any of them.
/// </summary>
public sealed class ZipExpander(ZipLimits limits)
{
    private const int UnixSymlink = 0xA000;

    /// <summary>Validates the directory of <paramref name="archive"/> and returns its files in order.</summary>
    public IReadOnlyList<ZipItem> List(ZipArchive archive, string archiveName)
    {
        var items = new List<ZipItem>();
        var names = new HashSet<string>(StringComparer.Ordinal);
        var folded = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        var total = new Budget(limits, archiveName);
        foreach (var entry in archive.Entries)
        {
            if (entry.FullName.EndsWith('/') && entry.Length == 0) continue; // a directory
            if (items.Count >= limits.MaxEntries)
                throw Limit(archiveName, entry.FullName, $"the archive has more than {limits.MaxEntries:N0} files");
            var unixMode = (entry.ExternalAttributes >> 16) & 0xF000;
            if (unixMode == UnixSymlink) throw Dangerous(archiveName, entry.FullName, "symbolic links are not accepted");
            if (entry.IsEncrypted) throw Dangerous(archiveName, entry.FullName, "encrypted entries are not accepted");
            var problem = DatasetPath.Check(entry.FullName, out var path);
            if (problem is not null) throw Dangerous(archiveName, entry.FullName, problem);
            if (!names.Add(path)) throw Dangerous(archiveName, entry.FullName, "the archive holds this path twice");
            // Paths differing only in case would overwrite each other on case-insensitive file systems when pulled.
            if (!folded.Add(path)) throw Dangerous(archiveName, entry.FullName, "another entry differs from it only in letter case");
            var captured = entry;
            items.Add(new ZipItem(path, entry.CompressedLength, () => new LimitedInflateStream(captured.Open(), captured.CompressedLength, path, total)));
        }
        return items;
    }

    private static CubeException Limit(string archive, string entry, string reason) =>
        new PayloadTooLargeException($"Archive '{archive}', entry '{entry}': {reason}.", 0).With("file", archive).With("entry", entry);

    internal static CubeException Dangerous(string archive, string entry, string reason) =>
        new UnprocessableException($"Archive '{archive}', entry '{Printable(entry)}' is refused: {reason}.").With("file", archive).With("entry", Printable(entry));

    private static string Printable(string value) => new(value.Take(200).Select(c => char.IsControl(c) ? '?' : c).ToArray());

    /// <summary>Bytes inflated so far across the archive.</summary>
    private sealed class Budget(ZipLimits limits, string archive)
    {
        public long Inflated;
        public long Compressed;
        public ZipLimits Limits => limits;
        public string Archive => archive;
    }

    private sealed class LimitedInflateStream(Stream inner, long compressed, string path, Budget budget) : Stream
    {
        private long _read;

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => _read; set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count) => Account(inner.Read(buffer, offset, count));

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
            Account(await inner.ReadAsync(buffer, cancellationToken));

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        private int Account(int n)
        {
            if (_read == 0 && n > 0) budget.Compressed += compressed;
            _read += n;
            budget.Inflated += n;
            var l = budget.Limits;
            if (_read > l.MaxEntryBytes) throw Limit(budget.Archive, path, $"the entry inflates past {l.MaxEntryBytes:N0} bytes");
            if (budget.Inflated > l.MaxTotalBytes) throw Limit(budget.Archive, path, $"the archive inflates past {l.MaxTotalBytes:N0} bytes");
            // Ratios are checked once an entry is past 1 MiB, so tiny highly-compressible files (a run of spaces) pass.
            if (_read > 1 << 20 && _read > l.MaxCompressionRatio * Math.Max(1, compressed))
                throw Limit(budget.Archive, path, $"the entry inflates more than {l.MaxCompressionRatio:N0} times its compressed size (a zip bomb)");
            if (budget.Inflated > 1 << 20 && budget.Inflated > l.MaxCompressionRatio * Math.Max(1, budget.Compressed))
                throw Limit(budget.Archive, path, $"the archive inflates more than {l.MaxCompressionRatio:N0} times its compressed size (a zip bomb)");
            return n;
        }

        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing) inner.Dispose();
            base.Dispose(disposing);
        }
    }
}
