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

    public static IQueryable<Annotation> Standing(LabelingDbContext db, Guid labelingId) =>
        db.Annotations.Where(a => a.LabelingProjectId == labelingId
            && (a.Status == AnnotationStatus.Accepted || (a.Status == AnnotationStatus.Submitted && a.ReviewState == ReviewState.NotSampled)));

    /// <summary>Whether an annotation in this state is one of <see cref="Standing"/>.</summary>
    public static bool Stands(AnnotationStatus status, ReviewState review) =>
        status == AnnotationStatus.Accepted || (status == AnnotationStatus.Submitted && review == ReviewState.NotSampled);

    /// <summary>
    /// Moves <see cref="LabelingProject.TrainingLabelCount"/> by <paramref name="change"/> inside the caller's transaction,
    /// so the count commits or rolls back with the change it counts. Nothing for projects without automatic pre-labeling
    /// (the database's value decides; the caller's copy only saves the statement). Run it last before the commit: it
    /// holds the project row until then.
    /// </summary>
    public static async Task CountAsync(LabelingDbContext db, LabelingProject project, int change, CancellationToken cancellationToken)
    {
        if (change == 0 || project.AutoPrelabelEvery is null) return;
        await db.Projects.Where(p => p.Id == project.Id && p.AutoPrelabelEvery != null)
            .ExecuteUpdateAsync(s => s.SetProperty(p => p.TrainingLabelCount, p => p.TrainingLabelCount + change), cancellationToken);
    }

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
