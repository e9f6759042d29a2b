using System.Globalization;
using System.Net.Http.Headers;
using System.Text.Json;
using IncidentOps.Config;
using IncidentOps.Platforms;

namespace IncidentOps.Engine.Platforms;

/// <summary>
/// Resource usage of a Fly app's machines. flyctl has no usage command (fly dashboard metrics only opens the browser),
/// so: the machines' limits (config.guest cpus and memory_mb), state, region and exit events from 'flyctl status --json'
/// (which also names the organization), and what is in use from Fly's managed Prometheus
/// (https://api.fly.io/prometheus/ORG/api/v1/query, built-in series fly_instance_cpu, fly_instance_memory_mem_total/_available,
/// fly_instance_net_recv_bytes/_sent_bytes with the label instance = machine id; https://fly.io/docs/metrics-and-logs/metrics/),
/// with the token flyctl uses (FLY_ACCESS_TOKEN, else FLY_API_TOKEN, else flyctl auth token --json).
/// </summary>
public sealed partial class FlyAdapter : IResourceUsageReader
{
    /// <summary>Fly's Prometheus base; FLY_PROMETHEUS_URL overrides it (a proxy, or a loopback stand-in in tests).</summary>
    public static Uri PrometheusBase
    {
        get
        {
            var value = System.Environment.GetEnvironmentVariable("FLY_PROMETHEUS_URL");
            if (string.IsNullOrWhiteSpace(value)) return new Uri("https://api.fly.io/prometheus/");
            if (Uri.TryCreate(value.Trim().TrimEnd('/') + "/", UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https") return uri;
            throw new IncidentOpsException(PlatformErrorIds.PlatformApiUrlInvalid, IncidentOpsErrorCategory.InvalidArgument,
                $"FLY_PROMETHEUS_URL is '{value}', which is not an http(s) address. Unset it to use https://api.fly.io/prometheus/.") { TargetObject = value };
        }
    }

    private const string DiskNote = "Disk: Fly's built-in metrics give disk I/O (fly_instance_disk_*) and volume use (fly_volume_used_pct), not the root filesystem's space; run flyctl ssh console -C 'df -h'";

    public async Task<IReadOnlyList<AppResourceUsage>> GetResourceUsageAsync(CancellationToken ct)
    {
        var cmd = Fly("status", "-a", App, "--json");
        var s = await RunJsonAsync(cmd, ct).ConfigureAwait(false);
        if (s.ValueKind != JsonValueKind.Object) throw Invalid(cmd, "(document)", "is not an object");
        var machines = Arr(s, "Machines").Where(m => Str(m, "state") is not "destroyed").ToList();
        var org = Str(s, "Organization", "Slug");

        var metrics = new Dictionary<string, Dictionary<string, double>>(StringComparer.Ordinal);
        var missing = new List<string>();
        DateTimeOffset? at = null;
        var token = org is null ? null : await TokenAsync(ct).ConfigureAwait(false);
        if (machines.Count > 0 && (org is null || token is null))
        {
            var why = org is null ? "flyctl status --json named no organization" : "no Fly token: set FLY_API_TOKEN or log in with flyctl auth login";
            Sink.Warning($"CPU, memory in use and network of {App} come from Fly's Prometheus, which was not read: {why}.");
            missing.Add($"CPU, memory in use and network: Fly's Prometheus was not read ({why}); see flyctl dashboard metrics");
        }
        else if (machines.Count > 0)
        {
            var sel = $"app=\"{App}\"";
            var queries = new Dictionary<string, string>
            {
                ["cpu"] = $"sum by (instance) (rate(fly_instance_cpu{{{sel},mode!=\"idle\"}}[1m])) / sum by (instance) (rate(fly_instance_cpu{{{sel}}}[1m]))",
                ["memory"] = $"sum by (instance) (fly_instance_memory_mem_total{{{sel}}} - fly_instance_memory_mem_available{{{sel}}})",
                ["in"] = $"sum by (instance) (fly_instance_net_recv_bytes{{{sel}}})",
                ["out"] = $"sum by (instance) (fly_instance_net_sent_bytes{{{sel}}})",
            };
            using var http = new HttpClient { Timeout = Timeout };
            http.DefaultRequestHeaders.Authorization = token!.StartsWith("FlyV1 ", StringComparison.Ordinal)
                ? new AuthenticationHeaderValue("FlyV1", token["FlyV1 ".Length..]) : new AuthenticationHeaderValue("Bearer", token);
            foreach (var (name, query) in queries)
            {
                var (values, time) = await QueryAsync(http, new Uri(PrometheusBase, $"{Uri.EscapeDataString(org!)}/api/v1/query?query={Uri.EscapeDataString(query)}"), ct).ConfigureAwait(false);
                metrics[name] = values;
                at ??= time;
            }
        }
        missing.Add(DiskNote);

        return machines.Select(m =>
        {
            var id = Str(m, "id") ?? throw Invalid(cmd, "Machines[].id", "is missing");
            var cpus = Path(m, "config", "guest", "cpus") is { ValueKind: JsonValueKind.Number } c ? c.GetDouble() : (double?)null;
            var memoryMb = Path(m, "config", "guest", "memory_mb") is { ValueKind: JsonValueKind.Number } mm ? mm.GetInt64() : (long?)null;
            double? Get(string metric) => metrics.TryGetValue(metric, out var d) && d.TryGetValue(id, out var v) ? v : null;
            var busy = Get("cpu");
            var cores = busy is { } b && cpus is { } n ? Math.Round(b * n, 3) : (double?)null;
            var memory = Get("memory") is { } used ? (long)used : (long?)null;
            var limit = memoryMb * 1024 * 1024;
            var own = new List<string>(missing);
            if (metrics.Count > 0 && busy is null && memory is null) own.Insert(0, $"CPU, memory in use and network: Fly's Prometheus has no recent sample for machine {id} (is it {Str(m, "state")}?)");
            if (cpus is null || memoryMb is null) own.Add("Limits: the machine has no config.guest in flyctl status --json; see flyctl machine status " + id);
            return new AppResourceUsage
            {
                Platform = PlatformKind.Fly, Name = App, Service = Target.Service, App = App, Instance = id, Node = Str(m, "region"), State = Str(m, "state"),
                CpuCores = cores, CpuLimitCores = cpus, CpuPercent = busy is { } p ? Math.Round(p * 100, 1) : null,
                MemoryBytes = memory, MemoryLimitBytes = limit, MemoryPercent = AppResourceUsage.Percent(memory, limit),
                Restarts = Path(m, "events") is { ValueKind: JsonValueKind.Array } ? Arr(m, "events").Count(e => Str(e, "type") == "exit") : null,
                NetworkInBytes = Get("in") is { } i ? (long)i : null, NetworkOutBytes = Get("out") is { } o ? (long)o : null,
                Timestamp = at, NotAvailable = [.. own],
                Source = "flyctl status --json (config.guest, events)" + (metrics.Count > 0 ? $"; Fly Prometheus {PrometheusBase}{org}/api/v1/query" : ""),
            };
        }).ToList();
    }

    /// <summary>
    /// The token flyctl itself uses, in its order (internal/config/config.go applyEnv: FLY_ACCESS_TOKEN, then
    /// FLY_API_TOKEN, else the one it is logged in with), so the metrics query reads as the same account as the flyctl
    /// calls; null when there is none.
    /// </summary>
    private async Task<string?> TokenAsync(CancellationToken ct)
    {
        var token = System.Environment.GetEnvironmentVariable("FLY_ACCESS_TOKEN");
        if (string.IsNullOrWhiteSpace(token)) token = System.Environment.GetEnvironmentVariable("FLY_API_TOKEN");
        if (string.IsNullOrWhiteSpace(token))
        {
            var cmd = Fly("auth", "token", "--json");
            try { token = Str(ParseJson(cmd, await RunTextAsync(cmd, ct).ConfigureAwait(false)), "token"); }
            catch (IncidentOpsException ex) when (ex.ErrorId is PlatformErrorIds.PlatformCommandFailed or PlatformErrorIds.PlatformOutputInvalid)
            {
                Sink.Verbose($"flyctl auth token gave no token: {ex.Message}");
                return null;
            }
        }
        if (string.IsNullOrWhiteSpace(token)) return null;
        token = token.Trim();
        SecretRedactor.Register(token);
        return token;
    }

    /// <summary>A Prometheus instant query: {"status":"success","data":{"resultType":"vector","result":[{"metric":{"instance":..},"value":[t,"v"]}]}}.</summary>
    private static async Task<(Dictionary<string, double> Values, DateTimeOffset? Time)> QueryAsync(HttpClient http, Uri uri, CancellationToken ct)
    {
        using var response = await http.GetAsync(uri, ct).ConfigureAwait(false);
        var text = await response.Content.ReadAsStringAsync(ct).ConfigureAwait(false);
        var shown = uri.GetLeftPart(UriPartial.Path);
        if (!response.IsSuccessStatusCode)
            throw new IncidentOpsException(PlatformErrorIds.PlatformRequestFailed, IncidentOpsErrorCategory.InvalidResult,
                $"GET {shown} returned {(int)response.StatusCode} {response.ReasonPhrase}: {(text.Length > 500 ? text[..500] : text)}. Check that the token may read the organization's metrics.");
        JsonElement root;
        try { using var doc = JsonDocument.Parse(text); root = doc.RootElement.Clone(); }
        catch (JsonException) { throw new IncidentOpsException(PlatformErrorIds.PlatformOutputInvalid, IncidentOpsErrorCategory.InvalidResult, $"GET {shown} did not return JSON."); }
        if (Str(root, "status") != "success")
            throw new IncidentOpsException(PlatformErrorIds.PlatformRequestFailed, IncidentOpsErrorCategory.InvalidResult, $"GET {shown}: Prometheus answered {Str(root, "status") ?? "no status"}: {Str(root, "error")}");
        var values = new Dictionary<string, double>(StringComparer.Ordinal);
        DateTimeOffset? time = null;
        foreach (var r in Arr(root, "data", "result"))
        {
            var pair = Arr(r, "value").ToList();
            if (Str(r, "metric", "instance") is not { } instance || pair.Count != 2) continue;
            if (pair[1].ValueKind == JsonValueKind.String && double.TryParse(pair[1].GetString(), NumberStyles.Float, CultureInfo.InvariantCulture, out var v) && !double.IsNaN(v))
                values[instance] = v;
            if (pair[0].ValueKind == JsonValueKind.Number) time ??= DateTimeOffset.FromUnixTimeMilliseconds((long)(pair[0].GetDouble() * 1000));
        }
        return (values, time);
    }
}
