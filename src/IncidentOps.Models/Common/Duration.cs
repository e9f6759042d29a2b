using System.Globalization;
using System.Text.RegularExpressions;

namespace IncidentOps;

/// <summary>Parses the durations used in configuration and parameters: 90s, 5m, 1h, 2d, 1h30m, 500ms, or hh:mm:ss.</summary>
public static class Duration
{
    private static readonly Regex Compound = new(@"^\s*(?:(?<d>\d+(?:\.\d+)?)\s*d)?\s*(?:(?<h>\d+(?:\.\d+)?)\s*h)?\s*(?:(?<m>\d+(?:\.\d+)?)\s*m(?!s))?\s*(?:(?<s>\d+(?:\.\d+)?)\s*s)?\s*(?:(?<ms>\d+)\s*ms)?\s*$", RegexOptions.IgnoreCase | RegexOptions.Compiled);

    public static bool TryParse(string? text, out TimeSpan value)
    {
        value = default;
        if (string.IsNullOrWhiteSpace(text)) return false;
        var t = text.Trim();
        var m = Compound.Match(t);
        if (m.Success && (m.Groups["d"].Success || m.Groups["h"].Success || m.Groups["m"].Success || m.Groups["s"].Success || m.Groups["ms"].Success))
        {
            double G(string n) => m.Groups[n].Success ? double.Parse(m.Groups[n].Value, CultureInfo.InvariantCulture) : 0;
            value = TimeSpan.FromDays(G("d")) + TimeSpan.FromHours(G("h")) + TimeSpan.FromMinutes(G("m")) + TimeSpan.FromSeconds(G("s")) + TimeSpan.FromMilliseconds(G("ms"));
            return true;
        }
        if (t.Contains(':') && TimeSpan.TryParse(t, CultureInfo.InvariantCulture, out value)) return value >= TimeSpan.Zero;
        return false;
    }

    public static TimeSpan Parse(string text) =>
        TryParse(text, out var v) ? v : throw new FormatException($"'{text}' is not a duration. Use 90s, 5m, 1h, 2d or hh:mm:ss.");

    /// <summary>Short human form: 45s, 12m, 1h05m, 2d03h.</summary>
    public static string Format(TimeSpan? value)
    {
        if (value is null) return string.Empty;
        var v = value.Value;
        var sign = v < TimeSpan.Zero ? "-" : "";
        v = v.Duration();
        if (v.TotalSeconds < 1) return $"{sign}{(int)v.TotalMilliseconds}ms";
        if (v.TotalMinutes < 1) return $"{sign}{(int)v.TotalSeconds}s";
        if (v.TotalHours < 1) return $"{sign}{(int)v.TotalMinutes}m{(v.Seconds > 0 ? v.Seconds.ToString("00") + "s" : "")}";
        if (v.TotalDays < 1) return $"{sign}{(int)v.TotalHours}h{v.Minutes:00}m";
        return $"{sign}{(int)v.TotalDays}d{v.Hours:00}h";
    }
}
