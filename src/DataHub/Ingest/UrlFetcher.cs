using System.Net;
using Cube.Core.Errors;
using Cube.Core.Net;

namespace Cube.DataHub.Ingest;

/// <summary>Where imports may connect (section <c>Cube:DataHub:Import</c>).</summary>
public sealed class ImportOptions : OutboundAllowList
{
    /// <summary>Most redirects followed by a URL import, each re-checked.</summary>
    public int MaxRedirects { get; set; } = 5;
    public TimeSpan Timeout { get; set; } = TimeSpan.FromMinutes(30);
}

/// <summary>A download in progress: the body stream and the file name it should get in the dataset.</summary>
public sealed record FetchedFile(string FileName, long? Length, Stream Content, HttpResponseMessage Response) : IDisposable
{
    public void Dispose()
    {
        Content.Dispose();
        Response.Dispose();
    }
}

/// <summary>Downloads HTTP(S) URLs for imports through <see cref="NetworkGuard"/>, following redirects one checked hop at a time.</summary>
public sealed class UrlFetcher(NetworkGuard guard, ImportOptions options) : IDisposable
{
    private readonly HttpClient _http = new(guard.CreateHandler()) { Timeout = options.Timeout };

    public async Task<FetchedFile> FetchAsync(Uri url, CancellationToken cancellationToken)
    {
        var current = url;
        for (var hop = 0; ; hop++)
        {
            await guard.CheckAsync(current, cancellationToken);
            var response = await _http.SendAsync(new HttpRequestMessage(HttpMethod.Get, current), HttpCompletionOption.ResponseHeadersRead, cancellationToken);
            if ((int)response.StatusCode is >= 300 and < 400 && response.Headers.Location is { } location)
            {
                response.Dispose();
                if (hop >= options.MaxRedirects)
                    throw new BadRequestException($"'{NetworkGuard.Display(url)}' redirects more than {options.MaxRedirects} times.").With("url", NetworkGuard.Display(url));
                current = location.IsAbsoluteUri ? location : new Uri(current, location);
                continue;
            }
            if (!response.IsSuccessStatusCode)
            {
                var status = response.StatusCode;
                response.Dispose();
                throw new UnprocessableException($"'{NetworkGuard.Display(current)}' answered {(int)status} {status}.").With("url", NetworkGuard.Display(current));
            }
            var name = response.Content.Headers.ContentDisposition?.FileNameStar ?? response.Content.Headers.ContentDisposition?.FileName;
            name = name?.Trim('"');
            if (string.IsNullOrWhiteSpace(name)) name = WebUtility.UrlDecode(current.Segments.LastOrDefault()?.Trim('/'));
            if (string.IsNullOrWhiteSpace(name)) name = "download";
            name = Path.GetFileName(name.Replace('\\', '/'));
            return new FetchedFile(DatasetPath.Normalize(name), response.Content.Headers.ContentLength, await response.Content.ReadAsStreamAsync(cancellationToken), response);
        }
    }

    public void Dispose() => _http.Dispose();
}
