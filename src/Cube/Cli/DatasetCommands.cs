using System.CommandLine;
using System.Globalization;
using Cube.Core.Apis;
using Cube.DataHub.Apis;

namespace Cube.Cli;

/// <summary>
/// <c>cube dataset …</c>: a client of a running Cube server's DataHub API. Unlike the other verbs these open no
/// database; they need the server URL, an API token and the project, from switches or <c>CUBE_URL</c>,
/// <c>CUBE_TOKEN</c>, <c>CUBE_PROJECT</c>.
/// </summary>
internal sealed class DatasetCommands(CliConsole terminal) : ServerCommands(terminal)
{

    /// <summary>The <c>dataset</c> command; <paramref name="console"/> says where output goes and which HTTP handler requests use.</summary>
    public static Command Build(CliConsole console) => new DatasetCommands(console).Command();

    private Command Command() => new("dataset", "Creates, lists, pushes, pulls, diffs and tags datasets on a Cube server.")
    {
        Server, Token, Project, Create(), List(), Push(), Pull(), Log(), Diff(), Tag(),
    };

    private static Argument<string> NameArgument() => new("name") { Description = "Dataset name." };

    private Command Create()
    {
        var name = NameArgument();
        var kind = new Option<string?>("--kind") { Description = "tabular, image, text or mixed (default mixed)." };
        kind.AcceptOnlyFromAmong("tabular", "image", "text", "mixed");
        var tags = new Option<string[]>("--tag") { Description = "A tag; repeat for more.", AllowMultipleArgumentsPerToken = false };
        var description = new Option<string?>("--description") { Description = "What the dataset holds." };
        var command = new Command("create", "Creates an empty dataset.") { name, kind, tags, description };
        SetAction(command, async (parse, api, cancellationToken) =>
        {
            var created = await api.SendJsonAsync<DatasetDto>(HttpMethod.Post, api.Datasets,
                new CreateDatasetRequest(parse.GetValue(name)!, parse.GetValue(description), parse.GetValue(kind), parse.GetValue(tags) ?? []), cancellationToken);
            Terminal.Out.WriteLine($"Created dataset '{created.Name}' ({created.Kind}) in project '{api.Project}'.");
            return 0;
        });
        return command;
    }

    private Command List()
    {
        var tag = new Option<string?>("--tag") { Description = "Only datasets with this tag." };
        var kind = new Option<string?>("--kind") { Description = "Only datasets of this kind." };
        kind.AcceptOnlyFromAmong("tabular", "image", "text", "mixed");
        var query = new Option<string?>("--query", "-q") { Description = "Text in the name or description." };
        var command = new Command("ls", "Lists the project's datasets.") { tag, kind, query };
        SetAction(command, async (parse, api, cancellationToken) =>
        {
            var filters = new[] { ("tag", parse.GetValue(tag)), ("kind", parse.GetValue(kind)), ("q", parse.GetValue(query)) }
                .Where(f => !string.IsNullOrEmpty(f.Item2)).Select(f => $"{f.Item1}={CubeApiClient.Escape(f.Item2!)}").ToList();
            var url = api.Datasets + (filters.Count == 0 ? "" : "?" + string.Join('&', filters));
            var datasets = await api.AllPagesAsync<DatasetDto>(url, cancellationToken);
            WriteTable(Terminal.Out, ["NAME", "KIND", "LATEST", "TAGS"],
                datasets.OrderBy(d => d.Name, StringComparer.Ordinal)
                    .Select(d => new[] { d.Name, d.Kind, d.LatestVersion == 0 ? "-" : $"v{d.LatestVersion}", string.Join(',', d.Tags) }));
            return 0;
        });
        return command;
    }

    private Command Push()
    {
        var name = NameArgument();
        var paths = new Argument<string[]>("path") { Description = "Files or folders; folders are walked recursively.", Arity = ArgumentArity.OneOrMore };
        var message = new Option<string?>("--message", "-m") { Description = "What changed." };
        var prefix = new Option<string?>("--prefix") { Description = "Dataset folder to put the files under." };
        var replace = new Option<bool>("--replace") { Description = "The new version holds only the pushed files (default: the previous version's files plus these)." };
        var retries = new Option<int>("--retries") { Description = "Retries of a failed upload request, resuming where the server is.", DefaultValueFactory = _ => 5 };
        var command = new Command("push", "Uploads files and folders as the dataset's next version.") { name, paths, message, prefix, replace, retries };
        SetAction(command, async (parse, api, cancellationToken) =>
        {
            var files = DatasetTransfer.Collect(parse.GetValue(paths)!, parse.GetValue(prefix));
            await new DatasetTransfer(api, Terminal, parse.GetValue(name)!)
                .PushAsync(files, parse.GetValue(message), parse.GetValue(replace), Math.Max(0, parse.GetValue(retries)), cancellationToken);
            return 0;
        });
        return command;
    }

