using Cube.Core.Errors;
using Cube.Core.Runs;
using Cube.DataHub.Catalog;
using Cube.DataHub.Tables;
using Cube.DataHub.Versions;
using Cube.Features.Data;
using Cube.Features.Engine;
using Cube.Features.Operators;
using Cube.Features.Pipelines;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Cube.Features.Runs;

public sealed record PipelineRunParameters(Guid ProjectId, Guid PipelineId, Guid PipelineVersionId, string OutputDataset, Guid AuthorId) : IRunSubject
{
    Guid IRunSubject.SubjectId => PipelineId;

    /// <summary>Input name to the dataset version number it was resolved to when a schedule fired; the run reads exactly those.</summary>
    public IReadOnlyDictionary<string, int>? PinnedInputs { get; init; }
    /// <summary>The schedule that started the run, if any.</summary>
    public Guid? ScheduleId { get; init; }
    /// <summary>The schedule's logical date for this run (the cron occurrence it stands for).</summary>
    public DateTimeOffset? LogicalDate { get; init; }
    /// <summary>The logical date as a calendar date (yyyy-MM-dd) in the schedule's time zone; <c>{{ds}}</c> in the spec.</summary>
    public string? Ds { get; init; }
    /// <summary>Values for the spec's declared parameters (<c>{{params.NAME}}</c>); the others keep their defaults.</summary>
    public IReadOnlyDictionary<string, string>? Parameters { get; init; }
}

public sealed record PipelineRunResult(Guid FittedStateId, string OutputDataset, Guid OutputVersionId, int OutputVersion, long Rows, IReadOnlyDictionary<string, StepTiming> Steps);

public sealed record StepTiming(long Rows, double Milliseconds);

/// <summary>
/// A full pipeline run: fits every fitted step over the whole input, transforms the input batch by batch into an Arrow
/// file, and commits it as a new version of the output dataset with lineage to the inputs; the fitted state is stored
/// with the run. A failing row fails the run naming the step, column and row.
/// </summary>
public sealed class PipelineRunHandler : IRunHandler
{
    public const string RunKind = "features.pipeline";

    public string Kind => RunKind;

    // Re-running from the start after a crash only adds another version and state; the inputs are immutable versions.
    public bool Idempotent => true;

    public async Task<object?> ExecuteAsync(RunContext context, CancellationToken cancellationToken)
    {
        var parameters = context.GetParameters<PipelineRunParameters>();
        using var scope = context.Services.CreateScope();
        var services = scope.ServiceProvider;
        var db = services.GetRequiredService<FeaturesDbContext>();
        var pipelines = services.GetRequiredService<PipelineService>();
        var version = await db.PipelineVersions.AsNoTracking().FirstAsync(v => v.Id == parameters.PipelineVersionId, cancellationToken);
        var template = PipelineSpec.FromJson(System.Text.Json.Nodes.JsonNode.Parse(version.SpecJson)!.AsObject());
        // The values are fixed by the request or the schedule's fire, so a retry or a re-run after a crash renders the same spec.
        RunValues values;
        try
        {
            values = pipelines.Values(template, parameters.Ds, parameters.Parameters, parameters.LogicalDate);
        }
        catch (ValidationException e)
        {
            throw new UnprocessableException($"The run's parameters do not fit pipeline v{version.Number}: {e.Message}");
        }
        var spec = Pin(SpecTemplate.Render(template, values), parameters.PinnedInputs);
        var output = await services.GetRequiredService<DatasetResolver>().DatasetAsync(parameters.ProjectId, parameters.OutputDataset, cancellationToken);

        await context.ReportAsync(1, "Resolving inputs");
        var (pipeline, inputs) = await pipelines.CompileAsync(parameters.ProjectId, spec, cancellationToken);
        using (pipeline)
        {
            inputs.TryGetValue(pipeline.OutputSource, out var source);
            var total = Math.Max(1, source is null ? 1 : await CountAsync(services, source, cancellationToken));
            FittedState state;
            try
            {
                state = await pipeline.FitAsync((name, columns, ct) => pipelines.ReadAsync(inputs[name], null, ct, columns),
                    (pass, rows) => context.ReportAsync(Math.Min(45, 2 + 43.0 * rows / total), $"Fitting (pass {pass}): {rows:N0} rows"), cancellationToken);
            }
            catch (TransformException e)
            {
                throw Failure(e);
            }
            state = state with { Values = values };

            var stats = new Dictionary<string, StepStats>(StringComparer.Ordinal);
            // Written straight to a Parquet table while the input is read ahead and batches transform on the thread pool.
            var path = $"{spec.Name}.parquet";
            TableEntry table;
            try
            {
                table = await services.GetRequiredService<TableCatalog>().WriteAsync(path, ArrowFrames.ToArrowSchema(pipeline.OutputSchema), async (sink, ct) =>
                {
                    // A reducing output step (group-by) is its own source: its result, computed in the fit.
                    var batches = source is null ? Slices(pipeline.Reduced[pipeline.OutputSource]) : pipelines.ReadAsync(source, null, ct);
                    if (source is null) total = Math.Max(1, pipeline.Reduced[pipeline.OutputSource].RowCount);
                    await pipeline.TransformIntoAsync(batches, sink, stats,
                        read => context.ReportAsync(45 + 45.0 * read / total, $"Transforming: {read:N0} of {total:N0} rows"), ct);
                }, cancellationToken);
            }
            catch (TransformException e)
            {
                throw Failure(e);
            }
            var written = table.RowCount;

            await context.ReportAsync(92, "Committing the output version");
            var manifest = new ManifestEntry(path, table.ParquetSha256, table.ParquetSize, "application/vnd.apache.parquet");
            var message = spec.Publish?.Message is { Length: > 0 } custom ? custom : $"Pipeline {spec.Name} v{version.Number} for {values.Ds}";
            var created = await services.GetRequiredService<VersionWriter>().CreateAsync(new NewVersion(
                output.Id, [manifest], [table], message, parameters.AuthorId, "features.pipeline",
                System.Text.Json.JsonSerializer.Serialize(new
                {
                    pipeline = parameters.PipelineId, pipelineVersion = version.Number, run = context.RunId, schedule = parameters.ScheduleId,
                    logicalDate = values.Ts, ds = values.Ds, parameters = values.Params,
                }),
                context.RunId, inputs.Values.Select(i => i.VersionId).Distinct().ToList(), "pipeline"), cancellationToken);
            if (spec.Publish?.Tag is { Length: > 0 } tag) await TagAsync(services, output.Id, tag, created.Id, parameters.AuthorId, cancellationToken);

            var fitted = new FittedStateEntity
            {
                PipelineId = parameters.PipelineId, PipelineVersionId = version.Id, RunId = context.RunId, StateJson = state.ToJson(),
                OutputVersionId = created.Id, OutputRows = written, CreatedAt = services.GetRequiredService<TimeProvider>().GetUtcNow(),
            };
            db.FittedStates.Add(fitted);
            await db.SaveChangesAsync(cancellationToken);
            await context.ReportAsync(100, $"Wrote {written:N0} rows as version {created.Number} of {output.Name}");
            return new PipelineRunResult(fitted.Id, output.Name, created.Id, created.Number, written,
                stats.ToDictionary(s => s.Key, s => new StepTiming(s.Value.Rows, s.Value.Elapsed.TotalMilliseconds)));
        }
    }

