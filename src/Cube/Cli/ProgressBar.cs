using System.Diagnostics;
using System.Globalization;

namespace Cube.Cli;

/// <summary>
/// A one-line transfer progress display on stderr, redrawn with a carriage return: bytes done of total, rate, and
/// the current file. Silent unless stderr is a terminal, so redirected output and CI logs stay clean.
/// </summary>
internal sealed class ProgressBar(TextWriter error, bool enabled, long totalBytes)
{
    private const int BarWidth = 24;
    private static readonly TimeSpan RedrawInterval = TimeSpan.FromMilliseconds(100);

    private readonly Stopwatch _clock = Stopwatch.StartNew();
    // One interval in the past, so the first report draws at once.
    private TimeSpan _lastDraw = -RedrawInterval;
    private int _lastWidth;
    private long _done;

    public long Done => _done;
    public TimeSpan Elapsed => _clock.Elapsed;

    /// <summary>Sets the bytes done (which may go back when a failed request is resumed) and redraws at most ten times a second.</summary>
    public void Report(long done, string file, long fileDone, long fileSize)
    {
        _done = done;
        if (!enabled || _clock.Elapsed - _lastDraw < RedrawInterval) return;
        _lastDraw = _clock.Elapsed;
        Draw(file, fileDone, fileSize);
    }

    /// <summary>Ends the line so what follows starts clean.</summary>
    public void Finish()
    {
        if (!enabled) return;
        Draw("", 0, 0);
        error.WriteLine();
    }

    private void Draw(string file, long fileDone, long fileSize)
    {
        var fraction = totalBytes == 0 ? 1 : Math.Clamp((double)_done / totalBytes, 0, 1);
        var filled = (int)Math.Round(fraction * BarWidth);
        var line = string.Create(CultureInfo.InvariantCulture,
            $"[{new string('#', filled)}{new string('-', BarWidth - filled)}] {Bytes(_done)} / {Bytes(totalBytes)}  {Rate(_done, _clock.Elapsed)}");
        if (file.Length > 0) line += string.Create(CultureInfo.InvariantCulture, $"  {Shorten(file, 40)} {Bytes(fileDone)}/{Bytes(fileSize)}");
        // Pad over the previous, possibly longer, line instead of relying on terminal escape codes.
        var padded = line.PadRight(_lastWidth);
        _lastWidth = line.Length;
        error.Write('\r');
        error.Write(padded);
        error.Flush();
    }

    private static string Shorten(string text, int max) => text.Length <= max ? text : "…" + text[^(max - 1)..];

    public static string Rate(long bytes, TimeSpan elapsed) =>
        elapsed.TotalSeconds < 0.001 ? "-" : Bytes((long)(bytes / elapsed.TotalSeconds)) + "/s";

    public static string Bytes(long bytes)
    {
        string[] units = ["B", "KiB", "MiB", "GiB", "TiB"];
        double value = bytes;
        var unit = 0;
        while (value >= 1024 && unit < units.Length - 1)
        {
            value /= 1024;
            unit++;
        }
        return unit == 0
            ? string.Create(CultureInfo.InvariantCulture, $"{bytes} B")
            : string.Create(CultureInfo.InvariantCulture, $"{value:0.0} {units[unit]}");
    }
}
