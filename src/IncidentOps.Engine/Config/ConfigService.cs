using System.Collections.Concurrent;
using IncidentOps.Config;
using IncidentOps.Engine.Notifications;

namespace IncidentOps.Engine.Config;

/// <summary>Finds, loads and caches incidentops.yml.</summary>
public sealed class ConfigService
{
    private static readonly ConcurrentDictionary<string, (DateTime Stamp, long Length, ConfigLoadResult Result)> Cache = new();

    public const string EnvironmentVariable = "INCIDENTOPS_CONFIG";

    /// <summary>
    /// The configuration file to use, in order: the explicit path, $env:INCIDENTOPS_CONFIG,
    /// ./incidentops.yml in <paramref name="currentDirectory"/>, then the user's config directory.
    /// Returns null when none exists (defaults apply). An explicit path that does not exist is an error.
    /// </summary>
    public static string? FindConfigPath(string? explicitPath, string? currentDirectory)
    {
        if (!string.IsNullOrWhiteSpace(explicitPath))
        {
            var full = Path.GetFullPath(explicitPath, currentDirectory ?? Directory.GetCurrentDirectory());
            if (!File.Exists(full))
                throw new IncidentOpsException(ConfigErrorIds.ConfigNotFound, IncidentOpsErrorCategory.ObjectNotFound,
                    $"The configuration file '{full}' does not exist. Check the path, or omit -Path to use $env:{EnvironmentVariable}, ./incidentops.yml or {UserConfigPath()}.")
                { TargetObject = full };
            return full;
        }
        var fromEnv = System.Environment.GetEnvironmentVariable(EnvironmentVariable);
        if (!string.IsNullOrWhiteSpace(fromEnv))
        {
            var full = Path.GetFullPath(fromEnv, currentDirectory ?? Directory.GetCurrentDirectory());
            if (!File.Exists(full))
                throw new IncidentOpsException(ConfigErrorIds.ConfigNotFound, IncidentOpsErrorCategory.ObjectNotFound,
                    $"$env:{EnvironmentVariable} points to '{full}', which does not exist. Fix or clear the variable.")
                { TargetObject = full };
            return full;
        }
        var local = Path.Combine(currentDirectory ?? Directory.GetCurrentDirectory(), "incidentops.yml");
        if (File.Exists(local)) return local;
        var user = UserConfigPath();
        return File.Exists(user) ? user : null;
    }

    /// <summary>~/.config/incidentops/config.yml on Linux and macOS ($XDG_CONFIG_HOME honoured), %APPDATA%\incidentops\config.yml on Windows.</summary>
    public static string UserConfigPath()
    {
        string root;
        if (OperatingSystem.IsWindows()) root = System.Environment.GetFolderPath(System.Environment.SpecialFolder.ApplicationData);
        else
        {
            root = System.Environment.GetEnvironmentVariable("XDG_CONFIG_HOME") ?? "";
            if (string.IsNullOrEmpty(root)) root = Path.Combine(System.Environment.GetFolderPath(System.Environment.SpecialFolder.UserProfile), ".config");
        }
        return Path.Combine(root, "incidentops", "config.yml");
    }

    /// <summary>Loads (with caching by timestamp) and validates; returns findings rather than throwing.</summary>
    public ConfigLoadResult Load(string? path)
    {
        if (path is null) return new ConfigLoadResult(ConfigParser.Defaults(), []);
        var info = new FileInfo(path);
        if (Cache.TryGetValue(path, out var hit) && hit.Stamp == info.LastWriteTimeUtc && hit.Length == info.Length)
            return hit.Result;
        var text = ReadCapped(path);
        var result = ConfigParser.Parse(text, path);
        Cache[path] = (info.LastWriteTimeUtc, info.Length, result);
        return result;
    }

    /// <summary>
    /// Largest configuration file read. A real one is a few kilobytes; the cap keeps a path pointed at /dev/zero or
    /// a runaway generated file from exhausting memory.
    /// </summary>
    public const int MaxConfigBytes = 4 * 1024 * 1024;

