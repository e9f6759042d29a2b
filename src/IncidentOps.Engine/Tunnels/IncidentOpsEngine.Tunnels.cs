using IncidentOps.Engine.Tunnels;

namespace IncidentOps.Engine;

public sealed partial class IncidentOpsEngine
{
    /// <summary>The tunnels to private databases this invocation holds (postgres.tunnel, redis.tunnel); released when the cmdlet is disposed.</summary>
    public TunnelLeases Tunnels { get; } = new();
}
