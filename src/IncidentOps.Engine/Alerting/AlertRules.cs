using IncidentOps.Config;
using IncidentOps.Engine.Incidents;

namespace IncidentOps.Engine.Alerting;

/// <summary>The rules in force for one service: its own, else the defaults at the top of `alerting`, else the built-in values.</summary>
public sealed record ResolvedAlertRule(
    string Service, int FailureThreshold, int SuccessThreshold, SeverityLevel Severity, string[]? Channels, TimeSpan? AutoResolveAfter, string[] Evidence)
{
    /// <summary>The update cadence while the service stays down: the severity's updateEvery (null: no periodic updates).</summary>
    public TimeSpan? UpdateEvery => Severity.UpdateEvery is { } u && u > TimeSpan.Zero ? u : null;
}

public static class AlertRules
{
    public const int DefaultFailureThreshold = 3;
    public const int DefaultSuccessThreshold = 2;
    /// <summary>Always captured at declaration: the failing health results.</summary>
    public const string HealthEvidence = HealthResultEvidenceSource.SourceName;

    /// <summary>
    /// The rules for <paramref name="service"/>: alerting.services.&lt;environment/service&gt;, else .&lt;service&gt;, over the
    /// defaults. The built-in severity is the second most severe level (P1 of P0–P3), so a scheduled job pages.
    /// </summary>
    public static ResolvedAlertRule For(IncidentOpsConfig config, string service)
    {
        var alerting = config.Alerting;
        var bare = service[(service.IndexOf('/') + 1)..];
        var own = alerting.Services.GetValueOrDefault(service) ?? alerting.Services.GetValueOrDefault(bare);
        var d = alerting.Defaults;
        var levels = IncidentService.Severities(config);
        var severityId = own?.Severity ?? d.Severity;
        var severity = severityId is null ? levels.OrderBy(l => l.Rank).Skip(levels.Count > 1 ? 1 : 0).First() : IncidentService.ResolveSeverity(config, severityId);
        var autoResolve = own?.AutoResolveAfter ?? d.AutoResolveAfter;
        var evidence = (own?.Evidence ?? d.Evidence ?? []).Prepend(HealthEvidence).Distinct(StringComparer.OrdinalIgnoreCase).ToArray();
        return new ResolvedAlertRule(service,
            own?.FailureThreshold ?? d.FailureThreshold ?? DefaultFailureThreshold,
            own?.SuccessThreshold ?? d.SuccessThreshold ?? DefaultSuccessThreshold,
            severity,
            own?.Channels ?? d.Channels,
            autoResolve is { } a && a > TimeSpan.Zero ? a : null,
            evidence);
    }
}
