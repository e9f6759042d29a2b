using System.Management.Automation;
using System.Runtime.CompilerServices;
using IncidentOps.Engine.Incidents;
using IncidentOps.Incidents;

namespace IncidentOps.Commands;

/// <summary>Summarises incidents over a period: counts, response times, target and cadence compliance, action items.</summary>
/// <remarks>
/// Checks the policy every seed runbook defines against what the incident records say, for the incidents that
/// started in the period (-Since, default 30 days ago, up to -Until, default now), optionally only some severities,
/// services or environments, and grouped by week, month, severity, service or environment (-GroupBy).
///
/// Each summary gives: the number of incidents (open and resolved); time to acknowledge, to mitigate and to resolve,
/// each as p50 and p90, measured from the incident's start as the post-mortem's key figures are; the share of incidents
/// acknowledged by their response due time (the severity's responseTarget after declaration), per severity; the share
/// of status updates sent within the severity's updateEvery cadence; the open and overdue action items per owner; and
/// the services with the most incidents.
///
/// Percentiles use the nearest-rank method: the p-th percentile of n sorted values is the value at rank ceil(p/100 x n),
/// so it is always one incident's own figure (p50 of 4 values is the 2nd, p90 of 4 is the 4th). An incident without
/// that moment (not yet acknowledged, mitigated or resolved) is left out of that figure only.
///
/// A response target is met when the incident was acknowledged (a commander named, or the status moved past
/// Investigating) no later than its ResponseDue; an open incident not yet acknowledged counts as missed once that has
/// passed and is left out until then. An update is on time when it reached every channel within the cadence after the
/// previous update (the first: after the declaration); when the cadence ran out before the resolution (or, on an open
/// incident, before now) with no update, one more update counts as due and missed. Action items are Open or InProgress;
/// overdue ones have a due date in the past.
///
/// Every figure names its incidents: IncidentIds, MissedResponseIds and MissedCadenceIds on each summary and on each
/// BySeverity row, and the item ids per owner. -Detailed writes one object per incident instead, with its figures and,
/// in ResponseReason and CadenceReason, why a target was missed. Both stores are read in two calls whatever their size.
/// </remarks>
/// <example>
/// <code>Get-IncidentMetric -Since 30d</code>
/// <para>Summarises the incidents of the last 30 days.</para>
/// </example>
/// <example>
/// <code>Get-IncidentMetric -Since 90d -GroupBy Month -Severity P0,P1</code>
/// <para>One summary per month of the high-severity incidents of the last quarter.</para>
/// </example>
/// <example>
/// <code>Get-IncidentMetric -Since 30d -Detailed | Where-Object ResponseTargetMet -eq $false | Format-List IncidentId, Severity, ResponseReason</code>
/// <para>Shows each incident that missed its response target, and why.</para>
/// </example>
/// <example>
/// <code>(Get-IncidentMetric -Since 30d).BySeverity | Format-Table Severity, ResponseTargetRate, CadenceRate, MissedResponseIds</code>
/// <para>Response-target and cadence compliance per severity, with the incidents that missed.</para>
/// </example>
[Cmdlet(VerbsCommon.Get, "IncidentMetric", DefaultParameterSetName = "Summary")]
[OutputType(typeof(IncidentMetricSummary), ParameterSetName = ["Summary"])]
[OutputType(typeof(IncidentMetricDetail), ParameterSetName = ["Detailed"])]
public sealed class GetIncidentMetricCommand : ConfiguredCmdlet
{
    /// <summary>Start of the period: a date (2026-11-01) or how long ago (30d, 12h). Incidents that started at or after it count. Default: 30 days ago.</summary>
    [Parameter(Position = 0)]
    [PeriodBoundTransformation]
    public DateTimeOffset? Since { get; set; }

    /// <summary>End of the period (not included): a date or how long ago. Default: now.</summary>
    [Parameter]
    [PeriodBoundTransformation]
    public DateTimeOffset? Until { get; set; }

    /// <summary>Only incidents with these severities (P0, P1 ...; as configured).</summary>
    [Parameter]
    [ArgumentCompleter(typeof(SeverityCompleter))]
    public string[]? Severity { get; set; }

    /// <summary>Only incidents that hit these services: environment/service (production/api) or a service name in any environment (api).</summary>
    [Parameter]
    [ArgumentCompleter(typeof(ServiceNameCompleter))]
    public string[]? Service { get; set; }

    /// <summary>Only incidents in these environments (from environment/service on the incident, or the configuration for a bare service name).</summary>
    [Parameter]
    [ArgumentCompleter(typeof(EnvironmentNameCompleter))]
    public string[]? Environment { get; set; }

    /// <summary>One summary per Week (ISO, every week of the period), Month, Severity, Service or Environment; None (default) gives one summary.</summary>
    [Parameter(ParameterSetName = "Summary")]
    public IncidentMetricGroupBy GroupBy { get; set; } = IncidentMetricGroupBy.None;

    /// <summary>One object per incident with its figures, whether its response target and cadence were met, and why not.</summary>
    [Parameter(Mandatory = true, ParameterSetName = "Detailed")]
    public SwitchParameter Detailed { get; set; }

    protected override void ProcessRecord()
    {
        var until = Until ?? DateTimeOffset.Now;
        var query = new IncidentMetricQuery
        {
            Since = Since ?? until.AddDays(-30), Until = until,
            Severity = Severity, Service = Service, Environment = Environment, GroupBy = GroupBy,
        };
        if (!TryInvoke(ct => Compute(query, ct), out var result, query.Since)) return;
        if (Detailed) WriteObject(result.Details, enumerateCollection: true);
        else WriteObject(result.Summaries, enumerateCollection: true);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private Task<IncidentMetricResult> Compute(IncidentMetricQuery query, CancellationToken ct) => Engine.Metrics.ComputeAsync(Config, query, ct);
}
