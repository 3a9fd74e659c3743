using System.Net;
using Cube.Core.Errors;
using Cube.Core.Net;
using Cube.DataHub.Ingest;

namespace Cube.DataHub.Tests.Ingest;

public sealed class NetworkGuardTests
{
    [Theory]
    [InlineData("127.0.0.1")]
    [InlineData("127.8.9.10")]
    [InlineData("10.1.2.3")]
    [InlineData("172.20.0.1")]
    [InlineData("192.168.1.1")]
    [InlineData("169.254.169.254")]
    [InlineData("100.64.0.1")]
    [InlineData("0.0.0.0")]
    [InlineData("224.0.0.1")]
    [InlineData("::1")]
    [InlineData("fe80::1")]
    [InlineData("fd00::1")]
    [InlineData("::ffff:127.0.0.1")]
    [InlineData("64:ff9b::a9fe:a9fe")]
    [InlineData("2002:7f00:1::1")]
    public void Check_RefusesInternalAddresses(string address)
    {
        Assert.NotNull(new NetworkGuard(new ImportOptions()).Check(IPAddress.Parse(address)));
    }

    [Theory]
    [InlineData("8.8.8.8")]
    [InlineData("151.101.1.69")]
    [InlineData("2606:4700::1111")]
    public void Check_AllowsPublicAddresses(string address)
    {
        Assert.Null(new NetworkGuard(new ImportOptions()).Check(IPAddress.Parse(address)));
    }

    [Fact]
    public void Check_AllowsInternalAddresses_WhenTheirNetworkIsAllowListed()
    {
        var guard = new NetworkGuard(new ImportOptions { AllowedNetworks = ["10.20.0.0/16"] });
        Assert.Null(guard.Check(IPAddress.Parse("10.20.5.5")));
        Assert.NotNull(guard.Check(IPAddress.Parse("10.21.5.5")));
    }

    [Theory]
    [InlineData("file:///etc/passwd", "scheme")]
    [InlineData("ftp://example.com/x", "scheme")]
    [InlineData("http://user:secret@example.com/x", "credentials")]
    [InlineData("http://127.0.0.1:8080/x", "internal")]
    [InlineData("http://localhost/x", "internal")]
    [InlineData("http://[::1]/x", "internal")]
    [InlineData("http://169.254.169.254/latest/meta-data/", "internal")]
    public async Task CheckAsync_RefusesUrlsWithAReason(string url, string reason)
    {
        var error = await Assert.ThrowsAsync<ForbiddenException>(() => new NetworkGuard(new ImportOptions()).CheckAsync(new Uri(url), TestContext.Current.CancellationToken));
        Assert.Contains(reason, error.Message);
        Assert.DoesNotContain("secret", error.Message);
    }

    [Fact]
    public async Task CheckAsync_AllowsAnAllowListedHost()
    {
        var guard = new NetworkGuard(new ImportOptions { AllowedHosts = ["localhost"] });
        Assert.NotEmpty(await guard.CheckAsync(new Uri("http://localhost/x"), TestContext.Current.CancellationToken));
    }
}
