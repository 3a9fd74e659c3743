using Cube.Cli;

// `cube` with no verb, or with only configuration switches, serves: that is what a newcomer and the test host expect.
if (args.Length == 0 || args[0].StartsWith('-') && args[0] is not ("-h" or "--help" or "-?" or "--version"))
    return await HostRunner.RunServerAsync(args);

return await CubeCommands.Build().Parse(args).InvokeAsync();

/// <summary>Entry point type, public for the integration tests' WebApplicationFactory.</summary>
public partial class Program;
