using System.ComponentModel.DataAnnotations;
using Cube.Core.Hosting;
using Cube.Core.Storage;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Cube.Core.Tests.Storage;

public sealed class WebHdfsStorageOptionsTests
{
    private static List<string> Problems(WebHdfsStorageOptions webHdfs)
    {
        var options = new StorageOptions { Kind = "WebHdfs", WebHdfs = webHdfs };
        return [.. options.Validate(new ValidationContext(options)).Select(r => r.ErrorMessage!)];
    }

    [Fact]
    public void Validate_ReportsNothing_WhenSettingsAreUsable()
    {
        Assert.Empty(Problems(new() { Url = "http://namenode:9870", User = "cube" }));
        Assert.Empty(Problems(new() { Url = "https://knox:8443/gateway/default", Root = "/", DelegationToken = "IgAEaGRmcw" }));
    }

    [Fact]
    public void Validate_NamesTheUrlKey_WhenUrlIsMissing() =>
        Assert.Equal(
            ["Cube:Storage:WebHdfs:Url is required when Cube:Storage:Kind is WebHdfs (the namenode's HTTP address, e.g. http://namenode:9870)."],
            Problems(new() { User = "cube" }));

    [Theory]
    [InlineData("namenode:9870", "must be an absolute http(s) URL")]
    [InlineData("ftp://namenode", "must be an absolute http(s) URL")]
    [InlineData("http://namenode:9870/?user.name=cube", "must not carry a query")]
    [InlineData("http://cube:secret@namenode:9870", "must not carry a query, a fragment or user info")]
    public void Validate_NamesTheUrlKey_WhenUrlIsUnusable(string url, string expected)
    {
        var problem = Assert.Single(Problems(new() { Url = url, User = "cube" }));
        Assert.StartsWith("Cube:Storage:WebHdfs:Url", problem, StringComparison.Ordinal);
        Assert.Contains(expected, problem, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("cube", "must be an absolute HDFS path")]
    [InlineData("", "must be an absolute HDFS path")]
    [InlineData("/a//b", "empty segment")]
    [InlineData("/a/../b", "'..' segment")]
    [InlineData("/a:b", "':'")]
    public void Validate_NamesTheRootKey_WhenRootIsUnusable(string root, string expected)
    {
        var problem = Assert.Single(Problems(new() { Url = "http://namenode:9870", User = "cube", Root = root }));
        Assert.StartsWith($"Cube:Storage:WebHdfs:Root '{root}'", problem, StringComparison.Ordinal);
        Assert.Contains(expected, problem, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_AsksForUserOrToken_WhenNeitherIsSet()
    {
        var problem = Assert.Single(Problems(new() { Url = "http://namenode:9870" }));
        Assert.Contains("Cube:Storage:WebHdfs:User", problem, StringComparison.Ordinal);
        Assert.Contains("Cube:Storage:WebHdfs:DelegationToken", problem, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_ListsWebHdfsAmongKinds_WhenKindIsUnknown()
    {
        var options = new StorageOptions { Kind = "Hdfs" };
        var problem = Assert.Single(options.Validate(new ValidationContext(options)));
        Assert.Equal("Cube:Storage:Kind 'Hdfs' is unknown; use 'Local', 'S3' or 'WebHdfs'.", problem.ErrorMessage);
    }

    [Fact]
    public void Options_FailNamingTheKey_WhenBoundFromConfiguration()
    {
        using var provider = Services(new() { ["Cube:Storage:Kind"] = "webhdfs", ["Cube:Storage:WebHdfs:Url"] = "namenode", ["Cube:Storage:WebHdfs:User"] = "cube" });

        var e = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IOptions<StorageOptions>>().Value);

        Assert.Contains("Cube:Storage:WebHdfs:Url 'namenode' must be an absolute http(s) URL", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Factory_CreatesWebHdfsStore_WhenKindIsWebHdfs()
    {
        using var provider = Services(new()
        {
            ["Cube:Storage:Kind"] = "WebHdfs",
            ["Cube:Storage:WebHdfs:Url"] = "http://namenode:9870",
            ["Cube:Storage:WebHdfs:Root"] = "/warehouse/cube",
            ["Cube:Storage:WebHdfs:User"] = "cube",
        });

        using var store = Assert.IsType<WebHdfsObjectStore>(ObjectStoreFactory.Create(provider));

        Assert.Equal("webhdfs", store.Kind);
    }

    [Fact]
    public void Constructor_ThrowsWithTheSameMessages_WhenOptionsAreUnusable()
    {
        var e = Assert.Throws<ArgumentException>(() => new WebHdfsObjectStore(new WebHdfsStorageOptions { Url = "http://namenode:9870", Root = "relative" }));

        Assert.Contains("Cube:Storage:WebHdfs:Root 'relative' must be an absolute HDFS path", e.Message, StringComparison.Ordinal);
        Assert.Contains("Cube:Storage:WebHdfs:User", e.Message, StringComparison.Ordinal);
    }

    private static ServiceProvider Services(Dictionary<string, string?> settings)
    {
        var services = new ServiceCollection();
        services.AddSingleton<IConfiguration>(new ConfigurationBuilder().AddInMemoryCollection(settings).Build());
        services.AddLogging();
        services.AddOptions<StorageOptions>().BindConfiguration(StorageOptions.SectionName).ValidateDataAnnotations();
        return services.BuildServiceProvider();
    }
}
