using System.Globalization;
using System.Text.RegularExpressions;
using IncidentOps.Incidents;

namespace IncidentOps.Engine.Notifications.Slack;

/// <summary>
/// The name of an incident's own channel, from channels.NAME.incidentChannel: seed 002's #incident-YYYY-MM-DD-NNN is
/// incident-{yyyy}-{MM}-{dd}-{NNN}, seed 003's #incident-YYYYMMDD-HHmm is incident-{yyyy}{MM}{dd}-{HH}{mm}. Times are when
/// the incident was declared (UTC, the day of its id); {NNN} is the number of the incident's id (INC-20261130-007: 007), {id} the whole id in
/// lower case, {severity} its severity (p1). Slack's rule (conversations.create): lower-case letters, digits, hyphens
/// and underscores, at most 80 characters; a leading # is dropped.
/// </summary>
public static partial class SlackChannelName
{
    public const int MaxLength = 80;
    private static readonly string[] Tokens = ["yyyy", "yy", "MM", "dd", "HH", "mm", "NNN", "id", "severity"];

    [GeneratedRegex(@"\{([^{}]*)\}")]
    private static partial Regex Token();

    [GeneratedRegex(@"^[a-z0-9_-]+$")]
    private static partial Regex Allowed();

    /// <summary>Why the pattern cannot make a Slack channel name, or null.</summary>
    public static string? Problem(string pattern)
    {
        var p = pattern.Trim().TrimStart('#');
        if (p.Length == 0) return "is empty; write a name pattern such as incident-{yyyy}-{MM}-{dd}-{NNN}.";
        foreach (Match m in Token().Matches(p))
            if (!Tokens.Contains(m.Groups[1].Value, StringComparer.Ordinal))
                return $"'{pattern}' has the unknown placeholder {m.Value}. Use {string.Join(", ", Tokens.Select(t => "{" + t + "}"))}.";
        var literal = Token().Replace(p, "");
        if (literal.Any(char.IsUpper)) return $"'{pattern}' has upper-case letters; Slack channel names are lower case.";
        if (literal.Contains(' ')) return $"'{pattern}' has a space; Slack channel names have none (use - or _).";
        if (literal.Contains('.')) return $"'{pattern}' has a period; Slack channel names have none (use - or _).";
        if (literal.Length > 0 && !Allowed().IsMatch(literal))
            return $"'{pattern}' has characters Slack does not allow in a channel name; use lower-case letters, digits, - and _.";
        if (!Token().Matches(p).Any(m => m.Groups[1].Value is "NNN" or "id" or "mm"))
            return $"'{pattern}' gives every incident of a day the same channel name; add {{NNN}} (the incident's number) or {{id}}.";
        // The longest name it can make: a four-digit incident number, the longest severity id seen in practice.
        var longest = Render(p, "INC-20261130-9999", "sev99", new DateTimeOffset(2026, 11, 30, 23, 59, 0, TimeSpan.Zero));
        if (longest.Length > MaxLength) return $"'{pattern}' makes names up to {longest.Length} characters (for example {longest}); Slack allows {MaxLength}.";
        return null;
    }

    /// <summary>The channel name of an incident (the pattern was checked at load).</summary>
    public static string For(string pattern, Incident incident)
    {
        var name = Render(pattern.Trim().TrimStart('#'), incident.Id, incident.Severity, incident.DeclaredAt);
        return name.Length > MaxLength ? name[..MaxLength] : name;
    }

    private static string Render(string pattern, string id, string severity, DateTimeOffset started)
    {
        var t = started.ToUniversalTime();
        var number = id.LastIndexOf('-') is var dash and >= 0 ? id[(dash + 1)..] : id;
        var name = Token().Replace(pattern, m => m.Groups[1].Value switch
        {
            "yyyy" => t.ToString("yyyy", CultureInfo.InvariantCulture),
            "yy" => t.ToString("yy", CultureInfo.InvariantCulture),
            "MM" => t.ToString("MM", CultureInfo.InvariantCulture),
            "dd" => t.ToString("dd", CultureInfo.InvariantCulture),
            "HH" => t.ToString("HH", CultureInfo.InvariantCulture),
            "mm" => t.ToString("mm", CultureInfo.InvariantCulture),
            "NNN" => number,
            "id" => id,
            "severity" => severity,
            _ => m.Value,
        });
        // Ids and severities are written upper case (INC-..., P1); Slack names are lower case, and nothing else may pass.
        return new string(name.ToLowerInvariant().Select(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' ? c : '-').ToArray());
    }
}
