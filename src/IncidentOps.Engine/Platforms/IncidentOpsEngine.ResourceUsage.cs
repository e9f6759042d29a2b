using IncidentOps.Engine.Platforms;

namespace IncidentOps.Engine;

public sealed partial class IncidentOpsEngine
{
    /// <summary>CPU, memory, restarts, disk and network per instance across Fly.io, DigitalOcean, Kubernetes and systemd.</summary>
    public ResourceUsageService ResourceUsage => _resourceUsage ??= new ResourceUsageService();
    private ResourceUsageService? _resourceUsage;
}
