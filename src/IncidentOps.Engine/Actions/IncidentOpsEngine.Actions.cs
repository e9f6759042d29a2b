using IncidentOps.Engine.Actions;

namespace IncidentOps.Engine;

public sealed partial class IncidentOpsEngine
{
    /// <summary>Declared runbook actions: HTTP calls, manifests and platform CLI commands (Invoke-ServiceAction).</summary>
    public ServiceActionService Actions => _actions ??= new ServiceActionService(Sink, References);
    private ServiceActionService? _actions;
}
