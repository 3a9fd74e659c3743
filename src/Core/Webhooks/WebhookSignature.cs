using System.Security.Cryptography;
using System.Text;

namespace Cube.Core.Webhooks;

/// <summary>
/// The signature a receiver checks: <c>Cube-Webhook-Signature: v1=HEX</c>, HMAC-SHA256 with the subscription's secret
/// over <c>{timestamp}.{body}</c>, where the timestamp is the <c>Cube-Webhook-Timestamp</c> header (Unix seconds). Signing
/// the timestamp lets receivers refuse replays older than a few minutes.
/// </summary>
public static class WebhookSignature
{
    public const string SignatureHeader = "Cube-Webhook-Signature";
    public const string TimestampHeader = "Cube-Webhook-Timestamp";
    public const string IdHeader = "Cube-Webhook-Id";
    public const string EventHeader = "Cube-Webhook-Event";

    public static string Sign(string secret, long timestamp, ReadOnlySpan<byte> body)
    {
        var prefix = Encoding.UTF8.GetBytes($"{timestamp}.");
        var message = new byte[prefix.Length + body.Length];
        prefix.CopyTo(message, 0);
        body.CopyTo(message.AsSpan(prefix.Length));
        return "v1=" + Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), message));
    }

    /// <summary>What a receiver does: recompute and compare in constant time.</summary>
    public static bool Verify(string secret, long timestamp, ReadOnlySpan<byte> body, string? header) =>
        header is not null && CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(Sign(secret, timestamp, body)), Encoding.ASCII.GetBytes(header));

    /// <summary>A new random secret, 32 bytes, URL-safe.</summary>
    public static string NewSecret() => "whsec_" + Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}
