using System.Text;
using System.Text.RegularExpressions;
using IncidentOps.Platforms;

namespace IncidentOps.Engine.Platforms;

/// <summary>
/// The filters of Get-AppLog, applied the same way to a read (-Tail) and to a followed stream (-Follow), after the
/// platform CLI's own narrowing: -Since (time), -Pattern (case-insensitive regex on the message, like the seeds'
/// grep -i), -Level (this level and more severe) and -Instance (a wildcard on the instance or one of its parts).
/// </summary>
public sealed class LogFilter
{
    private readonly DateTimeOffset? _from;
    private readonly Regex? _pattern;
    private readonly int? _level;
    private readonly Regex? _instance;

    private LogFilter(DateTimeOffset? from, Regex? pattern, int? level, Regex? instance)
    {
        _from = from; _pattern = pattern; _level = level; _instance = instance;
    }

    /// <summary>The levels -Level accepts, most verbose first.</summary>
    public static readonly IReadOnlyList<string> Levels = ["debug", "info", "notice", "warning", "error", "critical", "alert", "emergency"];

    /// <summary>Builds the filter of a query; a bad -Pattern is InvalidPattern, an unknown -Level is LogLevelInvalid.</summary>
    public static LogFilter Create(LogQuery query)
    {
        Regex? pattern = null;
        if (query.Pattern is not null)
        {
            try { pattern = new Regex(query.Pattern, RegexOptions.IgnoreCase | RegexOptions.CultureInvariant, TimeSpan.FromSeconds(1)); }
            catch (ArgumentException ex)
            {
                throw new IncidentOpsException(PlatformErrorIds.InvalidPattern, IncidentOpsErrorCategory.InvalidArgument, $"-Pattern '{query.Pattern}' is not a valid regular expression: {ex.Message}") { TargetObject = query.Pattern };
            }
        }
        int? level = null;
        if (query.Level is not null)
        {
            level = Severity(query.Level) ?? throw new IncidentOpsException(PlatformErrorIds.LogLevelInvalid, IncidentOpsErrorCategory.InvalidArgument,
                $"-Level '{query.Level}' is not a log level. Use one of {string.Join(", ", Levels)}: the entries of that level and more severe are shown.") { TargetObject = query.Level };
        }
        var instance = query.Instance is null ? null : Wildcard(query.Instance);
        return new LogFilter(query.Since is { } s ? DateTimeOffset.UtcNow - s : null, pattern, level, instance);
    }

    /// <summary>True when the entry passes every filter given. An entry without a level never passes -Level.</summary>
    public bool Matches(AppLogEntry e)
    {
        if (_from is { } from && e.Timestamp is { } t && t < from) return false;
        if (_level is { } min && (Severity(e.Level) is not { } sev || sev > min)) return false;
        if (_instance is not null && !InstanceMatches(e.Instance)) return false;
        if (_pattern is not null && !_pattern.IsMatch(e.Message)) return false;
        return true;
    }

    /// <summary>
    /// The instance as a whole or one of its parts: kubectl's pod/NAME/CONTAINER, journald's HOST[PID] (the host),
    /// so -Instance marketing-7d9f* or -Instance api-1 matches without the platform's decoration.
    /// </summary>
    private bool InstanceMatches(string? instance)
    {
        if (instance is null) return false;
        if (_instance!.IsMatch(instance)) return true;
        var bracket = instance.IndexOf('[');
        if (bracket > 0 && _instance.IsMatch(instance[..bracket])) return true;
        return instance.Split('/').Any(part => _instance.IsMatch(part));
    }

    /// <summary>
    /// syslog severity (0 emergency .. 7 debug) of a level as the platforms write it: journald's priority names,
    /// Fly's and the guessed levels (info, warn, warning, error, fatal, panic ...). Null for anything else.
    /// </summary>
    public static int? Severity(string? level) => level?.Trim().ToLowerInvariant() switch
    {
        "emerg" or "emergency" or "panic" => 0,
        "alert" => 1,
        "crit" or "critical" or "fatal" => 2,
        "err" or "error" => 3,
        "warn" or "warning" => 4,
        "notice" => 5,
        "info" or "information" or "informational" => 6,
        "debug" or "trace" => 7,
        _ => null,
    };

    /// <summary>True when a -Instance value names one instance exactly (no wildcard), so the CLI can narrow to it.</summary>
    public static bool IsExact(string? instance) => instance is { Length: > 0 } && instance.IndexOfAny(['*', '?', '[']) < 0;

    private static Regex Wildcard(string pattern)
    {
        var sb = new StringBuilder("^");
        foreach (var c in pattern)
            sb.Append(c switch { '*' => ".*", '?' => ".", _ => Regex.Escape(c.ToString()) });
        return new Regex(sb.Append('$').ToString(), RegexOptions.IgnoreCase | RegexOptions.CultureInvariant);
    }
}

/// <summary>
/// Frames a stream of JSON values that arrive line by line (flyctl logs --json writes each entry pretty-printed over
/// several lines): Add takes one line and returns the values it completed. Text outside a value is returned as its own
/// chunk, so that parsing it fails with the command's name (as PlatformAdapterBase.JsonValues does for a whole read).
/// </summary>
public sealed class JsonValueFramer
{
    private readonly StringBuilder _value = new();
    private int _depth;
    private bool _inString, _escaped;

    public IReadOnlyList<string> Add(string line)
    {
        var done = new List<string>();
        var text = line + "\n";
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (_depth == 0 && _value.Length == 0)
            {
                if (char.IsWhiteSpace(c)) continue;
                if (c is not ('{' or '['))
                {
                    // Not JSON: hand back the rest of the line as one chunk.
                    done.Add(line[i..].Trim());
                    return done;
                }
            }
            _value.Append(c);
            if (_inString)
            {
                if (_escaped) _escaped = false;
                else if (c == '\\') _escaped = true;
                else if (c == '"') _inString = false;
                continue;
            }
            if (c == '"') _inString = true;
            else if (c is '{' or '[') _depth++;
            else if (c is '}' or ']' && --_depth == 0)
            {
                done.Add(_value.ToString());
                _value.Clear();
            }
        }
        return done;
    }

    /// <summary>What is left when the stream ends (an unfinished value), or null.</summary>
    public string? Rest => _value.Length == 0 ? null : _value.ToString();
}
