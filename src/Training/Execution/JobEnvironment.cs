using Cube.Training.Specs;

namespace Cube.Training.Execution;

/// <summary>
/// The environment contract every job sees, locally and on a cluster: <c>CUBE_JOB_ID</c>, <c>CUBE_RUN_ID</c>,
/// <c>CUBE_PROJECT_ID</c>, <c>CUBE_JOB_NAME</c>, one <c>CUBE_HP_NAME</c> per hyperparameter, <c>CUBE_INPUT_NAME</c>
/// (the materialised directory, or <c>dataset@vN</c> where nothing was materialised) with <c>CUBE_INPUT_NAME_VERSION_ID</c>,
/// and the user's own variables.
/// </summary>
public static class JobEnvironment
{
    public static List<(string Name, string Value)> Common(JobSpec spec, JobContext context)
    {
        var env = new List<(string, string)>
        {
            ("CUBE_JOB_ID", context.JobId.ToString()),
            ("CUBE_RUN_ID", context.RunId.ToString()),
            ("CUBE_PROJECT_ID", context.ProjectId.ToString()),
            ("CUBE_JOB_NAME", spec.Name),
        };
        foreach (var (key, value) in spec.Hyperparameters.OrderBy(h => h.Key, StringComparer.Ordinal))
            env.Add(("CUBE_HP_" + EnvSuffix(key), value));
        foreach (var input in context.Inputs)
        {
            env.Add(("CUBE_INPUT_" + input.EnvName, input.LocalPath ?? $"{input.Dataset}@v{input.VersionNumber}"));
            env.Add(("CUBE_INPUT_" + input.EnvName + "_VERSION_ID", input.VersionId.ToString()));
        }
        if (context.OutputDirectory is not null) env.Add(("CUBE_OUTPUT_DIR", context.OutputDirectory));
        if (context.TrackingToken is not null) env.Add(("CUBE_TRACKING_TOKEN", context.TrackingToken));
        if (context.TrackingUrl is not null) env.Add(("CUBE_TRACKING_URL", context.TrackingUrl));
        foreach (var (key, value) in spec.Env.OrderBy(e => e.Key, StringComparer.Ordinal)) env.Add((key, value));
        return env;
    }

    /// <summary>Hyperparameters as <c>--name=value</c> arguments, in name order.</summary>
    public static IEnumerable<string> HyperparameterArgs(JobSpec spec) =>
        spec.Hyperparameters.OrderBy(h => h.Key, StringComparer.Ordinal).Select(h => $"--{h.Key}={h.Value}");

    /// <summary>
    /// torchrun takes a Python script, not an interpreter: <c>python train.py</c> becomes <c>train.py</c>; any other
    /// executable runs with <c>--no-python</c>.
    /// </summary>
    public static IEnumerable<string> TorchrunScript(IReadOnlyList<string> command) =>
        command.Count > 1 && Path.GetFileName(command[0]) is "python" or "python3"
            ? command.Skip(1)
            : ["--no-python", .. command];

    public static string EnvSuffix(string name) =>
        new(name.Select(c => char.IsAsciiLetterOrDigit(c) ? char.ToUpperInvariant(c) : '_').ToArray());
}
