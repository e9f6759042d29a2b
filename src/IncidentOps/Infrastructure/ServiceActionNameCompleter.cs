using System.Collections;
using System.Runtime.CompilerServices;
using IncidentOps.Config;
using IncidentOps.Engine;
using IncidentOps.Engine.Config;

namespace IncidentOps.Commands;

/// <summary>Tab completion of an action's -Name: the actions declared by the service given with -Service (all services' when none is given yet).</summary>
public sealed class ServiceActionNameCompleter : ConfigCompleter
{
    [MethodImpl(MethodImplOptions.NoInlining)]
    protected override IEnumerable<(string Text, string Tooltip)> Candidates(string commandName, string? configPath, string currentDirectory, IDictionary bound)
    {
        var config = CompletionCatalog.LoadConfig(configPath, currentDirectory);
        var env = bound["Environment"] as string;
        var named = bound["Service"] switch
        {
            string s => [s],
            IEnumerable e => e.Cast<object?>().Select(o => o?.ToString()).Where(o => !string.IsNullOrEmpty(o)).Select(o => o!).ToArray(),
            _ => Array.Empty<string>(),
        };
        var services = named.Length == 0
            ? config.Services.Where(s => env is null || s.Environment.Equals(env, StringComparison.OrdinalIgnoreCase)).ToList()
            : named.SelectMany(n => FindOrNone(config, env, n.Trim('\'', '"'))).ToList();
        return services.SelectMany(s => s.Actions.Select(a => (a.Name, $"{a.Name}: {a.Description ?? a.Definition} ({a.ConfirmImpact}{(named.Length == 0 ? ", " + s.FullName : "")})")))
            .DistinctBy(c => c.Name, StringComparer.OrdinalIgnoreCase)
            .ToList();
    }

    /// <summary>The services a name finds; none when the name and -Environment disagree (completion never throws).</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static IReadOnlyList<ServiceTarget> FindOrNone(IncidentOpsConfig config, string? environment, string name)
    {
        try { return ConfigService.FindServices(config, environment, name); }
        catch (IncidentOpsException) { return []; }
    }
}
