using System.Globalization;
using System.Text.RegularExpressions;
using Cube.Core.Errors;

namespace Cube.Training.Specs;

/// <summary>
/// Checks a <see cref="JobSpec"/> completely before anything runs, collecting every problem under the JSON path of the
/// field it concerns, so a client can show all of them at once.
/// </summary>
public static partial class JobSpecValidator
{
    public const int MaxNameLength = 40;
    public const int MaxWorkers = 512;
    public const int MaxGpusPerWorker = 16;

    /// <summary>
    /// The spec with JSON nulls in collections and sections replaced by their defaults (a client may send
    /// <c>"env": null</c>); everything after submission works on a normalised spec.
    /// </summary>
    public static JobSpec Normalize(JobSpec spec)
    {
        var scheduling = spec.Scheduling ?? new Scheduling();
        return spec with
        {
            Name = spec.Name ?? "",
            Command = spec.Command ?? [],
            Args = spec.Args ?? [],
            Env = spec.Env ?? new Dictionary<string, string>(),
            Resources = spec.Resources ?? new Resources(),
            Inputs = spec.Inputs ?? [],
            Hyperparameters = spec.Hyperparameters ?? new Dictionary<string, string>(),
            Scheduling = scheduling with { NodeSelector = scheduling.NodeSelector ?? new Dictionary<string, string>(), Tolerations = scheduling.Tolerations ?? [] },
            Search = spec.Search is { } search ? search with { Space = search.Space ?? new Dictionary<string, ParameterSpec>() } : null,
        };
    }

    /// <summary>Returns the errors by field; empty when the spec is valid.</summary>
    public static Dictionary<string, string[]> Validate(JobSpec spec)
    {
        spec = Normalize(spec);
        var errors = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        void Add(string field, string message)
        {
            if (!errors.TryGetValue(field, out var list)) errors[field] = list = [];
            list.Add(message);
        }

        if (string.IsNullOrEmpty(spec.Name)) Add("name", "A job name is required.");
        else if (spec.Name.Length > MaxNameLength || !Dns1123Label().IsMatch(spec.Name))
            Add("name", $"'{spec.Name}' is not a valid job name: use 1–{MaxNameLength} lower-case letters, digits and '-', starting with a letter and ending with a letter or digit.");

        if (!Enum.IsDefined(spec.Distribution)) Add("distribution", "Unknown distribution; use local, pytorchjob, volcano or indexed-job.");
        if (!Enum.IsDefined(spec.Framework)) Add("framework", "Unknown framework; use custom, pytorch, tensorflow, mlnet or mpi.");

        var cluster = spec.Distribution != Distribution.Local;
        if (cluster && string.IsNullOrWhiteSpace(spec.Image))
            Add("image", $"An image is required for distribution '{Name(spec.Distribution)}'.");
        else if (spec.Image is { } image && (image.Length > 512 || !ImageReference().IsMatch(image)))
            Add("image", $"'{image}' is not a valid image reference (registry/name[:tag][@sha256:digest], lower-case).");

        var builtIn = Cube.Training.MlNet.MlNetSettings.IsBuiltIn(spec);
        if (builtIn) Cube.Training.MlNet.MlNetSettings.Parse(spec, Add);
        else if (spec.Command.Count == 0) Add("command", "A command is required: the executable and its fixed arguments, e.g. [\"python\", \"train.py\"].");
        for (var i = 0; i < spec.Command.Count; i++)
            if (string.IsNullOrEmpty(spec.Command[i])) Add($"command[{i}]", "Command entries must not be empty.");
        for (var i = 0; i < spec.Args.Count; i++)
            if (spec.Args[i] is null) Add($"args[{i}]", "Arguments must not be null.");

        foreach (var (key, value) in spec.Env)
        {
            if (!EnvName().IsMatch(key)) Add($"env.{key}", $"'{key}' is not a valid environment variable name (letters, digits and '_', not starting with a digit).");
            else if (IsReserved(key)) Add($"env.{key}", $"'{key}' is set by Cube for every job and cannot be overridden.");
            if (value is null) Add($"env.{key}", "Environment values must not be null.");
        }

        if (spec.Workers < 1 || spec.Workers > MaxWorkers) Add("workers", $"Workers must be between 1 and {MaxWorkers}; got {spec.Workers}.");
        if (cluster is false && spec.Workers > 1 && spec.Framework != Framework.PyTorch)
            Add("workers", "Local jobs run one process per worker only for framework 'pytorch' (through torchrun); use workers: 1.");
        if (spec.Distribution == Distribution.PyTorchJob && spec.Framework is not (Framework.PyTorch or Framework.Custom))
            Add("framework", $"Distribution 'pytorchjob' runs PyTorch code; framework '{Name(spec.Framework)}' does not fit it.");

        var r = spec.Resources ?? new Resources();
        if (r.Cpu is not null && !IsQuantity(r.Cpu)) Add("resources.cpu", $"'{r.Cpu}' is not a Kubernetes quantity (e.g. \"2\", \"500m\").");
        if (r.Memory is not null && !IsQuantity(r.Memory)) Add("resources.memory", $"'{r.Memory}' is not a Kubernetes quantity (e.g. \"8Gi\", \"512Mi\").");
        if (r.SharedMemory is not null && !IsQuantity(r.SharedMemory)) Add("resources.sharedMemory", $"'{r.SharedMemory}' is not a Kubernetes quantity (e.g. \"2Gi\").");
        if (r.Gpus < 0 || r.Gpus > MaxGpusPerWorker) Add("resources.gpus", $"GPUs per worker must be between 0 and {MaxGpusPerWorker}; got {r.Gpus}.");

        var inputNames = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < spec.Inputs.Count; i++)
        {
            var input = spec.Inputs[i];
            if (input is null)
            {
                Add($"inputs[{i}]", "Inputs must not be null.");
                continue;
            }
            if (string.IsNullOrWhiteSpace(input.Dataset)) Add($"inputs[{i}].dataset", "The dataset name is required.");
            if (string.IsNullOrWhiteSpace(input.Version)) Add($"inputs[{i}].version", "The version is required: a number, 'v3', a tag or 'latest'.");
            var name = InputEnvName(input);
            if (name.Length == 0) Add($"inputs[{i}].name", "The input needs a name made of letters, digits or '_'.");
            else if (!inputNames.Add(name)) Add($"inputs[{i}].name", $"Two inputs are both named '{name}'; give one of them another name.");
        }

