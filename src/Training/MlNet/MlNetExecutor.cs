using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Cube.DataHub.Data;
using Cube.DataHub.Tables;
using Cube.Training.Execution;
using Cube.Training.Specs;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.ML;

namespace Cube.Training.MlNet;

/// <summary>
/// Runs built-in ML.NET jobs (framework <c>mlnet</c>, distribution <c>local</c>, no command) in this process: streams the
/// input table version from DataHub as Arrow batches into columns, trains and evaluates, writes <c>model.zip</c> to the
/// job's output directory and asks for it to be registered as a model version with its signature.
/// </summary>
public sealed class MlNetExecutor(IServiceScopeFactory scopes, TimeProvider time) : ITrainingExecutor
{
    public const string ModelFile = "model.zip";

    public bool Handles(Distribution distribution) => false;

    public bool Handles(JobSpec spec) => MlNetSettings.IsBuiltIn(spec);

    public async Task<ExecutionResult> ExecuteAsync(JobSpec spec, JobContext context, IJobObserver observer, CancellationToken cancellationToken)
    {
        var problems = new List<string>();
        var settings = MlNetSettings.Parse(spec, (field, message) => problems.Add($"{field}: {message}"));
        if (problems.Count > 0 || context.Inputs.Count != 1) return new ExecutionResult(false, null, string.Join(" ", problems.DefaultIfEmpty("An ML.NET job reads exactly one input.")));
        if (context.OutputDirectory is null) return new ExecutionResult(false, null, "The job has no output directory for its model.");
        var input = context.Inputs[0];

        using var timeout = spec.TimeoutSeconds is { } seconds ? new CancellationTokenSource(TimeSpan.FromSeconds(seconds), time) : new CancellationTokenSource();
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
        var started = Stopwatch.StartNew();
        try
        {
            await using var scope = scopes.CreateAsyncScope();
            var table = await MlNetTables.ResolveAsync(scope.ServiceProvider.GetRequiredService<DataHubDbContext>(), input.VersionId, input.Dataset, input.VersionNumber, settings,
                (field, message) => problems.Add($"{field}: {message}"), linked.Token);
            if (table is null) return new ExecutionResult(false, null, string.Join(" ", problems));

            await observer.ProgressAsync(0, $"Reading {table.RowCount} rows of {input.Dataset}@v{input.VersionNumber}/{table.Path}", linked.Token);
            var catalog = scope.ServiceProvider.GetRequiredService<TableCatalog>();
            var batches = catalog.ReadAsync(input.VersionId, table.Path, ArrowLoader.Projection(settings, table.Features), cancellationToken: linked.Token);
            // Reading is the first 30% of the progress bar, training the rest; ML.NET gives no progress of its own.
            var store = await ArrowLoader.LoadAsync(batches, settings, table.Features, table.RowCount,
                read => observer.ProgressAsync(0.3 * read / table.RowCount, $"Read {read} of {table.RowCount} rows", linked.Token), linked.Token);
            await LogAsync(observer, $"read {table.RowCount} rows in {started.Elapsed.TotalSeconds:F1} s");

            var ml = new MLContext(settings.Seed);
            var lines = new List<string>();
            await observer.ProgressAsync(0.3, $"Training {settings.Trainer} ({MlNetSettings.TaskName(settings.Task)})", linked.Token);
            TrainingOutcome outcome;
            // ML.NET checks its context between iterations; cancelling the context is how a running Fit stops.
            await using (linked.Token.Register(() => Cancel(ml)))
            {
                outcome = await Task.Run(() => MlNetTrainer.Train(ml, store, settings, table.Features, Path.Combine(context.OutputDirectory, ModelFile), lines.Add), linked.Token);
            }
            foreach (var line in lines) await LogAsync(observer, line);
            foreach (var (name, value) in outcome.Metrics.OrderBy(m => m.Key, StringComparer.Ordinal))
                await observer.MetricAsync(new MetricSample(name, value, 1), CancellationToken.None);
            await LogAsync(observer, string.Join(' ', outcome.Metrics.Select(m => string.Create(CultureInfo.InvariantCulture, $"{m.Key}={m.Value:G6}"))));
            await LogAsync(observer, $"trained in {started.Elapsed.TotalSeconds:F1} s; model saved as {ModelFile}");
            await observer.ProgressAsync(1, "Trained", CancellationToken.None);
            return new ExecutionResult(true, 0, null)
            {
                Model = new ModelOutput(settings.Model ?? spec.Name, ModelFile, "mlnet", JsonSerializer.Serialize(outcome.Signature, JsonSerializerOptions.Web)),
            };
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw new OperationCanceledException("The job was cancelled.", cancellationToken);
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested)
        {
            return new ExecutionResult(false, null, $"The job ran past its timeout of {spec.TimeoutSeconds} s and was stopped.");
        }
        catch (Exception e) when (e is TrainingDataException or InvalidOperationException or ArgumentException or FormatException)
        {
            await LogAsync(observer, "error: " + e.Message);
            return new ExecutionResult(false, null, e.Message);
        }
    }

    // MLContext's CancelExecution is internal in ML.NET 5; trainers that loop without reading data (FastTree's boosting)
    // only stop through it. Data passes stop anyway: the column cursors throw once the job's token is cancelled.
    private static readonly System.Reflection.MethodInfo? CancelExecution =
        typeof(MLContext).GetMethod("CancelExecution", System.Reflection.BindingFlags.Instance | System.Reflection.BindingFlags.Public | System.Reflection.BindingFlags.NonPublic, Type.EmptyTypes);

    private static void Cancel(MLContext ml) => CancelExecution?.Invoke(ml, null);

    private static ValueTask LogAsync(IJobObserver observer, string line) => observer.LogAsync("mlnet", line, CancellationToken.None);
}