    /// <summary>Reads at most <see cref="MaxConfigBytes"/> (plus one byte to know there is more), as UTF-8.</summary>
    internal static string ReadCapped(string path, int maxBytes = MaxConfigBytes)
    {
        try
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, 1, FileOptions.SequentialScan);
            var buffer = new byte[Math.Min(maxBytes + 1, 64 * 1024)];
            using var memory = new MemoryStream();
            int read;
            while ((read = stream.Read(buffer, 0, (int)Math.Min(buffer.Length, maxBytes + 1 - memory.Length))) > 0)
            {
                memory.Write(buffer, 0, read);
                if (memory.Length > maxBytes)
                    throw new IncidentOpsException(ConfigErrorIds.ConfigTooLarge, IncidentOpsErrorCategory.LimitsExceeded,
                        $"The configuration file '{path}' is larger than {maxBytes / (1024 * 1024)} MB, so it was not read. A configuration is a few kilobytes: check that the path names the right file.")
                    { TargetObject = path };
            }
            return new System.Text.UTF8Encoding(false).GetString(memory.GetBuffer(), 0, (int)memory.Length).TrimStart('\uFEFF');
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new IncidentOpsException(ConfigErrorIds.ConfigUnreadable, IncidentOpsErrorCategory.ReadError,
                $"The configuration file '{path}' cannot be read: {ex.Message}", ex) { TargetObject = path };
        }
    }

    /// <summary>Loads the configuration, throwing ConfigInvalid (with every error's file, line and column) when it has errors.</summary>
    public IncidentOpsConfig LoadOrThrow(string? explicitPath, string? currentDirectory)
    {
        var path = FindConfigPath(explicitPath, currentDirectory);
        var result = Load(path);
        var errors = result.Findings.Where(f => f.Severity == FindingSeverity.Error).ToList();
        if (errors.Count > 0 || result.Config is null)
        {
            var lines = string.Join(System.Environment.NewLine, errors.Select(e => "  " + e));
            throw new IncidentOpsException(ConfigErrorIds.ConfigInvalid, IncidentOpsErrorCategory.InvalidData,
                $"The configuration file has {errors.Count} error(s):{System.Environment.NewLine}{lines}{System.Environment.NewLine}Fix them, then run Test-IncidentOpsConfig to check.")
            { TargetObject = path, RecommendedAction = "Run Test-IncidentOpsConfig -Path " + path };
        }
        return result.Config;
    }

    /// <summary>
    /// Finds services by "environment/service", or by service name alone when that is unambiguous.
    /// Wildcards are allowed in both parts.
    /// </summary>
    public static IReadOnlyList<ServiceTarget> FindServices(IncidentOpsConfig config, string? environment, string? name)
    {
        string? envPattern = environment;
        string? namePattern = name;
        if (name is not null && name.Contains('/'))
        {
            var parts = name.Split('/', 2);
            envPattern = parts[0];
            namePattern = parts[1];
            // -Service production/api -Environment staging: the two name different environments, so different servers.
            // Neither wins silently (the environment in the name used to), or a command typed for staging acts on production.
            if (!string.IsNullOrWhiteSpace(environment) && !EnvironmentsAgree(parts[0], environment))
                throw new IncidentOpsException(ConfigErrorIds.ServiceEnvironmentConflict, IncidentOpsErrorCategory.InvalidArgument,
                    $"The service '{name}' names the environment '{parts[0]}', but -Environment {environment} names another, so it is not clear which server is meant. Nothing was done. " +
                    $"Give the environment once: -Service {name} alone, or -Service {namePattern} -Environment {environment}.")
                { TargetObject = name };
        }
        return config.Services
            .Where(s => envPattern is null || Wildcard.IsMatch(s.Environment, envPattern))
            .Where(s => string.IsNullOrWhiteSpace(environment) || Wildcard.IsMatch(s.Environment, environment))
            .Where(s => namePattern is null || Wildcard.IsMatch(s.Service, namePattern))
            .ToList();
    }

    /// <summary>
    /// Whether the environment part of a service name and -Environment can name the same environment: equal (ignoring
    /// case) when both are plain names, the plain one matching the other's pattern otherwise.
    /// </summary>
    private static bool EnvironmentsAgree(string fromName, string environment)
    {
        static bool HasWildcard(string text) => text.IndexOfAny(['*', '?', '[']) >= 0;
        if (!HasWildcard(environment)) return Wildcard.IsMatch(environment, fromName);
        if (!HasWildcard(fromName)) return Wildcard.IsMatch(fromName, environment);
        return true; // two patterns: each filters the services
    }

    /// <summary>Resolves exactly one service, with errors that say what exists.</summary>
    public static ServiceTarget ResolveService(IncidentOpsConfig config, string? environment, string name)
    {
        var matches = FindServices(config, environment, name);
        if (matches.Count == 1) return matches[0];
        if (matches.Count == 0)
            throw new IncidentOpsException(ConfigErrorIds.ServiceNotFound, IncidentOpsErrorCategory.ObjectNotFound,
                ServiceNotFoundMessage(config, environment, name))
            { TargetObject = name };
        throw new IncidentOpsException(ConfigErrorIds.ServiceAmbiguous, IncidentOpsErrorCategory.InvalidArgument,
            $"'{name}' matches {matches.Count} services ({string.Join(", ", matches.Select(m => m.FullName))}). Name it as environment/service or add -Environment.")
        { TargetObject = name };
    }

    /// <summary>
    /// "No service 'production/apii' in incidentops.yml. Did you mean 'production/api'? Known services: ...": the
    /// ServiceNotFound text, with the services one or two typing slips away offered first.
    /// </summary>
    public static string ServiceNotFoundMessage(IncidentOpsConfig config, string? environment, string name)
    {
        var typed = environment is null || name.Contains('/') ? name : $"{environment}/{name}";
        var known = string.Join(", ", config.Services.Select(s => s.FullName));
        var close = CloseServices(config, typed);
        var suggestion = close.Count == 0 ? "" : $" Did you mean {string.Join(" or ", close.Select(c => $"'{c}'"))}?";
        return $"No service '{typed}' in {config.Path ?? "the configuration"}.{suggestion} Known services: {(known.Length == 0 ? "(none)" : known)}.";
    }

    /// <summary>Services whose full name (or, for a name typed without an environment, whose name) is within a small edit distance of what was typed.</summary>
    private static List<string> CloseServices(IncidentOpsConfig config, string typed)
    {
        var withEnvironment = typed.Contains('/');
        var limit = Math.Clamp(typed.Length / 4, 1, 2);
        return config.Services
            .Select(s => (s.FullName, Distance: EditDistance(typed, withEnvironment ? s.FullName : s.Service)))
            .Where(c => c.Distance <= limit)
            .OrderBy(c => c.Distance)
            .Select(c => c.FullName)
            .Take(3)
            .ToList();
    }

    /// <summary>Levenshtein distance, case-insensitive.</summary>
    internal static int EditDistance(string a, string b)
    {
        a = a.ToLowerInvariant();
        b = b.ToLowerInvariant();
        var previous = new int[b.Length + 1];
        var current = new int[b.Length + 1];
        for (var j = 0; j <= b.Length; j++) previous[j] = j;
        for (var i = 1; i <= a.Length; i++)
        {
            current[0] = i;
            for (var j = 1; j <= b.Length; j++)
                current[j] = Math.Min(Math.Min(current[j - 1] + 1, previous[j] + 1), previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1));
            (previous, current) = (current, previous);
        }
        return previous[b.Length];
    }
}