    private Command Pull()
    {
        var name = NameArgument();
        var version = new Option<string>("--version") { Description = "Version number, 'v3', a tag or 'latest'.", DefaultValueFactory = _ => "latest" };
        var output = new Option<string?>("--output", "-o") { Description = "Folder to write into (default: ./NAME)." };
        var command = new Command("pull", "Downloads every file of a version, verifying each checksum.") { name, version, output };
        SetAction(command, async (parse, api, cancellationToken) =>
        {
            var dataset = parse.GetValue(name)!;
            await new DatasetTransfer(api, Terminal, dataset).PullAsync(parse.GetValue(version)!, parse.GetValue(output) ?? dataset, cancellationToken);
            return 0;
        });
        return command;
    }

    private Command Log()
    {
        var name = NameArgument();
        var command = new Command("log", "Shows the dataset's versions, newest first.") { name };
        SetAction(command, async (parse, api, cancellationToken) =>
        {
            var versions = await api.AllPagesAsync<VersionDto>($"{api.Dataset(parse.GetValue(name)!)}/versions", cancellationToken);
            var authors = await UserNamesAsync(api, cancellationToken);
            WriteTable(Terminal.Out, ["VERSION", "TIME (UTC)", "AUTHOR", "FILES", "BYTES", "MESSAGE", "TAGS"],
                versions.OrderByDescending(v => v.Number).Select(v => new[]
                {
                    $"v{v.Number}", v.CreatedAt.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture),
                    authors.GetValueOrDefault(v.AuthorId) ?? v.AuthorId.ToString("N")[..8], v.FileCount.ToString(CultureInfo.InvariantCulture),
                    ProgressBar.Bytes(v.TotalBytes), OneLine(v.Message), string.Join(',', v.Tags),
                }));
            return 0;
        });
        return command;
    }

    /// <summary>User names by id, for showing authors; ids alone when the server does not let this user list users.</summary>
    private static async Task<Dictionary<Guid, string>> UserNamesAsync(CubeApiClient api, CancellationToken cancellationToken)
    {
        try
        {
            return (await api.AllPagesAsync<UserDto>("api/users?limit=500", cancellationToken)).ToDictionary(u => u.Id, u => u.UserName);
        }
        catch (ApiProblemException)
        {
            return [];
        }
    }

    private Command Diff()
    {
        var name = NameArgument();
        var from = new Argument<string>("from") { Description = "Older version (number, 'v3', tag)." };
        var to = new Argument<string>("to") { Description = "Newer version (number, 'v3', tag, 'latest')." };
        var command = new Command("diff", "Shows added, removed and changed files and table changes between two versions.") { name, from, to };
        SetAction(command, async (parse, api, cancellationToken) =>
        {
            var diff = await api.GetAsync<DiffDto>(
                $"{api.Dataset(parse.GetValue(name)!)}/diff?from={CubeApiClient.Escape(parse.GetValue(from)!)}&to={CubeApiClient.Escape(parse.GetValue(to)!)}", cancellationToken);
            var o = Terminal.Out;
            o.WriteLine($"v{diff.From} -> v{diff.To}");
            foreach (var f in diff.Added) o.WriteLine($"A  {f.Path}  ({ProgressBar.Bytes(f.Size)})");
            foreach (var f in diff.Removed) o.WriteLine($"D  {f.Path}  ({ProgressBar.Bytes(f.Size)})");
            foreach (var f in diff.Changed) o.WriteLine($"M  {f.Path}  ({ProgressBar.Bytes(f.FromSize)} -> {ProgressBar.Bytes(f.ToSize)})");
            foreach (var t in diff.Tables)
            {
                var parts = new List<string> { $"rows {Rows(t.FromRows)} -> {Rows(t.ToRows)}" };
                if (t.AddedColumns.Count > 0) parts.Add("added columns: " + string.Join(", ", t.AddedColumns));
                if (t.RemovedColumns.Count > 0) parts.Add("removed columns: " + string.Join(", ", t.RemovedColumns));
                if (t.RetypedColumns.Count > 0) parts.Add("retyped: " + string.Join(", ", t.RetypedColumns));
                o.WriteLine($"T  {t.Path}  {string.Join("; ", parts)}");
            }
            if (diff.Added.Count + diff.Removed.Count + diff.Changed.Count + diff.Tables.Count == 0) o.WriteLine("no changes");
            return 0;
        });
        return command;

        static string Rows(long? rows) => rows?.ToString("N0", CultureInfo.InvariantCulture) ?? "-";
    }

    private Command Tag()
    {
        var name = NameArgument();
        var tag = new Argument<string>("tag") { Description = "Tag name, e.g. 'train-2026-11'." };
        var version = new Argument<string>("version") { Description = "Version number, 'v3', another tag or 'latest'." };
        var command = new Command("tag", "Points a tag at a version (creates or moves it).") { name, tag, version };
        SetAction(command, async (parse, api, cancellationToken) =>
        {
            var dataset = parse.GetValue(name)!;
            var set = await api.SendJsonAsync<TagDto>(HttpMethod.Put, $"{api.Dataset(dataset)}/tags/{CubeApiClient.Escape(parse.GetValue(tag)!)}",
                new SetTagRequest(parse.GetValue(version)!), cancellationToken);
            Terminal.Out.WriteLine($"Tagged {dataset} v{set.Version} as '{set.Name}'.");
            return 0;
        });
        return command;
    }
}
