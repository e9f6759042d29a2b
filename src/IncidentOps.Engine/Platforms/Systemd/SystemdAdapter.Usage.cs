using System.Diagnostics;
using System.Globalization;
using IncidentOps.Config;
using IncidentOps.Platforms;

namespace IncidentOps.Engine.Platforms;

/// <summary>
/// Resource usage of a systemd unit and its host, what the runbooks read with htop and df -h: the unit's cgroup
/// figures from systemctl show (MemoryCurrent, MemoryMax, CPUUsageNSec sampled twice one second apart, CPUQuotaPerSecUSec,
/// TasksCurrent, NRestarts, IPIngressBytes/IPEgressBytes), the host's /proc/loadavg and /proc/meminfo, and df -PB1
/// (POSIX columns, sizes in bytes). Over ssh it is one remote command; locally the files are read directly.
/// </summary>
public sealed partial class SystemdAdapter : IResourceUsageReader
{
    internal const string UsageProperties = "MainPID,ActiveState,SubState,MemoryCurrent,MemoryMax,CPUUsageNSec,CPUQuotaPerSecUSec,TasksCurrent,NRestarts,IPIngressBytes,IPEgressBytes";
    private static readonly string[] PseudoFilesystems = ["tmpfs", "devtmpfs", "udev", "none", "shm", "proc", "sysfs", "cgroup", "cgroup2"];

    /// <summary>The one remote command: the unit's properties, a second CPU sample one second later, load, memory and filesystems, in marked sections.</summary>
    internal CliCommand RemoteUsageCommand()
    {
        var u = CliCommand.Quote(Unit);
        var script =
            $"systemctl show {u} --property={UsageProperties} --no-pager; " +
            "printf '@@t0 %s\\n' \"$(date +%s%N)\"; sleep 1; " +
            $"printf '@@cpu1 %s %s\\n' \"$(systemctl show {u} --property=CPUUsageNSec --value)\" \"$(date +%s%N)\"; " +
            // df exits 1 when one mount cannot be read (a stale NFS handle) but still lists the others: keep what it printed.
            "echo @@loadavg; cat /proc/loadavg; echo @@meminfo; cat /proc/meminfo; echo @@df; df -PB1 || true";
        return new CliCommand("ssh", "ssh", ["-o", "BatchMode=yes", "--", _o.ComputerName!, script]);
    }

    public async Task<IReadOnlyList<AppResourceUsage>> GetResourceUsageAsync(CancellationToken ct)
    {
        if (_o.ComputerName is not null)
        {
            var cmd = RemoteUsageCommand();
            return [ParseRemoteUsage(cmd, await RunTextAsync(cmd, ct).ConfigureAwait(false))];
        }
        var show = Cmd("systemctl", "show", Unit, $"--property={UsageProperties}", "--no-pager");
        var sw = Stopwatch.StartNew();
        var props = ParseShow(await RunTextAsync(show, ct).ConfigureAwait(false));
        var t0 = sw.Elapsed;
        await Task.Delay(TimeSpan.FromSeconds(1), ct).ConfigureAwait(false);
        var again = (await RunTextAsync(Cmd("systemctl", "show", Unit, "--property=CPUUsageNSec", "--value", "--no-pager"), ct).ConfigureAwait(false)).Trim();
        var elapsedNs = (long)((sw.Elapsed - t0).TotalMilliseconds * 1_000_000);
        // df exits 1 when one mount cannot be read (a stale NFS handle) but still lists the others: keep what it printed.
        var df = (await Runner.RunAsync(new CliCommand("df", "df", ["-PB1"]), Timeout, ct, throwOnError: false).ConfigureAwait(false)).StandardOutput;
        string? Read(string file) { try { return File.ReadAllText(file); } catch (IOException) { return null; } catch (UnauthorizedAccessException) { return null; } }
        return [Build(show, props, again, elapsedNs, Read("/proc/loadavg"), Read("/proc/meminfo"), df, System.Environment.MachineName)];
    }

