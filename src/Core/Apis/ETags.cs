using Cube.Core.Errors;
using Microsoft.AspNetCore.Http;

namespace Cube.Core.Apis;

/// <summary>Weak ETags over a row version, and the If-Match check that guards updates against lost writes.</summary>
public static class ETags
{
    public static string For(long version) => $"W/\"{version}\"";

    public static void Set(HttpContext http, long version) => http.Response.Headers.ETag = For(version);

    /// <summary>Throws 412 when an If-Match header is present and names another version. A missing header is allowed.</summary>
    public static void CheckIfMatch(HttpContext http, long version)
    {
        var ifMatch = http.Request.Headers.IfMatch.ToString();
        if (string.IsNullOrEmpty(ifMatch) || ifMatch == "*") return;
        var expected = For(version);
        var strong = expected[2..];
        foreach (var tag in ifMatch.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
            if (tag == expected || tag == strong) return;
        throw new PreconditionFailedException($"The resource changed since it was read (current ETag {expected}); read it again and retry.");
    }
}
