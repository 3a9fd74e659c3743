namespace Cube.Core.Storage;

/// <summary>Settings for HDFS through its WebHDFS REST API (section <c>Cube:Storage:WebHdfs</c>).</summary>
public sealed class WebHdfsStorageOptions
{
    private const string Section = "Cube:Storage:WebHdfs";

    /// <summary>
    /// The namenode's HTTP(S) address, e.g. <c>http://namenode:9870</c>; a path is kept, for gateways that serve
    /// WebHDFS below one (<c>https://knox:8443/gateway/default</c>). <c>/webhdfs/v1</c> is appended.
    /// </summary>
    public string Url { get; set; } = "";

    /// <summary>The HDFS directory that holds Cube's objects (<c>{Root}/objects</c>) and uploads in progress (<c>{Root}/staging</c>).</summary>
    public string Root { get; set; } = "/cube";

    /// <summary>The user sent as <c>user.name</c> (simple authentication, clusters without Kerberos).</summary>
    public string? User { get; set; }

    /// <summary>
    /// A Hadoop delegation token sent as <c>delegation</c> on secured clusters; the token names its user, so
    /// <see cref="User"/> is not sent with it. Never logged.
    /// </summary>
    public string? DelegationToken { get; set; }

    /// <summary>What is wrong with these settings, each naming its key; empty when they are usable.</summary>
    public IEnumerable<string> Problems()
    {
        if (string.IsNullOrWhiteSpace(Url))
            yield return $"{Section}:Url is required when Cube:Storage:Kind is WebHdfs (the namenode's HTTP address, e.g. http://namenode:9870).";
        else if (!Uri.TryCreate(Url, UriKind.Absolute, out var url) || url.Scheme is not ("http" or "https"))
            yield return $"{Section}:Url '{Url}' must be an absolute http(s) URL such as http://namenode:9870.";
        else if (url.Query.Length > 0 || url.Fragment.Length > 0 || url.UserInfo.Length > 0)
            yield return $"{Section}:Url must not carry a query, a fragment or user info; set {Section}:User or {Section}:DelegationToken instead.";

        if (RootProblem(Root) is { } rootProblem) yield return $"{Section}:Root '{Root}' {rootProblem}.";

        var hasToken = !string.IsNullOrWhiteSpace(DelegationToken);
        if (string.IsNullOrWhiteSpace(User) && !hasToken)
            yield return $"{Section}:User (simple authentication) or {Section}:DelegationToken (secured clusters) is required when Cube:Storage:Kind is WebHdfs.";
        else if (!hasToken && User!.Any(c => char.IsControl(c) || char.IsWhiteSpace(c)))
            yield return $"{Section}:User must not contain spaces or control characters.";
        if (hasToken && DelegationToken!.Any(c => char.IsControl(c) || char.IsWhiteSpace(c)))
            yield return $"{Section}:DelegationToken must not contain spaces or control characters (it is the URL-safe string that 'hdfs fetchdt' or GETDELEGATIONTOKEN returns).";
    }

    /// <summary><see cref="Root"/> without a trailing '/', or "" for the file system's root.</summary>
    internal string NormalizedRoot => Root.TrimEnd('/');

    private static string? RootProblem(string? root)
    {
        if (string.IsNullOrEmpty(root) || root[0] != '/') return "must be an absolute HDFS path such as /cube";
        var trimmed = root.TrimEnd('/');
        if (trimmed.Length == 0) return null;
        foreach (var segment in trimmed[1..].Split('/'))
        {
            if (segment.Length == 0) return "has an empty segment ('//')";
            if (segment is "." or "..") return $"has a '{segment}' segment";
            // HDFS refuses ':' in any path component (DFSUtil.isValidName).
            if (segment.Contains(':', StringComparison.Ordinal)) return "contains ':', which HDFS does not allow in path names";
            if (segment.Any(char.IsControl)) return "contains a control character";
        }
        return null;
    }
}
