using System.Collections;
using System.Management.Automation;
using System.Management.Automation.Language;

namespace IncidentOps.Commands;

/// <summary>
/// Tab completion of Get-PgActivity -State: the backend states pg_stat_activity reports, quoted where they have
/// spaces (as Stop-IdleConnection -State offers its own). Not a ValidateSet: a newer server may report another state.
/// </summary>
public sealed class PgStateCompleter : IArgumentCompleter
{
    internal static readonly string[] States =
        ["active", "idle", "idle in transaction", "idle in transaction (aborted)", "fastpath function call", "disabled"];

    public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete,
        CommandAst commandAst, IDictionary fakeBoundParameters)
    {
        var word = (wordToComplete ?? "").Trim('\'', '"');
        return States.Where(s => s.StartsWith(word, StringComparison.OrdinalIgnoreCase))
            .Select(s => new CompletionResult(s.Contains(' ') ? $"'{s}'" : s, s, CompletionResultType.ParameterValue, s))
            .ToList();
    }
}