    /// <summary>Points the publish tag at the new version (a tag another run set for the same date moves to this one).</summary>
    private static async Task TagAsync(IServiceProvider services, Guid datasetId, string tag, Guid versionId, Guid authorId, CancellationToken cancellationToken)
    {
        var db = services.GetRequiredService<DataHub.Data.DataHubDbContext>();
        var now = services.GetRequiredService<TimeProvider>().GetUtcNow();
        var row = await db.VersionTags.FirstOrDefaultAsync(t => t.DatasetId == datasetId && t.Name == tag, cancellationToken);
        if (row is null) db.VersionTags.Add(new DataHub.Data.VersionTag { DatasetId = datasetId, Name = tag, VersionId = versionId, CreatedBy = authorId, CreatedAt = now });
        else
        {
            row.VersionId = versionId;
            row.CreatedBy = authorId;
            row.CreatedAt = now;
        }
        await db.SaveChangesAsync(cancellationToken);
    }

    /// <summary>The spec with each pinned input fixed to its resolved version number (its tag no longer applies).</summary>
    internal static PipelineSpec Pin(PipelineSpec spec, IReadOnlyDictionary<string, int>? pinned) =>
        pinned is null or { Count: 0 }
            ? spec
            : spec with
            {
                Inputs = spec.Inputs.ToDictionary(i => i.Key, i => pinned.TryGetValue(i.Key, out var number) ? i.Value with { Version = number, Tag = null } : i.Value, StringComparer.Ordinal),
            };

    private static async IAsyncEnumerable<Frame> Slices(Frame frame)
    {
        await Task.CompletedTask;
        foreach (var slice in FeaturePipeline.Slices(frame)) yield return slice;
    }

    private static async Task<long> CountAsync(IServiceProvider services, ResolvedInput input, CancellationToken cancellationToken)
    {
        using var reader = await services.GetRequiredService<TableCatalog>().OpenAsync(input.VersionId, input.Table, cancellationToken);
        return reader.RowCount;
    }

    internal static CubeException Failure(TransformException e) =>
        new UnprocessableException($"Step '{e.Step}' failed{(e.Row is null ? "" : $" at row {e.Row}")}: {e.Message}")
            .With("step", e.Step).With("column", e.Column).With("row", e.Row);
}
