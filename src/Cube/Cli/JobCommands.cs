using System.CommandLine;
using System.Globalization;
using System.Text.Json.Nodes;
using Cube.Core.Text;
using Cube.Training.Apis;

namespace Cube.Cli;

/// <summary>
/// <c>cube job …</c>: submits training job specs (YAML or JSON) to a Cube server, lists jobs, follows their logs and
/// cancels them. The server validates the spec; its field-named errors are printed as they come.
/// </summary>
internal sealed class JobCommands(CliConsole terminal) : ServerCommands(terminal)
{
    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(500);

    public static Command Build(CliConsole console) => new JobCommands(console).Command();

    private Command Command() => new("job", "Submits, lists, follows and cancels training jobs on a Cube server.")
    {
        Server, Token, Project, Submit(), List(), Logs(), Cancel(),
    };

    private static string Jobs(CubeApiClient api) => $"api/projects/{CubeApiClient.Escape(api.Project)}/training/jobs";

    private static string Studies(CubeApiClient api) => $"api/projects/{CubeApiClient.Escape(api.Project)}/training/studies";

    private static Argument<Guid> IdArgument() => new("id") { Description = "Job id (as printed by submit and ls)." };

    private Command Submit()
    {
        var file = new Argument<string>("spec") { Description = "The job spec, a YAML or JSON file ('-' reads standard input)." };
        var follow = new Option<bool>("--follow", "-f") { Description = "Print the job's logs until it ends; the exit code is 0 only if it succeeded." };
        var command = new Command("submit", "Validates a job spec on the server and queues the job (or, with a search block, starts a study of trial jobs).") { file, follow };
        SetAction(command, async (parse, api, cancellationToken) =>
        {
            var path = parse.GetValue(file)!;
            string text;
            try
            {
                text = path == "-" ? await Console.In.ReadToEndAsync(cancellationToken) : await File.ReadAllTextAsync(path, cancellationToken);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw new CliException($"cannot read '{path}': {e.Message}");
            }
            JsonNode? spec;
            try
            {
                spec = YamlJson.Parse(text);
            }
            catch (YamlJsonException e)
            {
                throw new CliException($"{path}: {e.Message}");
            }
            if (spec is not JsonObject mapping) throw new CliException($"{path}: a job spec is a mapping (name, framework, command, ...).");
            // YAML types `lr: 0.1` as a number; the spec's string maps take its text, as a person writing it means.
            StringValues(mapping["env"]);
            StringValues(mapping["hyperparameters"]);
            StringValues((mapping["scheduling"] as JsonObject)?["nodeSelector"]);

            if (mapping["search"] is JsonObject)
            {
                // A search block makes the spec a study: many trial jobs, submitted by the server as parallelism allows.
                var study = await api.SendJsonAsync<StudyDto>(HttpMethod.Post, Studies(api), spec, cancellationToken);
                Terminal.Out.WriteLine($"Submitted study '{study.Name}' ({study.Id}), {study.Strategy} search over {study.TrialsTotal} trials, {study.Parallelism} at a time: {study.State}.");
                return parse.GetValue(follow) ? await FollowStudyAsync(api, study.Id, cancellationToken) : 0;
            }
            var job = await api.SendJsonAsync<JobDto>(HttpMethod.Post, Jobs(api), spec, cancellationToken);
            Terminal.Out.WriteLine($"Submitted job '{job.Name}' ({job.Id}), {job.Framework} on {job.Distribution}: {job.State}.");
            return parse.GetValue(follow) ? await FollowAsync(api, job.Id, cancellationToken) : 0;
        });
        return command;
    }

