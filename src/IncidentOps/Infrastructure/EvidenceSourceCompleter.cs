using System.Collections;
using IncidentOps.Engine;

namespace IncidentOps.Commands;

/// <summary>Tab completion of -Source on Save-IncidentEvidence: the registered evidence sources (config, timeline, app-status ...).</summary>
public sealed class EvidenceSourceCompleter : ConfigCompleter
{
    protected override IEnumerable<(string Text, string Tooltip)> Candidates(string commandName, string? configPath, string currentDirectory, IDictionary bound) =>
        CompletionCatalog.EvidenceSourceNames().Select(c => (c.Text, c.Tooltip)).ToList();
}
