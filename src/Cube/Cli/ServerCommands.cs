using System.CommandLine;

namespace Cube.Cli;

/// <summary>
/// Verbs that are clients of a running Cube server: the server URL, API token and project come from switches or
/// <c>CUBE_URL</c>, <c>CUBE_TOKEN</c>, <c>CUBE_PROJECT</c>; API problems become a message and exit code 1.
/// </summary>
internal abstract class ServerCommands(CliConsole console)
{
    public const string DefaultServer = "http://127.0.0.1:5080";
    public const int Failed = 1;

    /// <summary>Where output goes and which HTTP handler requests use.</summary>
    protected CliConsole Terminal { get; } = console;

    protected Option<string?> Server { get; } = new("--server") { Description = $"Cube server URL (env CUBE_URL; default {DefaultServer}).", Recursive = true };
    protected Option<string?> Token { get; } = new("--token") { Description = "API token (env CUBE_TOKEN).", Recursive = true };
    protected Option<string?> Project { get; } = new("--project") { Description = "Project slug (env CUBE_PROJECT).", Recursive = true };

    /// <summary>Runs a verb with a connected client and turns API and transfer failures into a message and exit code 1.</summary>
    protected void SetAction(Command command, Func<ParseResult, CubeApiClient, CancellationToken, Task<int>> action) =>
        command.SetAction(async (parse, cancellationToken) =>
        {
            var server = parse.GetValue(Server) ?? Terminal.Variable("CUBE_URL") ?? DefaultServer;
            var project = parse.GetValue(Project) ?? Terminal.Variable("CUBE_PROJECT");
            if (string.IsNullOrWhiteSpace(project))
            {
                Terminal.Error.WriteLine("cube: no project: pass --project SLUG or set CUBE_PROJECT.");
                return HostRunner.ConfigurationError;
            }
            // A trailing slash keeps a path in the server URL (http://host/cube/) when relative API paths are resolved against it.
            if (!Uri.TryCreate(server.EndsWith('/') ? server : server + "/", UriKind.Absolute, out var baseUri) || baseUri.Scheme is not ("http" or "https"))
            {
                Terminal.Error.WriteLine($"cube: '{server}' is not an http(s) URL.");
                return HostRunner.ConfigurationError;
            }
            using var api = new CubeApiClient(baseUri, parse.GetValue(Token) ?? Terminal.Variable("CUBE_TOKEN"), project, Terminal.Handler);
            try
            {
                return await action(parse, api, cancellationToken);
            }
            catch (ApiProblemException p)
            {
                Terminal.Error.WriteLine($"cube: {p.Message}");
                var where = new[] { ("file", p.Text("file")), ("row", p.Text("row")), ("column", p.Text("column")) }
                    .Where(x => x.Item2 is not null).Select(x => $"{x.Item1} {x.Item2}").ToList();
                if (where.Count > 0) Terminal.Error.WriteLine($"  at {string.Join(", ", where)}");
                // Validation problems list their fields: print each, so a spec author sees every mistake at once.
                if (p.Body is { ValueKind: System.Text.Json.JsonValueKind.Object } body && body.TryGetProperty("errors", out var errors)
                    && errors.ValueKind == System.Text.Json.JsonValueKind.Object)
                    foreach (var field in errors.EnumerateObject())
                        foreach (var message in field.Value.ValueKind == System.Text.Json.JsonValueKind.Array ? field.Value.EnumerateArray().Select(m => m.ToString()) : [field.Value.ToString()])
                            Terminal.Error.WriteLine($"  {field.Name}: {message}");
                return Failed;
            }
            catch (CliException e)
            {
                Terminal.Error.WriteLine($"cube: {e.Message}");
                return Failed;
            }
            catch (HttpRequestException e)
            {
                Terminal.Error.WriteLine($"cube: cannot reach {baseUri}: {e.Message}");
                return Failed;
            }
        });

    protected static string OneLine(string text)
    {
        var line = text.ReplaceLineEndings(" ");
        return line.Length <= 60 ? line : line[..59] + "…";
    }

    /// <summary>Left-aligned columns separated by two spaces; the last column is not padded.</summary>
    internal static void WriteTable(TextWriter output, string[] headers, IEnumerable<string[]> rows)
    {
        var all = rows.Prepend(headers).ToList();
        var widths = headers.Select((_, i) => all.Max(r => r[i].Length)).ToArray();
        foreach (var row in all)
            output.WriteLine(string.Join("  ", row.Select((cell, i) => i == row.Length - 1 ? cell : cell.PadRight(widths[i]))).TrimEnd());
    }
}
