using System.Runtime.CompilerServices;
using System.Runtime.ExceptionServices;
using System.Threading.Channels;

namespace Cube.Features.Engine;

/// <summary>Overlaps reading with computing: the next items of a stream are produced on another thread while the caller works.</summary>
public static class ReadAhead
{
    /// <summary>
    /// Yields <paramref name="source"/>'s items in order while up to <paramref name="depth"/> more are read in the
    /// background (a Parquet row group decoded and converted while the previous batch is transformed). Memory stays
    /// bounded by the depth; the reader's failure surfaces at the item where it happened; stopping early stops the reader.
    /// </summary>
    public static async IAsyncEnumerable<T> Of<T>(IAsyncEnumerable<T> source, int depth = 2,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var channel = Channel.CreateBounded<T>(new BoundedChannelOptions(depth) { SingleReader = true, SingleWriter = true });
        var reader = Task.Run(async () =>
        {
            try
            {
                await foreach (var item in source.WithCancellation(stop.Token).ConfigureAwait(false))
                    await channel.Writer.WriteAsync(item, stop.Token).ConfigureAwait(false);
                channel.Writer.Complete();
            }
            catch (Exception e)
            {
                channel.Writer.Complete(e);
            }
        }, CancellationToken.None);
        try
        {
            while (true)
            {
                bool more;
                try
                {
                    more = await channel.Reader.WaitToReadAsync(cancellationToken).ConfigureAwait(false);
                }
                catch (ChannelClosedException e) when (e.InnerException is not null)
                {
                    ExceptionDispatchInfo.Throw(e.InnerException);
                    throw;
                }
                if (!more) break;
                while (channel.Reader.TryRead(out var item)) yield return item;
            }
        }
        finally
        {
            await stop.CancelAsync().ConfigureAwait(false);
            await reader.ConfigureAwait(false);
        }
    }
}