public sealed record ConfigLoadResult(IncidentOpsConfig? Config, IReadOnlyList<ConfigFinding> Findings);

/// <summary>PowerShell-style wildcard matching (*, ?, [abc]), case-insensitive unless asked otherwise.</summary>
public static class Wildcard
{
    private static readonly ConcurrentDictionary<string, System.Text.RegularExpressions.Regex> Patterns = new();
    private static readonly ConcurrentDictionary<string, System.Text.RegularExpressions.Regex> ExactPatterns = new();

    public static bool IsMatch(string? value, string? pattern) => IsMatch(value, pattern, caseSensitive: false);

    /// <summary>
    /// With <paramref name="caseSensitive"/>, letters match only in the same case: for names that are case-sensitive
    /// where they live (PostgreSQL databases, roles, application names), where prod and Prod are two things.
    /// </summary>
    public static bool IsMatch(string? value, string? pattern, bool caseSensitive)
    {
        if (pattern is null) return true;
        value ??= string.Empty;
        if (pattern.IndexOfAny(['*', '?', '[']) < 0) return string.Equals(value, pattern, caseSensitive ? StringComparison.Ordinal : StringComparison.OrdinalIgnoreCase);
        var rx = (caseSensitive ? ExactPatterns : Patterns).GetOrAdd(pattern, p =>
        {
            var sb = new System.Text.StringBuilder("^");
            for (var i = 0; i < p.Length; i++)
            {
                var c = p[i];
                switch (c)
                {
                    case '*': sb.Append(".*"); break;
                    case '?': sb.Append('.'); break;
                    case '[':
                        var end = p.IndexOf(']', i + 1);
                        if (end > i) { sb.Append('[').Append(p.AsSpan(i + 1, end - i - 1).ToString().Replace("\\", "\\\\")).Append(']'); i = end; }
                        else sb.Append("\\[");
                        break;
                    case '`' when i + 1 < p.Length: sb.Append(System.Text.RegularExpressions.Regex.Escape(p[++i].ToString())); break;
                    default: sb.Append(System.Text.RegularExpressions.Regex.Escape(c.ToString())); break;
                }
            }
            return new System.Text.RegularExpressions.Regex(sb.Append('$').ToString(),
                (caseSensitive ? System.Text.RegularExpressions.RegexOptions.None : System.Text.RegularExpressions.RegexOptions.IgnoreCase) | System.Text.RegularExpressions.RegexOptions.CultureInvariant);
        });
        return rx.IsMatch(value);
    }
}

