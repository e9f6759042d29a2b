using IncidentOps.Engine.Notifications;

namespace IncidentOps.Engine;

public sealed partial class IncidentOpsEngine
{
    /// <summary>Status updates to Slack, Teams, Discord, PagerDuty, Statuspage and webhooks, through the incident's outbox.</summary>
    public NotificationService Notifications => _notifications ??= new NotificationService(this, NotificationSender.SharedClient);
    private NotificationService? _notifications;
}
