using System.Text.Json;
using IncidentOps.Config;
using IncidentOps.Engine.Health;
using IncidentOps.Engine.Incidents;
using IncidentOps.Health;

namespace IncidentOps.Engine.Alerting;

/// <summary>
/// Evidence source "health": the health results of each service. In an alerting round these are the very results
/// that crossed the threshold (handed over through <see cref="Observed"/>); elsewhere (Save-IncidentEvidence -Source
/// health) the service's configured endpoints are probed now.
/// </summary>
public sealed class HealthResultEvidenceSource : IEvidenceSource
{
    public const string SourceName = "health";
    private static readonly AsyncLocal<IReadOnlyDictionary<string, IReadOnlyList<HealthResult>>?> Current = new();
    private static readonly JsonSerializerOptions Json = new(FileIncidentStore.Json) { WriteIndented = true };

    public string Name => SourceName;

    /// <summary>Within the returned scope, captures use these results (by environment/service) instead of probing.</summary>
    public static IDisposable Observed(IReadOnlyDictionary<string, IReadOnlyList<HealthResult>> results)
    {
        var previous = Current.Value;
        Current.Value = results;
        return new Scope(() => Current.Value = previous);
    }

    public async Task<IReadOnlyList<EvidenceContent>> CaptureAsync(EvidenceContext context, CancellationToken cancellationToken)
    {
        var list = new List<EvidenceContent>();
        foreach (var service in context.Services)
        {
            IReadOnlyList<HealthResult> results;
            if (Current.Value?.GetValueOrDefault(service.FullName) is { } seen) results = seen;
            else
            {
                if (service.Health.Count == 0) continue;
                var probed = new List<HealthResult>();
                var requests = AlertingService.ProbesFor(service, context.Timeout);
                await context.Readers.Health.ProbeManyAsync(requests, 8, r => { lock (probed) probed.Add(r); }, cancellationToken).ConfigureAwait(false);
                results = probed;
            }
            list.Add(new EvidenceContent($"{service.Environment}-{service.Service}.json", Serialize(results), service.FullName));
        }
        return list;
    }

    /// <summary>
    /// The health evidence document: one object per result (service, uri, healthy, statusCode, reason, failureKind,
    /// totalMs, timestamp, error, body cut to 4 KiB). The post-mortem's health chart reads these back.
    /// </summary>
    public static string Serialize(IEnumerable<HealthResult> results, bool withBody = true) =>
        JsonSerializer.Serialize(results.Select(r => new
        {
            r.Service, r.Uri, r.Healthy, r.StatusCode, r.Reason, FailureKind = r.FailureKind.ToString(), r.TotalMs, r.Timestamp, r.Error,
            Body = !withBody ? null : r.BodyText is { Length: > 4096 } b ? b[..4096] : r.BodyText,
        }), Json);

    private sealed class Scope(Action restore) : IDisposable
    {
        public void Dispose() => restore();
    }
}
