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

    /// <summary>Images with more pixels than this (after the decoder's own downscaling) get no thumbnail: decoding
    /// one would hold gigabytes, which is how a small "pixel bomb" file takes a server down.</summary>
    public const long MaxDecodedPixels = 100_000_000;

    public const string ThumbnailContentType = "image/webp";

    /// <summary>
    /// A WebP thumbnail (transparency kept) whose longer side is <paramref name="size"/> pixels, turned upright by the
    /// EXIF orientation. JPEGs are decoded already downscaled (1/2 to 1/8 in the decoder), the source is read from a
    /// local file rather than copied into memory, and an image beyond <see cref="MaxDecodedPixels"/> is refused.
    /// </summary>
    public async Task<Stream> ThumbnailAsync(string sha256, int size, CancellationToken cancellationToken)
    {
        if (!ThumbnailSizes.Contains(size)) throw new ValidationException("size", $"A thumbnail size is one of {string.Join(", ", ThumbnailSizes)}.");
        var key = $"thumbnails/{sha256[..2]}/{sha256}-{size}.webp";
        try
        {
            return await blobs.Objects.GetAsync(key, null, cancellationToken);
        }
        catch (ObjectNotFoundException)
        {
        }
        var encoded = Render(await blobs.GetLocalPathAsync(sha256, cancellationToken), size);
        await blobs.Objects.PutAsync(key, new MemoryStream(encoded), cancellationToken);
        return new MemoryStream(encoded);
    }

    internal static byte[] Render(string path, int size)
    {
        using var codec = SKCodec.Create(path) ?? throw new UnprocessableException("The file is not a readable image.");
        var full = codec.Info;
        var target = Math.Min(1.0, (double)size / Math.Max(full.Width, full.Height));
        // The decoder's nearest supported scale at or above twice the target, so the final resampling has detail to work with.
        var scaled = codec.GetScaledDimensions((float)Math.Min(1.0, target * 2));
        if (Math.Max(scaled.Width, scaled.Height) < Math.Min(size, Math.Max(full.Width, full.Height))) scaled = full.Size;
        if ((long)scaled.Width * scaled.Height > MaxDecodedPixels)
            throw new UnprocessableException($"The image is {full.Width}×{full.Height} pixels; thumbnails are made for images up to {MaxDecodedPixels / 1_000_000} megapixels.");
        var alpha = full.AlphaType == SKAlphaType.Opaque ? SKAlphaType.Opaque : SKAlphaType.Premul;
        using var decoded = new SKBitmap(new SKImageInfo(scaled.Width, scaled.Height, SKColorType.Rgba8888, alpha));
        var result = codec.GetPixels(decoded.Info, decoded.GetPixels());
        if (result is not (SKCodecResult.Success or SKCodecResult.IncompleteInput))
            throw new UnprocessableException($"The image cannot be decoded ({result}).");
        var upright = codec.EncodedOrigin is SKEncodedOrigin.LeftTop or SKEncodedOrigin.RightTop or SKEncodedOrigin.RightBottom or SKEncodedOrigin.LeftBottom;
        var (width, height) = upright ? (decoded.Height, decoded.Width) : (decoded.Width, decoded.Height);
        var scale = Math.Min(1.0, (double)size / Math.Max(width, height));
        var info = new SKImageInfo(Math.Max(1, (int)Math.Round(width * scale)), Math.Max(1, (int)Math.Round(height * scale)), SKColorType.Rgba8888, alpha);
        using var surface = SKSurface.Create(info) ?? throw new UnprocessableException("The image cannot be resized.");
        var canvas = surface.Canvas;
        canvas.Clear(SKColors.Transparent);
        canvas.Scale((float)info.Width / width, (float)info.Height / height);
        Orient(canvas, codec.EncodedOrigin, decoded.Width, decoded.Height);
        using (var image = SKImage.FromBitmap(decoded))
            canvas.DrawImage(image, 0, 0, new SKSamplingOptions(SKCubicResampler.Mitchell));
        using var snapshot = surface.Snapshot();
        using var data = snapshot.Encode(SKEncodedImageFormat.Webp, 80);
        return data.ToArray();
    }

    /// <summary>Maps the stored pixels (w×h) onto the upright picture, per the EXIF orientation.</summary>
    private static void Orient(SKCanvas canvas, SKEncodedOrigin origin, int w, int h)
    {
        switch (origin)
        {
            case SKEncodedOrigin.TopRight: canvas.Translate(w, 0); canvas.Scale(-1, 1); break;
            case SKEncodedOrigin.BottomRight: canvas.Translate(w, h); canvas.RotateDegrees(180); break;
            case SKEncodedOrigin.BottomLeft: canvas.Translate(0, h); canvas.Scale(1, -1); break;
            case SKEncodedOrigin.LeftTop: canvas.RotateDegrees(90); canvas.Scale(1, -1); break;
            case SKEncodedOrigin.RightTop: canvas.Translate(h, 0); canvas.RotateDegrees(90); break;
            case SKEncodedOrigin.RightBottom: canvas.Translate(h, w); canvas.RotateDegrees(90); canvas.Scale(-1, 1); break;
            case SKEncodedOrigin.LeftBottom: canvas.Translate(0, w); canvas.RotateDegrees(-90); break;
        }
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
