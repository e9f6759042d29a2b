using IncidentOps.Engine.Alerting;

namespace IncidentOps.Engine;

public sealed partial class IncidentOpsEngine
{
    /// <summary>Health checks into incidents, updates, pages and recovery (Invoke-ServiceAlert, Watch-ServiceHealth -Alert).</summary>
    public AlertingService Alerting => _alerting ??= new AlertingService(OpenStore, Sink, Health, Incidents, Notifications, Evidence, Timeline);
    private AlertingService? _alerting;
}
