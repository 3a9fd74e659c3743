using System.Buffers.Binary;
using System.IO.Hashing;
using Cube.Core.Errors;
using Cube.DataHub.Images;
using SkiaSharp;

namespace Cube.DataHub.Tests.Images;

public sealed class ThumbnailTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("cube-thumbs-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void Render_KeepsTransparency_AndWritesWebP()
    {
        using var bitmap = new SKBitmap(new SKImageInfo(400, 200, SKColorType.Rgba8888, SKAlphaType.Premul));
        using (var canvas = new SKCanvas(bitmap))
        {
            canvas.Clear(SKColors.Transparent);
            canvas.DrawRect(200, 0, 200, 200, new SKPaint { Color = SKColors.Blue });
        }
        var path = Write("clear.png", bitmap, SKEncodedImageFormat.Png);

        var thumb = ImageCatalog.Render(path, 128);

        Assert.Equal("RIFF"u8.ToArray(), thumb[..4]);
        Assert.Equal("WEBP"u8.ToArray(), thumb[8..12]);
        using var decoded = SKBitmap.Decode(thumb);
        Assert.Equal((128, 64), (decoded.Width, decoded.Height));
        Assert.Equal(0, decoded.GetPixel(10, 32).Alpha);
        Assert.Equal(255, decoded.GetPixel(118, 32).Alpha);
        Assert.True(decoded.GetPixel(118, 32).Blue > 200);
    }

    [Fact]
    public void Render_DownscalesALargeJpeg_ToTheLongerSide()
    {
        using var bitmap = new SKBitmap(4000, 3000);
        bitmap.Erase(SKColors.Green);
        var thumb = ImageCatalog.Render(Write("big.jpg", bitmap, SKEncodedImageFormat.Jpeg), 256);
        using var decoded = SKBitmap.Decode(thumb);
        Assert.Equal((256, 192), (decoded.Width, decoded.Height));
    }

    [Fact]
    public void Render_TurnsAPhotoUpright_ByItsExifOrientation()
    {
        // Stored 200×100 with a red block at the stored top-left; orientation 6 says "rotate 90° clockwise to view".
        using var bitmap = new SKBitmap(200, 100);
        bitmap.Erase(SKColors.White);
        using (var canvas = new SKCanvas(bitmap)) canvas.DrawRect(0, 0, 40, 40, new SKPaint { Color = SKColors.Red });
        var jpeg = Encode(bitmap, SKEncodedImageFormat.Jpeg);
        var path = Path.Combine(_dir, "rotated.jpg");
        File.WriteAllBytes(path, WithExifOrientation(jpeg, 6));

        using var decoded = SKBitmap.Decode(ImageCatalog.Render(path, 128));

        Assert.Equal((64, 128), (decoded.Width, decoded.Height));
        var topRight = decoded.GetPixel(58, 6);
        var topLeft = decoded.GetPixel(6, 6);
        Assert.True(topRight.Red > 200 && topRight.Green < 80, $"top-right is {topRight}");
        Assert.True(topLeft.Green > 200, $"top-left is {topLeft}");
    }

    [Fact]
    public void Render_RefusesAPixelBomb_BeforeDecoding()
    {
        // A valid PNG header claiming 20,000 × 20,000 pixels (1.6 GB decoded) in a few dozen bytes.
        var path = Path.Combine(_dir, "bomb.png");
        File.WriteAllBytes(path, PngHeader(20_000, 20_000));
        var error = Assert.Throws<UnprocessableException>(() => ImageCatalog.Render(path, 256));
        Assert.Contains("20000×20000", error.Message);
    }

    private string Write(string name, SKBitmap bitmap, SKEncodedImageFormat format)
    {
        var path = Path.Combine(_dir, name);
        File.WriteAllBytes(path, Encode(bitmap, format));
        return path;
    }

    private static byte[] Encode(SKBitmap bitmap, SKEncodedImageFormat format)
    {
        using var image = SKImage.FromBitmap(bitmap);
        using var data = image.Encode(format, 90);
        return data.ToArray();
    }

    /// <summary>Inserts an APP1 Exif segment holding only the orientation tag right after the JPEG's SOI marker.</summary>
    private static byte[] WithExifOrientation(byte[] jpeg, ushort orientation)
    {
        var tiff = new byte[26];
        "MM"u8.CopyTo(tiff);
        BinaryPrimitives.WriteUInt16BigEndian(tiff.AsSpan(2), 42);
        BinaryPrimitives.WriteUInt32BigEndian(tiff.AsSpan(4), 8);
        BinaryPrimitives.WriteUInt16BigEndian(tiff.AsSpan(8), 1); // one IFD entry
        BinaryPrimitives.WriteUInt16BigEndian(tiff.AsSpan(10), 0x0112); // Orientation
        BinaryPrimitives.WriteUInt16BigEndian(tiff.AsSpan(12), 3); // SHORT
        BinaryPrimitives.WriteUInt32BigEndian(tiff.AsSpan(14), 1);
        BinaryPrimitives.WriteUInt16BigEndian(tiff.AsSpan(18), orientation);
        // next IFD offset (4 zero bytes) already zero.
        var payload = "Exif\0\0"u8.ToArray().Concat(tiff).ToArray();
        var segment = new byte[4 + payload.Length];
        segment[0] = 0xFF;
        segment[1] = 0xE1;
        BinaryPrimitives.WriteUInt16BigEndian(segment.AsSpan(2), (ushort)(payload.Length + 2));
        payload.CopyTo(segment, 4);
        return [.. jpeg[..2], .. segment, .. jpeg[2..]];
    }

    private static byte[] PngHeader(int width, int height)
    {
        var output = new MemoryStream();
        output.Write([0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A]);
        var ihdr = new byte[13];
        BinaryPrimitives.WriteInt32BigEndian(ihdr, width);
        BinaryPrimitives.WriteInt32BigEndian(ihdr.AsSpan(4), height);
        ihdr[8] = 8; // bit depth
        ihdr[9] = 6; // RGBA
        Chunk(output, "IHDR", ihdr);
        Chunk(output, "IDAT", [0x78, 0x9C, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01]);
        Chunk(output, "IEND", []);
        return output.ToArray();
    }

    private static void Chunk(Stream output, string type, byte[] data)
    {
        var length = new byte[4];
        BinaryPrimitives.WriteInt32BigEndian(length, data.Length);
        output.Write(length);
        var typed = System.Text.Encoding.ASCII.GetBytes(type).Concat(data).ToArray();
        output.Write(typed);
        var crc = new byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(crc, Crc32.HashToUInt32(typed));
        output.Write(crc);
    }
}
