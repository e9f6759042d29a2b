using System.Collections;
using System.Management.Automation;
using IncidentOps.Engine;

namespace IncidentOps.Commands;

/// <summary>
/// Tab completion of -Incident (alias -Id): the store's incidents, open ones first (the active one leading),
/// with "[severity status] title" as the tooltip. What was typed matches the id's start or any part of the title.
/// </summary>
public sealed class IncidentIdCompleter : ConfigCompleter
{
    protected override IEnumerable<(string Text, string Tooltip)> Candidates(string commandName, string? configPath, string currentDirectory, IDictionary bound) =>
        CompletionCatalog.Incidents(CompletionCatalog.LoadConfig(configPath, currentDirectory)).Select(c => (c.Text, c.Tooltip)).ToList();

    protected override bool Matches(string text, string tooltip, string word) =>
        base.Matches(text, tooltip, word) || (word.Length > 0 && new WildcardPattern("*" + word + "*", WildcardOptions.IgnoreCase).IsMatch(tooltip));
}
