using System.Text.Json;
using Cube.Labeling.Configs;
using Cube.Labeling.Data;
using Cube.Labeling.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.EntityFrameworkCore;

namespace Cube.Labeling.Quality;

/// <summary>A gold-accuracy line with the policy's verdict on it.</summary>
public sealed record AnnotatorQualityDto(string Annotator, int GoldTasks, double Accuracy, IReadOnlyDictionary<string, double> PerLabel, string Verdict);

/// <summary>Mean pairwise agreement of two annotators on geometric or span results: mean IoU for boxes, F1 for spans.</summary>
public sealed record PairScoreDto(string A, string B, int Items, double Score);

/// <summary>
/// A labeling project's quality: chance-corrected agreement for classification (Fleiss, Krippendorff, per label,
/// per pair and annotator), mean IoU for boxes or span F1 for entities per pair, and gold accuracy with verdicts.
/// Annotators are user ids.
/// </summary>
public sealed record QualityReportDto(
    string Kind,
    int Tasks,
    int Annotations,
    AgreementDto? Agreement,
    IReadOnlyList<PairScoreDto> PairScores,
    double? MeanPairScore,
    IReadOnlyList<AnnotatorQualityDto> Gold,
    PreLabelReportDto PreLabels,
    IReadOnlyList<AnnotatorThroughputDto> Annotators);

/// <summary>
/// One annotator's throughput: annotations submitted (whatever a reviewer later decided) and skipped, the median time
/// spent on a submitted one, the last submission, and submissions per UTC day over the last <see cref="ProjectQuality.ThroughputDays"/>
/// days, oldest first and with empty days included.
/// </summary>
public sealed record AnnotatorThroughputDto(string Annotator, int Submitted, int Skipped, long? MedianMsPerTask, DateTimeOffset? LastSubmittedAt,
    IReadOnlyList<DaySubmissionsDto> PerDay);

/// <summary>Submissions on one UTC day, <c>yyyy-MM-dd</c>.</summary>
public sealed record DaySubmissionsDto(string Day, int Submitted);

/// <summary>
/// How pre-labels fare: of the finished annotations on tasks that showed a prediction, how many the annotator
/// submitted unchanged (the same label or label set, the same boxes at IoU ≥ 0.9 both ways, or exactly the same
/// spans), overall and per model; and the median time per task with and without a pre-label, so a team sees whether
/// the model saves time.
/// </summary>
public sealed record PreLabelReportDto(int Annotations, int Accepted, double? AcceptanceRate, long? MedianMsWithPreLabel, long? MedianMsWithout,
    int AnnotationsWithout, IReadOnlyList<PreLabelModelDto> Models);

public sealed record PreLabelModelDto(string Model, string? ModelVersion, int Annotations, int Accepted, double AcceptanceRate);

/// <summary>Agreement as the API gives it: a statistic that is undefined (no item rated twice yet) is null, never NaN.</summary>
public sealed record AgreementDto(
    int Items,
    int Ratings,
    double? FleissKappa,
    double? KrippendorffAlpha,
    IReadOnlyDictionary<string, double?> FleissKappaPerLabel,
    IReadOnlyList<PairAgreementDto> Pairs,
    IReadOnlyDictionary<string, double?> MeanPairKappaPerAnnotator)
{
    public static AgreementDto From(AgreementReport report) => new(report.Items, report.Ratings, Defined(report.FleissKappa), Defined(report.KrippendorffAlpha),
        report.FleissKappaPerLabel.ToDictionary(p => p.Key, p => Defined(p.Value), StringComparer.Ordinal),
        [.. report.Pairs.Select(p => new PairAgreementDto(p.A, p.B, p.Items, Defined(p.ObservedAgreement), Defined(p.Kappa)))],
        report.MeanPairKappaPerAnnotator.ToDictionary(p => p.Key, p => Defined(p.Value), StringComparer.Ordinal));

    /// <summary>JSON has no NaN or infinity: an undefined statistic is sent as null.</summary>
    private static double? Defined(double value) => double.IsFinite(value) ? value : null;
}

