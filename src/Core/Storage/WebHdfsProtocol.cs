using System.Buffers;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;

namespace Cube.Core.Storage;

/// <summary>
/// A WebHDFS call that failed, with the <c>RemoteException</c> the server sent (exception name, Java class, message).
/// Thrown for failures that have no closer meaning in <see cref="IObjectStore"/> terms.
/// </summary>
public sealed class WebHdfsException(string message, HttpStatusCode statusCode, string? remoteException = null, string? javaClassName = null, Exception? inner = null)
    : IOException(message, inner)
{
    public HttpStatusCode StatusCode { get; } = statusCode;

    /// <summary>The short Java exception name, e.g. <c>SafeModeException</c>; null when the body was not a RemoteException.</summary>
    public string? RemoteException { get; } = remoteException;

    public string? JavaClassName { get; } = javaClassName;
}

/// <summary>The JSON shapes of the WebHDFS REST API that the store reads.</summary>
internal static class WebHdfsJson
{
    public static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.Web);

    public sealed record FileStatus(string PathSuffix, string Type, long Length, long ModificationTime, int? ChildrenNum)
    {
        public bool IsFile => Type == "FILE";
        public bool IsDirectory => Type == "DIRECTORY";
        public DateTimeOffset Modified => DateTimeOffset.FromUnixTimeMilliseconds(ModificationTime);
    }

    public sealed record FileStatusResponse(FileStatus FileStatus);

    public sealed record FileStatusesResponse(FileStatusList FileStatuses);

    public sealed record FileStatusList(List<FileStatus> FileStatus);

    public sealed record BooleanResponse(bool Boolean);

    public sealed record RemoteExceptionResponse(RemoteExceptionBody? RemoteException);

    public sealed record RemoteExceptionBody(string? Exception, string? JavaClassName, string? Message);
}

/// <summary>What a failed WebHDFS response said: its status and, when the body was a RemoteException, its parts.</summary>
internal sealed record WebHdfsError(HttpStatusCode Status, string? Exception, string? JavaClassName, string Message)
{
    private const int MaxBodyChars = 4000;

    public bool Is(string exception) => string.Equals(Exception, exception, StringComparison.Ordinal);

    public static async Task<WebHdfsError> ReadAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        string body;
        try
        {
            body = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (HttpRequestException e)
        {
            body = e.Message;
        }
        try
        {
            var parsed = JsonSerializer.Deserialize<WebHdfsJson.RemoteExceptionResponse>(body, WebHdfsJson.Options);
            if (parsed?.RemoteException is { } remote)
                return new WebHdfsError(response.StatusCode, remote.Exception, remote.JavaClassName, remote.Message ?? "");
        }
        catch (JsonException)
        {
            // Not WebHDFS JSON: a proxy's error page or a server that is not a namenode; the status and text say more.
        }
        var text = body.Length <= MaxBodyChars ? body : body[..MaxBodyChars] + "...";
        return new WebHdfsError(response.StatusCode, null, null, text.Trim());
    }
}

/// <summary>
/// A request body read from a stream while it is sent, in 64 KiB pieces and with no length, so it goes out chunked and is
/// never held whole in memory. An exception thrown by the source (a size limit, a cancelled upload) is kept, so the
/// caller can rethrow it instead of the transport error that wraps it.
/// </summary>
internal sealed class StreamingBodyContent : HttpContent
{
    private const int BufferSize = 1 << 16;
    private readonly Stream _source;

    public StreamingBodyContent(Stream source)
    {
        _source = source;
        Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
    }

    public Exception? SourceError { get; private set; }

    protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context) =>
        SerializeToStreamAsync(stream, context, CancellationToken.None);

    protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context, CancellationToken cancellationToken)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(BufferSize);
        try
        {
            while (true)
            {
                int n;
                try
                {
                    n = await _source.ReadAsync(buffer.AsMemory(0, BufferSize), cancellationToken).ConfigureAwait(false);
                }
                catch (Exception e)
                {
                    SourceError = e;
                    throw;
                }
                if (n == 0) return;
                await stream.WriteAsync(buffer.AsMemory(0, n), cancellationToken).ConfigureAwait(false);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    protected override bool TryComputeLength(out long length)
    {
        length = 0;
        return false;
    }
}
