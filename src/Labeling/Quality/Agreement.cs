namespace Cube.Labeling.Quality;

/// <summary>Agreement between two annotators over the items both labelled.</summary>
public sealed record PairAgreement(string A, string B, int Items, double ObservedAgreement, double Kappa);

/// <summary>Inter-annotator agreement of a set of nominal labels, overall, per label and per pair.</summary>
public sealed record AgreementReport(
    int Items,
    int Ratings,
    double FleissKappa,
    double KrippendorffAlpha,
    IReadOnlyDictionary<string, double> FleissKappaPerLabel,
    IReadOnlyList<PairAgreement> Pairs,
    IReadOnlyDictionary<string, double> MeanPairKappaPerAnnotator);

/// <summary>
/// Chance-corrected agreement for nominal labels. Items rated by fewer than two annotators carry no agreement
/// information and are left out; every statistic is NaN when nothing is left (rather than a misleading 0 or 1).
/// One rating per annotator and item is assumed; a repeated rating replaces the earlier one.
/// </summary>
public static class Agreement
{
    public static AgreementReport Report(IEnumerable<CrowdAnswer> ratings)
    {
        var table = Table(ratings);
        var pairs = Pairs(table);
        var perAnnotator = pairs.SelectMany(p => new[] { (Who: p.A, p.Kappa), (Who: p.B, p.Kappa) })
            .Where(p => !double.IsNaN(p.Kappa))
            .GroupBy(p => p.Who, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.Average(p => p.Kappa), StringComparer.Ordinal);
        return new AgreementReport(table.Count, table.Values.Sum(r => r.Count), Fleiss(table), Krippendorff(table),
            FleissPerLabel(table), pairs, perAnnotator);
    }

    /// <summary>Cohen's kappa of two annotators over the items both rated.</summary>
    public static PairAgreement CohenKappa(IEnumerable<CrowdAnswer> ratings, string a, string b) => Cohen(Table(ratings), a, b);

    /// <summary>Fleiss' kappa, generalised to items with different numbers of raters (each item weighs by its pairs).</summary>
    public static double FleissKappa(IEnumerable<CrowdAnswer> ratings) => Fleiss(Table(ratings));

    /// <summary>Krippendorff's alpha for nominal data, from the coincidence matrix; missing ratings are allowed.</summary>
    public static double KrippendorffAlpha(IEnumerable<CrowdAnswer> ratings) => Krippendorff(Table(ratings));

    /// <summary>item → (rater → label), keeping only items with at least two raters.</summary>
    private static Dictionary<string, Dictionary<string, string>> Table(IEnumerable<CrowdAnswer> ratings)
    {
        var table = new Dictionary<string, Dictionary<string, string>>(StringComparer.Ordinal);
        foreach (var r in ratings)
        {
            if (!table.TryGetValue(r.Question, out var row)) table[r.Question] = row = new(StringComparer.Ordinal);
            row[r.Worker] = r.Answer;
        }
        foreach (var item in table.Where(t => t.Value.Count < 2).Select(t => t.Key).ToList()) table.Remove(item);
        return table;
    }

    private static PairAgreement Cohen(Dictionary<string, Dictionary<string, string>> table, string a, string b)
    {
        var both = table.Values.Where(r => r.ContainsKey(a) && r.ContainsKey(b)).Select(r => (A: r[a], B: r[b])).ToList();
        if (both.Count == 0) return new PairAgreement(a, b, 0, double.NaN, double.NaN);
        double n = both.Count;
        var observed = both.Count(p => p.A == p.B) / n;
        var marginA = both.GroupBy(p => p.A, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.Count() / n, StringComparer.Ordinal);
        var marginB = both.GroupBy(p => p.B, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.Count() / n, StringComparer.Ordinal);
        var expected = marginA.Sum(m => m.Value * marginB.GetValueOrDefault(m.Key));
        return new PairAgreement(a, b, both.Count, observed, Kappa(observed, expected));
    }