public sealed record PairAgreementDto(string A, string B, int Items, double? ObservedAgreement, double? Kappa);

/// <summary>One consensus result per task: the label (classification), boxes or spans, with confidence.</summary>
public sealed record TaskConsensusDto(Guid TaskId, int Annotations, string? Label, double Confidence, IReadOnlyDictionary<string, double>? Distribution,
    IReadOnlyList<ConsensusBox>? Boxes, IReadOnlyList<ConsensusSpan>? Spans);

/// <summary>Loads a project's finished annotations and runs the Quality library over them.</summary>
public sealed class ProjectQuality(LabelingDbContext db, [FromKeyedServices(LabelingClock.Key)] TimeProvider time)
{
    /// <summary>How many days, today included, the per-day throughput covers.</summary>
    public const int ThroughputDays = 14;

    /// <summary>A counted annotation: <c>Result</c> is what counts (a reviewer's correction when there is one), <c>Own</c>
    /// the annotator's own submission.</summary>
    private sealed record Finished(Guid TaskId, string Annotator, JsonElement Result, string? Own, long TimeSpentMs);

    /// <summary>
    /// Annotations that count, read through the exports' task-page reader so both see the same set: submitted or
    /// accepted (a rejected one is neither), a corrected one with the reviewer's result. Multi-label classification
    /// answers count as one nominal category (the sorted label set).
    /// </summary>
    private async Task<List<Finished>> FinishedAsync(LabelingProject project, CancellationToken cancellationToken)
    {
        var finished = new List<Finished>();
        await foreach (var page in Formats.ResultExport.ReadAsync(db, project, cancellationToken))
            foreach (var annotation in page.Annotations)
                if (page.Result(annotation) is { } result)
                    finished.Add(new Finished(page.Task.Id, annotation.AnnotatorId.ToString(), JsonDocument.Parse(result).RootElement.Clone(),
                        annotation.ResultJson, annotation.TimeSpentMs));
        return finished;
    }

    public async Task<QualityReportDto> ReportAsync(LabelingProject project, LabelConfig config, QualityPolicy policy, double iouThreshold, SpanMatch spanMatch,
        CancellationToken cancellationToken)
    {
        var finished = await FinishedAsync(project, cancellationToken);
        var tasks = finished.Select(f => f.TaskId).Distinct().Count();
        AgreementDto? agreement = null;
        var pairScores = new List<PairScoreDto>();
        if (config.IsClassification)
            agreement = AgreementDto.From(Agreement.Report(finished.Select(f => new CrowdAnswer(f.TaskId.ToString(), f.Annotator, ClassLabel(f.Result)))));
        else if (config.Kind is LabelingKind.BoundingBoxes or LabelingKind.NamedEntities)
            pairScores = PairScores(finished, config.Kind == LabelingKind.BoundingBoxes
                ? (a, b) => BoxConsensus.MeanIoU(Boxes(a), Boxes(b))
                : (a, b) => SpanConsensus.F1(Spans(a), Spans(b), spanMatch));

        // Gold: every finished annotation of a gold task, scored by the task kind.
        var gold = await db.Tasks.AsNoTracking().Where(t => t.LabelingProjectId == project.Id && t.IsGold && t.GoldAnswerJson != null)
            .Select(t => new { t.Id, t.GoldAnswerJson }).ToDictionaryAsync(t => t.Id, t => JsonDocument.Parse(t.GoldAnswerJson!).RootElement.Clone(), cancellationToken);
        var scores = finished.Where(f => gold.ContainsKey(f.TaskId))
            .SelectMany(f => GoldScores(config, f.Annotator, gold[f.TaskId], f.Result, iouThreshold, spanMatch).Select(s => (f.TaskId.ToString(), s)));
        var accuracy = GoldAccuracy.Summarise(scores)
            .Select(a => new AnnotatorQualityDto(a.Annotator, a.GoldTasks, a.Accuracy, a.PerLabel, policy.Judge(a).ToString().ToLowerInvariant()))
            .ToList();

        return new QualityReportDto(config.Kind.ToString(), tasks, finished.Count, agreement, pairScores,
            pairScores.Count == 0 ? null : pairScores.Average(p => p.Score), accuracy,
            await PreLabelsAsync(project, config, finished, cancellationToken), await ThroughputAsync(project, cancellationToken));
    }

