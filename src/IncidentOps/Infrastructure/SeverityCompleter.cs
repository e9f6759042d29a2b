using System.Collections;
using IncidentOps.Engine;

namespace IncidentOps.Commands;

/// <summary>Tab completion of -Severity (and -Priority of action items): the configured severity ids, with name, definition and response target as the tooltip.</summary>
public sealed class SeverityCompleter : ConfigCompleter
{
    protected override IEnumerable<(string Text, string Tooltip)> Candidates(string commandName, string? configPath, string currentDirectory, IDictionary bound) =>
        CompletionCatalog.Severities(CompletionCatalog.LoadConfig(configPath, currentDirectory)).Select(c => (c.Text, c.Tooltip)).ToList();
}
