using System.Collections;
using System.Management.Automation;
using System.Management.Automation.Language;
using IncidentOps.Engine.Config;
using IncidentOps.Engine.Platforms;
using IncidentOps.Config;
using IncidentOps.Platforms;

namespace IncidentOps.Commands;

/// <summary>
/// Tab completion of Set-AppScale -Size: the instance sizes Fly.io (flyctl scale vm) and DigitalOcean App Platform
/// (instance_size_slug) offer, with their CPUs and memory as the tooltip, narrowed to the platform of -Platform or of the
/// configured -Service. A fixed list: completion makes no network call and needs no login.
/// </summary>
public sealed class AppSizeCompleter : IArgumentCompleter
{
    public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete,
        CommandAst commandAst, IDictionary fakeBoundParameters)
    {
        try
        {
            var word = (wordToComplete ?? "").Trim('\'', '"');
            var platforms = PlatformsOf(fakeBoundParameters ?? new Hashtable());
            return PlatformRegistry.Platforms.Where(p => platforms.Count == 0 || platforms.Contains(p.Kind))
                .SelectMany(p => p.InstanceSizes.Select(s => (s.Size, Tooltip: $"{p.Kind}: {s.Description}")))
                .Where(s => s.Size.StartsWith(word, StringComparison.OrdinalIgnoreCase))
                .Select(s => new CompletionResult(s.Size, s.Size, CompletionResultType.ParameterValue, s.Tooltip))
                .ToList();
        }
        catch (Exception)
        {
            return []; // completion must never throw at the user
        }
    }

    /// <summary>The platform the command line names: -Platform, or the platforms of the configured -Service(s); none: every size.</summary>
    private static HashSet<PlatformKind> PlatformsOf(IDictionary bound)
    {
        var set = new HashSet<PlatformKind>();
        if (bound["Platform"] is { } p && Enum.TryParse<PlatformKind>(p is PSObject o ? o.BaseObject.ToString() : p.ToString(), true, out var kind))
        {
            set.Add(kind);
            return set;
        }
        var names = bound["Service"] switch
        {
            string one => [one],
            object[] many => many.Select(m => m?.ToString()).Where(m => !string.IsNullOrEmpty(m)).Select(m => m!).ToArray(),
            _ => Array.Empty<string>(),
        };
        if (names.Length == 0) return set;
        var config = new ConfigService().Load(ConfigService.FindConfigPath(bound["ConfigPath"] as string, ConfigCompleter.CurrentDirectory())).Config;
        if (config is null) return set;
        var env = bound["Environment"] as string;
        foreach (var s in config.Services)
            if (names.Any(n => n.Equals(s.FullName, StringComparison.OrdinalIgnoreCase)
                    || (n.Equals(s.Service, StringComparison.OrdinalIgnoreCase) && (env is null || env.Equals(s.Environment, StringComparison.OrdinalIgnoreCase)))))
                set.Add(s.Platform);
        return set;
    }
}

/// <summary>
/// Tab completion of -Instance (Get-AppLog) and -Pod (Restart-App): the instances (Fly machines, Kubernetes pods,
/// DigitalOcean components) that Get-AppStatus showed in this session, newest first, with their state and region as the
/// tooltip, narrowed to the -Service or -App on the command line. Completion itself makes no network call (asking the
/// platform would take seconds and a login); run Get-AppStatus first and the names it listed come back on Tab.
/// </summary>
public sealed class AppInstanceCompleter : IArgumentCompleter
{
    private const int Capacity = 500;
    private static readonly LinkedList<Seen> Recent = new();
    private static readonly object Gate = new();

    private sealed record Seen(string Id, string? Service, string? App, string Tooltip);

    /// <summary>Remembers the instances of a status Get-AppStatus wrote (called by the App cmdlets as they write).</summary>
    public static void Remember(AppStatus status)
    {
        var service = status.Service;
        var app = status.App ?? status.Deployment ?? status.Name;
        lock (Gate)
        {
            foreach (var instance in status.Instances)
            {
                if (string.IsNullOrWhiteSpace(instance.Id)) continue;
                for (var node = Recent.First; node is not null;)
                {
                    var next = node.Next;
                    if (node.Value.Id == instance.Id && node.Value.Service == service && node.Value.App == app) Recent.Remove(node);
                    node = next;
                }
                var where = string.Join(", ", new[] { instance.State, instance.Region }.Where(x => !string.IsNullOrEmpty(x)));
                var tooltip = $"{instance.Id}{(where.Length > 0 ? $" ({where})" : "")}, {service ?? app}, seen by Get-AppStatus at {DateTime.Now:HH:mm:ss}";
                Recent.AddFirst(new Seen(instance.Id, service, app, tooltip));
            }
            while (Recent.Count > Capacity) Recent.RemoveLast();
        }
    }

    public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete,
        CommandAst commandAst, IDictionary fakeBoundParameters)
    {
        try
        {
            var word = (wordToComplete ?? "").Trim('\'', '"');
            var bound = fakeBoundParameters ?? new Hashtable();
            var services = (bound["Service"] switch { string one => [one], object[] many => many.Select(m => m?.ToString() ?? ""), _ => [] }).Where(s => s.Length > 0).ToArray();
            var app = (bound["App"] ?? bound["Deployment"]) as string;
            List<Seen> seen;
            lock (Gate) seen = [.. Recent];
            return seen
                .Where(s => services.Length == 0 || services.Any(n => s.Service is not null && (s.Service.Equals(n, StringComparison.OrdinalIgnoreCase) || s.Service.EndsWith("/" + n, StringComparison.OrdinalIgnoreCase))))
                .Where(s => app is null || string.Equals(s.App, app, StringComparison.OrdinalIgnoreCase))
                .Where(s => s.Id.StartsWith(word, StringComparison.OrdinalIgnoreCase))
                .GroupBy(s => s.Id, StringComparer.Ordinal).Select(g => g.First())
                .Select(s => new CompletionResult(s.Id.IndexOfAny([' ', '\'', '$', ',', ';', '(', ')', '{', '}', '|', '&', '@', '#']) >= 0 ? $"'{s.Id.Replace("'", "''")}'" : s.Id,
                    s.Id, CompletionResultType.ParameterValue, s.Tooltip))
                .ToList();
        }
        catch (Exception)
        {
            return []; // completion must never throw at the user
        }
    }
}
