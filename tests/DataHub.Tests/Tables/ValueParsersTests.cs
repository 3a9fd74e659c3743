using System.Globalization;
using System.Text;
using Cube.DataHub.Tables.Text;

namespace Cube.DataHub.Tests.Tables;

public sealed class ValueParsersTests
{
    [Theory]
    [InlineData("0"), InlineData("-0"), InlineData("+7"), InlineData("1.5"), InlineData("-2000.25"), InlineData("5."), InlineData(".5")]
    [InlineData("0.000000000000000000001"), InlineData("123456789012345"), InlineData("1234567890.12345"), InlineData("9007199254740991")]
    [InlineData("0.1"), InlineData("0.3"), InlineData("1e5"), InlineData("-1.5E-3"), InlineData("1234567890123456789"), InlineData("Infinity")]
    [InlineData("0.00000000000000000000000001"), InlineData("3.141592653589793238")]
    public void TryParseDouble_AgreesWithTheRuntime_OnEveryShape(string text)
    {
        Assert.True(ValueParsers.TryParseDouble(Encoding.UTF8.GetBytes(text), out var value));
        var expected = double.Parse(text, NumberStyles.Float, CultureInfo.InvariantCulture);
        Assert.Equal(BitConverter.DoubleToInt64Bits(expected), BitConverter.DoubleToInt64Bits(value));
    }

    [Theory]
    [InlineData("-"), InlineData("."), InlineData("1.2.3"), InlineData("1,5"), InlineData(" 1"), InlineData("1 "), InlineData("12a"), InlineData("--1")]
    public void TryParseDouble_Refuses_WhatIsNotANumber(string text) =>
        Assert.False(ValueParsers.TryParseDouble(Encoding.UTF8.GetBytes(text), out _));

    [Fact]
    public void TryParseSimpleDouble_IsBitExact_OnRandomDecimals()
    {
        var random = new Random(7);
        var checkedCount = 0;
        for (var n = 0; n < 200_000; n++)
        {
            var intDigits = random.Next(0, 9);
            var fractionDigits = random.Next(0, 9);
            var text = (random.Next(2) == 0 ? "-" : "") + Digits(random, Math.Max(1, intDigits)) + (fractionDigits > 0 ? "." + Digits(random, fractionDigits) : "");
            var bytes = Encoding.UTF8.GetBytes(text);
            if (!ValueParsers.TryParseSimpleDouble(bytes, out var fast)) continue;
            checkedCount++;
            var expected = double.Parse(text, NumberStyles.Float, CultureInfo.InvariantCulture);
            Assert.True(BitConverter.DoubleToInt64Bits(expected) == BitConverter.DoubleToInt64Bits(fast), $"{text}: {fast:R} != {expected:R}");
        }
        Assert.True(checkedCount > 190_000, $"only {checkedCount} took the fast path");
    }

    private static string Digits(Random random, int count)
    {
        var chars = new char[count];
        for (var i = 0; i < count; i++) chars[i] = (char)('0' + random.Next(10));
        return new string(chars);
    }
}
