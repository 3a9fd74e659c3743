using System.Globalization;

namespace Cube.Training.Execution;

/// <summary>
/// The stdout metric format any language can print: <c>metric name=value [name=value ...] [step=n]</c>, e.g.
/// <c>metric loss=0.41 accuracy=0.88 step=120</c>. Values are invariant-culture numbers; <c>step</c> defaults to 0.
/// Lines that do not start with <c>metric </c> or do not parse are ordinary log lines.
/// </summary>
public static class MetricLine
{
    public const string Prefix = "metric ";

    public static bool TryParse(string line, out List<MetricSample> samples)
    {
        samples = [];
        if (!line.StartsWith(Prefix, StringComparison.Ordinal)) return false;
        long step = 0;
        var values = new List<(string Name, double Value)>();
        foreach (var token in line[Prefix.Length..].Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var eq = token.IndexOf('=');
            if (eq <= 0 || eq == token.Length - 1) return false;
            var name = token[..eq];
            var text = token[(eq + 1)..];
            if (name == "step")
            {
                if (!long.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out step) || step < 0) return false;
                continue;
            }
            if (!IsName(name) || !double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) || !double.IsFinite(value)) return false;
            values.Add((name, value));
        }
        if (values.Count == 0) return false;
        samples = values.Select(v => new MetricSample(v.Name, v.Value, step)).ToList();
        return true;
    }

    /// <summary>Metric names: 1–128 of letters, digits, '_', '-', '.' and '/'.</summary>
    public static bool IsName(string name) =>
        name.Length is > 0 and <= 128 && name.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '-' or '.' or '/');
}
