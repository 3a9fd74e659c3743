using System.Text;
using Cube.Core.Errors;
using Cube.Core.Identity;
using Cube.DataHub.Blobs;
using Cube.DataHub.Catalog;
using Cube.DataHub.Data;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Microsoft.EntityFrameworkCore;

namespace Cube.DataHub.Apis;

/// <summary>The first lines of a file; <c>Binary</c> when it is not text, <c>Truncated</c> when more follows.</summary>
public sealed record TextHeadDto(string Path, long Size, IReadOnlyList<string> Lines, bool Truncated, bool Binary);

/// <summary>Head of any file of a version as text: what a person opens first to see what a file holds.</summary>
public static class TextPreviewApi
{
    /// <summary>Bytes read at most, whatever the number of lines asked for; one giant line cannot pull a whole file.</summary>
    public const int MaxBytes = 256 * 1024;

    public static IEndpointRouteBuilder MapTextPreviewApi(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapGet("/api/projects/{project}/datasets/{dataset}/versions/{version}/text", HeadAsync)
            .WithTags("Versions").WithName("TextHead").WithSummary("The first lines of a file (?path=&lines=50, at most 1000 lines or 256 KiB).")
            .RequireAuthorization(CubePolicies.ProjectViewer);
        return endpoints;
    }

    private static async Task<Ok<TextHeadDto>> HeadAsync(string dataset, string version, string? path, int? lines, HttpContext http,
        DatasetResolver resolver, DataHubDbContext db, BlobStore blobs, CancellationToken cancellationToken)
    {
        if (string.IsNullOrEmpty(path)) throw new ValidationException("path", "Name the file: ?path=folder/file.txt");
        var wanted = lines ?? 50;
        if (wanted is < 1 or > 1000) throw new ValidationException("lines", "lines must be between 1 and 1000.");
        var found = await resolver.DatasetAsync((await http.GetProjectAsync()).Id, dataset, cancellationToken);
        var v = await resolver.VersionAsync(found, version, cancellationToken);
        var file = await db.VersionFiles.AsNoTracking().FirstOrDefaultAsync(f => f.VersionId == v.Id && f.Path == path, cancellationToken)
            ?? throw new NotFoundException($"File in version {v.Number}", path);

        var length = (int)Math.Min(file.Size, MaxBytes);
        var buffer = new byte[length];
        if (length > 0)
        {
            await using var stream = await blobs.OpenAsync(file.Sha256, new Core.Storage.ByteRange(0, length), cancellationToken);
            await stream.ReadExactlyAsync(buffer, cancellationToken);
        }
        // A NUL byte in the head is the usual sign of a binary file (text encodings other than UTF-16/32 never contain one).
        if (Array.IndexOf(buffer, (byte)0) >= 0 && !LooksLikeUtf16(buffer))
            return TypedResults.Ok(new TextHeadDto(file.Path, file.Size, [], file.Size > 0, Binary: true));

        var text = Decode(buffer, out var cutMidCharacter);
        var all = text.Split('\n');
        // The last piece is a partial line when the read stopped inside the file; drop it unless it is all there is.
        var complete = file.Size > length && all.Length > 1 ? all[..^1] : all;
        if (complete.Length > 0 && complete[^1].Length == 0 && file.Size <= length) complete = complete[..^1];
        var head = complete.Take(wanted).Select(l => l.TrimEnd('\r')).ToList();
        var truncated = complete.Length > wanted || file.Size > length || cutMidCharacter;
        return TypedResults.Ok(new TextHeadDto(file.Path, file.Size, head, truncated, Binary: false));
    }

    private static bool LooksLikeUtf16(byte[] bytes) => bytes.Length >= 2 && ((bytes[0] == 0xFF && bytes[1] == 0xFE) || (bytes[0] == 0xFE && bytes[1] == 0xFF));

    /// <summary>BOM-aware decode; invalid UTF-8 becomes U+FFFD rather than an error, since this is only a preview.</summary>
    private static string Decode(byte[] bytes, out bool cutMidCharacter)
    {
        Encoding encoding = new UTF8Encoding(false, false);
        var skip = 0;
        if (bytes.AsSpan().StartsWith(Encoding.UTF8.Preamble)) skip = 3;
        else if (LooksLikeUtf16(bytes)) (encoding, skip) = (bytes[0] == 0xFF ? Encoding.Unicode : Encoding.BigEndianUnicode, 2);
        var decoder = encoding.GetDecoder();
        var chars = new char[encoding.GetMaxCharCount(bytes.Length - skip)];
        decoder.Convert(bytes, skip, bytes.Length - skip, chars, 0, chars.Length, flush: false, out _, out var used, out _);
        // With flush off, a character split by the read limit stays inside the decoder instead of becoming U+FFFD.
        cutMidCharacter = decoder.GetCharCount([], 0, 0, flush: true) > 0;
        return new string(chars, 0, used);
    }
}
