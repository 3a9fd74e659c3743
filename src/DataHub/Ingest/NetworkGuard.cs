using System.Net;
using System.Net.Sockets;
using Cube.Core.Errors;

namespace Cube.DataHub.Ingest;

/// <summary>Where imports may connect (section <c>Cube:DataHub:Import</c>).</summary>
public sealed class ImportOptions
{
    /// <summary>Host names allowed even when they resolve to internal addresses (an on-premises MinIO, say).</summary>
    public List<string> AllowedHosts { get; set; } = [];
    /// <summary>Networks in CIDR form allowed even though internal, e.g. <c>10.20.0.0/16</c>.</summary>
    public List<string> AllowedNetworks { get; set; } = [];
    /// <summary>Most redirects followed by a URL import, each re-checked.</summary>
    public int MaxRedirects { get; set; } = 5;
    public TimeSpan Timeout { get; set; } = TimeSpan.FromMinutes(30);
}

/// <summary>
/// Keeps user-supplied URLs and S3 endpoints away from the platform's own network: loopback, link-local (cloud
/// metadata at 169.254.169.254 included), private, CGNAT, multicast and unspecified addresses are refused unless
/// allow-listed. Checked on the addresses a name resolves to, and again on the socket actually connected, so a DNS
/// answer that changes between check and connect (rebinding) gains nothing. Other modules that call user-supplied
/// URLs reuse it, naming what is refused (<paramref name="action"/>) and the settings section of their allow-list.
/// </summary>
public sealed class NetworkGuard(ImportOptions options, string action = "Import from", string allowListSection = "Cube:DataHub:Import")
{
    private readonly IPNetwork[] _allowed = options.AllowedNetworks.Select(IPNetwork.Parse).ToArray();

    private static readonly IPNetwork[] Forbidden =
    [
        IPNetwork.Parse("0.0.0.0/8"), IPNetwork.Parse("10.0.0.0/8"), IPNetwork.Parse("100.64.0.0/10"), IPNetwork.Parse("127.0.0.0/8"),
        IPNetwork.Parse("169.254.0.0/16"), IPNetwork.Parse("172.16.0.0/12"), IPNetwork.Parse("192.0.0.0/24"), IPNetwork.Parse("192.168.0.0/16"),
        IPNetwork.Parse("198.18.0.0/15"), IPNetwork.Parse("224.0.0.0/4"), IPNetwork.Parse("240.0.0.0/4"),
        IPNetwork.Parse("::/128"), IPNetwork.Parse("::1/128"), IPNetwork.Parse("fc00::/7"), IPNetwork.Parse("fe80::/10"), IPNetwork.Parse("ff00::/8"),
    ];

    public bool IsHostAllowListed(string host) => options.AllowedHosts.Contains(host, StringComparer.OrdinalIgnoreCase);

    /// <summary>Null when the address may be reached; otherwise why not.</summary>
    public string? Check(IPAddress address)
    {
        if (address.IsIPv4MappedToIPv6) address = address.MapToIPv4();
        // IPv6 forms that carry an IPv4 address (NAT64 64:ff9b::/96, 6to4 2002::/16) are judged by the address they carry.
        if (Embedded(address) is { } inner && Check(inner) is { } innerProblem) return $"{address} embeds {innerProblem}";
        if (_allowed.Any(n => n.Contains(address))) return null;
        var hit = Forbidden.FirstOrDefault(n => n.Contains(address));
        return hit == default ? null : $"{address} is an internal address ({hit})";
    }

    private static IPAddress? Embedded(IPAddress address)
    {
        if (address.AddressFamily != AddressFamily.InterNetworkV6) return null;
        var bytes = address.GetAddressBytes();
        if (bytes[0] == 0x00 && bytes[1] == 0x64 && bytes[2] == 0xff && bytes[3] == 0x9b && bytes[4..12].All(b => b == 0)) return new IPAddress(bytes[12..16]);
        if (bytes[0] == 0x20 && bytes[1] == 0x02) return new IPAddress(bytes[2..6]);
        return null;
    }

    /// <summary>Validates the URL's scheme and credentials and every address its host resolves to.</summary>
    public async Task<IPAddress[]> CheckAsync(Uri url, CancellationToken cancellationToken)
    {
        if (url.Scheme is not ("http" or "https"))
            throw Refused(url, $"the scheme '{url.Scheme}' is not allowed; use http or https");
        if (!string.IsNullOrEmpty(url.UserInfo)) throw Refused(url, "credentials in the URL are not accepted");
        IPAddress[] addresses;
        try
        {
            addresses = IPAddress.TryParse(url.IdnHost.Trim('[', ']'), out var literal) ? [literal] : await Dns.GetHostAddressesAsync(url.IdnHost, cancellationToken);
        }
        catch (SocketException e)
        {
            throw new BadRequestException($"The host of '{Display(url)}' cannot be resolved: {e.Message}").With("url", Display(url));
        }
        if (addresses.Length == 0) throw new BadRequestException($"The host of '{Display(url)}' has no addresses.").With("url", Display(url));
        if (IsHostAllowListed(url.IdnHost)) return addresses;
        foreach (var address in addresses)
            if (Check(address) is { } problem) throw Refused(url, problem);
        return addresses;
    }

    /// <summary>A handler whose every connection goes to an address this guard accepts.</summary>
    public SocketsHttpHandler CreateHandler() => new()
    {
        AllowAutoRedirect = false,
        // Through a proxy the guard would judge the proxy, not the target.
        UseProxy = false,
        ConnectTimeout = TimeSpan.FromSeconds(15),
        ConnectCallback = async (context, cancellationToken) =>
        {
            var host = context.DnsEndPoint.Host;
            var addresses = IPAddress.TryParse(host.Trim('[', ']'), out var literal) ? [literal] : await Dns.GetHostAddressesAsync(host, cancellationToken);
            var permitted = IsHostAllowListed(host) ? addresses : addresses.Where(a => Check(a) is null).ToArray();
            if (permitted.Length == 0) throw new HttpRequestException($"Connection to {host} refused: it resolves only to internal addresses.");
            var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            try
            {
                await socket.ConnectAsync(permitted, context.DnsEndPoint.Port, cancellationToken);
                // The address actually connected is checked too, whatever the resolver said a moment ago.
                if (!IsHostAllowListed(host) && socket.RemoteEndPoint is IPEndPoint remote && Check(remote.Address) is { } problem)
                    throw new HttpRequestException($"Connection to {host} refused: {problem}.");
                return new NetworkStream(socket, ownsSocket: true);
            }
            catch
            {
                socket.Dispose();
                throw;
            }
        },
    };

    public static string Display(Uri url) => new UriBuilder(url) { UserName = "", Password = "" }.Uri.ToString();

    private CubeException Refused(Uri url, string reason) =>
        new ForbiddenException($"{action} '{Display(url)}' is refused: {reason}. An administrator can allow-list it ({allowListSection}).").With("url", Display(url));
}