        foreach (var (key, value) in spec.Hyperparameters)
        {
            if (!HyperparameterName().IsMatch(key)) Add($"hyperparameters.{key}", $"'{key}' is not a valid hyperparameter name (letters, digits, '_', '-' and '.', starting with a letter).");
            if (value is null) Add($"hyperparameters.{key}", "Hyperparameter values must not be null.");
        }

        var s = spec.Scheduling ?? new Scheduling();
        if (s.Queue is not null && !Dns1123Label().IsMatch(s.Queue)) Add("scheduling.queue", $"'{s.Queue}' is not a valid queue name (DNS-1123 label).");
        if (s.Queue is not null && spec.Distribution != Distribution.Volcano) Add("scheduling.queue", "Queues are a Volcano feature; set distribution to 'volcano' or remove the queue.");
        if (s.PriorityClass is not null && !Dns1123Subdomain().IsMatch(s.PriorityClass)) Add("scheduling.priorityClass", $"'{s.PriorityClass}' is not a valid priority class name.");
        foreach (var (key, value) in s.NodeSelector)
        {
            if (!LabelKey().IsMatch(key)) Add($"scheduling.nodeSelector.{key}", $"'{key}' is not a valid label key.");
            if (value is null || !LabelValue().IsMatch(value)) Add($"scheduling.nodeSelector.{key}", $"'{value}' is not a valid label value (at most 63 characters of letters, digits, '-', '_' and '.').");
        }
        for (var i = 0; i < s.Tolerations.Count; i++)
        {
            var t = s.Tolerations[i];
            if (t is null)
            {
                Add($"scheduling.tolerations[{i}]", "Tolerations must not be null.");
                continue;
            }
            if (t.Operator is not ("Equal" or "Exists")) Add($"scheduling.tolerations[{i}].operator", $"'{t.Operator}' is not a toleration operator; use Equal or Exists.");
            if (t.Operator == "Exists" && !string.IsNullOrEmpty(t.Value)) Add($"scheduling.tolerations[{i}].value", "A toleration with operator Exists takes no value.");
            if (t.Operator == "Equal" && string.IsNullOrEmpty(t.Key)) Add($"scheduling.tolerations[{i}].key", "A toleration with operator Equal needs a key.");
            if (t.Key is not null && !LabelKey().IsMatch(t.Key)) Add($"scheduling.tolerations[{i}].key", $"'{t.Key}' is not a valid taint key.");
            if (t.Effect is not (null or "NoSchedule" or "PreferNoSchedule" or "NoExecute"))
                Add($"scheduling.tolerations[{i}].effect", $"'{t.Effect}' is not a taint effect; use NoSchedule, PreferNoSchedule or NoExecute.");
        }

