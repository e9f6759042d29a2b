using IncidentOps.Engine.Notifications.Slack;

namespace IncidentOps.Engine;

public sealed partial class IncidentOpsEngine
{
    /// <summary>The incident's own Slack channel: opened by New-Incident, archived by Close-Incident, completed by Send-IncidentUpdate -Pending.</summary>
    public SlackIncidentChannel IncidentChannels => _incidentChannels ??= new SlackIncidentChannel(OpenStore, Sink, Timeline, Notifications);
    private SlackIncidentChannel? _incidentChannels;
}
