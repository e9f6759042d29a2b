using IncidentOps.Engine.Redis;

namespace IncidentOps.Engine;

public sealed partial class IncidentOpsEngine
{
    /// <summary>Redis triage: PING latency, INFO sections as objects, slow log, clients, guarded flush.</summary>
    public RedisService Redis => _redis ??= new RedisService(References, Tunnels, Sink);
    private RedisService? _redis;
}