        if (spec.Retries is < 0 or > 10) Add("retries", $"Retries must be between 0 and 10; got {spec.Retries}.");
        if (spec.TimeoutSeconds is < 1 or > 30 * 24 * 3600) Add("timeoutSeconds", "The timeout must be between 1 second and 30 days.");
        if (spec.Namespace is not null && (spec.Namespace.Length > 63 || !Dns1123Label().IsMatch(spec.Namespace)))
            Add("namespace", $"'{spec.Namespace}' is not a valid namespace name.");
        if (spec.Namespace is not null && !cluster) Add("namespace", "A namespace applies only to cluster distributions.");
        if (spec.Experiment is { } experiment && (experiment.Length is 0 or > 128)) Add("experiment", "The experiment name must have 1 to 128 characters.");

        if (spec.Search is { } search)
        {
            Cube.Training.Search.SearchSpace.Validate(spec, Add);
            foreach (var name in (search.Space ?? new Dictionary<string, ParameterSpec>()).Keys.Append(search.Resource ?? ""))
                if (spec.Hyperparameters.ContainsKey(name))
                    Add(name == search.Resource ? "search.resource" : $"search.space.{name}", $"'{name}' is also a fixed hyperparameter; the search sets it, so remove it from hyperparameters.");
        }

        return errors.ToDictionary(e => e.Key, e => e.Value.ToArray(), StringComparer.Ordinal);
    }

    public static bool IsHyperparameterName(string name) => HyperparameterName().IsMatch(name);

    /// <summary>Throws a <see cref="ValidationException"/> (400 with an errors map) when the spec is invalid.</summary>
    public static void EnsureValid(JobSpec spec)
    {
        var errors = Validate(spec);
        if (errors.Count > 0) throw new ValidationException(errors);
    }

    /// <summary>The environment-variable suffix of an input: its name (or dataset) upper-cased, other characters as '_'.</summary>
    public static string InputEnvName(DatasetInput input)
    {
        var source = string.IsNullOrWhiteSpace(input.Name) ? input.Dataset ?? "" : input.Name;
        var chars = source.Trim().Select(c => char.IsAsciiLetterOrDigit(c) ? char.ToUpperInvariant(c) : '_').ToArray();
        var name = new string(chars).Trim('_');
        return name.Length > 0 && char.IsAsciiDigit(name[0]) ? "_" + name : name;
    }

    /// <summary>The spec's enum value as written in JSON.</summary>
    public static string Name(Distribution d) => d switch
    {
        Distribution.Local => "local",
        Distribution.PyTorchJob => "pytorchjob",
        Distribution.Volcano => "volcano",
        Distribution.IndexedJob => "indexed-job",
        _ => d.ToString(),
    };

    public static string Name(Framework f) => f.ToString().ToLowerInvariant();

    /// <summary>A Kubernetes resource quantity: a decimal number with an optional binary or decimal suffix.</summary>
    public static bool IsQuantity(string value) =>
        Quantity().Match(value) is { Success: true } m
        && decimal.TryParse(m.Groups["number"].Value, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var number)
        && number > 0;

    private static bool IsReserved(string name) =>
        name.StartsWith("CUBE_", StringComparison.Ordinal)
        || name is "RANK" or "WORLD_SIZE" or "LOCAL_RANK" or "MASTER_ADDR" or "MASTER_PORT" or "LOCAL_WORLD_SIZE" or "NODE_RANK";

    [GeneratedRegex("^[a-z]([-a-z0-9]*[a-z0-9])?$")]
    private static partial Regex Dns1123Label();

    [GeneratedRegex("^(?=.{1,253}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")]
    private static partial Regex Dns1123Subdomain();

    [GeneratedRegex("^[A-Za-z_][A-Za-z0-9_]*$")]
    private static partial Regex EnvName();

    [GeneratedRegex("^[A-Za-z][A-Za-z0-9_.-]{0,63}$")]
    private static partial Regex HyperparameterName();

    [GeneratedRegex("^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$")]
    private static partial Regex LabelKey();

    [GeneratedRegex("^(([A-Za-z0-9][-A-Za-z0-9_.]{0,61})?[A-Za-z0-9])?$")]
    private static partial Regex LabelValue();

    [GeneratedRegex("^(?<number>[0-9]+(\\.[0-9]+)?)(Ki|Mi|Gi|Ti|Pi|Ei|m|k|M|G|T|P|E)?$")]
    private static partial Regex Quantity();

    [GeneratedRegex("^([a-z0-9.-]+(:[0-9]+)?/)?[a-z0-9]+([._-][a-z0-9]+)*(/[a-z0-9]+([._-][a-z0-9]+)*)*(:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?(@sha256:[a-f0-9]{64})?$")]
    private static partial Regex ImageReference();
}
