using System.Diagnostics;
using System.Text.Json.Nodes;
using Cube.Core.Errors;
using Cube.DataHub.Catalog;
using Cube.DataHub.Tables;
using Cube.Features.Data;
using Cube.Features.Engine;
using Microsoft.EntityFrameworkCore;

namespace Cube.Features.Pipelines;

/// <summary>A pipeline input resolved to a DataHub table version.</summary>
public sealed record ResolvedInput(string Name, Guid DatasetId, Guid VersionId, int VersionNumber, string Table, FrameSchema Schema);

public sealed record StepReport(string Name, string Op, string Input, IReadOnlyList<FieldDef>? Schema, long Rows, double Milliseconds, IReadOnlyList<JsonObject> FirstRows);

/// <summary>A pipeline input as a preview read it: the resolved version, its schema and how many rows the sample took.</summary>
public sealed record InputReport(string Name, string Dataset, int Version, string Table, IReadOnlyList<FieldDef> Schema, long Rows);

public sealed record PreviewReport(IReadOnlyList<InputReport> Inputs, IReadOnlyList<StepReport> Steps, IReadOnlyList<string> Deferred, double Milliseconds);

/// <summary>Resolves pipeline inputs against DataHub, stores versioned specs, and compiles, previews and fits pipelines.</summary>
public sealed class PipelineService(FeaturesDbContext db, DatasetResolver resolver, TableCatalog tables, TimeProvider time)
{
    /// <summary>
    /// The values a spec's placeholders take for a run at <paramref name="logicalDate"/> (now when null): the logical
    /// date in UTC unless <paramref name="ds"/> names one, and the declared defaults with <paramref name="parameters"/> applied.
    /// </summary>
    public RunValues Values(PipelineSpec spec, string? ds = null, IReadOnlyDictionary<string, string>? parameters = null, DateTimeOffset? logicalDate = null)
    {
        var ts = logicalDate ?? (ds is not null && DateOnly.TryParseExact(ds, "yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.None, out var day)
            ? new DateTimeOffset(day.ToDateTime(TimeOnly.MinValue), TimeSpan.Zero)
            : WholeSeconds(time.GetUtcNow()));
        return SpecTemplate.Values(spec, ds, ts, parameters);
    }

    private static DateTimeOffset WholeSeconds(DateTimeOffset t) => new(t.UtcTicks - t.UtcTicks % TimeSpan.TicksPerSecond, TimeSpan.Zero);

    /// <summary>
    /// Resolves every input to a table version. With <paramref name="latestForTemplated"/> (validating a spec, not
    /// running it), an input whose version or tag came from a placeholder and names no version yet is read at its latest
    /// version for its schema: a tag such as <c>{{ds}}</c> exists only once that date's data is committed.
    /// </summary>
    public async Task<IReadOnlyDictionary<string, ResolvedInput>> ResolveInputsAsync(Guid projectId, PipelineSpec spec, CancellationToken cancellationToken,
        bool latestForTemplated = false)
    {
        var errors = new List<PipelineError>();
        var result = new Dictionary<string, ResolvedInput>(StringComparer.Ordinal);
        foreach (var (name, input) in spec.Inputs)
        {
            if (input.Dataset is null || input.Table is null)
            {
                errors.Add(new PipelineError(null, $"inputs.{name}", "An input needs 'dataset' and 'table' (and optionally 'version' or 'tag')."));
                continue;
            }
            try
            {
                var dataset = await resolver.DatasetAsync(projectId, input.Dataset, cancellationToken);
                var reference = input.Version?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? input.Tag ?? "latest";
                DataHub.Data.DatasetVersion version;
                try
                {
                    version = await resolver.VersionAsync(dataset, reference, cancellationToken);
                }
                catch (NotFoundException) when (latestForTemplated && input.Templated)
                {
                    version = await resolver.VersionAsync(dataset, "latest", cancellationToken);
                }
                using var reader = await tables.OpenAsync(version.Id, input.Table, cancellationToken);
                var unsupported = new List<string>();
                var schema = ArrowFrames.SchemaOf(reader.Schema, unsupported);
                result[name] = new ResolvedInput(name, dataset.Id, version.Id, version.Number, input.Table, schema);
            }
            catch (NotFoundException e)
            {
                errors.Add(new PipelineError(null, $"inputs.{name}", e.Message));
            }
        }
        if (errors.Count > 0) throw new PipelineValidationException(errors);
        return result;
    }

    /// <summary>Resolves the inputs of a rendered spec and compiles it (see <see cref="ResolveInputsAsync"/> for <paramref name="latestForTemplated"/>).</summary>
    public async Task<(FeaturePipeline Pipeline, IReadOnlyDictionary<string, ResolvedInput> Inputs)> CompileAsync(Guid projectId, PipelineSpec spec, CancellationToken cancellationToken,
        bool latestForTemplated = false)
    {
        if (spec.IsTemplated) throw new InvalidOperationException("Render the spec's placeholders before compiling it.");
        var inputs = await ResolveInputsAsync(projectId, spec, cancellationToken, latestForTemplated);
        return (FeaturePipeline.Compile(spec, inputs.ToDictionary(i => i.Key, i => i.Value.Schema)), inputs);
    }

    /// <summary>
    /// An input's batches as frames (all columns the engine supports, optionally only the first rows), decoded and
    /// converted ahead of the caller on another thread. Text comes as dictionary codes, the form Parquet stores it in.
    /// </summary>
    public IAsyncEnumerable<Frame> ReadAsync(ResolvedInput input, long? limit, CancellationToken cancellationToken, IReadOnlyList<string>? columns = null) =>
        ReadAhead.Of(Frames(input, limit, columns, cancellationToken), cancellationToken: cancellationToken);

    private async IAsyncEnumerable<Frame> Frames(ResolvedInput input, long? limit, IReadOnlyList<string>? columns,
        [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var schema = columns is null ? input.Schema : input.Schema.Select(columns);
        await foreach (var batch in tables.ReadAsync(input.VersionId, input.Table, schema.Names.ToList(), limit, cancellationToken, dictionaryStrings: true))
            using (batch)
                yield return ArrowFrames.ToFrame(batch, schema);
    }

    /// <summary>Fits on the first <paramref name="limit"/> rows and runs every step on them, reporting each step's schema, rows, time and first rows.</summary>
    public async Task<PreviewReport> PreviewAsync(Guid projectId, PipelineSpec spec, int limit, int show, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        var (pipeline, inputs) = await CompileAsync(projectId, spec, cancellationToken);
        using (pipeline)
        {
            var samples = new Dictionary<string, Frame>(StringComparer.Ordinal);
            foreach (var (name, input) in inputs)
            {
                var frames = new List<Frame>();
                await foreach (var frame in ReadAsync(input, limit, cancellationToken)) frames.Add(frame);
                samples[name] = frames.Count == 0 ? Frame.Empty(input.Schema) : Frame.Concat(input.Schema, frames);
            }
            await pipeline.FitAsync((name, _) => One(samples[name]), null, cancellationToken);
            var stats = new Dictionary<string, StepStats>(StringComparer.Ordinal);
            var outputs = new Dictionary<string, Frame>(StringComparer.Ordinal);
            foreach (var (name, sample) in samples)
                foreach (var (step, frame) in pipeline.TransformAll(name, sample, stats)) outputs[step] = frame;
            foreach (var (name, reduced) in pipeline.Reduced)
                foreach (var (step, frame) in pipeline.TransformAll(name, reduced, stats)) outputs[step] = frame;
            var steps = pipeline.Order.Select(s => new StepReport(s.Name, s.Spec.Op, s.Input, s.OutputSchema?.Fields,
                stats.GetValueOrDefault(s.Name)?.Rows ?? 0, stats.GetValueOrDefault(s.Name)?.Elapsed.TotalMilliseconds ?? 0,
                outputs.TryGetValue(s.Name, out var f) ? RowJson.ToRows(f, show) : [])).ToList();
            var inputReports = inputs.Values.Select(i => new InputReport(i.Name, spec.Inputs[i.Name].Dataset!, i.VersionNumber, i.Table, i.Schema.Fields, samples[i.Name].RowCount)).ToList();
            return new PreviewReport(inputReports, steps, pipeline.Deferred, clock.Elapsed.TotalMilliseconds);
        }
    }

    private static async IAsyncEnumerable<Frame> One(Frame frame)
    {
        await Task.CompletedTask;
        yield return frame;
    }

    public async Task<FeaturePipelineEntity> FindAsync(Guid projectId, string name, CancellationToken cancellationToken) =>
        await db.Pipelines.FirstOrDefaultAsync(p => p.ProjectId == projectId && p.Name == name, cancellationToken)
            ?? throw new NotFoundException("Pipeline", name);

    public async Task<PipelineVersion> LatestVersionAsync(FeaturePipelineEntity pipeline, CancellationToken cancellationToken) =>
        await db.PipelineVersions.AsNoTracking().FirstAsync(v => v.PipelineId == pipeline.Id && v.Number == pipeline.LatestVersion, cancellationToken);

    /// <summary>
    /// Validates the spec against the project's data (its placeholders filled with today's date and the parameters'
    /// defaults), then stores it, placeholders and all, as the pipeline's next version.
    /// </summary>
    public async Task<(FeaturePipelineEntity Pipeline, PipelineVersion Version)> SaveAsync(Guid projectId, string name, PipelineSpec spec, Guid authorId, bool create, CancellationToken cancellationToken)
    {
        var (compiled, _) = await CompileAsync(projectId, SpecTemplate.Render(spec, Values(spec)), cancellationToken, latestForTemplated: true);
        compiled.Dispose();
        var now = time.GetUtcNow();
        var pipeline = await db.Pipelines.FirstOrDefaultAsync(p => p.ProjectId == projectId && p.Name == name, cancellationToken);
        if (create && pipeline is not null) throw new ConflictException($"Pipeline '{name}' already exists.");
        if (!create && pipeline is null) throw new NotFoundException("Pipeline", name);
        if (pipeline is null)
        {
            pipeline = new FeaturePipelineEntity { ProjectId = projectId, Name = name, CreatedAt = now };
            db.Pipelines.Add(pipeline);
        }
        pipeline.LatestVersion++;
        pipeline.UpdatedAt = now;
        pipeline.RowVersion++;
        var version = new PipelineVersion { PipelineId = pipeline.Id, Number = pipeline.LatestVersion, SpecJson = spec.ToJson().ToJsonString(), AuthorId = authorId, CreatedAt = now };
        db.PipelineVersions.Add(version);
        try
        {
            await db.SaveChangesAsync(cancellationToken);
        }
        catch (DbUpdateException)
        {
            throw new ConflictException($"Pipeline '{name}' was changed concurrently; retry.");
        }
        return (pipeline, version);
    }

    /// <summary>The most recent fitted state of a pipeline, with the spec version it was fitted for.</summary>
    public async Task<(FittedStateEntity State, PipelineVersion Version)> LatestStateAsync(FeaturePipelineEntity pipeline, CancellationToken cancellationToken)
    {
        var state = await db.FittedStates.AsNoTracking().Where(s => s.PipelineId == pipeline.Id).OrderByDescending(s => s.CreatedAt).FirstOrDefaultAsync(cancellationToken)
            ?? throw new ConflictException($"Pipeline '{pipeline.Name}' has not been fitted yet; run it first.");
        var version = await db.PipelineVersions.AsNoTracking().FirstAsync(v => v.Id == state.PipelineVersionId, cancellationToken);
        return (state, version);
    }
}
