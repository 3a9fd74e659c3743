using Cube.Core.Errors;
using Cube.Core.Storage;
using Cube.DataHub.Blobs;
using Cube.DataHub.Versions;
using SkiaSharp;

namespace Cube.DataHub.Images;

/// <summary>An image of a new version, decoded at commit.</summary>
public sealed record ImageEntry(string Path, string Sha256, int Width, int Height, string Format);

/// <summary>
/// Images of dataset versions: dimensions and format read at commit (a file with an image extension that does not
/// decode fails the commit, naming it), and thumbnails rendered on first request and kept in the object store under a
/// key derived from the content hash and size, so they never go stale.
/// </summary>
public sealed class ImageCatalog(BlobStore blobs)
{
    private static readonly string[] ImageExtensions = [".png", ".jpg", ".jpeg", ".gif", ".webp", ".bmp"];
    public static readonly int[] ThumbnailSizes = [64, 128, 256, 512];

    public static bool IsImage(string path) => ImageExtensions.Contains(Path.GetExtension(path).ToLowerInvariant());

    public async Task<ImageEntry> DescribeAsync(ManifestEntry file, CancellationToken cancellationToken)
    {
        await using var stream = await blobs.OpenAsync(file.Sha256, null, cancellationToken);
        using var buffered = new MemoryStream();
        // Headers sit at the start of every supported format; 256 KiB holds them even with large EXIF blocks.
        await CopyPrefixAsync(stream, buffered, 256 * 1024, cancellationToken);
        buffered.Position = 0;
        using var codec = SKCodec.Create(buffered, out var result);
        if (codec is null || codec.Info.Width <= 0 || codec.Info.Height <= 0)
            throw new UnprocessableException($"'{file.Path}' has an image extension but is not a readable image ({result}).").With("file", file.Path);
        return new ImageEntry(file.Path, file.Sha256, codec.Info.Width, codec.Info.Height, codec.EncodedFormat.ToString().ToLowerInvariant());
    }

    /// <summary>A JPEG thumbnail whose longer side is <paramref name="size"/> pixels.</summary>
    public async Task<Stream> ThumbnailAsync(string sha256, int size, CancellationToken cancellationToken)
    {
        if (!ThumbnailSizes.Contains(size)) throw new ValidationException("size", $"A thumbnail size is one of {string.Join(", ", ThumbnailSizes)}.");
        var key = $"thumbnails/{sha256[..2]}/{sha256}-{size}.jpg";
        try
        {
            return await blobs.Objects.GetAsync(key, null, cancellationToken);
        }
        catch (ObjectNotFoundException)
        {
        }
        byte[] encoded;
        await using (var source = await blobs.OpenAsync(sha256, null, cancellationToken))
        {
            using var memory = new MemoryStream();
            await source.CopyToAsync(memory, cancellationToken);
            memory.Position = 0;
            using var bitmap = SKBitmap.Decode(memory) ?? throw new UnprocessableException("The file is not a readable image.");
            var scale = Math.Min(1.0, (double)size / Math.Max(bitmap.Width, bitmap.Height));
            var info = new SKImageInfo(Math.Max(1, (int)Math.Round(bitmap.Width * scale)), Math.Max(1, (int)Math.Round(bitmap.Height * scale)));
            using var resized = bitmap.Resize(info, new SKSamplingOptions(SKCubicResampler.Mitchell)) ?? bitmap;
            using var image = SKImage.FromBitmap(resized);
            using var data = image.Encode(SKEncodedImageFormat.Jpeg, 85);
            encoded = data.ToArray();
        }
        await blobs.Objects.PutAsync(key, new MemoryStream(encoded), cancellationToken);
        return new MemoryStream(encoded);
    }

    private static async Task CopyPrefixAsync(Stream source, Stream target, int limit, CancellationToken cancellationToken)
    {
        var buffer = new byte[64 * 1024];
        var total = 0;
        int read;
        while (total < limit && (read = await source.ReadAsync(buffer.AsMemory(0, Math.Min(buffer.Length, limit - total)), cancellationToken)) > 0)
        {
            await target.WriteAsync(buffer.AsMemory(0, read), cancellationToken);
            total += read;
        }
    }
}
