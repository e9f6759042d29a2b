using System.Collections;
using System.Management.Automation;
using System.Management.Automation.Language;

namespace IncidentOps.Commands;

/// <summary>
/// Tab completion of -Platform: the platforms a target can name. PlatformKind.None only means "not given" and is
/// never offered; the AppDatabase cmdlets offer the two platforms that host databases.
/// </summary>
public sealed class PlatformCompleter : IArgumentCompleter
{
    private static readonly string[] AppPlatforms = ["Fly", "DigitalOcean", "Kubernetes", "Systemd"];
    private static readonly string[] DatabasePlatforms = ["Fly", "DigitalOcean"];

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
