using System.IO.Compression;
using System.Text;

namespace Cube.Labeling.Formats.Interchange;

/// <summary>
/// A zip written entry by entry to a forward-only stream (an HTTP response), so multi-file exports stream. The zip
/// writer still issues some synchronous writes (local headers, the central directory), which a server's response
/// refuses; they land in a small buffer that is drained asynchronously after each entry, so memory holds one entry at most.
/// </summary>
public sealed class ZipOutput : IAsyncDisposable
{
    private readonly ZipArchive _zip;
    private readonly PendingStream _pending;

    private ZipOutput(ZipArchive zip, PendingStream pending)
    {
        _zip = zip;
        _pending = pending;
    }

    public static async Task<ZipOutput> CreateAsync(Stream output, CancellationToken cancellationToken)
    {
        var pending = new PendingStream(output);
        return new(await ZipArchive.CreateAsync(pending, ZipArchiveMode.Create, leaveOpen: true, entryNameEncoding: Encoding.UTF8, cancellationToken), pending);
    }

    public async Task WriteAsync(string path, string content, CancellationToken cancellationToken)
    {
        var entry = _zip.CreateEntry(path, CompressionLevel.Fastest);
        await using (var stream = await entry.OpenAsync(cancellationToken))
            await stream.WriteAsync(new UTF8Encoding(false).GetBytes(content), cancellationToken);
        await _pending.DrainAsync(CancellationToken.None);
    }

    public async ValueTask DisposeAsync()
    {
        await _zip.DisposeAsync();
        await _pending.DrainAsync(CancellationToken.None);
    }

    /// <summary>Collects writes and passes them on when drained; forward-only, as the zip writer expects of an unseekable stream.</summary>
    private sealed class PendingStream(Stream inner) : Stream
    {
        private readonly MemoryStream _buffer = new();
        private long _position;

        public async Task DrainAsync(CancellationToken cancellationToken)
        {
            if (_buffer.Length == 0) return;
            await inner.WriteAsync(_buffer.GetBuffer().AsMemory(0, (int)_buffer.Length), cancellationToken);
            await inner.FlushAsync(cancellationToken);
            _buffer.SetLength(0);
        }

        public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

        public override void Write(ReadOnlySpan<byte> buffer)
        {
            _buffer.Write(buffer);
            _position += buffer.Length;
        }

        public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            Write(buffer.Span);
            if (_buffer.Length >= 1 << 16) await DrainAsync(cancellationToken);
        }

        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override void Flush() { }

        public override Task FlushAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => _position; set => throw new NotSupportedException(); }
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
    }
}
