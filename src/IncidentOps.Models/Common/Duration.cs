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
        if (TryParseUnits(t, out value, out _)) return true;
        value = default;
        if (t.Contains(':') && TimeSpan.TryParse(t, CultureInfo.InvariantCulture, out value)) return value >= TimeSpan.Zero;
        return false;
    }

    // Number-unit pairs in the order d, h, m, s, ms, each at most once, in any letter case, with blanks allowed
    // around them: 2d, 1h30m, 1.5h, 90 s, 500ms. Milliseconds take whole numbers only.
    private static bool TryParseUnits(string t, out TimeSpan value, out bool overflow)
    {
        value = default;
        overflow = false;
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
        // TimeSpan tops out near 10.7 million days; a larger value is refused rather than thrown (99999999d).
        var totalMs = parts[Days] * 86_400_000d + parts[Hours] * 3_600_000d + parts[Minutes] * 60_000d + parts[Seconds] * 1000d + parts[Milliseconds];
        if (totalMs >= TimeSpan.MaxValue.TotalMilliseconds) { overflow = true; return false; }
        value = TimeSpan.FromDays(parts[Days]) + TimeSpan.FromHours(parts[Hours]) + TimeSpan.FromMinutes(parts[Minutes])
            + TimeSpan.FromSeconds(parts[Seconds]) + TimeSpan.FromMilliseconds(parts[Milliseconds]);
        return true;
    }

    /// <summary>The longest duration accepted anywhere (TimeSpan's own limit is about 10.7 million days).</summary>
    public static readonly TimeSpan Max = TimeSpan.FromDays(3650_000);

    /// <summary>
    /// The one rule for durations in parameters and in incidentops.yml: a duration string (90s, 5m, 1h30m, 2d,
    /// 500ms, hh:mm:ss) or a bare number of seconds (2, 1.5). Errors carry a stable id: DurationInvalid,
    /// DurationNegative or DurationOutOfRange.
    /// </summary>
    public static bool TryParseSetting(string? text, out TimeSpan value, out string? errorId, out string? message)
    {
        value = default;
        errorId = null;
        message = null;
        var t = text?.Trim() ?? "";
        if (t.Length == 0)
        {
            (errorId, message) = (CommonErrorIds.DurationInvalid, "An empty value is not a duration. Use 90s, 5m, 1h, 1h30m, 2d, hh:mm:ss, or a number of seconds.");
            return false;
        }
        if (TryParse(t, out value)) return Check(t, value, out errorId, out message);
        if (double.TryParse(t, NumberStyles.Float, CultureInfo.InvariantCulture, out var seconds) && !double.IsNaN(seconds) && !double.IsInfinity(seconds))
            return FromSeconds(t, seconds, out value, out errorId, out message);
        if (TryParseUnits(t, out _, out var overflow) || overflow)
        {
            (errorId, message) = (CommonErrorIds.DurationOutOfRange, $"'{t}' is longer than the longest duration allowed ({Max.TotalDays:0} days).");
            return false;
        }
        if (t.StartsWith('-'))
        {
            (errorId, message) = (CommonErrorIds.DurationNegative, $"'{t}' is negative; a duration must be zero or more.");
            return false;
        }
        (errorId, message) = (CommonErrorIds.DurationInvalid, $"'{t}' is not a duration. Use 90s, 5m, 1h, 1h30m, 2d, 500ms, hh:mm:ss, or a number of seconds.");
        return false;
    }

    /// <summary>A number of seconds as a duration, with the same range checks as <see cref="TryParseSetting"/>.</summary>
    public static bool FromSeconds(string shown, double seconds, out TimeSpan value, out string? errorId, out string? message)
    {
        value = default;
        if (seconds < 0)
        {
            (errorId, message) = (CommonErrorIds.DurationNegative, $"'{shown}' is negative; a duration must be zero or more.");
            return false;
        }
        if (seconds * 1000d >= Max.TotalMilliseconds)
        {
            (errorId, message) = (CommonErrorIds.DurationOutOfRange, $"'{shown}' is longer than the longest duration allowed ({Max.TotalDays:0} days).");
            return false;
        }
        value = TimeSpan.FromMilliseconds(Math.Round(seconds * 1000d, 3));
        return Check(shown, value, out errorId, out message);
    }

    /// <summary>Range checks shared by every form: not negative, not beyond <see cref="Max"/>, and not a non-zero span under a millisecond (that is ticks, never meant).</summary>
    public static bool Check(string shown, TimeSpan value, out string? errorId, out string? message)
    {
        (errorId, message) = (null, null);
        if (value < TimeSpan.Zero) (errorId, message) = (CommonErrorIds.DurationNegative, $"'{shown}' is negative; a duration must be zero or more.");
        else if (value > Max) (errorId, message) = (CommonErrorIds.DurationOutOfRange, $"'{shown}' is longer than the longest duration allowed ({Max.TotalDays:0} days).");
        else if (value > TimeSpan.Zero && value < TimeSpan.FromMilliseconds(1))
            (errorId, message) = (CommonErrorIds.DurationTooSmall, $"'{shown}' is {value.Ticks} ticks, under a millisecond; that is never a meaningful duration here. Write the unit: 30s, 10m, 2d (a bare number means seconds).");
        return errorId is null;
    }

    public static TimeSpan Parse(string text) =>
        TryParse(text, out var v) ? v : throw new FormatException($"'{text}' is not a duration. Use 90s, 5m, 1h, 2d or hh:mm:ss.");

    /// <summary>
    /// A measured elapsed time in a table column, where the width stays steady: tenths under 10 s (2.3s), then
    /// 45s, 5m03s, 1h05m, 2d03h with the lower part always shown. Empty for null.
    /// </summary>
    public static string FormatElapsed(TimeSpan? value)
    {
        if (value is not { } d) return string.Empty;
        var c = CultureInfo.InvariantCulture;
        if (d.TotalSeconds < 10) return d.TotalSeconds.ToString("0.0", c) + "s";
        if (d.TotalMinutes < 1) return ((int)Math.Floor(d.TotalSeconds)).ToString(c) + "s";
        if (d.TotalHours < 1) return ((int)Math.Floor(d.TotalMinutes)).ToString(c) + "m" + d.Seconds.ToString("00", c) + "s";
        if (d.TotalDays < 1) return ((int)Math.Floor(d.TotalHours)).ToString(c) + "h" + d.Minutes.ToString("00", c) + "m";
        return ((int)Math.Floor(d.TotalDays)).ToString(c) + "d" + d.Hours.ToString("00", c) + "h";
    }

    /// <summary>
    /// The one short human form of a duration, used by views, timeline text, reports and notifications:
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