/// <summary>Validation used by Test-IncidentOpsConfig: parse findings plus references that do not resolve here.</summary>
public static class ConfigValidator
{
    public static async Task<IReadOnlyList<ConfigFinding>> ValidateAsync(ConfigService service, string path, ReferenceResolver resolver, bool checkReferences, CancellationToken cancellationToken)
    {
        var result = service.Load(path);
        var findings = result.Findings.ToList();
        if (!checkReferences || result.Config is null) return findings;
        foreach (var value in EnumerateValues(result.Config))
        {
            if (!value.IsReference) continue;
            var problem = await resolver.CheckAsync(value, cancellationToken).ConfigureAwait(false);
            if (problem is null) continue;
            findings.Add(new ConfigFinding
            {
                Severity = value.Kind == ConfigValueKind.Secret && problem.Contains("SecretManagement", StringComparison.Ordinal) ? FindingSeverity.Warning : FindingSeverity.Error,
                Code = "ConfigReferenceUnresolved",
                Message = problem[(problem.IndexOf(": ", StringComparison.Ordinal) + 2)..],
                File = value.Location?.File, Line = value.Location?.Line ?? 0, Column = value.Location?.Column ?? 0,
            });
        }
        // A channel URL behind a reference is checked once it resolves (a literal one is checked by the parser).
        foreach (var c in result.Config.Channels)
        foreach (var (key, url) in UrlOptions(c))
        {
            if (!url.IsReference) continue;
            string resolved;
            try { resolved = await resolver.ResolveAsync(url, cancellationToken).ConfigureAwait(false); }
            catch (IncidentOpsException) { continue; } // already reported above
            if (ConfigParser.ChannelUrlProblem(resolved) is { } problem)
                findings.Add(new ConfigFinding
                {
                    Severity = FindingSeverity.Error, Code = "ConfigInvalidUrl",
                    Message = $"channels.{c.Name}.{key} ({url}) {problem}.",
                    File = url.Location?.File, Line = url.Location?.Line ?? 0, Column = url.Location?.Column ?? 0,
                });
        }
        return findings;
    }

    /// <summary>The channel's options that its provider checks as URLs (url, apiUrl, ...).</summary>
    private static IEnumerable<(string Key, ConfigValue Value)> UrlOptions(ChannelConfig channel)
    {
        if (ChannelProviders.All.FirstOrDefault(p => p.Type == channel.Type) is not { } provider) yield break;
        foreach (var o in provider.Options.Where(o => o.IsUrl))
            if (channel.Option(o.Key) is { } v) yield return (o.Key, v);
    }

    public static IEnumerable<ConfigValue> EnumerateValues(IncidentOpsConfig config)
    {
        foreach (var s in config.Services)
        {
            if (s.AppId is not null) yield return s.AppId;
            if (s.Redis is not null) yield return s.Redis;
            if (s.RedisCaCertificate is not null) yield return s.RedisCaCertificate;
            if (s.Postgres?.CaCertificate is not null) yield return s.Postgres.CaCertificate;
            foreach (var h in s.Health) if (h.CaCertificate is not null) yield return h.CaCertificate;
            if (s.Postgres?.ConnectionString is not null) yield return s.Postgres.ConnectionString;
            if (s.Postgres is not null) foreach (var v in s.Postgres.Managed.Values) yield return v;
            foreach (var h in s.Actions.SelectMany(a => a.Headers.Values)) yield return h;
        }
        foreach (var c in config.Channels)
        {
            foreach (var v in c.Options.Values) yield return v;
            foreach (var v in c.Maps.Values.SelectMany(m => m.Values)) yield return v;
        }
        if (config.Store.ConnectionString is not null) yield return config.Store.ConnectionString;
    }
}