    /// <summary>
    /// Per-annotator throughput from every submitted or skipped annotation (a submitted one stays counted once a reviewer
    /// accepts or rejects it; drafts are not counted), ordered by most submitted.
    /// </summary>
    private async Task<List<AnnotatorThroughputDto>> ThroughputAsync(LabelingProject project, CancellationToken cancellationToken)
    {
        var rows = await db.Annotations.AsNoTracking()
            .Where(a => a.LabelingProjectId == project.Id && a.Status != AnnotationStatus.Draft)
            .Select(a => new { a.AnnotatorId, a.Status, a.TimeSpentMs, a.SubmittedAt }).ToListAsync(cancellationToken);
        var today = DateOnly.FromDateTime(time.GetUtcNow().UtcDateTime);
        var days = Enumerable.Range(0, ThroughputDays).Select(i => today.AddDays(i - ThroughputDays + 1)).ToList();
        return [.. rows.GroupBy(r => r.AnnotatorId).Select(g =>
        {
            var submitted = g.Where(r => r.Status != AnnotationStatus.Skipped).ToList();
            var perDay = submitted.Where(r => r.SubmittedAt is not null)
                .GroupBy(r => DateOnly.FromDateTime(r.SubmittedAt!.Value.UtcDateTime)).ToDictionary(d => d.Key, d => d.Count());
            return new AnnotatorThroughputDto(g.Key.ToString(), submitted.Count, g.Count(r => r.Status == AnnotationStatus.Skipped),
                Median(submitted.Select(r => r.TimeSpentMs)), submitted.Max(r => r.SubmittedAt),
                [.. days.Select(d => new DaySubmissionsDto(d.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture), perDay.GetValueOrDefault(d)))]);
        })
        .OrderByDescending(a => a.Submitted).ThenBy(a => a.Annotator, StringComparer.Ordinal)];
    }

    /// <summary>A pre-labelled box counts as kept when the submitted one overlaps it this much (a nudge is an edit).</summary>
    private const double KeptBoxIoU = 0.9;

    private async Task<PreLabelReportDto> PreLabelsAsync(LabelingProject project, LabelConfig config, List<Finished> finished, CancellationToken cancellationToken)
    {
        // The pre-label an annotator saw is the task's latest prediction (the one served first).
        var latest = (await db.Predictions.AsNoTracking().Where(p => p.LabelingProjectId == project.Id)
                .Select(p => new { p.TaskId, p.Model, p.ModelVersion, p.ResultJson, p.CreatedAt, p.Id }).ToListAsync(cancellationToken))
            .GroupBy(p => p.TaskId)
            .ToDictionary(g => g.Key, g => g.OrderByDescending(p => p.CreatedAt).ThenByDescending(p => p.Id).First());
        var with = new List<(string Model, string? Version, bool Accepted, long Ms)>();
        var without = new List<long>();
        foreach (var f in finished)
        {
            if (!latest.TryGetValue(f.TaskId, out var prediction))
            {
                without.Add(f.TimeSpentMs);
                continue;
            }
            var accepted = false;
            if (f.Own is not null)
            {
                using var own = JsonDocument.Parse(f.Own);
                using var predicted = JsonDocument.Parse(prediction.ResultJson);
                accepted = Same(config, predicted.RootElement, own.RootElement, KeptBoxIoU);
            }
            with.Add((prediction.Model, prediction.ModelVersion, accepted, f.TimeSpentMs));
        }
        var models = with.GroupBy(w => (w.Model, w.Version))
            .Select(g => new PreLabelModelDto(g.Key.Model, g.Key.Version, g.Count(), g.Count(w => w.Accepted), (double)g.Count(w => w.Accepted) / g.Count()))
            .OrderByDescending(m => m.Annotations).ThenBy(m => m.Model, StringComparer.Ordinal).ToList();
        return new PreLabelReportDto(with.Count, with.Count(w => w.Accepted), with.Count == 0 ? null : (double)with.Count(w => w.Accepted) / with.Count,
            Median(with.Select(w => w.Ms)), Median(without), without.Count, models);
    }

    /// <summary>An answer equals a pre-label when each scores perfectly against the other (so nothing was added or removed).</summary>
    private static bool Same(LabelConfig config, JsonElement prediction, JsonElement answer, double iouThreshold)
    {
        static bool Perfect(IEnumerable<GoldScore> scores) => scores.All(s => s.Score >= 1);
        return Perfect(GoldScores(config, "", prediction, answer, iouThreshold, SpanMatch.Exact))
            && Perfect(GoldScores(config, "", answer, prediction, iouThreshold, SpanMatch.Exact));
    }

    private static long? Median(IEnumerable<long> values)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length == 0 ? null : sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]) / 2;
    }

    public async Task<List<TaskConsensusDto>> ConsensusAsync(LabelingProject project, LabelConfig config, string method, double iouThreshold, CancellationToken cancellationToken)
    {
        var finished = await FinishedAsync(project, cancellationToken);
        var byTask = finished.GroupBy(f => f.TaskId).ToDictionary(g => g.Key, g => g.ToList());
        if (config.IsClassification)
        {
            var answers = finished.Select(f => new CrowdAnswer(f.TaskId.ToString(), f.Annotator, ClassLabel(f.Result))).ToList();
            var labels = method == "ds" ? ClassificationConsensus.DawidSkene(answers) : ClassificationConsensus.MajorityVote(answers);
            return [.. labels.Select(l => new TaskConsensusDto(Guid.Parse(l.Item), byTask[Guid.Parse(l.Item)].Count, l.Label, l.Confidence, l.Distribution, null, null))
                .OrderBy(c => c.TaskId)];
        }
        return config.Kind switch
        {
            LabelingKind.BoundingBoxes => [.. byTask.OrderBy(t => t.Key).Select(t =>
            {
                var boxes = BoxesOf([.. t.Value.Select(f => (f.Annotator, f.Result))], iouThreshold);
                return new TaskConsensusDto(t.Key, t.Value.Count, null, boxes.Count == 0 ? 0 : boxes.Average(b => b.Confidence), null, boxes, null);
            })],
            LabelingKind.NamedEntities => [.. byTask.OrderBy(t => t.Key).Select(t =>
            {
                var spans = SpansOf([.. t.Value.Select(f => (f.Annotator, f.Result))]);
                return new TaskConsensusDto(t.Key, t.Value.Count, null, spans.Count == 0 ? 0 : spans.Average(s => s.Confidence), null, null, spans);
            })],
            _ => throw new Core.Errors.UnprocessableException($"Consensus is defined for classification, bounding boxes and named entities, not {config.Kind}."),
        };
    }

    /// <summary>One task's consensus boxes: the annotators' boxes clustered at the IoU threshold.</summary>
    internal static List<ConsensusBox> BoxesOf(IReadOnlyList<(string Annotator, JsonElement Result)> results, double iouThreshold) =>
        BoxConsensus.Aggregate([.. results.Select(r => new AnnotatorBoxes(r.Annotator, Boxes(r.Result)))], iouThreshold);

    /// <summary>One task's consensus spans by span voting.</summary>
    internal static List<ConsensusSpan> SpansOf(IReadOnlyList<(string Annotator, JsonElement Result)> results) =>
        SpanConsensus.Aggregate([.. results.Select(r => (r.Annotator, (IReadOnlyList<LabeledSpan>)Spans(r.Result)))]);

    /// <summary>
    /// One task's majority label set, as the project-wide majority vote picks it (ties by ordinal order of the sorted
    /// set); returned as the labels of the first result that chose it, so a label containing the separator stays whole.
    /// </summary>
    internal static List<string> LabelsOf(IReadOnlyList<(string Annotator, JsonElement Result)> results)
    {
        var winner = ClassificationConsensus.MajorityVote(results.Select(r => new CrowdAnswer("task", r.Annotator, ClassLabel(r.Result)))).Single().Label;
        return [.. Labels(results.First(r => ClassLabel(r.Result) == winner).Result).Order(StringComparer.Ordinal)];
    }

    private static List<PairScoreDto> PairScores(List<Finished> finished, Func<JsonElement, JsonElement, double> score)
    {
        var byTask = finished.GroupBy(f => f.TaskId).Select(g => g.GroupBy(f => f.Annotator).Select(a => a.First()).OrderBy(f => f.Annotator, StringComparer.Ordinal).ToList());
        var pairs = new Dictionary<(string, string), List<double>>();
        foreach (var task in byTask)
            for (var i = 0; i < task.Count; i++)
                for (var j = i + 1; j < task.Count; j++)
                {
                    var key = (task[i].Annotator, task[j].Annotator);
                    if (!pairs.TryGetValue(key, out var list)) pairs[key] = list = [];
                    list.Add(score(task[i].Result, task[j].Result));
                }
        return [.. pairs.OrderBy(p => p.Key).Select(p => new PairScoreDto(p.Key.Item1, p.Key.Item2, p.Value.Count, p.Value.Average()))];
    }

    private static IEnumerable<GoldScore> GoldScores(LabelConfig config, string annotator, JsonElement gold, JsonElement answer, double iou, SpanMatch match) =>
        config.Kind switch
        {
            _ when config.IsClassification && config.Multiple => GoldAccuracy.MultiLabel(annotator, Labels(gold), Labels(answer)),
            _ when config.IsClassification => [GoldAccuracy.Classification(annotator, ClassLabel(gold), ClassLabel(answer))],
            LabelingKind.BoundingBoxes => GoldAccuracy.Boxes(annotator, Boxes(gold), Boxes(answer), iou),
            LabelingKind.NamedEntities => GoldAccuracy.Spans(annotator, Spans(gold), Spans(answer), match),
            _ => [],
        };

    private static List<string> Labels(JsonElement result) =>
        result.TryGetProperty("labels", out var labels) && labels.ValueKind == JsonValueKind.Array
            ? [.. labels.EnumerateArray().Select(l => l.GetString() ?? "")]
            : [];

    /// <summary>One nominal category per classification answer: the label, or the sorted set for multi-label answers.</summary>
    private static string ClassLabel(JsonElement result) => string.Join('|', Labels(result).Order(StringComparer.Ordinal));

    private static List<LabeledBox> Boxes(JsonElement result) =>
        result.TryGetProperty("boxes", out var boxes) && boxes.ValueKind == JsonValueKind.Array
            ? [.. boxes.EnumerateArray().Select(b => new LabeledBox(b.GetProperty("label").GetString() ?? "",
                b.GetProperty("x").GetDouble(), b.GetProperty("y").GetDouble(), b.GetProperty("width").GetDouble(), b.GetProperty("height").GetDouble()))]
            : [];

    private static List<LabeledSpan> Spans(JsonElement result) =>
        result.TryGetProperty("spans", out var spans) && spans.ValueKind == JsonValueKind.Array
            ? [.. spans.EnumerateArray().Select(s => new LabeledSpan(s.GetProperty("label").GetString() ?? "", s.GetProperty("start").GetInt32(), s.GetProperty("end").GetInt32()))]
            : [];
}
