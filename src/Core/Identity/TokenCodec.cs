using System.Security.Cryptography;
using System.Text;

namespace Cube.Core.Identity;

/// <summary>API tokens: <c>cube_</c> followed by 43 base64url characters (32 random bytes).</summary>
public static class TokenCodec
{
    public const string Prefix = "cube_";

    public static string NewToken() =>
        Prefix + Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    public static string HashToken(string token) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(token)));

    public static string DisplayPrefix(string token) => token[..Math.Min(token.Length, Prefix.Length + 6)];

    public static bool LooksLikeToken(string value) => value.StartsWith(Prefix, StringComparison.Ordinal) && value.Length is > 20 and < 200;
}
