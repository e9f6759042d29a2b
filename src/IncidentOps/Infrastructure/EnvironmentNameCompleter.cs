using System.Collections;
using IncidentOps.Engine;

namespace IncidentOps.Commands;

/// <summary>Tab completion of -Environment: the environments of the configuration, with their services as the tooltip.</summary>
public sealed class EnvironmentNameCompleter : ConfigCompleter
{
    protected override IEnumerable<(string Text, string Tooltip)> Candidates(string commandName, string? configPath, string currentDirectory, IDictionary bound) =>
        CompletionCatalog.Environments(CompletionCatalog.LoadConfig(configPath, currentDirectory)).Select(c => (c.Text, c.Tooltip)).ToList();
}
