using System.Collections;
using System.Management.Automation;
using IncidentOps.Engine.Config;

namespace IncidentOps.Commands;

/// <summary>
/// Tab completion of an app's identity parameters (-App, -AppId, -Deployment, -Namespace, -Context, -Unit,
/// -ComputerName, -Component ...): the values the configured services (incidentops.yml) give that setting, with the
/// services that use each as the tooltip, so a name is typed once, in the config, instead of from memory mid-incident.
/// These are names, not paths, so they never complete file names when the configuration offers some.
/// </summary>
public sealed class AppTargetValueCompleter : ConfigCompleter, IArgumentCompleter
{
    protected override IEnumerable<(string Text, string Tooltip)> Candidates(string commandName, string? configPath, string currentDirectory, IDictionary bound)
    {
        var config = new ConfigService().Load(ConfigService.FindConfigPath(configPath, currentDirectory)).Config;
        if (config is null) return [];
        var parameter = ParameterName;
        var env = bound["Environment"] as string;
        return config.Services
            .Where(s => env is null || s.Environment.Equals(env, StringComparison.OrdinalIgnoreCase))
            .SelectMany(s => Values(s, parameter).Select(v => (Value: v, s.FullName)))
            .GroupBy(x => x.Value, StringComparer.Ordinal)
            .Select(g => (g.Key, string.Join(", ", g.Select(x => x.FullName).Distinct(StringComparer.OrdinalIgnoreCase))))
            .ToList();
    }

    /// <summary>The parameter being completed (PowerShell makes a completer per completion; set before the base class asks for Candidates).</summary>
    private string ParameterName { get; set; } = "";

    public new IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete,
        System.Management.Automation.Language.CommandAst commandAst, IDictionary fakeBoundParameters)
    {
        ParameterName = parameterName;
        return base.CompleteArgument(commandName, parameterName, wordToComplete, commandAst, fakeBoundParameters);
    }

    /// <summary>What a configured service gives the parameter: its property of that name (Components for -Component); secret references never.</summary>
    private static IEnumerable<string> Values(IncidentOps.Config.ServiceTarget s, string parameter)
    {
        var value = parameter.Equals("Component", StringComparison.OrdinalIgnoreCase) ? s.Components
            : PSObject.AsPSObject(s).Properties[parameter]?.Value;
        return value switch
        {
            string text when text.Length > 0 => [text],
            string[] list => list.Where(v => v.Length > 0),
            IncidentOps.Config.ConfigValue { IsReference: false, IsSecret: false } plain when plain.GetRawUnsafe() is { Length: > 0 } t => [t],
            _ => [],
        };
    }
}
