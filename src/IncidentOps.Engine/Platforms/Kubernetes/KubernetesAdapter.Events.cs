using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using IncidentOps.Config;
using IncidentOps.Platforms;

namespace IncidentOps.Engine.Platforms;

/// <summary>
/// Events (core/v1 Event, what kubectl get events and kubectl describe show) of the workload and its pods: for
/// Get-AppEvent, the app-events evidence source, and the last few events of each troubled pod in Get-AppStatus.
/// </summary>
public sealed partial class KubernetesAdapter : IPlatformEvents
{
    /// <summary>How many events Get-AppStatus keeps per troubled pod (newest first).</summary>
    public const int EventsPerInstance = 3;

    public async Task<IReadOnlyList<AppEvent>> GetEventsAsync(EventQuery query, CancellationToken ct)
    {
        // The workload first: a name that does not exist fails with kubectl's NotFound instead of an empty list.
        await GetWorkloadAsync(ct).ConfigureAwait(false);
        var args = new List<string> { "get", "events", "-o", "json" };
        // The type is a field selector the API server applies (kubectl get events --field-selector type=Warning).
        if (query.Type is not null) args.Add($"--field-selector=type={query.Type}");
        var cmd = Kubectl([.. args]);
        var doc = await RunJsonAsync(cmd, ct).ConfigureAwait(false);
        if (Path(doc, "items") is not { ValueKind: JsonValueKind.Array }) throw Invalid(cmd, "items", "is missing");
        var from = query.Since is { } since ? DateTimeOffset.UtcNow - since : (DateTimeOffset?)null;
        return Arr(doc, "items")
            .Where(Involves)
            .Select(e => ToEvent(cmd, e))
            .Where(e => query.Type is null || string.Equals(e.Type, query.Type, StringComparison.Ordinal))
            .Where(e => from is null || e.Timestamp is null || e.Timestamp >= from)
            .OrderBy(e => e.Timestamp ?? DateTimeOffset.MinValue)
            .ToList();
    }

    /// <summary>
    /// True for an event about the workload or one of its pods, by involvedObject: the workload itself; for a
    /// Deployment its ReplicaSets (NAME-HASH) and their pods (NAME-HASH-XXXXX); a StatefulSet's pods (NAME-ORDINAL);
    /// a DaemonSet's pods (NAME-XXXXX). Names, not the pod list, so the events of pods already replaced (an
    /// OOMKilled pod's successor has a new name) are kept.
    /// </summary>
    private bool Involves(JsonElement e)
    {
        var kind = Str(e, "involvedObject", "kind");
        var name = Str(e, "involvedObject", "name");
        if (name is null) return false;
        if (_o.Namespace is not null && Str(e, "involvedObject", "namespace") is { } ns && ns != _o.Namespace) return false;
        if (kind == ApiKind && name == Dep) return true;
        var n = Regex.Escape(Dep);
        return (Kind, kind) switch
        {
            ("deployment", "ReplicaSet") => Regex.IsMatch(name, $"^{n}-[a-z0-9]{{1,10}}$", RegexOptions.None, TimeSpan.FromSeconds(1)),
            ("deployment", "Pod") => Regex.IsMatch(name, $"^{n}-[a-z0-9]{{1,10}}-[a-z0-9]{{5}}$", RegexOptions.None, TimeSpan.FromSeconds(1)),
            ("statefulset", "Pod") => Regex.IsMatch(name, $"^{n}-[0-9]+$", RegexOptions.None, TimeSpan.FromSeconds(1)),
            ("daemonset", "Pod") => Regex.IsMatch(name, $"^{n}-[a-z0-9]{{5}}$", RegexOptions.None, TimeSpan.FromSeconds(1)),
            _ => false,
        };
    }

    private AppEvent ToEvent(CliCommand cmd, JsonElement e)
    {
        var kind = Str(e, "involvedObject", "kind") ?? throw Invalid(cmd, "items[].involvedObject.kind", "is missing");
        var count = Path(e, "series", "count") is { ValueKind: JsonValueKind.Number } sc ? sc.GetInt32()
            : Path(e, "count") is { ValueKind: JsonValueKind.Number } c && c.GetInt32() > 0 ? c.GetInt32() : 1;
        var component = Str(e, "source", "component") ?? Str(e, "reportingComponent");
        var host = Str(e, "source", "host") ?? Str(e, "reportingInstance");
        return new AppEvent
        {
            Platform = PlatformKind.Kubernetes, Name = Dep,
            // Events written through events.k8s.io have no lastTimestamp: eventTime, or the series' last observation.
            Timestamp = Time(e, "lastTimestamp") ?? Time(e, "series", "lastObservedTime") ?? Time(e, "eventTime") ?? Time(e, "metadata", "creationTimestamp"),
            FirstSeen = Time(e, "firstTimestamp") ?? Time(e, "eventTime"),
            Type = Str(e, "type"), Reason = Str(e, "reason"),
            Object = $"{kind}/{Str(e, "involvedObject", "name")}",
            Message = Str(e, "message")?.Trim(),
            Count = count,
            Source = component is null ? null : host is null || host == component ? component : $"{component}, {host}",
        };
    }

    /// <summary>
    /// The last few events of each of the named pods, newest first, as one line each. One kubectl call for all pods
    /// (--field-selector involvedObject.kind=Pod). Events are supplementary: a cluster that refuses them (RBAC
    /// without events get) leaves the status without them, with a warning.
    /// </summary>
    private async Task<Dictionary<string, List<string>>> PodEventLinesAsync(IReadOnlySet<string> pods, CancellationToken ct)
    {
        var cmd = Kubectl("get", "events", "--field-selector=involvedObject.kind=Pod", "-o", "json");
        JsonElement doc;
        try { doc = await RunJsonAsync(cmd, ct).ConfigureAwait(false); }
        catch (IncidentOpsException ex) when (ex.ErrorId is PlatformErrorIds.PlatformCommandFailed or PlatformErrorIds.PlatformOutputInvalid or PlatformErrorIds.PlatformOutputTooLarge)
        {
            Sink.Warning($"The events of {Workload}'s pods could not be read, so the status shows none: {ex.Message}");
            return [];
        }
        return Arr(doc, "items")
            .Where(e => Str(e, "involvedObject", "name") is { } n && pods.Contains(n))
            .Select(e => ToEvent(cmd, e))
            .GroupBy(e => e.Object["Pod/".Length..], StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.OrderByDescending(e => e.Timestamp ?? DateTimeOffset.MinValue).Take(EventsPerInstance).Select(Line).ToList(), StringComparer.Ordinal);
    }

    /// <summary>"2026-11-23 09:05:40Z Warning BackOff x12: Back-off restarting failed container".</summary>
    private static string Line(AppEvent e) =>
        $"{(e.Timestamp is { } t ? t.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss'Z' ", CultureInfo.InvariantCulture) : "")}{e.Type} {e.Reason}{(e.Count > 1 ? $" x{e.Count}" : "")}: {e.Message}";
}