    private Command List()
    {
        var state = new Option<string?>("--state") { Description = "Only jobs in this state." };
        state.AcceptOnlyFromAmong("queued", "running", "succeeded", "failed", "cancelled");
        var experiment = new Option<string?>("--experiment") { Description = "Only jobs of this experiment." };
        var command = new Command("ls", "Lists the project's jobs, newest first.") { state, experiment };
        SetAction(command, async (parse, api, cancellationToken) =>
        {
            var filters = new[] { ("state", parse.GetValue(state)), ("experiment", parse.GetValue(experiment)) }
                .Where(f => !string.IsNullOrEmpty(f.Item2)).Select(f => $"{f.Item1}={CubeApiClient.Escape(f.Item2!)}").ToList();
            var jobs = await api.AllPagesAsync<JobDto>(Jobs(api) + (filters.Count == 0 ? "" : "?" + string.Join('&', filters)), cancellationToken);
            WriteTable(Terminal.Out, ["ID", "NAME", "EXPERIMENT", "FRAMEWORK", "STATE", "CREATED (UTC)", "MESSAGE"],
                jobs.Select(j => new[]
                {
                    j.Id.ToString(), j.Name, j.Experiment, j.Framework, j.State,
                    j.CreatedAt.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture), OneLine(j.Error ?? j.Message ?? ""),
                }));
            return 0;
        });
        return command;
    }

    private Command Logs()
    {
        var id = IdArgument();
        var follow = new Option<bool>("--follow", "-f") { Description = "Keep printing until the job ends; the exit code is 0 only if it succeeded." };
        var command = new Command("logs", "Prints a job's log lines.") { id, follow };
        SetAction(command, async (parse, api, cancellationToken) =>
        {
            if (parse.GetValue(follow)) return await FollowAsync(api, parse.GetValue(id), cancellationToken);
            await PrintLogsAsync(api, parse.GetValue(id), 0, cancellationToken);
            return 0;
        });
        return command;
    }

    private Command Cancel()
    {
        var id = IdArgument();
        var command = new Command("cancel", "Stops a queued or running job.") { id };
        SetAction(command, async (parse, api, cancellationToken) =>
        {
            var job = await api.SendJsonAsync<JobDto>(HttpMethod.Post, $"{Jobs(api)}/{parse.GetValue(id)}/cancel", new { }, cancellationToken);
            Terminal.Out.WriteLine($"Job '{job.Name}' ({job.Id}): {job.State}{(job.Message is null ? "" : " - " + job.Message)}.");
            return 0;
        });
        return command;
    }

    private static void StringValues(JsonNode? map)
    {
        if (map is not JsonObject obj) return;
        foreach (var key in obj.Select(p => p.Key).ToList())
            if (obj[key] is JsonValue value && value.GetValueKind() is System.Text.Json.JsonValueKind.Number or System.Text.Json.JsonValueKind.True or System.Text.Json.JsonValueKind.False)
                obj[key] = value.ToJsonString();
    }

    /// <summary>Prints the log lines after <paramref name="after"/>, page by page; returns the last sequence printed.</summary>
    private async Task<long> PrintLogsAsync(CubeApiClient api, Guid id, long after, CancellationToken cancellationToken)
    {
        while (true)
        {
            var page = await api.GetAsync<LogPageDto>($"{Jobs(api)}/{id}/logs?after={after}", cancellationToken);
            foreach (var line in page.Lines) Terminal.Out.WriteLine(line.Source == "stderr" ? $"[stderr] {line.Text}" : line.Text);
            if (page.NextAfter is not { } next) return after;
            after = next;
        }
    }

    /// <summary>Prints logs as they come until the job ends; 0 when it succeeded.</summary>
    private async Task<int> FollowAsync(CubeApiClient api, Guid id, CancellationToken cancellationToken)
    {
        long after = 0;
        while (true)
        {
            // The state is read before the last logs, so lines written just before the end are never missed.
            var job = await api.GetAsync<JobDetailDto>($"{Jobs(api)}/{id}", cancellationToken);
            after = await PrintLogsAsync(api, id, after, cancellationToken);
            if (job.Job.State is "succeeded" or "failed" or "cancelled")
            {
                var outcome = job.Job.Error ?? job.Job.Message;
                Terminal.Error.WriteLine($"Job '{job.Job.Name}' {job.Job.State}{(job.Job.ExitCode is { } code ? $" (exit code {code})" : "")}{(outcome is null ? "" : ": " + outcome)}");
                return job.Job.State == "succeeded" ? 0 : Failed;
            }
            await Task.Delay(PollInterval, cancellationToken);
        }
    }

    /// <summary>Prints the study's progress as it changes until it ends, then its trials; 0 when it succeeded.</summary>
    private async Task<int> FollowStudyAsync(CubeApiClient api, Guid id, CancellationToken cancellationToken)
    {
        string? last = null;
        while (true)
        {
            var study = await api.GetAsync<StudyDetailDto>($"{Studies(api)}/{id}", cancellationToken);
            var line = $"{study.Study.TrialsDone}/{study.Study.TrialsTotal} trials done, {study.Study.TrialsActive} active: {study.Study.Message}";
            if (line != last) Terminal.Error.WriteLine(last = line);
            if (study.Study.State is "succeeded" or "failed" or "cancelled")
            {
                WriteTable(Terminal.Out, ["TRIAL", "RUNG", "PARAMS", "STATE", study.Study.Metric.ToUpperInvariant(), "WHY IT STOPPED"],
                    study.Trials.Select(t => new[]
                    {
                        t.Number.ToString(CultureInfo.InvariantCulture), t.Rung.ToString(CultureInfo.InvariantCulture),
                        string.Join(" ", t.Params.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => $"{p.Key}={p.Value}")), t.State,
                        t.Metric?.ToString(CultureInfo.InvariantCulture) ?? "", OneLine(t.StopReason ?? ""),
                    }));
                Terminal.Error.WriteLine($"Study '{study.Study.Name}' {study.Study.State}{(study.Best is { } best ? $"; best trial {best.Number} with {study.Study.Metric}={best.Metric?.ToString(CultureInfo.InvariantCulture)}" : "")}.");
                return study.Study.State == "succeeded" ? 0 : Failed;
            }
            await Task.Delay(PollInterval, cancellationToken);
        }
    }
}
