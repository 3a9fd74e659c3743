using System.Buffers.Text;
using System.Globalization;
using System.Text;

namespace Cube.DataHub.Tables.Text;

/// <summary>Parsers over UTF-8 field bytes, so text inputs are typed without allocating a string per value.</summary>
internal static class ValueParsers
{
    [Flags]
    public enum Fits : byte
    {
        None = 0,
        Boolean = 1,
        Int64 = 2,
        Double = 4,
        Date = 8,
        Timestamp = 16,
        TimestampTz = 32,
        All = Boolean | Int64 | Double | Date | Timestamp | TimestampTz,
    }

    private const long MicrosPerDay = 86_400_000_000L;

    /// <summary>Null tokens of delimited text. <c>NaN</c> is handled apart: it is a value in float columns.</summary>
    public static bool IsNullToken(ReadOnlySpan<byte> s) => s.Length switch
    {
        0 => true,
        2 => s.SequenceEqual("NA"u8),
        3 => s.SequenceEqual("N/A"u8),
        4 => s.SequenceEqual("null"u8) || s.SequenceEqual("NULL"u8) || s.SequenceEqual("Null"u8),
        _ => false,
    };

    public static bool IsNaN(ReadOnlySpan<byte> s) => s.Length == 3 && Ascii.EqualsIgnoreCase(s, "NaN"u8);

    /// <summary>The kinds a non-null value fits; a date also fits a naive timestamp (midnight).</summary>
    public static Fits Classify(ReadOnlySpan<byte> s)
    {
        if (TryParseBoolean(s, out _)) return Fits.Boolean;
        if (TryParseInt64(s, out _)) return Fits.Int64 | Fits.Double;
        if (TryParseDouble(s, out _)) return Fits.Double;
        if (TryParseTimestamp(s, out _, out var hasOffset, out var dateOnly))
            return dateOnly ? Fits.Date | Fits.Timestamp : hasOffset ? Fits.TimestampTz : Fits.Timestamp;
        return Fits.None;
    }

    public static ColumnKind Narrowest(Fits fits) =>
        (fits & Fits.Boolean) != 0 ? ColumnKind.Boolean
        : (fits & Fits.Int64) != 0 ? ColumnKind.Int64
        : (fits & Fits.Double) != 0 ? ColumnKind.Double
        : (fits & Fits.Date) != 0 ? ColumnKind.Date
        : (fits & Fits.Timestamp) != 0 ? ColumnKind.Timestamp
        : (fits & Fits.TimestampTz) != 0 ? ColumnKind.TimestampTz
        : ColumnKind.String;

    public static bool TryParseBoolean(ReadOnlySpan<byte> s, out bool value)
    {
        value = false;
        switch (s.Length)
        {
            case 2 when Ascii.EqualsIgnoreCase(s, "no"u8): return true;
            case 3 when Ascii.EqualsIgnoreCase(s, "yes"u8): value = true; return true;
            case 4 when Ascii.EqualsIgnoreCase(s, "true"u8): value = true; return true;
            case 5 when Ascii.EqualsIgnoreCase(s, "false"u8): return true;
            default: return false;
        }
    }

    public static bool TryParseInt64(ReadOnlySpan<byte> s, out long value) =>
        Utf8Parser.TryParse(s, out value, out var consumed) && consumed == s.Length && s.Length > 0;

