using IncidentOps.Engine.Platforms;

namespace IncidentOps.Engine;

public sealed partial class IncidentOpsEngine
{
    /// <summary>Status, deployments, logs, restart, scale, settings and rollback across Fly.io, DigitalOcean, Kubernetes and systemd.</summary>
    public PlatformsService Platforms => _platforms ??= new PlatformsService(Sink, Health);
    private PlatformsService? _platforms;
}
