using System.Text.Json;
using Cube.Core.Errors;
using Cube.Core.Net;
using Cube.Core.Runs;
using Cube.Labeling.Configs;
using Cube.Labeling.Data;
using Cube.Labeling.Hosting;
using Cube.Labeling.Predictions;
using Cube.Labeling.Projects;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Cube.Labeling.Prelabel;

/// <summary>Which pre-labeler a run uses: the built-in text classifier or the project's registered model endpoint.</summary>
[System.Text.Json.Serialization.JsonConverter(typeof(System.Text.Json.Serialization.JsonStringEnumConverter<PrelabelSource>))]
public enum PrelabelSource
{
    Builtin,
    Endpoint,
}

public sealed record PrelabelParameters(Guid LabelingProjectId, PrelabelSource Source);

/// <summary>
/// What a pre-label run did. <c>HeldOutAccuracy</c> is measured on tasks kept out of training (null when there are too
/// few labels); <c>Invalid</c> counts endpoint predictions that failed validation and were not stored, with the first
/// reasons in <c>InvalidSamples</c>.
/// </summary>
public sealed record PrelabelResult(
    string Source, string Model, string? ModelVersion, int TrainingLabels, IReadOnlyList<string> Classes, int HeldOut, double? HeldOutAccuracy,
    int Tasks, int Stored, int Invalid, IReadOnlyList<string> InvalidSamples);