    public static bool TryParseDouble(ReadOnlySpan<byte> s, out double value)
    {
        // Leading/trailing blanks and thousands separators are not numbers in a data file: keep them strings.
        if (s.Length == 0 || s[0] == (byte)' ' || s[^1] == (byte)' ')
        {
            value = 0;
            return false;
        }
        return TryParseSimpleDouble(s, out value) || double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out value);
    }

    private static ReadOnlySpan<double> PowersOfTen =>
    [
        1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
        1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
    ];

    /// <summary>
    /// The common shape of numbers in data files, <c>-?\d+(\.\d+)?</c> with at most 15 significant digits, parsed
    /// exactly: the digits form an integer below 2^53 and 10^k for k ≤ 22 is exact, so one correctly rounded IEEE
    /// division gives the correctly rounded result (Clinger's fast path). Anything else (exponents, long mantissas,
    /// <c>inf</c>) is left to <see cref="double.TryParse(ReadOnlySpan{byte}, NumberStyles, IFormatProvider, out double)"/>.
    /// </summary>
    internal static bool TryParseSimpleDouble(ReadOnlySpan<byte> s, out double value)
    {
        value = 0;
        if (s.IsEmpty) return false;
        var i = 0;
        var negative = false;
        if (s[0] == (byte)'-') { negative = true; i = 1; }
        else if (s[0] == (byte)'+') i = 1;
        long mantissa = 0;
        var digits = 0;
        var intStart = i;
        while (i < s.Length && (uint)(s[i] - '0') <= 9)
        {
            mantissa = mantissa * 10 + (s[i] - '0');
            if (mantissa != 0) digits++;
            i++;
        }
        var intDigits = i - intStart;
        var fraction = 0;
        if (i < s.Length && s[i] == (byte)'.')
        {
            var start = ++i;
            while (i < s.Length && (uint)(s[i] - '0') <= 9)
            {
                mantissa = mantissa * 10 + (s[i] - '0');
                if (mantissa != 0) digits++;
                i++;
            }
            fraction = i - start;
        }
        if (i != s.Length || intDigits + fraction == 0 || digits > 15 || fraction > 22) return false;
        var result = fraction == 0 ? mantissa : mantissa / PowersOfTen[fraction];
        value = negative ? -result : result;
        return true;
    }

    /// <summary>ISO 8601: <c>yyyy-MM-dd</c>, optionally followed by <c>T</c> or a space, <c>HH:mm[:ss[.f…]]</c>
    /// and <c>Z</c> or <c>±HH[:]mm</c>. Microseconds since the epoch; offsets are applied so the result is UTC.</summary>
    public static bool TryParseTimestamp(ReadOnlySpan<byte> s, out long micros, out bool hasOffset, out bool dateOnly)
    {
        micros = 0;
        hasOffset = false;
        dateOnly = false;
        if (s.Length < 10 || s[4] != '-' || s[7] != '-') return false;
        if (!Digits(s, 0, 4, out var year) || !Digits(s, 5, 2, out var month) || !Digits(s, 8, 2, out var day)) return false;
        if (month is < 1 or > 12 || day < 1 || day > DateTime.DaysInMonth(Math.Max(1, year), month) || year < 1) return false;
        var days = DaysFromCivil(year, month, day);
        if (s.Length == 10)
        {
            dateOnly = true;
            micros = days * MicrosPerDay;
            return true;
        }
        if ((s[10] != 'T' && s[10] != ' ') || s.Length < 16 || s[13] != ':') return false;
        if (!Digits(s, 11, 2, out var hour) || !Digits(s, 14, 2, out var minute) || hour > 23 || minute > 59) return false;
        var i = 16;
        int second = 0;
        long fraction = 0;
        if (i < s.Length && s[i] == ':')
        {
            if (!Digits(s, i + 1, 2, out second) || second > 59) return false;
            i += 3;
            if (i < s.Length && (s[i] == '.' || s[i] == ','))
            {
                var start = ++i;
                while (i < s.Length && (uint)(s[i] - '0') <= 9)
                {
                    // Digits past microseconds are truncated: the column is timestamp[us].
                    if (i - start < 6) fraction = fraction * 10 + (s[i] - '0');
                    i++;
                }
                if (i == start) return false;
                for (var k = Math.Min(i - start, 6); k < 6; k++) fraction *= 10;
            }
        }
        long offsetMinutes = 0;
        if (i < s.Length)
        {
            if (s[i] == 'Z' && i == s.Length - 1)
            {
                hasOffset = true;
            }
            else if (s[i] == '+' || s[i] == '-')
            {
                var sign = s[i] == '-' ? -1 : 1;
                var rest = s[(i + 1)..];
                int oh, om = 0;
                if (rest.Length == 2 && Digits(rest, 0, 2, out oh)) { }
                else if (rest.Length == 4 && Digits(rest, 0, 2, out oh) && Digits(rest, 2, 2, out om)) { }
                else if (rest.Length == 5 && rest[2] == ':' && Digits(rest, 0, 2, out oh) && Digits(rest, 3, 2, out om)) { }
                else return false;
                if (oh > 18 || om > 59) return false;
                hasOffset = true;
                offsetMinutes = sign * (oh * 60L + om);
            }
            else
            {
                return false;
            }
        }
        micros = days * MicrosPerDay + ((hour * 60L + minute - offsetMinutes) * 60L + second) * 1_000_000L + fraction;
        return true;
    }

    public static bool TryParseDate(ReadOnlySpan<byte> s, out int days)
    {
        days = 0;
        if (s.Length != 10 || !TryParseTimestamp(s, out var micros, out _, out _)) return false;
        days = (int)(micros / MicrosPerDay);
        return true;
    }

    private static bool Digits(ReadOnlySpan<byte> s, int at, int count, out int value)
    {
        value = 0;
        if (at + count > s.Length) return false;
        for (var i = at; i < at + count; i++)
        {
            var d = s[i] - '0';
            if ((uint)d > 9) return false;
            value = value * 10 + d;
        }
        return true;
    }

    /// <summary>Days since 1970-01-01 for a proleptic Gregorian date (Howard Hinnant's algorithm).</summary>
    private static long DaysFromCivil(int y, int m, int d)
    {
        y -= m <= 2 ? 1 : 0;
        var era = (y >= 0 ? y : y - 399) / 400;
        var yoe = y - era * 400;
        var doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
        var doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        return era * 146097L + doe - 719468;
    }
}
