using System.Text.Json;
using Cube.Core.Errors;
using Cube.Core.Identity;
using Cube.Core.Projects;
using Cube.Knowledge.Data;

namespace Cube.Knowledge.Apis;

/// <summary>
/// Document-level access: a knowledge base maps tags to the least project role that may see documents carrying them
/// (<c>{"confidential": "manager"}</c>). The tags a caller may not see become an exclusion pre-filter of every search, so
/// hidden documents never take a place in the top-k, and they are left out of document listings and citations.
/// </summary>
public static class AccessRules
{
    public static IReadOnlyDictionary<string, ProjectRole> Parse(string? json) =>
        string.IsNullOrEmpty(json) ? new Dictionary<string, ProjectRole>() : JsonSerializer.Deserialize<Dictionary<string, ProjectRole>>(json)!;

    public static IReadOnlyDictionary<string, string> Describe(string? json) =>
        Parse(json).ToDictionary(r => r.Key, r => r.Value.ToString().ToLowerInvariant(), StringComparer.Ordinal);

    /// <summary>Validates rules sent by a client and returns their stored form (null for none).</summary>
    public static string? Normalise(IReadOnlyDictionary<string, string>? rules)
    {
        if (rules is null || rules.Count == 0) return null;
        if (rules.Count > 100) throw new ValidationException("rules", "At most 100 access rules.");
        var parsed = new SortedDictionary<string, ProjectRole>(StringComparer.Ordinal);
        foreach (var (tag, role) in rules)
        {
            if (!DocumentsApi.IsValidTag(tag)) throw new ValidationException("rules", $"Tag '{tag}' is not valid: {DocumentsApi.TagRule}.");
            if (!Enum.TryParse<ProjectRole>(role, ignoreCase: true, out var parsedRole) || !Enum.IsDefined(parsedRole) || int.TryParse(role, out _))
                throw new ValidationException("rules", $"Role '{role}' of tag '{tag}' is not one of viewer, annotator, reviewer, manager.");
            parsed[tag] = parsedRole;
        }
        return JsonSerializer.Serialize(parsed);
    }

    /// <summary>The tags of <paramref name="knowledgeBase"/> whose documents the caller may not see; none for admins.</summary>
    public static IReadOnlySet<string> HiddenFrom(KnowledgeBase knowledgeBase, ProjectAccessInfo caller) =>
        Parse(knowledgeBase.AccessRulesJson).Where(r => !caller.Has(r.Value)).Select(r => r.Key).ToHashSet(StringComparer.Ordinal);

    public static bool Hides(this KnowledgeBase knowledgeBase, KnowledgeDocument document) =>
        knowledgeBase.HiddenTags.Count > 0 && document.TagList.Any(knowledgeBase.HiddenTags.Contains);
}
