using System.Text.Json;
using IncidentOps.Config;
using IncidentOps.Platforms;

namespace IncidentOps.Engine.Platforms;

/// <summary>
/// Resource usage of the deployment's pods: what 'kubectl top pods' shows, read from the same metrics API
/// (metrics.k8s.io/v1beta1 PodMetrics, served by metrics-server) as JSON through 'kubectl get --raw', with the pods'
/// requests, limits and restart counts from their specs and status. The raw JSON is exact (nanocores, KiB) and per
/// container, where 'kubectl top' prints rounded text columns and first checks API discovery.
/// </summary>
public sealed partial class KubernetesAdapter : IResourceUsageReader
{
    private const string MetricsSource = "metrics.k8s.io/v1beta1 (kubectl get --raw)";

    /// <summary>kubectl with the same kubeconfig and context as every other call but no namespace: for cluster-scoped reads and --raw paths.</summary>
    private CliCommand KubectlCluster(params string[] args) => _o.Command(args);

    /// <summary>kubectl get --raw PATH (the namespace, where there is one, is in the path).</summary>
    internal CliCommand KubectlRaw(string path) => KubectlCluster("get", "--raw", path);

    public async Task<IReadOnlyList<AppResourceUsage>> GetResourceUsageAsync(CancellationToken ct)
    {
        var (_, selector) = await GetDeploymentAsync(ct).ConfigureAwait(false);
        var pods = Arr(await RunJsonAsync(Kubectl("get", "pods", "-l", selector, "-o", "json"), ct).ConfigureAwait(false), "items").ToList();
        if (pods.Count == 0) return [];
        var ns = _o.Namespace ?? Str(pods[0], "metadata", "namespace") ?? "default";
        var raw = KubectlRaw($"/apis/metrics.k8s.io/v1beta1/namespaces/{ns}/pods?labelSelector={Uri.EscapeDataString(selector)}");

        var usage = new Dictionary<string, JsonElement>(StringComparer.Ordinal);
        var missing = new List<string>();
        var metricsApi = true;
        try
        {
            foreach (var m in Arr(await RunJsonAsync(raw, ct).ConfigureAwait(false), "items"))
                if (Str(m, "metadata", "name") is { } name) usage[name] = m;
        }
        catch (IncidentOpsException ex) when (ex.ErrorId == PlatformErrorIds.PlatformCommandFailed
            && (ex.Message.Contains("NotFound", StringComparison.Ordinal) || ex.Message.Contains("could not find the requested resource", StringComparison.Ordinal)
                || ex.Message.Contains("ServiceUnavailable", StringComparison.Ordinal) || ex.Message.Contains("unable to handle the request", StringComparison.Ordinal)))
        {
            // No metrics-server (or it is down): 'kubectl top' fails the same way. Requests, limits and restarts still come from the pods.
            Sink.Warning($"The cluster's metrics API (metrics.k8s.io) did not answer for {Target}, so CPU and memory in use are empty: is metrics-server installed and running? (kubectl get apiservice v1beta1.metrics.k8s.io)");
            metricsApi = false;
            missing.Add("CPU and memory in use: the metrics API (metrics.k8s.io) is not available; install metrics-server (kubectl top pods needs it too)");
        }
        var nodes = metricsApi ? await NodeUsageAsync(pods, ct).ConfigureAwait(false) : new Dictionary<string, NodeFigures>(StringComparer.Ordinal);
        if (metricsApi && nodes.Count == 0) missing.Add("Node usage: the node metrics (kubectl top nodes) could not be read; they need cluster-wide read access to nodes");
        missing.Add("Disk and network: the metrics API has none for pods; see the kubelet's /stats/summary (kubectl get --raw /api/v1/nodes/NODE/proxy/stats/summary) or your cluster's Prometheus");

        return pods.Select(p => PodUsage(p, usage.TryGetValue(Str(p, "metadata", "name") ?? "", out var m) ? m : null, metricsApi, missing,
            Str(p, "spec", "nodeName") is { } n && nodes.TryGetValue(n, out var nf) ? nf : null)).ToList();
    }

    /// <summary>What 'kubectl top nodes' shows for one node, with its allocatable CPU and memory.</summary>
    private sealed record NodeFigures(double? CpuCores, long? MemoryBytes, double? AllocatableCores, long? AllocatableBytes);

