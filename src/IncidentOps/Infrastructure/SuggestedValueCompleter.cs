using System.Collections;
using System.Management.Automation;
using System.Management.Automation.Language;

namespace IncidentOps.Commands;

/// <summary>
/// Tab completion of the App cmdlets' number and pattern parameters with the values an on-call engineer types most
/// (-Tail 200, -TimeoutSec 300, -Pattern error), by parameter name, instead of PowerShell's fallback to file names.
/// (ArgumentCompletionsAttribute does this in PowerShell 6+, but the module builds against PowerShellStandard 5.1.)
/// </summary>
public sealed class SuggestedValueCompleter : IArgumentCompleter
{
    private static readonly Dictionary<string, (string Text, string Tooltip)[]> Values = new(StringComparer.OrdinalIgnoreCase)
    {
        ["Tail"] = [("100", "the last 100 lines"), ("200", "the last 200 lines"), ("500", "the last 500 lines"), ("1000", "the last 1000 lines"), ("50", "the last 50 lines")],
        ["First"] = [("5", "the 5 newest releases"), ("10", "the 10 newest releases"), ("20", "the 20 newest releases")],
        ["TimeoutSec"] = [("30", "30 seconds"), ("60", "1 minute"), ("120", "2 minutes"), ("300", "5 minutes"), ("600", "10 minutes")],
        ["Count"] = [("1", "1 instance"), ("2", "2 instances"), ("3", "3 instances"), ("5", "5 instances"), ("10", "10 instances")],
        ["Pattern"] = [("error", "lines that mention error (case-insensitive)"), ("exception", "exceptions"), ("timeout", "timeouts"), ("OOM|killed", "out-of-memory kills"), ("refused", "refused connections")],
    };

    public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete,
        CommandAst commandAst, IDictionary fakeBoundParameters)
    {
        var word = (wordToComplete ?? "").Trim('\'', '"');
        if (!Values.TryGetValue(parameterName ?? "", out var values)) return [];
        return values.Where(v => v.Text.StartsWith(word, StringComparison.OrdinalIgnoreCase))
            .Select(v => new CompletionResult(v.Text.Contains('|', StringComparison.Ordinal) ? $"'{v.Text}'" : v.Text, v.Text, CompletionResultType.ParameterValue, v.Tooltip))
            .ToList();
    }
}
