using System.Globalization;
using System.Text.Json;
using IncidentOps.Config;
using IncidentOps.Platforms;

namespace IncidentOps.Engine.Platforms;

/// <summary>
/// Resource usage of an App Platform app's components. doctl has no usage command, so: the components and their
/// instance sizes from 'doctl apps get', CPU and memory use per component from the App Platform API
/// GET /v2/apps/{id}/health (components[].cpu_usage_percent, memory_usage_percent, replicas_ready, state), and the
/// size's CPUs and memory from GET /v2/apps/tiers/instance_sizes/{slug} (instance_size.cpus, memory_bytes, as strings).
/// App Platform reports one figure per component, not per instance, and no restart count, disk or network there.
/// </summary>
public sealed partial class DigitalOceanAdapter : IResourceUsageReader
{
    private static readonly string[] UsageComponentKinds = ["services", "workers", "jobs"];

    public async Task<IReadOnlyList<AppResourceUsage>> GetResourceUsageAsync(CancellationToken ct)
    {
        var app = await GetAppAsync(ct).ConfigureAwait(false);
        var spec = Path(app, "spec") ?? app;
        var staticSites = Arr(spec, "static_sites").Select(c => Str(c, "name")).Where(n => n is not null).ToList();
        if (_o.Component is not null && staticSites.Contains(_o.Component))
            NotSupported($"Get-AppResourceUsage is not supported for static site '{_o.Component}' of app {Id}: App Platform serves static sites from its CDN, with no instances to measure. See the app's Insights tab (bandwidth) in the DigitalOcean control panel.");
        var components = UsageComponentKinds.SelectMany(k => Arr(spec, k)).Where(c => _o.Component is null || Str(c, "name") == _o.Component).ToList();
        if (components.Count == 0)
        {
            if (_o.Component is not null)
                throw new IncidentOpsException(PlatformErrorIds.ComponentNotFound, IncidentOpsErrorCategory.ObjectNotFound, $"App {Id} has no service, worker or job '{_o.Component}'.") { TargetObject = _o.Component };
            NotSupported($"Get-AppResourceUsage is not supported for app {Id}: it has only static sites ({string.Join(", ", staticSites)}), which App Platform serves from its CDN with no instances to measure. See the app's Insights tab in the DigitalOcean control panel.");
        }

        using var http = await ClientAsync(ct).ConfigureAwait(false);
        var missing = new List<string>
        {
            "Restarts: App Platform's health API has no restart count; see the monitoring API /v2/monitoring/metrics/apps/restart_count or doctl apps logs --type run_restarted",
            "Disk and network: App Platform reports neither per component; see the app's Insights tab",
        };
        var health = new Dictionary<string, JsonElement>(StringComparer.Ordinal);
        try
        {
            foreach (var h in Arr(await GetAsync(http, $"v2/apps/{Id}/health", ct).ConfigureAwait(false), "components"))
                if (Str(h, "name") is { } name) health[name] = h;
        }
        catch (IncidentOpsException ex) when (ex.ErrorId == PlatformErrorIds.PlatformRequestFailed)
        {
            Sink.Warning($"The App Platform health API did not answer for app {Id}, so CPU and memory in use are empty: {ex.Message}");
            missing.Insert(0, "CPU and memory in use: GET /v2/apps/{id}/health failed; see the app's Insights tab");
        }

        var sizes = new Dictionary<string, JsonElement?>(StringComparer.Ordinal);
        var list = new List<AppResourceUsage>();
        foreach (var c in components)
        {
            var name = Str(c, "name") ?? "?";
            var slug = Str(c, "instance_size_slug");
            if (slug is not null && !sizes.ContainsKey(slug))
            {
                try { sizes[slug] = Path(await GetAsync(http, $"v2/apps/tiers/instance_sizes/{Uri.EscapeDataString(slug)}", ct).ConfigureAwait(false), "instance_size"); }
                catch (IncidentOpsException ex) when (ex.ErrorId == PlatformErrorIds.PlatformRequestFailed) { Sink.Verbose(ex.Message); sizes[slug] = null; }
            }
            var size = slug is null ? null : sizes[slug];
            double? cpus = size is { } sz && double.TryParse(Str(sz, "cpus"), NumberStyles.Float, CultureInfo.InvariantCulture, out var cc) ? cc : null;
            long? memory = size is { } sm && long.TryParse(Str(sm, "memory_bytes"), NumberStyles.Integer, CultureInfo.InvariantCulture, out var mb) ? mb : null;
            var own = new List<string>(missing);
            if (cpus is null || memory is null) own.Add($"Limits: instance size '{slug}' was not found (GET /v2/apps/tiers/instance_sizes/{slug}); see doctl apps tier instance-size list");
            double? cpuPct = null, memPct = null; string? state = null;
            if (health.TryGetValue(name, out var h))
            {
                cpuPct = Double(h, "cpu_usage_percent");
                memPct = Double(h, "memory_usage_percent");
                state = Str(h, "state");
            }
            else if (health.Count > 0) own.Insert(0, $"CPU and memory in use: the health API has no figures for component '{name}'");
            list.Add(new AppResourceUsage
            {
                Platform = PlatformKind.DigitalOcean, Name = Str(spec, "name") ?? Id, Service = Target.Service, AppId = Id, Component = name,
                Instance = name, Node = Str(app, "region", "slug"), State = state,
                CpuPercent = cpuPct, CpuLimitCores = cpus, CpuCores = cpuPct is { } cp && cpus is { } n ? Math.Round(cp / 100 * n, 3) : null,
                MemoryPercent = memPct, MemoryLimitBytes = memory, MemoryBytes = memPct is { } mp && memory is { } m ? (long)(mp / 100 * m) : null,
                Timestamp = health.Count > 0 ? DateTimeOffset.UtcNow : null, NotAvailable = [.. own],
                Source = $"doctl apps get; GET /v2/apps/{{id}}/health; GET /v2/apps/tiers/instance_sizes/{slug}" + (Path(c, "instance_count") is null ? "" : $" (figures per component: the average of its {Int(c, "instance_count")} instance(s))"),
            });
        }
        return list;
    }

    private static double? Double(JsonElement e, string name) =>
        Path(e, name) is { ValueKind: JsonValueKind.Number } v ? v.GetDouble()
        : Str(e, name) is { } s && double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) ? d : null;

    private static async Task<JsonElement> GetAsync(HttpClient http, string path, CancellationToken ct)
    {
        using var response = await http.GetAsync(path, ct).ConfigureAwait(false);
        var text = await response.Content.ReadAsStringAsync(ct).ConfigureAwait(false);
        if (!response.IsSuccessStatusCode)
            throw new IncidentOpsException(PlatformErrorIds.PlatformRequestFailed, IncidentOpsErrorCategory.InvalidResult,
                $"GET {path} returned {(int)response.StatusCode} {response.ReasonPhrase}: {(text.Length > 500 ? text[..500] : text)}");
        try { using var doc = JsonDocument.Parse(text); return doc.RootElement.Clone(); }
        catch (JsonException) { throw new IncidentOpsException(PlatformErrorIds.PlatformOutputInvalid, IncidentOpsErrorCategory.InvalidResult, $"GET {path} did not return JSON."); }
    }
}
