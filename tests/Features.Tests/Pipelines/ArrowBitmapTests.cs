using BooleanArray = Apache.Arrow.BooleanArray;
using Cube.Features.Engine;

namespace Cube.Features.Tests.Pipelines;

public sealed class ArrowBitmapTests
{
    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(7)]
    [InlineData(8)]
    [InlineData(9)]
    [InlineData(63)]
    [InlineData(64)]
    [InlineData(65)]
    [InlineData(65_537)]
    public void Boolean_WithNulls_ReachesArrowBitForBit(int length)
    {
        var random = new Random(length);
        var values = Enumerable.Range(0, length).Select(_ => random.Next(3) == 0).ToArray();
        var valid = Enumerable.Range(0, length).Select(i => i % 5 != 2 || length < 3).ToArray();

        var array = (BooleanArray)ArrowFrames.ToArrow(Column.OfBoolean(values, valid));

        Assert.Equal(length, array.Length);
        Assert.Equal(valid.Count(v => !v), array.NullCount);
        for (var i = 0; i < length; i++)
        {
            Assert.Equal(valid[i], array.IsValid(i));
            if (valid[i]) Assert.Equal(values[i], array.GetValue(i));
        }
    }
}
