using System.Xml.Linq;

namespace Cube.Architecture.Tests;

/// <summary>
/// Module references follow the data flow (docs/architecture.md): Core &lt;- DataHub &lt;- {Features, Labeling, Training,
/// Knowledge}, Training &lt;- Serving, Serving &lt;- Labeling, and only the host references everything.
/// </summary>
public sealed class ModuleDependencyTests
{
    private static readonly Dictionary<string, string[]> Allowed = new()
    {
        ["Core"] = [],
        ["DataHub"] = ["Core"],
        ["Features"] = ["Core", "DataHub"],
        ["Training"] = ["Core", "DataHub"],
        ["Knowledge"] = ["Core", "DataHub"],
        ["Serving"] = ["Core", "DataHub", "Training"],
        ["Labeling"] = ["Core", "DataHub", "Serving"],
        ["Cube"] = ["Core", "DataHub", "Features", "Labeling", "Training", "Serving", "Knowledge"],
    };

    private static string RepositoryRoot()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "cube.sln"))) directory = directory.Parent;
        return directory?.FullName ?? throw new InvalidOperationException("cube.sln not found above the test binaries.");
    }

    public static TheoryData<string> Projects() => new(Directory.GetDirectories(Path.Combine(RepositoryRoot(), "src")).Select(Path.GetFileName)!);

    [Theory]
    [MemberData(nameof(Projects))]
    public void ProjectReferences_FollowTheModuleRule(string project)
    {
        Assert.True(Allowed.ContainsKey(project), $"src/{project} is not in the module map; add it to the rule and docs/architecture.md.");
        var csproj = Path.Combine(RepositoryRoot(), "src", project, project + ".csproj");
        var references = XDocument.Load(csproj).Descendants("ProjectReference")
            .Select(r => Path.GetFileNameWithoutExtension(r.Attribute("Include")!.Value))
            .ToList();
        var illegal = references.Except(Allowed[project]).ToList();
        Assert.True(illegal.Count == 0, $"src/{project} references {string.Join(", ", illegal)}, which breaks the module dependency rule.");
    }

    [Fact]
    public void Rule_DetectsAViolation()
    {
        // The rule itself must be able to fail: a module reaching "up" the data flow is refused.
        Assert.DoesNotContain("Labeling", Allowed["DataHub"]);
        Assert.DoesNotContain("Serving", Allowed["Training"]);
        Assert.All(Allowed, pair => Assert.DoesNotContain(pair.Key, pair.Value));
    }

    [Fact]
    public void Graph_HasNoCycles()
    {
        var visiting = new HashSet<string>();
        var done = new HashSet<string>();
        void Visit(string node)
        {
            Assert.True(visiting.Add(node), $"cycle through {node}");
            foreach (var next in Allowed[node]) if (!done.Contains(next)) Visit(next);
            visiting.Remove(node);
            done.Add(node);
        }
        foreach (var node in Allowed.Keys) if (!done.Contains(node)) Visit(node);
    }
}
