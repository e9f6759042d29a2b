using System.Collections;
using System.Management.Automation;
using System.Management.Automation.Language;

namespace IncidentOps.Commands;

/// <summary>
/// Tab completion of -Platform: the platforms a target can name. PlatformKind.None only means "not given" and is
/// never offered; the AppDatabase cmdlets offer the platforms that host databases.
/// </summary>
public sealed class PlatformCompleter : IArgumentCompleter
{
    // The providers the engine registered (PlatformRegistry): a new provider is offered without touching this file.
    private static string[] AppPlatforms => [.. IncidentOps.Engine.Platforms.PlatformRegistry.Platforms.Select(p => p.Kind.ToString())];
    private static string[] DatabasePlatforms => [.. IncidentOps.Engine.Platforms.PlatformRegistry.Databases.Select(p => p.Kind.ToString())];

    public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete,
        CommandAst commandAst, IDictionary fakeBoundParameters)
    {
        var word = (wordToComplete ?? "").Trim('\'', '"');
        var names = (commandName ?? "").Contains("AppDatabase", StringComparison.OrdinalIgnoreCase) ? DatabasePlatforms : AppPlatforms;
        return names.Where(n => n.StartsWith(word, StringComparison.OrdinalIgnoreCase))
            .Select(n => new CompletionResult(n, n, CompletionResultType.ParameterValue, n))
            .ToList();
    }
}
