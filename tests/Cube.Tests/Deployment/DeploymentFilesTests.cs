using System.Reflection;
using System.Text.RegularExpressions;
using System.Xml.Linq;

namespace Cube.Tests.Deployment;

/// <summary>
/// The Dockerfile, compose file and Helm chart cannot be run here (no container runtime or cluster), so these tests
/// hold them to what the code actually reads: every setting they pass names a real option, and every chart value a
/// template uses is declared. A renamed option breaks this test, not a production deployment.
/// </summary>
public sealed partial class DeploymentFilesTests
{
    private static readonly string Root = FindRoot();

    /// <summary>Keys read straight from configuration rather than through an options class.</summary>
    private static readonly HashSet<string> RawKeys = new(StringComparer.OrdinalIgnoreCase) { "Cube:Logging:Json" };

    [Fact]
    public void EverySettingInDeployFiles_NamesARealOption()
    {
        var sections = typeof(global::Cube.Hosting.CubeApp).Assembly.GetReferencedAssemblies().Select(Assembly.Load).Append(typeof(global::Cube.Hosting.CubeApp).Assembly)
            .Where(a => a.GetName().Name!.StartsWith("Cube", StringComparison.Ordinal))
            .SelectMany(a => a.GetTypes())
            .Select(t => (Type: t, Section: t.GetField("SectionName", BindingFlags.Public | BindingFlags.Static)?.GetRawConstantValue() as string))
            .Where(t => t.Section is not null)
            .ToDictionary(t => t.Section!, t => t.Type, StringComparer.OrdinalIgnoreCase);
        var files = Directory.EnumerateFiles(Path.Combine(Root, "deploy"), "*", SearchOption.AllDirectories).ToList();
        var keys = files.SelectMany(f => EnvKey().Matches(File.ReadAllText(f)).Select(m => (File: f, Key: m.Value.Replace("__", ":", StringComparison.Ordinal)))).Distinct().ToList();

        Assert.True(keys.Count >= 10, $"only {keys.Count} settings found in deploy/");
        var unknown = keys.Where(k => !RawKeys.Contains(k.Key) && !Resolves(sections, k.Key)).Select(k => $"{Path.GetRelativePath(Root, k.File)}: {k.Key}").ToList();
        Assert.True(unknown.Count == 0, "settings no option reads:\n" + string.Join('\n', unknown));
    }

    [Fact]
    public void Dockerfile_PublishesTheHostProject_AndStartsItsAssembly()
    {
        var dockerfile = File.ReadAllText(Path.Combine(Root, "deploy", "Dockerfile"));
        var project = Regex.Match(dockerfile, @"dotnet publish (\S+\.csproj)").Groups[1].Value;
        Assert.True(File.Exists(Path.Combine(Root, project)), $"{project} does not exist");
        var assembly = XDocument.Load(Path.Combine(Root, project)).Descendants("AssemblyName").Single().Value;
        Assert.Contains($"ENTRYPOINT [\"dotnet\", \"{assembly}.dll\"]", dockerfile, StringComparison.Ordinal);
        var sdk = System.Text.Json.JsonDocument.Parse(File.ReadAllText(Path.Combine(Root, "global.json"))).RootElement.GetProperty("sdk").GetProperty("version").GetString()!;
        Assert.Contains($"sdk:{sdk.Split('.')[0]}.{sdk.Split('.')[1]}", dockerfile, StringComparison.Ordinal);
    }

    [Fact]
    public void HelmTemplates_UseOnlyDeclaredValues()
    {
        var chart = Path.Combine(Root, "deploy", "helm", "cube");
        var declared = DeclaredValues(File.ReadAllLines(Path.Combine(chart, "values.yaml")));
        var used = Directory.EnumerateFiles(Path.Combine(chart, "templates"))
            .SelectMany(f => ValuesReference().Matches(File.ReadAllText(f)).Select(m => (File: Path.GetFileName(f), Path: m.Groups[1].Value)))
            .Distinct().ToList();

        Assert.NotEmpty(used);
        var missing = used.Where(u => !declared.Contains(u.Path)).Select(u => $"{u.File}: .Values.{u.Path}").ToList();
        Assert.True(missing.Count == 0, "values the chart uses but does not declare:\n" + string.Join('\n', missing));
    }

    private static bool Resolves(Dictionary<string, Type> sections, string key)
    {
        // The longest section that prefixes the key owns it; the rest walks properties (nested option classes).
        var owner = sections.Keys.Where(s => key.StartsWith(s + ":", StringComparison.OrdinalIgnoreCase)).MaxBy(s => s.Length);
        if (owner is null) return false;
        var type = sections[owner];
        foreach (var part in key[(owner.Length + 1)..].Split(':'))
        {
            var property = type.GetProperty(part, BindingFlags.Public | BindingFlags.Instance | BindingFlags.IgnoreCase);
            if (property is null) return false;
            type = property.PropertyType;
        }
        return true;
    }

    /// <summary>Dotted paths of every key in a values file (block style, two-space indents, flow maps as leaves' parents).</summary>
    private static HashSet<string> DeclaredValues(string[] lines)
    {
        var declared = new HashSet<string>(StringComparer.Ordinal);
        var stack = new List<(int Indent, string Key)>();
        foreach (var line in lines)
        {
            var match = Regex.Match(line, @"^( *)([A-Za-z][\w-]*):(.*)$");
            if (!match.Success) continue;
            var indent = match.Groups[1].Value.Length;
            stack.RemoveAll(s => s.Indent >= indent);
            stack.Add((indent, match.Groups[2].Value));
            var path = string.Join('.', stack.Select(s => s.Key));
            declared.Add(path);
            foreach (Match flow in Regex.Matches(match.Groups[3].Value, @"([A-Za-z]\w*):"))
                declared.Add($"{path}.{flow.Groups[1].Value}");
        }
        return declared;
    }

    private static string FindRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "cube.sln"))) dir = dir.Parent;
        return dir?.FullName ?? throw new InvalidOperationException("cube.sln not found above the test output");
    }

    [GeneratedRegex(@"\bCube(__[A-Za-z0-9]+)+")]
    private static partial Regex EnvKey();

    [GeneratedRegex(@"\.Values\.([A-Za-z][\w.]*\w)")]
    private static partial Regex ValuesReference();
}
