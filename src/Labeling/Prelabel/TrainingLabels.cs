using System.Linq.Expressions;
using System.Text.Json;
using Cube.Labeling.Data;
using Cube.Labeling.Projects;
using Microsoft.EntityFrameworkCore;

namespace Cube.Labeling.Prelabel;

/// <summary>A task's text with the labels its annotators settled on.</summary>
public sealed record LabeledText(Guid TaskId, string Text, IReadOnlyList<string> Labels);

/// <summary>
/// The labels the built-in pre-labeler learns from. An annotation counts once it stands: accepted (or corrected) by a
/// reviewer, or submitted and not sampled for review. Submissions waiting for review, rejected ones, drafts and skips do
/// not. A task's label is the majority of its standing annotations (single-label: the most chosen label, ties to the
/// first in configuration order; multi-label: every label at least half of them chose). A gold task's answer is a label too.
/// </summary>
public static class TrainingLabels
{
    private const int PageSize = 2_000;

    /// <summary>Whether an annotation stands: one rule for the database's queries and for annotations in memory.</summary>
    private static readonly Expression<Func<Annotation, bool>> StandsRule =
        a => a.Status == AnnotationStatus.Accepted || (a.Status == AnnotationStatus.Submitted && a.ReviewState == ReviewState.NotSampled);

    private static readonly Func<Annotation, bool> StandsNow = StandsRule.Compile();

    public static IQueryable<Annotation> Standing(LabelingDbContext db, Guid labelingId) =>
        db.Annotations.Where(a => a.LabelingProjectId == labelingId).Where(StandsRule);

    /// <summary>Whether <paramref name="annotation"/>, as it is now in memory, is one of <see cref="Standing"/>.</summary>
    public static bool Stands(Annotation? annotation) => annotation is not null && StandsNow(annotation);

    /// <summary>
    /// Moves <see cref="LabelingProject.TrainingLabelCount"/> for a change that turned an annotation which
    /// <paramref name="stood"/> (or not) into <paramref name="annotation"/>, inside the caller's transaction, so the count
    /// commits or rolls back with the change it counts. Nothing for projects without automatic pre-labeling (the
    /// database's value decides; the caller's copy only saves the statement). Run it last before the commit: it holds the
    /// project row until then.
    /// </summary>
    public static async Task CountAsync(LabelingDbContext db, LabelingProject project, bool stood, Annotation annotation, CancellationToken cancellationToken)
    {
        var change = (Stands(annotation) ? 1 : 0) - (stood ? 1 : 0);
        if (change == 0 || project.AutoPrelabelEvery is null) return;
        await db.Projects.Where(p => p.Id == project.Id && p.AutoPrelabelEvery != null)
            .ExecuteUpdateAsync(s => s.SetProperty(p => p.TrainingLabelCount, p => p.TrainingLabelCount + change), cancellationToken);
    }

    /// <summary>
    /// For a change that gives a task a gold answer, inside its transaction: a gold answer is a training label that
    /// arrives without a submit and may be the second class automatic pre-labeling waits for, so the next label checks
    /// the classes again.
    /// </summary>
    public static Task ForgetSoleClassAsync(LabelingDbContext db, Guid labelingId, CancellationToken cancellationToken) =>
        db.Projects.Where(p => p.Id == labelingId && p.PrelabelSoleClass != null)
            .ExecuteUpdateAsync(s => s.SetProperty(p => p.PrelabelSoleClass, (string?)null), cancellationToken);

    public static async Task<List<LabeledText>> LoadAsync(LabelingDbContext db, LabelingProject project, CancellationToken cancellationToken)
    {
        var config = LabelingProjects.Config(project);
        var order = config.Labels.Select((l, i) => (l.Name, i)).ToDictionary(x => x.Name, x => x.i, StringComparer.Ordinal);
        var labeled = new List<LabeledText>();
        long after = -1;
        while (true)
        {
            var tasks = await db.Tasks.AsNoTracking()
                .Where(t => t.LabelingProjectId == project.Id && t.Ordinal > after && (t.Completed > 0 || t.GoldAnswerJson != null))
                .OrderBy(t => t.Ordinal).Take(PageSize).ToListAsync(cancellationToken);
            if (tasks.Count == 0) return labeled;
            var ids = tasks.Select(t => t.Id).ToList();
            var votes = (await Standing(db, project.Id).AsNoTracking().Where(a => ids.Contains(a.TaskId)).Select(a => new { a.TaskId, a.ResultJson }).ToListAsync(cancellationToken))
                .GroupBy(a => a.TaskId).ToDictionary(g => g.Key, g => g.Select(a => Labels(a.ResultJson)).ToList());
            foreach (var task in tasks)
            {
                if (LabelingProjects.Subject(task).Text is not { Length: > 0 } text) continue;
                List<string> chosen;
                if (task.GoldAnswerJson is not null) chosen = Labels(task.GoldAnswerJson);
                else if (votes.TryGetValue(task.Id, out var answers)) chosen = Majority(answers, config.Multiple, order);
                else continue;
                chosen = chosen.Where(order.ContainsKey).ToList();
                if (chosen.Count > 0) labeled.Add(new LabeledText(task.Id, text, chosen));
            }
            after = tasks[^1].Ordinal;
        }
    }

    internal static List<string> Majority(List<List<string>> answers, bool multiple, IReadOnlyDictionary<string, int> order)
    {
        var counts = answers.SelectMany(a => a.Distinct(StringComparer.Ordinal)).GroupBy(l => l, StringComparer.Ordinal)
            .Select(g => (Label: g.Key, Votes: g.Count())).OrderByDescending(x => x.Votes).ThenBy(x => order.GetValueOrDefault(x.Label, int.MaxValue)).ToList();
        if (counts.Count == 0) return [];
        return multiple ? [.. counts.Where(c => 2 * c.Votes >= answers.Count).Select(c => c.Label)] : [counts[0].Label];
    }

    /// <summary>The labels a classification result names.</summary>
    public static List<string> Labels(string? resultJson)
    {
        if (resultJson is null) return [];
        using var document = JsonDocument.Parse(resultJson);
        return document.RootElement.ValueKind == JsonValueKind.Object && document.RootElement.TryGetProperty("labels", out var labels) && labels.ValueKind == JsonValueKind.Array
            ? [.. labels.EnumerateArray().Where(l => l.ValueKind == JsonValueKind.String).Select(l => l.GetString()!)]
            : [];
    }
}
