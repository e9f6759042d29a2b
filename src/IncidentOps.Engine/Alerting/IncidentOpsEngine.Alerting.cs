using IncidentOps.Engine.Alerting;

namespace IncidentOps.Engine;

public sealed partial class IncidentOpsEngine
{
    /// <summary>Health checks into incidents, updates, pages and recovery (Invoke-ServiceAlert, Watch-ServiceHealth -Alert).</summary>
    public AlertingService Alerting => _alerting ??= new AlertingService(this);
    private AlertingService? _alerting;
}
