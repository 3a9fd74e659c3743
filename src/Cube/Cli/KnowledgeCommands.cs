using System.CommandLine;
using System.Globalization;
using Cube.Core.Errors;
using Cube.Knowledge;
using Cube.Knowledge.Embeddings;
using Cube.Knowledge.Evaluation;
using Cube.Knowledge.Indexing;
using Microsoft.Extensions.Options;

namespace Cube.Cli;

/// <summary><c>cube kb …</c>: knowledge-base tools that work on local files with the embedded engine, no server.</summary>
internal static class KnowledgeCommands
{
    public const int BadInput = 2;

    public static Command Build(CliConsole console) => new("kb", "Knowledge-base tools: retrieval evaluation on a BEIR-format collection.") { Eval(console) };

    private static Command Eval(CliConsole console)
    {
        var beir = new Option<DirectoryInfo>("--beir") { Description = "BEIR folder: corpus.jsonl, queries.jsonl, qrels/test.tsv.", Required = true };
        var mode = new Option<string>("--mode") { Description = "bm25, vector or hybrid (default hybrid).", DefaultValueFactory = _ => "hybrid" };
        mode.AcceptOnlyFromAmong("bm25", "vector", "hybrid");
        var command = new Command("eval", "Ingests a BEIR collection into a temporary embedded knowledge base and prints nDCG@10, Recall@100 and MRR@10.") { beir, mode };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var folder = parse.GetValue(beir)!;
            var searchMode = parse.GetValue(mode) switch { "bm25" => SearchMode.Bm25, "vector" => SearchMode.Vector, _ => SearchMode.Hybrid };
            var root = Path.Combine(Path.GetTempPath(), "cube-kb-eval-" + Guid.NewGuid().ToString("N"));
            try
            {
                if (!folder.Exists) throw new BadRequestException($"No folder '{folder.FullName}'.");
                var dataset = BeirDataset.Load(folder.FullName);
                console.Error.WriteLine($"kb eval: {dataset.Corpus.Count} documents, {dataset.Qrels.Count(q => dataset.Queries.ContainsKey(q.Key))} judged queries, mode {parse.GetValue(mode)}");
                using var index = new EmbeddedIndex(root);
                using var ai = new KnowledgeAi(Options.Create(new KnowledgeOptions()));
                var evaluator = new BeirEvaluator(index, ai, new ChunkingOptions());
                var kb = Guid.NewGuid();
                await evaluator.IngestAsync(kb, dataset, cancellationToken);
                var scores = await evaluator.EvaluateAsync(kb, dataset, searchMode, 100, cancellationToken);
                console.Out.WriteLine($"nDCG@10: {Format(scores.NdcgAt10)}");
                console.Out.WriteLine($"Recall@100: {Format(scores.RecallAtK)}");
                console.Out.WriteLine($"MRR@10: {Format(scores.MrrAt10)}");
                return 0;
            }
            catch (Exception e) when (e is CubeException or IOException or System.Text.Json.JsonException or KeyNotFoundException or InvalidOperationException)
            {
                console.Error.WriteLine($"cube: {e.Message}");
                return BadInput;
            }
            finally
            {
                if (Directory.Exists(root)) Directory.Delete(root, recursive: true);
            }
        });
        return command;
    }

    private static string Format(double value) => value.ToString("0.####", CultureInfo.InvariantCulture);
}
