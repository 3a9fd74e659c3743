using Cronos;
using Cube.Core.Errors;

namespace Cube.Features.Schedules;

/// <summary>
/// A parsed cron expression in a time zone. Expressions have five fields (minute, hour, day of month, month, day of
/// week) or are macros (<c>@hourly</c>, <c>@daily</c>, ...), which is what Hangfire's recurring jobs accept too;
/// Hangfire's seconds field is refused, because schedules are minute-granular.
/// </summary>
public sealed class CronSchedule
{
    /// <summary>Backfills and look-backs never enumerate more occurrences than this.</summary>
    public const int MaxOccurrences = 1_000;

    private CronSchedule(string text, CronExpression expression, TimeZoneInfo zone)
    {
        Text = text;
        Expression = expression;
        Zone = zone;
    }

    public string Text { get; }
    public CronExpression Expression { get; }
    public TimeZoneInfo Zone { get; }

    /// <summary>Parses and validates; problems are <see cref="ValidationException"/>s naming <c>cron</c> or <c>timeZone</c>.</summary>
    public static CronSchedule Parse(string? cron, string? timeZone)
    {
        var errors = new Dictionary<string, string[]>();
        CronExpression? expression = null;
        var text = cron?.Trim() ?? "";
        if (text.Length == 0) errors["cron"] = ["A cron expression is required, e.g. '0 3 * * *' (03:00 every day)."];
        else if (text.Length > 128) errors["cron"] = ["The cron expression is longer than 128 characters."];
        else if (!text.StartsWith('@') && text.Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries).Length != 5)
            errors["cron"] = [$"'{text}' has {text.Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries).Length} fields; a schedule takes five (minute hour day-of-month month day-of-week) or a macro such as @daily."];
        else
        {
            try
            {
                expression = CronExpression.Parse(text, CronFormat.Standard);
            }
            catch (CronFormatException e)
            {
                errors["cron"] = [$"'{text}' is not a valid cron expression: {e.Message}"];
            }
        }

        TimeZoneInfo? zone = null;
        var zoneId = string.IsNullOrWhiteSpace(timeZone) ? "UTC" : timeZone.Trim();
        try
        {
            zone = TimeZoneInfo.FindSystemTimeZoneById(zoneId);
        }
        catch (Exception e) when (e is TimeZoneNotFoundException or InvalidTimeZoneException)
        {
            errors["timeZone"] = [$"'{zoneId}' is not a known time zone; use an IANA id such as 'Europe/Paris' or 'UTC'."];
        }
        if (errors.Count > 0) throw new ValidationException(errors);
        return new CronSchedule(text, expression!, zone!);
    }

    /// <summary>The first occurrence strictly after <paramref name="after"/>, or null when there is none.</summary>
    public DateTimeOffset? Next(DateTimeOffset after) => Expression.GetNextOccurrence(after.ToUniversalTime(), Zone)?.ToUniversalTime();

    /// <summary>The latest occurrence at or before <paramref name="at"/>, looking back at most about five years.</summary>
    public DateTimeOffset? Latest(DateTimeOffset at)
    {
        at = at.ToUniversalTime();
        // Widening windows: a per-minute schedule finds its occurrence in the first, a yearly one in a later one.
        foreach (var window in (ReadOnlySpan<TimeSpan>)[TimeSpan.FromHours(2), TimeSpan.FromDays(2), TimeSpan.FromDays(40), TimeSpan.FromDays(400), TimeSpan.FromDays(1900)])
        {
            DateTimeOffset? latest = null;
            foreach (var occurrence in Expression.GetOccurrences(at - window, at, Zone, fromInclusive: true, toInclusive: true)) latest = occurrence;
            if (latest is not null) return latest.Value.ToUniversalTime();
        }
        return null;
    }

    /// <summary>Occurrences in [<paramref name="from"/>, <paramref name="to"/>], in order; more than <paramref name="max"/> is a validation error on <c>to</c>.</summary>
    public IReadOnlyList<DateTimeOffset> Between(DateTimeOffset from, DateTimeOffset to, int max = MaxOccurrences)
    {
        var result = new List<DateTimeOffset>();
        foreach (var occurrence in Expression.GetOccurrences(from.ToUniversalTime(), to.ToUniversalTime(), Zone, fromInclusive: true, toInclusive: true))
        {
            if (result.Count == max)
                throw new ValidationException("to", $"The range holds more than {max:N0} occurrences of '{Text}'; backfill it in parts.");
            result.Add(occurrence.ToUniversalTime());
        }
        return result;
    }

    /// <summary>The logical date as a calendar date in the schedule's time zone (<c>ds</c>, yyyy-MM-dd).</summary>
    public string Ds(DateTimeOffset logicalDate) =>
        TimeZoneInfo.ConvertTime(logicalDate, Zone).ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture);
}