    /// <summary>Splits the remote output into its sections (@@t0, @@cpu1, @@loadavg, @@meminfo, @@df) and builds the usage.</summary>
    internal AppResourceUsage ParseRemoteUsage(CliCommand cmd, string text)
    {
        var sections = new Dictionary<string, List<string>>(StringComparer.Ordinal) { ["show"] = [] };
        var current = "show";
        long? t0 = null; string? cpu1 = null; long? t1 = null;
        foreach (var raw in text.Split('\n'))
        {
            var line = raw.TrimEnd('\r');
            if (line.StartsWith("@@t0 ", StringComparison.Ordinal)) { t0 = long.TryParse(line[5..], NumberStyles.Integer, CultureInfo.InvariantCulture, out var v) ? v : null; continue; }
            if (line.StartsWith("@@cpu1 ", StringComparison.Ordinal))
            {
                var parts = line[7..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
                if (parts.Length == 2) { cpu1 = parts[0]; t1 = long.TryParse(parts[1], NumberStyles.Integer, CultureInfo.InvariantCulture, out var v) ? v : null; }
                continue;
            }
            if (line is "@@loadavg" or "@@meminfo" or "@@df") { current = line[2..]; sections[current] = []; continue; }
            sections[current].Add(line);
        }
        var props = ParseShow(string.Join('\n', sections["show"]));
        if (!props.ContainsKey("ActiveState")) throw Invalid(cmd, "ActiveState", "is missing (systemctl show printed no properties)");
        if (!sections.ContainsKey("df")) throw Invalid(cmd, "@@df", "is missing (the remote command stopped before df)");
        string? Section(string name) => sections.TryGetValue(name, out var l) ? string.Join('\n', l) : null;
        long? elapsed = t0 is { } a && t1 is { } b && b > a ? b - a : null;
        return Build(cmd, props, cpu1, elapsed, Section("loadavg"), Section("meminfo"), Section("df") ?? "", _o.ComputerName!);
    }

    private AppResourceUsage Build(CliCommand cmd, Dictionary<string, string> p, string? cpuAgain, long? elapsedNs, string? loadavg, string? meminfo, string df, string host)
    {
        if (p.TryGetValue("LoadState", out var load) && load == "not-found")
            throw new IncidentOpsException(PlatformErrorIds.AppNotFound, IncidentOpsErrorCategory.ObjectNotFound, $"The unit '{Unit}' does not exist{(_o.ComputerName is null ? "" : " on " + _o.ComputerName)} (LoadState=not-found).") { TargetObject = Unit };
        var missing = new List<string>();
        var memory = Number(p.GetValueOrDefault("MemoryCurrent"));
        if (memory is null) missing.Add($"Memory in use: memory accounting is off for {Unit} (MemoryCurrent=[not set]); turn on MemoryAccounting=yes (systemctl set-property {Unit} MemoryAccounting=yes)");
        var memoryMax = Number(p.GetValueOrDefault("MemoryMax"));
        if (memoryMax is null) missing.Add($"Memory limit: MemoryMax=infinity, {Unit} may use all of the host's memory (see HostMemoryAvailableBytes)");
        var cpuNs = Number(p.GetValueOrDefault("CPUUsageNSec"));
        var cpuNs1 = Number(cpuAgain);
        double? cores = cpuNs is { } c0 && cpuNs1 is { } c1 && elapsedNs is { } e && e > 0 && c1 >= c0 ? Math.Round((double)(c1 - c0) / e, 3) : null;
        if (cpuNs is null) missing.Add($"CPU: CPU accounting is off for {Unit} (CPUUsageNSec=[not set]); turn on CPUAccounting=yes");
        var quota = SecondsPerSecond(p.GetValueOrDefault("CPUQuotaPerSecUSec"));
        if (quota is null) missing.Add($"CPU limit: no CPUQuota for {Unit}, it may use every CPU of the host (see LoadAverage)");
        var inBytes = Number(p.GetValueOrDefault("IPIngressBytes"));
        var outBytes = Number(p.GetValueOrDefault("IPEgressBytes"));
        if (inBytes is null && outBytes is null) missing.Add($"Network: IP accounting is off for {Unit} (IPIngressBytes=[no data]); turn on IPAccounting=yes, or read the host's /proc/net/dev");
        var (memTotal, memAvailable) = ParseMeminfo(meminfo);
        var disks = ParseDf(cmd, df);
        if (disks.Count == 0) missing.Add("Disks: df -PB1 listed no filesystem; run df -h on the host");
        return new AppResourceUsage
        {
            Platform = PlatformKind.Systemd, Name = Unit, Service = Target.Service, Unit = Unit, ComputerName = _o.ComputerName,
            Instance = p.GetValueOrDefault("MainPID") ?? "0", Node = host, State = p.GetValueOrDefault("SubState") ?? p.GetValueOrDefault("ActiveState"),
            CpuCores = cores, CpuLimitCores = quota, CpuPercent = AppResourceUsage.Percent(cores, quota),
            CpuTime = cpuNs is { } ns ? TimeSpan.FromTicks(ns / 100) : null,
            MemoryBytes = memory, MemoryLimitBytes = memoryMax, MemoryPercent = AppResourceUsage.Percent(memory, memoryMax),
            Restarts = int.TryParse(p.GetValueOrDefault("NRestarts"), NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) ? n : null,
            Tasks = Number(p.GetValueOrDefault("TasksCurrent")),
            NetworkInBytes = inBytes, NetworkOutBytes = outBytes,
            Disks = disks, LoadAverage = ParseLoadavg(loadavg), HostMemoryTotalBytes = memTotal, HostMemoryAvailableBytes = memAvailable,
            Timestamp = DateTimeOffset.UtcNow, Source = $"systemctl show --property={UsageProperties}; /proc/loadavg; /proc/meminfo; df -PB1",
            NotAvailable = [.. missing],
        };
    }

    /// <summary>A systemctl number; '[not set]', '[no data]', 'infinity' and the unset marker 2^64-1 (older systemd) are null.</summary>
    internal static long? Number(string? value) =>
        value is not null && ulong.TryParse(value.Trim(), NumberStyles.Integer, CultureInfo.InvariantCulture, out var v) && v != ulong.MaxValue && v <= long.MaxValue ? (long)v : null;

    /// <summary>CPUQuotaPerSecUSec as cores: '500ms' is 0.5, '2s' is 2, 'infinity' is null.</summary>
    internal static double? SecondsPerSecond(string? value)
    {
        if (string.IsNullOrWhiteSpace(value) || value == "infinity") return null;
        double total = 0; var any = false;
        foreach (var part in value.Split(' ', StringSplitOptions.RemoveEmptyEntries))
        {
            var i = 0;
            while (i < part.Length && (char.IsDigit(part[i]) || part[i] == '.')) i++;
            if (i == 0 || !double.TryParse(part[..i], NumberStyles.Float, CultureInfo.InvariantCulture, out var v)) return null;
            var unit = part[i..] switch { "us" => 1e-6, "ms" => 1e-3, "s" or "" => 1, "min" => 60, _ => double.NaN };
            if (double.IsNaN(unit)) return null;
            total += v * unit; any = true;
        }
        return any ? Math.Round(total, 3) : null;
    }

    internal static double[]? ParseLoadavg(string? text)
    {
        var parts = text?.Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (parts is not { Length: >= 3 }) return null;
        var values = parts.Take(3).Select(s => double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) ? v : double.NaN).ToArray();
        return values.Any(double.IsNaN) ? null : values;
    }

