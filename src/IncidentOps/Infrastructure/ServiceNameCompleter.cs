using System.Collections;
using System.Management.Automation;
using System.Management.Automation.Language;
using IncidentOps.Engine.Config;

namespace IncidentOps.Commands;

/// <summary>Tab completion of -Service from the configuration ("env/name" and bare names).</summary>
public sealed class ServiceNameCompleter : IArgumentCompleter
{
    public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete,
        CommandAst commandAst, IDictionary fakeBoundParameters)
    {
        try { return Complete(wordToComplete, fakeBoundParameters); }
        catch (Exception) { return []; } // completion must never throw at the user
    }

    private static IEnumerable<CompletionResult> Complete(string word, IDictionary bound)
    {
        var path = ConfigService.FindConfigPath((bound["ConfigPath"] ?? bound["Path"]) as string, Directory.GetCurrentDirectory()); // -Path on the config cmdlets
        var config = new ConfigService().Load(path).Config;
        if (config is null) return [];
        var env = bound["Environment"] as string;
        var pattern = new WildcardPattern((word ?? "").Trim('\'', '"') + "*", WildcardOptions.IgnoreCase);
        return config.Services
            .Where(s => env is null || s.Environment.Equals(env, StringComparison.OrdinalIgnoreCase))
            .SelectMany(s => new[] { s.Service, s.FullName })
            .Distinct(StringComparer.OrdinalIgnoreCase)
            .Where(n => pattern.IsMatch(n))
            .Select(n => new CompletionResult(n, n, CompletionResultType.ParameterValue, n))
            .ToList();
    }
}
