using IncidentOps.Engine.Postgres;

namespace IncidentOps.Engine;

public sealed partial class IncidentOpsEngine
{
    /// <summary>PostgreSQL triage: activity, safe termination.</summary>
    public PostgresService Postgres => _postgres ??= new PostgresService(References, Sink, tunnels: new Tunnels.TunnelRouter(Tunnels, Sink));
    private PostgresService? _postgres;
}
