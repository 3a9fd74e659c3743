using System.Globalization;
using System.Text;

namespace Cube.DataHub.Bench;

/// <summary>Writes a deterministic CSV of about the requested size: ints, floats, repeating strings, UTC timestamps, booleans.</summary>
internal static class CsvGenerator
{
    public static long Generate(string path, long targetBytes)
    {
        string[] categories = [.. Enumerable.Range(0, 40).Select(i => $"category_{i:D2}")];
        string[] cities = [.. Enumerable.Range(0, 2000).Select(i => $"city-{i * 7919 % 10007}")];
        var random = new Random(42);
        var start = new DateTime(2020, 1, 1, 0, 0, 0, DateTimeKind.Utc);
        using var writer = new StreamWriter(path, false, new UTF8Encoding(false), 1 << 20);
        writer.Write("id,amount,category,city,created_at,active,quantity,score\n");
        long rows = 0;
        var line = new StringBuilder(128);
        while (writer.BaseStream.Position < targetBytes)
        {
            line.Clear();
            line.Append(rows).Append(',')
                .Append(Math.Round(random.NextDouble() * 10_000 - 2_000, 2).ToString(CultureInfo.InvariantCulture)).Append(',')
                .Append(categories[random.Next(categories.Length)]).Append(',')
                .Append(cities[random.Next(cities.Length)]).Append(',')
                .Append(start.AddSeconds(rows * 7 + random.Next(7)).ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture)).Append(',')
                .Append(random.Next(2) == 0 ? "true" : "false").Append(',')
                .Append(random.Next(1, 500)).Append(',')
                .Append(random.NextDouble().ToString("F6", CultureInfo.InvariantCulture)).Append('\n');
            writer.Write(line);
            rows++;
        }
        return rows;
    }
}
