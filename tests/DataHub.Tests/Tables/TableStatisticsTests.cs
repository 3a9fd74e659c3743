using System.Globalization;
using System.Text;
using Cube.DataHub.Tables;

namespace Cube.DataHub.Tests.Tables;

public sealed class TableStatisticsTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task IngestFileAsync_ComputesStatistics_ThatMatchDuckDb()
    {
        using var files = new TableFiles();
        var random = new Random(7);
        var text = new StringBuilder("id,amount,city,flag,at\n");
        string[] cities = ["Oslo", "Lima", "Pune", "Kyiv", "Nice"];
        for (var i = 0; i < 250_000; i++)
        {
            var amount = i % 97 == 0 ? "" : (random.NextDouble() * 1000 - 200).ToString("R", CultureInfo.InvariantCulture);
            var town = i % 53 == 0 ? "NA" : cities[random.Next(cities.Length) % (1 + i % 5)];
            text.Append(i * 3 % 150_001).Append(',').Append(amount).Append(',').Append(town).Append(',')
                .Append(i % 3 == 0 ? "true" : "false").Append(',')
                .Append(DateTime.UnixEpoch.AddMinutes(i).ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture)).Append('\n');
        }
        var input = files.Write("s.csv", text.ToString());
        var output = files.Path_("s.parquet");

        var result = await TableIngest.IngestFileAsync(input, output, new TableIngestOptions { BatchRows = 50_000 }, Ct);
        var stats = result.Columns.ToDictionary(c => c.Name);

        foreach (var column in new[] { "id", "amount" })
        {
            var expected = TableFiles.Query($"""
                SELECT count(*), count({column}), min({column})::DOUBLE, max({column})::DOUBLE, avg({column}), stddev_samp({column}), count(DISTINCT {column}),
                       quantile_cont({column}, 0.25), quantile_cont({column}, 0.5), quantile_cont({column}, 0.75)
                FROM read_parquet('{output}')
                """).Single();
            var s = stats[column];
            Assert.Equal((long)expected[0]!, s.Count);
            Assert.Equal((long)expected[0]! - (long)expected[1]!, s.Nulls);
            Assert.Equal((double)expected[2]!, Convert.ToDouble(s.Min, CultureInfo.InvariantCulture));
            Assert.Equal((double)expected[3]!, Convert.ToDouble(s.Max, CultureInfo.InvariantCulture));
            Assert.Equal((double)expected[4]!, s.Mean!.Value, 1e-6 * Math.Abs((double)expected[4]!) + 1e-9);
            Assert.Equal((double)expected[5]!, s.StdDev!.Value, 1e-6 * (double)expected[5]!);
            // HyperLogLog past 100k distinct values: within 2%.
            var distinct = (long)expected[6]!;
            Assert.InRange(s.Distinct, distinct * 0.98, distinct * 1.02);
            // Reservoir quantiles: the sample is 131,072 of ~250k values; rank error well under 1% of the range.
            var range = (double)expected[3]! - (double)expected[2]!;
            for (var q = 0; q < 3; q++) Assert.Equal((double)expected[7 + q]!, s.Quantiles![q].Value, range * 0.01);
            // Histogram: 20 bins over [min, max] that hold every non-null value. Past the sample's 131,072 values each bin
            // is estimated from the sample: within 0.5% of the values of DuckDB's exact count.
            Assert.Equal(20, s.Histogram!.Count);
            Assert.Equal((long)expected[1]!, s.Histogram.Sum(b => b.Count));
            var exact = Bins(output, column, (double)expected[2]!, (double)expected[3]!);
            for (var b = 0; b < 20; b++) Assert.InRange(s.Histogram[b].Count, exact[b] - 0.005 * s.Count, exact[b] + 0.005 * s.Count);
        }

        var city = stats["city"];
        var top = TableFiles.Query($"SELECT city, count(*) c FROM read_parquet('{output}') WHERE city IS NOT NULL GROUP BY city ORDER BY c DESC, city");
        Assert.Equal(top.Select(r => ((string)r[0]!, (long)r[1]!)), city.TopValues!.Select(v => (v.Value, v.Count)));
        Assert.Equal(top.Count, city.Distinct);
        Assert.Equal((long)TableFiles.Query($"SELECT count(*) FROM read_parquet('{output}') WHERE city IS NULL").Single()[0]!, city.Nulls);

        var flag = stats["flag"];
        Assert.Equal(83_334, flag.TopValues!.Single(v => v.Value == "true").Count);
        Assert.Equal("1970-01-01T00:00:00", stats["at"].Min);
        Assert.Equal(DateTime.UnixEpoch.AddMinutes(249_999).ToString("yyyy-MM-dd'T'HH:mm:ss", CultureInfo.InvariantCulture), stats["at"].Max);
    }

    /// <summary>DuckDB's count per equal-width bin over [min, max], the last bin closed.</summary>
    private static long[] Bins(string parquet, string column, double min, double max)
    {
        var counts = new long[20];
        var width = (max - min) / 20;
        foreach (var row in TableFiles.Query($"SELECT least(greatest(floor(({column} - {min:R}) / {width:R}), 0), 19)::INTEGER, count(*) FROM read_parquet('{parquet}') WHERE {column} IS NOT NULL GROUP BY 1"))
            counts[(int)row[0]!] = (long)row[1]!;
        return counts;
    }

    [Fact]
    public async Task IngestFileAsync_CountsHistogramExactly_WhileTheSampleHoldsEveryValue()
    {
        using var files = new TableFiles();
        var random = new Random(11);
        var text = new StringBuilder("x,n\n");
        for (var i = 0; i < 60_000; i++)
            text.Append(Math.Round(Math.Exp(random.NextDouble() * 5), 4).ToString(CultureInfo.InvariantCulture)).Append(',').Append(random.Next(-500, 500)).Append('\n');
        var output = files.Path_("h.parquet");
        var result = await TableIngest.IngestFileAsync(files.Write("h.csv", text.ToString()), output, new TableIngestOptions { BatchRows = 7_000 }, Ct);
        foreach (var s in result.Columns)
        {
            var exact = Bins(output, s.Name, Convert.ToDouble(s.Min, CultureInfo.InvariantCulture), Convert.ToDouble(s.Max, CultureInfo.InvariantCulture));
            Assert.Equal(exact, s.Histogram!.Select(b => b.Count));
        }
    }

    [Fact]
    public async Task IngestFileAsync_CountsNarrowIntegersExactly_AtAnySize_AndWidensWhenTheyGrow()
    {
        using var files = new TableFiles();
        var random = new Random(5);
        var text = new StringBuilder("code,flag,tiny,same,grows\n");
        for (var i = 0; i < 300_000; i++)
        {
            text.Append(i % 41 == 0 ? "" : random.Next(50).ToString(CultureInfo.InvariantCulture)).Append(',')
                .Append(random.Next(7) == 0 ? 1 : 0).Append(',')
                .Append(random.Next(-3, 4)).Append(",5,")
                // Narrow for the first 150,000 rows (counted), then spread over a million values (sampled from there on).
                .Append(i < 150_000 ? i % 100 : (long)i * 37 % 1_000_003).Append('\n');
        }
        var output = files.Path_("n.parquet");
        var result = await TableIngest.IngestFileAsync(files.Write("n.csv", text.ToString()), output, new TableIngestOptions { BatchRows = 40_000 }, Ct);
        var stats = result.Columns.ToDictionary(c => c.Name);
        foreach (var column in new[] { "code", "flag", "tiny", "same", "grows" })
        {
            var expected = TableFiles.Query($"""
                SELECT count({column}), min({column}), max({column}), avg({column}), stddev_samp({column}), count(DISTINCT {column}),
                       quantile_cont({column}, 0.25), quantile_cont({column}, 0.5), quantile_cont({column}, 0.75)
                FROM read_parquet('{output}')
                """).Single();
            var s = stats[column];
            var (min, max) = ((long)expected[1]!, (long)expected[2]!);
            Assert.Equal(min, Convert.ToInt64(s.Min, CultureInfo.InvariantCulture));
            Assert.Equal(max, Convert.ToInt64(s.Max, CultureInfo.InvariantCulture));
            Assert.Equal((double)expected[3]!, s.Mean!.Value, 1e-9 * Math.Max(1, Math.Abs((double)expected[3]!)));
            Assert.Equal((double)expected[4]!, s.StdDev!.Value, 1e-9 * Math.Max(1, (double)expected[4]!));
            var histogram = s.Histogram!;
            Assert.Equal((long)expected[0]!, histogram.Sum(b => b.Count));
            if (column == "grows")
            {
                // Past the switch: distinct within the sketch's 2%, quantiles within 1% of the range.
                Assert.InRange(s.Distinct, (long)expected[5]! * 0.98, (long)expected[5]! * 1.02);
                for (var q = 0; q < 3; q++) Assert.Equal((double)expected[6 + q]!, s.Quantiles![q].Value, (max - min) * 0.01);
                continue;
            }
            // Counted: exact distinct count, quantiles and histogram, though there are more values than the sample holds.
            Assert.Equal((long)expected[5]!, s.Distinct);
            Assert.Equal([(double)expected[6]!, (double)expected[7]!, (double)expected[8]!], s.Quantiles!.Select(q => q.Value));
            if (min < max) Assert.Equal(Bins(output, column, min, max), histogram.Select(b => b.Count));
            else Assert.Equal(300_000, histogram[0].Count);
        }
    }

    [Fact]
    public async Task IngestFileAsync_CountsDistinctExactly_WhenFewValues()
    {
        using var files = new TableFiles();
        var text = new StringBuilder("v\n");
        for (var i = 0; i < 5000; i++) text.Append(i % 1234).Append('\n');
        var result = await TableIngest.IngestFileAsync(files.Write("d.csv", text.ToString()), files.Path_("d.parquet"), cancellationToken: Ct);
        Assert.Equal(1234, result.Columns.Single().Distinct);
    }
}
