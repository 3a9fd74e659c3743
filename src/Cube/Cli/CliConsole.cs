namespace Cube.Cli;

/// <summary>
/// What the client verbs write to and talk through. The process uses <see cref="System"/>'s console and a real
/// socket; tests pass writers and an in-process HTTP handler so they need no port and do not race on <see cref="Console"/>.
/// </summary>
internal sealed class CliConsole(TextWriter output, TextWriter error, bool errorIsTerminal, HttpMessageHandler? handler = null,
    Func<string, string?>? environment = null)
{
    /// <summary>The real console; the progress bar draws only when stderr is a terminal.</summary>
    public static CliConsole System { get; } = new(Console.Out, Console.Error, !Console.IsErrorRedirected);

    public TextWriter Out => output;
    public TextWriter Error => error;

    /// <summary>Whether stderr can take carriage-return redraws; logs of redirected runs stay free of them.</summary>
    public bool ErrorIsTerminal => errorIsTerminal;

    /// <summary>The handler requests go through; null means a fresh <see cref="SocketsHttpHandler"/>.</summary>
    public HttpMessageHandler? Handler => handler;

    /// <summary>First delay between retries of a failed upload request; doubles per attempt. Tests shorten it.</summary>
    public TimeSpan RetryDelay { get; init; } = TimeSpan.FromSeconds(1);

    public string? Variable(string name) => environment is null ? Environment.GetEnvironmentVariable(name) : environment(name);
}