    private static List<PairAgreement> Pairs(Dictionary<string, Dictionary<string, string>> table)
    {
        var raters = table.Values.SelectMany(r => r.Keys).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToArray();
        var pairs = new List<PairAgreement>();
        for (var i = 0; i < raters.Length; i++)
            for (var j = i + 1; j < raters.Length; j++)
            {
                var pair = Cohen(table, raters[i], raters[j]);
                if (pair.Items > 0) pairs.Add(pair);
            }
        return pairs;
    }

    private static double Fleiss(Dictionary<string, Dictionary<string, string>> table)
    {
        if (table.Count == 0) return double.NaN;
        double agreeingPairs = 0, allPairs = 0, ratings = 0;
        var perLabel = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (var row in table.Values)
        {
            double m = row.Count;
            foreach (var count in row.Values.GroupBy(v => v, StringComparer.Ordinal))
            {
                double c = count.Count();
                agreeingPairs += c * (c - 1) / (m * (m - 1));
                perLabel[count.Key] = perLabel.GetValueOrDefault(count.Key) + c;
            }
            allPairs += 1;
            ratings += m;
        }
        var observed = agreeingPairs / allPairs;
        var expected = perLabel.Values.Sum(c => (c / ratings) * (c / ratings));
        return Kappa(observed, expected);
    }

    /// <summary>Fleiss' category-specific kappa: how reliably annotators separate one label from all others.</summary>
    private static Dictionary<string, double> FleissPerLabel(Dictionary<string, Dictionary<string, string>> table)
    {
        var labels = table.Values.SelectMany(r => r.Values).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
        double ratings = table.Values.Sum(r => r.Count);
        var result = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (var label in labels)
        {
            double disagreement = 0, pairs = 0, total = 0;
            foreach (var row in table.Values)
            {
                double m = row.Count, c = row.Values.Count(v => v == label);
                disagreement += c * (m - c);
                pairs += m * (m - 1);
                total += c;
            }
            var p = total / ratings;
            result[label] = p is 0 or 1 ? double.NaN : 1 - disagreement / (pairs * p * (1 - p));
        }
        return result;
    }

    private static double Krippendorff(Dictionary<string, Dictionary<string, string>> table)
    {
        // Coincidence counts: every ordered pair of ratings from different annotators of one item, weighted 1/(m-1).
        var coincidence = new Dictionary<(string, string), double>();
        var marginal = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (var row in table.Values)
        {
            var values = row.Values.ToArray();
            double m = values.Length;
            for (var i = 0; i < values.Length; i++)
                for (var j = 0; j < values.Length; j++)
                {
                    if (i == j) continue;
                    var key = (values[i], values[j]);
                    coincidence[key] = coincidence.GetValueOrDefault(key) + 1 / (m - 1);
                }
            foreach (var v in values) marginal[v] = marginal.GetValueOrDefault(v) + 1;
        }
        var n = marginal.Values.Sum();
        if (n == 0) return double.NaN;
        var observedDisagreement = coincidence.Where(c => c.Key.Item1 != c.Key.Item2).Sum(c => c.Value);
        var expectedDisagreement = 0.0;
        foreach (var (c, nc) in marginal)
            foreach (var (k, nk) in marginal)
                if (c != k) expectedDisagreement += nc * nk;
        if (expectedDisagreement == 0) return observedDisagreement == 0 ? 1 : double.NaN;
        return 1 - (n - 1) * observedDisagreement / expectedDisagreement;
    }

    /// <summary>(p_o − p_e)/(1 − p_e); when chance agreement is certain, perfect agreement counts as 1.</summary>
    private static double Kappa(double observed, double expected) =>
        expected >= 1 - 1e-12 ? (observed >= 1 - 1e-12 ? 1 : double.NaN) : (observed - expected) / (1 - expected);
}
