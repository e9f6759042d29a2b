using System.Globalization;
using System.Management.Automation;
using IncidentOps.Platforms;

namespace IncidentOps.Commands;

/// <summary>Gets CPU, memory (used and limit), restarts and, where the platform has them, disk and network of each instance of an app.</summary>
/// <remarks>
/// Replaces the runbooks' 'kubectl top pods', 'flyctl metrics' (the Fly dashboard), and 'htop' and 'df -h' on a systemd host.
/// Each platform answers from what it really offers, and a figure it does not give is left empty and named, with where to
/// look instead, in NotAvailable:
/// Kubernetes: the metrics API behind 'kubectl top' (metrics.k8s.io, read as JSON with 'kubectl get --raw'; it needs
/// metrics-server) with the pods' requests, limits and restart counts, and the usage and allocatable CPU and memory of
/// each pod's node (kubectl top nodes, in the Host* properties); no disk or network.
/// systemd: the unit's MemoryCurrent, MemoryMax, CPUUsageNSec (sampled twice one second apart for the cores in use),
/// CPUQuotaPerSecUSec, TasksCurrent, NRestarts and IP accounting from 'systemctl show', the host's load (/proc/loadavg)
/// and memory (/proc/meminfo), and 'df -PB1' for its filesystems; over ssh this is one remote command.
/// Fly.io: the machines' limits (guest cpus and memory) and exit events from 'flyctl status --json', and CPU, memory and
/// network in use from Fly's managed Prometheus (api.fly.io/prometheus/ORG) with FLY_API_TOKEN or flyctl's own token; no disk space.
/// DigitalOcean: CPU and memory use per component (not per instance) from the App Platform health API, with the instance
/// size's CPUs and memory; no restarts, disk or network. A static site has nothing to measure (PlatformOperationNotSupported).
/// Nothing is changed. With -Record the figures are noted on the incident's timeline.
/// </remarks>
/// <example>
/// <code>Get-AppResourceUsage -Platform Kubernetes -Deployment marketing -Namespace akaind-platform</code>
/// <para>Shows each pod's CPU and memory in use against its requests and limits, and its restarts (kubectl top pods, with limits).</para>
/// </example>
/// <example>
/// <code>Get-AppResourceUsage -Platform Systemd -Unit fastapi -ComputerName deploy@api-1 | Select-Object -ExpandProperty Disks</code>
/// <para>Reads the unit's cgroup figures, the host's load and memory and its filesystems over one ssh command (htop and df -h).</para>
/// </example>
/// <example>
/// <code>Get-IncidentOpsService -Environment production | Get-AppResourceUsage | Where-Object MemoryPercent -gt 90</code>
/// <para>Lists the instances of production services that use more than 90% of their memory limit.</para>
/// </example>
[Cmdlet(VerbsCommon.Get, "AppResourceUsage")]
[OutputType(typeof(AppResourceUsage))]
public sealed class GetAppResourceUsageCommand : AppReadCmdlet
{
    protected override void ProcessRecord()
    {
        foreach (var (target, adapter) in Targets())
            if (TryInvoke(ct => Engine.ResourceUsage.GetAsync(adapter, ct), out var list, target.ToString()))
            {
                foreach (var u in list) WriteApp(u, target);
                RecordRead(target.ToString(), "Read resource usage", list.Count == 0 ? "no instances" : string.Join("; ", list.Select(Summary)));
            }
    }

    private static string Summary(AppResourceUsage u)
    {
        var parts = new List<string>();
        if (u.CpuCores is { } c) parts.Add($"cpu {c.ToString("0.###", CultureInfo.InvariantCulture)}{(u.CpuLimitCores is { } l ? "/" + l.ToString("0.###", CultureInfo.InvariantCulture) : "")} cores");
        else if (u.CpuPercent is { } cp) parts.Add($"cpu {cp.ToString("0.#", CultureInfo.InvariantCulture)}%");
        if (u.MemoryBytes is { } m) parts.Add($"memory {m / 1048576.0:0.#} MiB{(u.MemoryLimitBytes is { } ml ? $" of {ml / 1048576.0:0.#} MiB" : "")}");
        else if (u.MemoryPercent is { } mp) parts.Add($"memory {mp.ToString("0.#", CultureInfo.InvariantCulture)}%");
        if (u.Restarts is { } r) parts.Add($"{r} restarts");
        return $"{u.Instance}: {(parts.Count == 0 ? "no figures" : string.Join(", ", parts))}";
    }
}