    internal static (long? Total, long? Available) ParseMeminfo(string? text)
    {
        long? total = null, available = null;
        foreach (var line in (text ?? "").Split('\n'))
        {
            var parts = line.Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            if (parts.Length < 2 || !long.TryParse(parts[1], NumberStyles.Integer, CultureInfo.InvariantCulture, out var v)) continue;
            var bytes = parts.Length > 2 && parts[2] == "kB" ? v * 1024 : v;
            if (parts[0] == "MemTotal:") total = bytes;
            else if (parts[0] == "MemAvailable:") available = bytes;
        }
        return (total, available);
    }

    /// <summary>df -PB1: a header, then 'Filesystem 1-blocks Used Available Capacity Mounted-on' (the mount point may hold spaces); pseudo filesystems are left out.</summary>
    internal static IReadOnlyList<AppDiskUsage> ParseDf(CliCommand cmd, string text)
    {
        var lines = text.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.TrimEnd('\r')).Where(l => l.Length > 0).ToList();
        if (lines.Count == 0) return [];
        if (!lines[0].StartsWith("Filesystem", StringComparison.Ordinal)) throw Invalid(cmd, "df header", $"is '{lines[0]}', expected df -P's 'Filesystem 1-blocks Used Available Capacity Mounted on'");
        var disks = new List<AppDiskUsage>();
        foreach (var line in lines.Skip(1))
        {
            var parts = line.Split(' ', 6, StringSplitOptions.RemoveEmptyEntries);
            if (parts.Length < 6) throw Invalid(cmd, "df line", $"'{line}' does not have df -P's six columns");
            if (!long.TryParse(parts[1], out var size) || !long.TryParse(parts[2], out var used) || !long.TryParse(parts[3], out var avail))
                throw Invalid(cmd, "df line", $"'{line}' has no sizes in bytes (was -B1 given?)");
            if (size == 0 || PseudoFilesystems.Contains(parts[0], StringComparer.Ordinal)) continue;
            disks.Add(new AppDiskUsage
            {
                Filesystem = parts[0], Mount = parts[5].Trim(), SizeBytes = size, UsedBytes = used, AvailableBytes = avail,
                UsedPercent = double.TryParse(parts[4].TrimEnd('%'), NumberStyles.Float, CultureInfo.InvariantCulture, out var pct) ? pct : Math.Round(used * 100.0 / Math.Max(1, used + avail), 1),
            });
        }
        return disks;
    }
}
