using IncidentOps.Engine.Notifications;

namespace IncidentOps.Engine;

public sealed partial class IncidentOpsEngine
{
    /// <summary>Status updates to every registered channel (Slack, Teams, Discord, PagerDuty, Statuspage, Opsgenie, webhooks), through the incident's outbox.</summary>
    public NotificationService Notifications => _notifications ??= new NotificationService(OpenStore, Sink, References, Timeline, NotificationSender.SharedClient, new Lazy<Notifications.Slack.SlackIncidentChannel>(() => IncidentChannels));
    private NotificationService? _notifications;
}
