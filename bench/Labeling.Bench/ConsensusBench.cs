using System.Diagnostics;
using System.Globalization;
using Cube.Labeling.Quality;

/// <summary>
/// Majority vote and Dawid–Skene on synthetic crowd answers: workers of known accuracy (0.55–0.95) answer five-way
/// questions ten times each. Prints time, answers per second and accuracy against the generated truth.
/// </summary>
internal static class ConsensusBench
{
    public static void Run(string[] args)
    {
        var answers = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 1_000_000;
        const int PerItem = 10, Classes = 5, Workers = 1000;
        var random = new Random(7);
        var accuracy = Enumerable.Range(0, Workers).Select(_ => 0.55 + 0.4 * random.NextDouble()).ToArray();
        var items = answers / PerItem;
        var truth = new Dictionary<string, string>(items);
        var crowd = new List<CrowdAnswer>(answers);
        for (var i = 0; i < items; i++)
        {
            var label = random.Next(Classes);
            truth[$"q{i}"] = $"c{label}";
            for (var a = 0; a < PerItem; a++)
            {
                var worker = random.Next(Workers);
                var answer = random.NextDouble() < accuracy[worker] ? label : (label + 1 + random.Next(Classes - 1)) % Classes;
                crowd.Add(new CrowdAnswer($"q{i}", $"w{worker}", $"c{answer}"));
            }
        }
        Console.WriteLine($"consensus on {answers:N0} answers ({items:N0} items × {PerItem}, {Workers} workers, {Classes} classes)");
        foreach (var (name, method) in new (string, Func<List<CrowdAnswer>, List<ConsensusLabel>>)[]
                 { ("majority vote", c => ClassificationConsensus.MajorityVote(c)), ("Dawid-Skene", c => ClassificationConsensus.DawidSkene(c)) })
        {
            var clock = Stopwatch.StartNew();
            var labels = method(crowd);
            clock.Stop();
            var score = ClassificationConsensus.Score(labels, truth);
            Console.WriteLine($"  {name,-14} {clock.Elapsed.TotalSeconds,7:F2} s  {answers / clock.Elapsed.TotalSeconds,12:N0} answers/s  accuracy {score.Accuracy:F4}");
        }
    }
}
