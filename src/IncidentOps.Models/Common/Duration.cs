using System.Globalization;

namespace IncidentOps;

/// <summary>Parses the durations used in configuration and parameters: 90s, 5m, 1h, 2d, 1h30m, 500ms, or hh:mm:ss.</summary>
public static class Duration
{
    // Hand-written rather than a regex: a RegexOptions.Compiled pattern cost the first config load of a session
    // ~100 ms of Reflection.Emit and JIT, and even a source-generated one ~25 ms of JIT (bench/import/README.md).
    private const int Days = 0, Hours = 1, Minutes = 2, Seconds = 3, Milliseconds = 4;

    public static bool TryParse(string? text, out TimeSpan value)
    {
        value = default;
        if (string.IsNullOrWhiteSpace(text)) return false;
        var t = text.Trim();
        if (TryParseUnits(t, out value)) return true;
        value = default;
        if (t.Contains(':') && TimeSpan.TryParse(t, CultureInfo.InvariantCulture, out value)) return value >= TimeSpan.Zero;
        return false;
    }

    // Number-unit pairs in the order d, h, m, s, ms, each at most once, in any letter case, with blanks allowed
    // around them: 2d, 1h30m, 1.5h, 90 s, 500ms. Milliseconds take whole numbers only.
    private static bool TryParseUnits(string t, out TimeSpan value)
    {
        value = default;
        Span<double> parts = stackalloc double[5];
        parts.Clear();
        int i = 0, last = -1;
        while (true)
        {
            while (i < t.Length && char.IsWhiteSpace(t[i])) i++;
            if (i == t.Length) break;
            var start = i;
            while (i < t.Length && char.IsAsciiDigit(t[i])) i++;
            if (i == start) return false;
            var fraction = false;
            if (i < t.Length && t[i] == '.')
            {
                var digits = ++i;
                while (i < t.Length && char.IsAsciiDigit(t[i])) i++;
                if (i == digits) return false;
                fraction = true;
            }
            var number = double.Parse(t.AsSpan(start, i - start), NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture);
            while (i < t.Length && char.IsWhiteSpace(t[i])) i++;
            if (i == t.Length) return false;
            int unit;
            if (char.ToLowerInvariant(t[i]) == 'm' && i + 1 < t.Length && char.ToLowerInvariant(t[i + 1]) == 's') { unit = Milliseconds; i += 2; }
            else
            {
                unit = char.ToLowerInvariant(t[i]) switch { 'd' => Days, 'h' => Hours, 'm' => Minutes, 's' => Seconds, _ => -1 };
                if (unit < 0) return false;
                i++;
            }
            if (unit <= last || (unit == Milliseconds && fraction)) return false;
            parts[unit] = number;
            last = unit;
        }
        if (last < 0) return false;
        value = TimeSpan.FromDays(parts[Days]) + TimeSpan.FromHours(parts[Hours]) + TimeSpan.FromMinutes(parts[Minutes])
            + TimeSpan.FromSeconds(parts[Seconds]) + TimeSpan.FromMilliseconds(parts[Milliseconds]);
        return true;
    }

    public static TimeSpan Parse(string text) =>
        TryParse(text, out var v) ? v : throw new FormatException($"'{text}' is not a duration. Use 90s, 5m, 1h, 2d or hh:mm:ss.");

    /// <summary>
    /// The one short human form of a duration, used by every view, timeline text, report and notification:
    /// 45s, 5m, 5m30s, 1h, 1h05m, 2d, 2d03h (zero trailing parts are left out; under a second: 250ms).
    /// Negative spans keep their sign.
    /// </summary>
    public static string Format(TimeSpan? value)
    {
        if (value is null) return string.Empty;
        var v = value.Value;
        var sign = v < TimeSpan.Zero ? "-" : "";
        v = v.Duration();
        if (v == TimeSpan.Zero) return "0s";
        if (v.TotalSeconds < 1) return $"{sign}{(int)v.TotalMilliseconds}ms";
        if (v.TotalMinutes < 1) return $"{sign}{(int)v.TotalSeconds}s";
        if (v.TotalHours < 1) return $"{sign}{(int)v.TotalMinutes}m{(v.Seconds > 0 ? v.Seconds.ToString("00", CultureInfo.InvariantCulture) + "s" : "")}";
        if (v.TotalDays < 1) return $"{sign}{(int)v.TotalHours}h{(v.Minutes > 0 ? v.Minutes.ToString("00", CultureInfo.InvariantCulture) + "m" : "")}";
        return $"{sign}{(int)v.TotalDays}d{(v.Hours > 0 ? v.Hours.ToString("00", CultureInfo.InvariantCulture) + "h" : "")}";
    }
}