/// <summary>
/// Pre-labels the tasks that have no completed annotation (gold tasks excepted), a page at a time, replacing the model's
/// earlier predictions on each page (<see cref="PredictionStore.ReplaceAsync"/>), so the uncertainty ordering serves the
/// least certain of them first.
/// </summary>
public sealed class Prelabeler(LabelingDbContext db, PredictionStore store, IOptions<LabelingOptions> options, [FromKeyedServices(LabelingClock.Key)] TimeProvider time,
    IDataProtectionProvider protection)
{
    /// <summary>The model name of the built-in text classifier's predictions.</summary>
    public const string BuiltinModel = "cube-text";
    private const int ScoringPage = 1_000;
    private const int MaxInvalidSamples = 20;

    /// <summary>Refuses, with 422, a project the built-in pre-labeler cannot train on: not text classification, or fewer than two labelled classes.</summary>
    public static void RequireTrainable(LabelConfig config, IReadOnlyList<LabeledText> labels)
    {
        if (config.Kind != LabelingKind.TextClassification)
            throw new UnprocessableException($"The built-in pre-labeler handles text classification; this project labels {config.Kind}.");
        var classes = labels.SelectMany(l => l.Labels).Distinct(StringComparer.Ordinal).Count();
        if (classes < 2)
            throw new UnprocessableException($"Training needs accepted labels of at least 2 classes; this project has {labels.Count} labelled tasks in {classes} class{(classes == 1 ? "" : "es")}.")
                .With("labeledTasks", labels.Count).With("classes", classes);
    }

    public static NetworkGuard Guard(ModelEndpointOptions options) =>
        new(options, "Pre-labeling through", ModelEndpointOptions.SectionName);

    public async Task<PrelabelResult> RunAsync(PrelabelParameters parameters, RunContext context, CancellationToken cancellationToken)
    {
        var project = await db.Projects.AsNoTracking().FirstOrDefaultAsync(p => p.Id == parameters.LabelingProjectId, cancellationToken)
            ?? throw new NotFoundException("Labeling project", parameters.LabelingProjectId.ToString());
        return parameters.Source == PrelabelSource.Builtin ? await BuiltinAsync(project, context, cancellationToken) : await EndpointAsync(project, context, cancellationToken);
    }

    private async Task<PrelabelResult> BuiltinAsync(LabelingProject project, RunContext context, CancellationToken cancellationToken)
    {
        await context.ReportAsync(1, "Reading the accepted labels");
        var labels = await TrainingLabels.LoadAsync(db, project, cancellationToken);
        RequireTrainable(LabelingProjects.Config(project), labels);
        await context.ReportAsync(5, $"Training on {labels.Count} labelled tasks");
        var (heldOut, accuracy) = TextClassifier.HeldOutAccuracy(labels);
        var classifier = TextClassifier.Train(labels);
        var version = $"{labels.Count}-{time.GetUtcNow():yyyyMMdd'T'HHmmss'Z'}";
        var total = await Unlabeled(project.Id).CountAsync(cancellationToken);
        var done = 0;
        await foreach (var page in PagesAsync(project.Id, ScoringPage, cancellationToken))
        {
            var withText = page.Select(t => (Task: t, LabelingProjects.Subject(t).Text)).Where(x => !string.IsNullOrEmpty(x.Text)).ToList();
            var scores = classifier.Predict([.. withText.Select(x => x.Text!)]);
            var rows = withText.Zip(scores).Select(x => new Prediction
            {
                LabelingProjectId = project.Id, TaskId = x.First.Task.Id, Model = BuiltinModel, ModelVersion = version, Score = x.Second[0].Probability,
                ResultJson = JsonSerializer.Serialize(new { labels = new[] { x.Second[0].Label } }),
            }).ToList();
            await store.ReplaceAsync(project.Id, BuiltinModel, [.. page.Select(t => t.Id)], rows, cancellationToken);
            done += page.Count;
            await context.ReportAsync(30 + 69.0 * done / Math.Max(1, total), $"Scoring {done}/{total}");
        }
        return new PrelabelResult("builtin", BuiltinModel, version, labels.Count, classifier.Classes, heldOut, accuracy, done, done, 0, []);
    }

    private async Task<PrelabelResult> EndpointAsync(LabelingProject project, RunContext context, CancellationToken cancellationToken)
    {
        var endpoint = await db.ModelEndpoints.AsNoTracking().FirstOrDefaultAsync(e => e.LabelingProjectId == project.Id, cancellationToken)
            ?? throw new UnprocessableException("This labeling project has no model endpoint registered; register one first (PUT .../prelabel/endpoint).");
        var config = LabelingProjects.Config(project);
        var token = endpoint.Token is null ? null : protection.CreateProtector(ModelEndpointClient.TokenPurpose).Unprotect(endpoint.Token);
        using var client = new ModelEndpointClient(endpoint, Guard(options.Value.ModelEndpoints), token);
        var total = await Unlabeled(project.Id).CountAsync(cancellationToken);
        await context.ReportAsync(1, $"Sending {total} tasks to the model endpoint");
        int done = 0, stored = 0, invalid = 0;
        var samples = new List<string>();
        string model = endpoint.Model;
        string? version = null;
        void Invalid(string problem)
        {
            invalid++;
            if (samples.Count < MaxInvalidSamples) samples.Add(problem);
        }
        await foreach (var page in PagesAsync(project.Id, endpoint.BatchSize, cancellationToken))
        {
            var answer = await client.PredictAsync(page, cancellationToken);
            model = answer.Model ?? endpoint.Model;
            version = answer.Version;
            var byId = page.ToDictionary(t => t.Id);
            var rows = new List<Prediction>();
            foreach (var p in answer.Predictions)
            {
                var at = p.TaskId is { } id ? $"task {id}" : "a prediction";
                if (p.Problem is not null) Invalid($"{at}: {p.Problem}");
                else if (!byId.TryGetValue(p.TaskId!.Value, out var task)) Invalid($"{at}: the task was not in the batch sent.");
                else
                {
                    try
                    {
                        AnnotationValidator.Validate(config, p.Result!.Value, LabelingProjects.Subject(task));
                        rows.Add(new Prediction
                        {
                            LabelingProjectId = project.Id, TaskId = task.Id, Model = model, ModelVersion = version, Score = p.Score, ResultJson = p.Result.Value.GetRawText(),
                        });
                    }
                    catch (ValidationException e)
                    {
                        Invalid($"{at}: {string.Join(" ", e.Errors.Select(x => $"{x.Key}: {string.Join(" ", x.Value)}"))}");
                    }
                }
            }
            await store.ReplaceAsync(project.Id, model, [.. page.Select(t => t.Id)], rows, cancellationToken);
            stored += rows.Count;
            done += page.Count;
            await context.ReportAsync(99.0 * done / Math.Max(1, total), $"Pre-labelled {done}/{total}");
        }
        return new PrelabelResult("endpoint", model, version, 0, [], 0, null, done, stored, invalid, samples);
    }

    private IQueryable<LabelingTask> Unlabeled(Guid labelingId) =>
        db.Tasks.AsNoTracking().Where(t => t.LabelingProjectId == labelingId && !t.IsGold && t.Completed == 0);

    /// <summary>The unlabelled tasks in insertion order, a page at a time (keyset paging, so writes between pages do not shift it).</summary>
    private async IAsyncEnumerable<List<LabelingTask>> PagesAsync(Guid labelingId, int size, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        long after = -1;
        while (true)
        {
            var page = await Unlabeled(labelingId).Where(t => t.Ordinal > after).OrderBy(t => t.Ordinal).Take(size).ToListAsync(cancellationToken);
            if (page.Count == 0) yield break;
            yield return page;
            after = page[^1].Ordinal;
        }
    }
}

/// <summary>
/// The run kind behind pre-labeling. Idempotent: a repeated run replaces the same model's predictions on the same
/// tasks, so re-queuing it after a crash gives the same outcome.
/// </summary>
public sealed class PrelabelHandler : IRunHandler
{
    public const string RunKind = "labeling.prelabel";

    public string Kind => RunKind;
    public bool Idempotent => true;

    public async Task<object?> ExecuteAsync(RunContext context, CancellationToken cancellationToken) =>
        await context.Services.GetRequiredService<Prelabeler>().RunAsync(context.GetParameters<PrelabelParameters>(), context, cancellationToken);
}
