using Cube.Core.Storage;

namespace Cube.Core.Tests.Storage;

public sealed class ObjectKeyTests
{
    [Theory]
    [InlineData("a")]
    [InlineData("runs/42/model.onnx")]
    [InlineData("datasets/v1/part-0001.parquet")]
    [InlineData("with space/and+plus=sign")]
    [InlineData("unicode/ключ/模型.bin")]
    [InlineData("dots/..hidden/a..b/.x")]
    public void Validate_ReturnsKey_WhenKeyIsValid(string key)
    {
        Assert.Equal(key, ObjectKey.Validate(key));
        Assert.Null(ObjectKey.Check(key));
    }

    [Theory]
    [InlineData("", "empty")]
    [InlineData("/etc/passwd", "absolute")]
    [InlineData("C:/windows", "drive")]
    [InlineData("a/../b", "'..'")]
    [InlineData("..", "'..'")]
    [InlineData("a/./b", "'.'")]
    [InlineData("a//b", "empty segment")]
    [InlineData("a/", "empty segment")]
    [InlineData("a\\b", "backslash")]
    [InlineData("a\nb", "control character")]
    [InlineData("a\0b", "control character")]
    public void Validate_ThrowsInvalidObjectKey_WhenKeyIsUnsafe(string key, string reasonFragment)
    {
        var e = Assert.Throws<InvalidObjectKeyException>(() => ObjectKey.Validate(key));
        Assert.Contains(reasonFragment, e.Reason, StringComparison.Ordinal);
        Assert.Equal(key, e.Key);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Fact]
    public void Validate_ThrowsInvalidObjectKey_WhenKeyIsLongerThanLimit()
    {
        var key = new string('é', ObjectKey.MaxUtf8Length / 2 + 1);
        Assert.Throws<InvalidObjectKeyException>(() => ObjectKey.Validate(key));
    }

    [Theory]
    [InlineData("")]
    [InlineData("runs/")]
    [InlineData("runs/4")]
    [InlineData("ru")]
    public void ValidatePrefix_ReturnsPrefix_WhenPrefixIsValid(string prefix) =>
        Assert.Equal(prefix, ObjectKey.ValidatePrefix(prefix));

    [Theory]
    [InlineData("/")]
    [InlineData("/runs")]
    [InlineData("../")]
    [InlineData("a//")]
    public void ValidatePrefix_ThrowsInvalidObjectKey_WhenPrefixIsUnsafe(string prefix) =>
        Assert.Throws<InvalidObjectKeyException>(() => ObjectKey.ValidatePrefix(prefix));
}
