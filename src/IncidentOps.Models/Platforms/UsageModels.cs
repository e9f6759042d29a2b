using System.Globalization;

namespace IncidentOps.Platforms;

/// <summary>One filesystem of a host as df -PB1 reports it (Get-AppResourceUsage on systemd).</summary>
public sealed class AppDiskUsage
{
    /// <summary>Where it is mounted (df's 'Mounted on').</summary>
    public required string Mount { get; init; }
    /// <summary>The device or filesystem name (df's 'Filesystem').</summary>
    public string? Filesystem { get; init; }
    public long SizeBytes { get; init; }
    public long UsedBytes { get; init; }
    public long AvailableBytes { get; init; }
    /// <summary>df's Capacity: used / (used + available), rounded up as df does, in percent.</summary>
    public double UsedPercent { get; init; }
    public override string ToString() => $"{Mount} {UsedPercent.ToString("0", CultureInfo.InvariantCulture)}%";
}

/// <summary>
/// Resource usage of one instance of an app (Get-AppResourceUsage): a pod, a Fly machine, a DigitalOcean component
/// or the systemd unit. A figure the platform does not give is null, and NotAvailable says which ones are missing and
/// where to look instead. Identity properties bind into the other App cmdlets.
/// </summary>
public sealed class AppResourceUsage : AppIdentity
{
    /// <summary>The app (Fly app, DigitalOcean app id, deployment or unit).</summary>
    public required string Name { get; init; }
    /// <summary>The instance: pod name, Fly machine id, DigitalOcean component, or the unit's main PID.</summary>
    public required string Instance { get; init; }
    /// <summary>Where it runs: the Kubernetes node, the Fly region, the DigitalOcean region or the systemd host.</summary>
    public string? Node { get; init; }
    /// <summary>The instance's state as the platform reports it (Running, started, HEALTHY, running).</summary>
    public string? State { get; init; }

    /// <summary>CPU in use, in cores (250m is 0.25). Kubernetes: the metrics API; Fly: busy share of the machine's CPUs; systemd: CPUUsageNSec over one second.</summary>
    public double? CpuCores { get; init; }
    /// <summary>The CPU the instance asked for, in cores (Kubernetes requests).</summary>
    public double? CpuRequestCores { get; init; }
    /// <summary>The most CPU the instance may use, in cores (Kubernetes limits, Fly guest cpus, DigitalOcean instance size, systemd CPUQuota).</summary>
    public double? CpuLimitCores { get; init; }
    /// <summary>CPU in use as a percentage of the limit (DigitalOcean gives this figure itself).</summary>
    public double? CpuPercent { get; init; }
    /// <summary>CPU time used since the unit started (systemd CPUUsageNSec).</summary>
    public TimeSpan? CpuTime { get; init; }

    /// <summary>Memory in use, in bytes (Kubernetes working set, Fly MemTotal - MemAvailable, systemd MemoryCurrent).</summary>
    public long? MemoryBytes { get; init; }
    /// <summary>The memory the instance asked for, in bytes (Kubernetes requests).</summary>
    public long? MemoryRequestBytes { get; init; }
    /// <summary>The most memory the instance may use, in bytes (Kubernetes limits, Fly guest memory, DigitalOcean instance size, systemd MemoryMax).</summary>
    public long? MemoryLimitBytes { get; init; }
    /// <summary>Memory in use as a percentage of the limit.</summary>
    public double? MemoryPercent { get; init; }

    /// <summary>How often the instance restarted (Kubernetes restartCount, Fly exit events, systemd NRestarts).</summary>
    public int? Restarts { get; init; }
    /// <summary>Tasks (processes and threads) of the unit (systemd TasksCurrent).</summary>
    public long? Tasks { get; init; }
    /// <summary>Bytes received since the instance started (Fly fly_instance_net_recv_bytes; systemd IPIngressBytes with IPAccounting=yes).</summary>
    public long? NetworkInBytes { get; init; }
    /// <summary>Bytes sent since the instance started (Fly fly_instance_net_sent_bytes; systemd IPEgressBytes with IPAccounting=yes).</summary>
    public long? NetworkOutBytes { get; init; }
    /// <summary>The filesystems of the host (systemd: df -PB1). Empty where the platform does not report them.</summary>
    public IReadOnlyList<AppDiskUsage> Disks { get; init; } = [];

    /// <summary>The host's load average over 1, 5 and 15 minutes (systemd: /proc/loadavg).</summary>
    public double[]? LoadAverage { get; init; }
    /// <summary>CPU in use on the host or node, in cores (Kubernetes: the node's metrics, kubectl top nodes).</summary>
    public double? HostCpuCores { get; init; }
    /// <summary>The CPU of the host or node that workloads may use, in cores (Kubernetes: the node's status.allocatable).</summary>
    public double? HostCpuTotalCores { get; init; }
    /// <summary>The host's memory (systemd: MemTotal of /proc/meminfo; Kubernetes: the node's allocatable memory).</summary>
    public long? HostMemoryTotalBytes { get; init; }
    /// <summary>The host's memory still available (systemd: MemAvailable of /proc/meminfo; Kubernetes: allocatable minus the node's working set).</summary>
    public long? HostMemoryAvailableBytes { get; init; }

    /// <summary>When the figures were taken, where the platform says.</summary>
    public DateTimeOffset? Timestamp { get; init; }
    /// <summary>Where the figures came from (the commands or APIs read).</summary>
    public string? Source { get; init; }
    /// <summary>The figures this platform does not give, each with where to look instead.</summary>
    public string[] NotAvailable { get; init; } = [];

    /// <summary>A percentage of used to limit, or null when either is missing.</summary>
    public static double? Percent(double? used, double? limit) =>
        used is { } u && limit is { } l && l > 0 ? Math.Round(u / l * 100, 1) : null;

    public override string ToString() => $"{Name}/{Instance}";
}
