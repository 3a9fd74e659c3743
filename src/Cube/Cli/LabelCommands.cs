using System.CommandLine;
using System.Globalization;
using Cube.Labeling.Quality;

namespace Cube.Cli;

/// <summary><c>cube label …</c>: labeling tools that work on files, with no server.</summary>
internal static class LabelCommands
{
    /// <summary>Malformed input (unreadable or invalid CSV): distinct from a usage error.</summary>
    public const int BadInput = 2;

    public static Command Build(CliConsole console) => new("label", "Labeling tools: consensus of crowd answers collected elsewhere.") { Consensus(console) };

    private static Command Consensus(CliConsole console)
    {
        var answers = new Option<FileInfo>("--answers") { Description = "CSV with header and columns question,worker,answer.", Required = true };
        var method = new Option<string>("--method") { Description = "mv (majority vote) or ds (Dawid–Skene).", DefaultValueFactory = _ => "ds" };
        method.AcceptOnlyFromAmong("mv", "ds");
        var truth = new Option<FileInfo?>("--truth") { Description = "CSV with columns question,truth; prints 'accuracy: <value>'." };
        var output = new Option<FileInfo?>("--out") { Description = "Where to write question,label,confidence (default: standard output)." };
        var command = new Command("consensus", "Aggregates crowd answers into one label per question, with confidence.") { answers, method, truth, output };
        command.SetAction(parse =>
        {
            try
            {
                var crowd = Read(parse.GetValue(answers)!, CrowdCsv.ReadAnswers);
                var labels = parse.GetValue(method) == "mv" ? ClassificationConsensus.MajorityVote(crowd) : ClassificationConsensus.DawidSkene(crowd);
                labels.Sort((a, b) => string.CompareOrdinal(a.Item, b.Item));
                console.Error.WriteLine($"consensus: {labels.Count} questions, {crowd.Select(a => a.Worker).Distinct(StringComparer.Ordinal).Count()} workers, " +
                    $"{crowd.Count} answers, method {parse.GetValue(method)}");

                if (parse.GetValue(output) is { } file)
                {
                    // Written beside the target and moved into place, so a failed run never leaves half a file.
                    var temporary = file.FullName + ".tmp";
                    using (var writer = new StreamWriter(temporary)) CrowdCsv.WriteConsensus(writer, labels);
                    File.Move(temporary, file.FullName, overwrite: true);
                }
                else
                {
                    CrowdCsv.WriteConsensus(console.Out, labels);
                }

                if (parse.GetValue(truth) is { } truthFile)
                {
                    var score = ClassificationConsensus.Score(labels, Read(truthFile, CrowdCsv.ReadTruth));
                    if (score.MissingFromAnswers > 0)
                        console.Error.WriteLine($"consensus: {score.MissingFromAnswers} truth question(s) have no answers and are not scored");
                    console.Out.WriteLine($"accuracy: {score.Accuracy.ToString("0.####", CultureInfo.InvariantCulture)}");
                }
                return 0;
            }
            catch (Exception e) when (e is CrowdCsvException or IOException or UnauthorizedAccessException)
            {
                console.Error.WriteLine($"cube: {e.Message}");
                return BadInput;
            }
        });
        return command;
    }

    private static T Read<T>(FileInfo file, Func<TextReader, string, T> read)
    {
        using var reader = new StreamReader(file.FullName, detectEncodingFromByteOrderMarks: true);
        return read(reader, file.Name);
    }
}
