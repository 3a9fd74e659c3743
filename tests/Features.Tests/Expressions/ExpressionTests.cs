using Cube.Features.Engine;
using Cube.Features.Expressions;

namespace Cube.Features.Tests.Expressions;

public sealed class ExpressionTests
{
    private static readonly Frame Table = TestData.Table(2_000);

    public static TheoryData<string, string?> Cases => new()
    {
        { "a + b", null },
        { "a - b * 2", null },
        { "a * b - 7", null },
        // Division by zero is null in Cube (documented); DuckDB follows IEEE, so the reference spells that out.
        { "a / b", "a / NULLIF(b, 0)" },
        { "a % b", null },
        { "x * 2.5 + 1", null },
        { "x / (b - 1)", "x / NULLIF(b - 1, 0)" },
        { "-x + a", null },
        { "x > 10 and s = 'b'", null },
        { "x > 10 or a is null", null },
        { "not (a > 3)", null },
        { "a is not null and x is null", null },
        { "x >= 0.5", null },
        { "x = x", null },
        { "coalesce(x, a, 0)", null },
        { "case when a > 5 then 'hi' when a > 2 then 'mid' else 'lo' end", null },
        { "case when x > 0 then x end", null },
        { "s in ('a', 'c')", null },
        { "s not in ('a', 'dd')", null },
        { "a in (1, 2, 3)", null },
        { "lower(s)", null },
        { "upper(s)", null },
        { "length(s)", null },
        { "contains(s, 'b')", null },
        { "starts_with(s, 'B')", null },
        { "ends_with(s, 'd')", null },
        { "regexp_matches(s, '^[ab]')", null },
        { "concat(s, '-', a)", "concat(s, '-', CAST(a AS VARCHAR))" },
        { "abs(a)", null },
        { "abs(x)", null },
        { "sqrt(abs(x))", null },
        { "ln(abs(x) + 1)", null },
        { "log10(abs(x) + 1)", null },
        { "exp(x / 100)", null },
        { "floor(x)", null },
        { "ceil(x)", null },
        { "round(x, 1)", null },
        { "pow(b, 2)", null },
        { "least(a, 5)", null },
        { "greatest(x, 0.1)", null },
        { "year(ts)", null },
        { "month(ts)", null },
        { "day(ts)", null },
        { "hour(ts)", null },
        { "dayofweek(ts)", null },
        { "dayofyear(ts)", null },
        { "ts > '2024-06-01'", "ts > TIMESTAMP '2024-06-01'" },
        { "flag and a > 0", null },
        { "flag or x < 0", null },
        { "if(flag, a, b)", "CASE WHEN flag THEN a ELSE b END" },
        { "to_double(a) / 4", "CAST(a AS DOUBLE) / 4" },
        { "nullif(b, 0)", null },
        { "substring(s, 2, 1)", null },
        { "replace(s, 'b', 'x')", null },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Evaluate_MatchesDuckDb_WhenGivenRandomDataWithNullsAndNaN(string expression, string? sql)
    {
        using var oracle = new Oracle(Table);
        var expected = oracle.Query($"SELECT {sql ?? expression} AS r FROM t").Columns[0];
        var compiled = Expression.Compile(expression, Table.Schema);
        var actual = compiled.Evaluate(Table);
        TestData.AssertSame(expected, actual, expression);
    }

    [Theory]
    [InlineData("a + s", "'+' does not join text")]
    [InlineData("amount > 3", "Unknown column 'amount'")]
    [InlineData("aa > 3", "did you mean 'a'")]
    [InlineData("x > 'abc'", "cannot combine Float64 and String")]
    [InlineData("s and flag", "'AND' needs Boolean, not String")]
    [InlineData("lowr(s)", "did you mean 'lower'")]
    [InlineData("sqrt(s)", "needs a number")]
    [InlineData("year(x)", "needs a timestamp")]
    [InlineData("(a + 1", "Expected ')'")]
    [InlineData("a + ", "ended")]
    [InlineData("s = 'open", "not closed")]
    [InlineData("regexp_matches(s, '[')", "Invalid regular expression")]
    [InlineData("ts > 'yesterday'", "not a timestamp")]
    public void Compile_FailsWithPreciseMessage_WhenExpressionIsInvalid(string expression, string message)
    {
        var error = Assert.Throws<ExpressionException>(() => Expression.Compile(expression, Table.Schema));
        Assert.Contains(message, error.Message);
    }

    [Fact]
    public void Compile_ReportsPositionOfUnknownColumn()
    {
        var error = Assert.Throws<ExpressionException>(() => Expression.Compile("a > 1 and missing = 2", Table.Schema));
        Assert.Equal(10, error.Position);
    }

    [Fact]
    public void Evaluate_GivesNull_WhenDividingByZero()
    {
        var frame = new Frame(new FrameSchema([new("p", DataKind.Int64), new("q", DataKind.Float64)]), [Column.OfInt64([1, 2, 3]), Column.OfFloat64([0, 2, -0.0])], 3);
        var result = Expression.Compile("p / q", frame.Schema).Evaluate(frame);
        Assert.False(result.IsValid(0));
        Assert.Equal(1.0, result.Float64[1]);
        Assert.False(result.IsValid(2));
    }

    [Fact]
    public void Evaluate_ReturnsEmptyColumn_WhenFrameIsEmpty()
    {
        var result = Expression.Compile("a * 2 + x", Table.Schema).Evaluate(Frame.Empty(Table.Schema));
        Assert.Equal(0, result.Length);
        Assert.Equal(DataKind.Float64, result.Kind);
    }

    [Fact]
    public void Evaluate_ComputesDateArithmetic()
    {
        var frame = new Frame(new FrameSchema([new("t", DataKind.Timestamp)]), [Column.OfTimestamp([0, 86_400_000_000])], 2);
        var shifted = Expression.Compile("t + days(2) - hours(1)", frame.Schema).Evaluate(frame);
        Assert.Equal(DataKind.Timestamp, shifted.Kind);
        Assert.Equal(2 * 86_400_000_000L - 3_600_000_000L, shifted.Timestamp[0]);
        var difference = Expression.Compile("t - timestamp('1970-01-01T12:00:00Z')", frame.Schema).Evaluate(frame);
        Assert.Equal(-43_200_000_000L, difference.Int64[0]);
    }
}
