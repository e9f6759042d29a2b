using IncidentOps.Engine.Incidents;

namespace IncidentOps.Engine;

public sealed partial class IncidentOpsEngine
{
    /// <summary>Get-IncidentMetric: metrics across incidents.</summary>
    public IncidentMetricsService Metrics => _metrics ??= new IncidentMetricsService(OpenStore, Sink);
    private IncidentMetricsService? _metrics;
}