    /// <summary>
    /// The nodes the pods run on: usage from the metrics API (/apis/metrics.k8s.io/v1beta1/nodes/NAME, NodeMetrics) and
    /// allocatable CPU and memory from 'kubectl get nodes NAME... -o json'. Nodes are cluster-scoped: without the right
    /// to read them (Forbidden) the pods' figures stand alone.
    /// </summary>
    private async Task<Dictionary<string, NodeFigures>> NodeUsageAsync(List<JsonElement> pods, CancellationToken ct)
    {
        var result = new Dictionary<string, NodeFigures>(StringComparer.Ordinal);
        var names = pods.Select(p => Str(p, "spec", "nodeName")).Where(n => n is not null).Select(n => n!).Distinct(StringComparer.Ordinal).ToList();
        if (names.Count == 0) return result;
        try
        {
            var allocatable = new Dictionary<string, JsonElement>(StringComparer.Ordinal);
            foreach (var n in Arr(await RunJsonAsync(KubectlCluster(["get", "nodes", .. names, "-o", "json"]), ct).ConfigureAwait(false), "items"))
                if (Str(n, "metadata", "name") is { } name) allocatable[name] = n;
            foreach (var name in names)
            {
                var m = await RunJsonAsync(KubectlRaw($"/apis/metrics.k8s.io/v1beta1/nodes/{name}"), ct).ConfigureAwait(false);
                var a = allocatable.TryGetValue(name, out var node) ? node : (JsonElement?)null;
                result[name] = new NodeFigures(Quantity.Cores(Str(m, "usage", "cpu")), Quantity.Bytes(Str(m, "usage", "memory")),
                    a is { } x ? Quantity.Cores(Str(x, "status", "allocatable", "cpu")) : null, a is { } y ? Quantity.Bytes(Str(y, "status", "allocatable", "memory")) : null);
            }
        }
        // The nodes are extra: a refusal (Forbidden) or output that cannot be read costs their figures, never the pods'.
        catch (IncidentOpsException ex) when (ex.ErrorId is PlatformErrorIds.PlatformCommandFailed or PlatformErrorIds.PlatformOutputInvalid)
        {
            Sink.Warning($"The nodes of {Target} could not be read (kubectl top nodes), so the pods' figures stand alone: {ex.Message}");
            result.Clear();
        }
        return result;
    }

    private AppResourceUsage PodUsage(JsonElement pod, JsonElement? metrics, bool metricsApi, List<string> missingForAll, NodeFigures? node)
    {
        var containers = Arr(pod, "spec", "containers").ToList();
        double? Sum(Func<JsonElement, double?> f)
        {
            var values = containers.Select(f).ToList();
            return values.Any(v => v is not null) ? values.Sum(v => v ?? 0) : null;
        }
        // A pod's limit is bounded only when every container has one: one unbounded container makes the pod unbounded.
        double? Limit(Func<JsonElement, double?> f) => containers.Count > 0 && containers.All(c => f(c) is not null) ? containers.Sum(c => f(c)!.Value) : null;

        var cpuRequest = Sum(c => Quantity.Cores(Str(c, "resources", "requests", "cpu")));
        var cpuLimit = Limit(c => Quantity.Cores(Str(c, "resources", "limits", "cpu")));
        var memRequest = Sum(c => Quantity.Bytes(Str(c, "resources", "requests", "memory")));
        var memLimit = Limit(c => Quantity.Bytes(Str(c, "resources", "limits", "memory")));

        double? cpu = null; long? mem = null; DateTimeOffset? at = null;
        var missing = new List<string>(missingForAll);
        if (metrics is { } m)
        {
            var mc = Arr(m, "containers").ToList();
            cpu = mc.Select(c => Quantity.Cores(Str(c, "usage", "cpu"))).Where(v => v is not null).Sum();
            mem = mc.Select(c => Quantity.Bytes(Str(c, "usage", "memory"))).Where(v => v is not null).Sum();
            at = Time(m, "timestamp");
        }
        else if (metricsApi)
            missing.Insert(0, "CPU and memory in use: the metrics API has no sample for this pod yet (a new pod is sampled after about a minute)");
        if (cpuLimit is null) missing.Add("CPU limit: no container limit set, the pod may use the node's free CPU (kubectl top nodes)");
        if (memLimit is null) missing.Add("Memory limit: no container limit set, the pod may use the node's free memory (kubectl top nodes)");

        var statuses = Arr(pod, "status", "containerStatuses").ToList();
        var waiting = statuses.Select(s => Str(s, "state", "waiting", "reason")).FirstOrDefault(r => r is not null);
        return new AppResourceUsage
        {
            Platform = PlatformKind.Kubernetes, Name = Dep, Service = Target.Service, Deployment = Dep, Namespace = _o.Namespace, Context = _o.Context,
            Instance = Str(pod, "metadata", "name") ?? "?", Node = Str(pod, "spec", "nodeName"),
            State = Str(pod, "metadata", "deletionTimestamp") is not null ? "Terminating" : waiting ?? Str(pod, "status", "phase"),
            CpuCores = cpu, CpuRequestCores = cpuRequest, CpuLimitCores = cpuLimit, CpuPercent = AppResourceUsage.Percent(cpu, cpuLimit),
            MemoryBytes = mem, MemoryRequestBytes = (long?)memRequest, MemoryLimitBytes = (long?)memLimit, MemoryPercent = AppResourceUsage.Percent(mem, memLimit),
            Restarts = statuses.Count == 0 ? null : statuses.Sum(s => Int(s, "restartCount")),
            HostCpuCores = node?.CpuCores, HostCpuTotalCores = node?.AllocatableCores, HostMemoryTotalBytes = node?.AllocatableBytes,
            HostMemoryAvailableBytes = node is { AllocatableBytes: { } total, MemoryBytes: { } used } ? Math.Max(0, total - used) : null,
            Timestamp = at, Source = $"{MetricsSource}; pods' spec.containers[].resources and status.containerStatuses[].restartCount" + (node is null ? "" : "; the node's NodeMetrics and status.allocatable"),
            NotAvailable = [.. missing],
        };
    }
}
