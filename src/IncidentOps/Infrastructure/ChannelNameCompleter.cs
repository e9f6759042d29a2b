using System.Collections;
using IncidentOps.Config;
using IncidentOps.Engine;

namespace IncidentOps.Commands;

/// <summary>Tab completion of -Channel: the configured channels with their type and routing (only channels that take change events, PagerDuty, for Send-IncidentChangeEvent).</summary>
public sealed class ChannelNameCompleter : ConfigCompleter
{
    protected override IEnumerable<(string Text, string Tooltip)> Candidates(string commandName, string? configPath, string currentDirectory, IDictionary bound)
    {
        var config = CompletionCatalog.LoadConfig(configPath, currentDirectory);
        var changeEventsOnly = string.Equals(commandName, "Send-IncidentChangeEvent", StringComparison.OrdinalIgnoreCase);
        return CompletionCatalog.Channels(config, changeEventsOnly).Select(c => (c.Text, c.Tooltip)).ToList();
    }
}
