using IncidentOps.Config;
using IncidentOps.Incidents;

namespace IncidentOps.Engine.Incidents;

/// <summary>New-IncidentReport -Kind Review: the review of a period's incidents (seed 001's review schedule).</summary>
public sealed partial class IncidentReportService
{
    /// <summary>The record's own bookkeeping: not a runbook step.</summary>
    private static readonly HashSet<string> BookkeepingCmdlets = new(StringComparer.OrdinalIgnoreCase)
    {
        "New-Incident", "Set-Incident", "Close-Incident", "Add-IncidentNote", "Add-IncidentActionItem", "Set-IncidentActionItem",
        "Import-Incident", "Export-Incident", "New-IncidentReport", "Get-IncidentMetric",
    };

    /// <summary>Builds the review of the incidents that started in [since, until): metrics, incidents, overdue items, steps used, chart data.</summary>
    public async Task<ReviewReportModel> BuildReviewAsync(IncidentOpsConfig? config, DateTimeOffset since, DateTimeOffset until, DateTimeOffset? now, CancellationToken cancellationToken)
    {
        var result = await metrics.ComputeAsync(config, new IncidentMetricQuery { Since = since, Until = until, Now = now }, cancellationToken).ConfigureAwait(false);
        var at = result.Now;
        var store = openStore(config);
        var steps = new Dictionary<string, (int Uses, int Ok, int Failed, int WhatIf, int Unconfirmed, List<string> Ids, DateTimeOffset Last)>(StringComparer.OrdinalIgnoreCase);
        foreach (var incident in result.Incidents)
        {
            foreach (var e in await store.ReadTimelineAsync(incident.Id, cancellationToken).ConfigureAwait(false))
            {
                if (string.IsNullOrWhiteSpace(e.Cmdlet) || BookkeepingCmdlets.Contains(e.Cmdlet)) continue;
                var s = steps.TryGetValue(e.Cmdlet, out var x) ? x : (Uses: 0, Ok: 0, Failed: 0, WhatIf: 0, Unconfirmed: 0, Ids: new List<string>(), Last: DateTimeOffset.MinValue);
                if (!s.Ids.Contains(incident.Id)) s.Ids.Add(incident.Id);
                var unconfirmed = IsUnconfirmed(e);
                steps[e.Cmdlet] = (s.Uses + 1, s.Ok + (!unconfirmed && e.Outcome is TimelineOutcome.Succeeded or TimelineOutcome.Info ? 1 : 0), s.Failed + (e.Outcome == TimelineOutcome.Failed ? 1 : 0),
                    s.WhatIf + (e.Outcome == TimelineOutcome.WhatIf ? 1 : 0), s.Unconfirmed + (unconfirmed ? 1 : 0), s.Ids, e.Timestamp > s.Last ? e.Timestamp : s.Last);
            }
        }
        if (store is FileIncidentStore fs)
        {
            foreach (var line in fs.CorruptLines) sink.Warning($"Skipped corrupt data: {line}");
            fs.CorruptLines.Clear();
        }
        var overdue = result.ActionItems.Values.SelectMany(l => l).Where(a => IncidentMetricsService.IsOverdue(a, at))
            .Select(a => new ReviewActionItem
            {
                Id = a.Id, IncidentId = a.IncidentId, Action = a.Action, Owner = string.IsNullOrWhiteSpace(a.Owner) ? "unassigned" : a.Owner!.Trim(),
                Due = a.Due!.Value, Priority = a.Priority, Status = a.Status, OverdueBy = at - a.Due!.Value,
            })
            .OrderByDescending(a => a.OverdueBy).ThenBy(a => a.Id, StringComparer.Ordinal).ToList();
        var summary = result.Summaries.Single();
        return new ReviewReportModel
        {
            Since = since, Until = until, GeneratedAt = at, Metrics = summary, Incidents = result.Details, OverdueActionItems = overdue,
            RunbookSteps = steps.Select(p => new ReviewRunbookStep
            {
                Cmdlet = p.Key, Uses = p.Value.Uses, Succeeded = p.Value.Ok, Failed = p.Value.Failed, Previewed = p.Value.WhatIf, Unconfirmed = p.Value.Unconfirmed,
                IncidentIds = p.Value.Ids.ToArray(), LastUsed = p.Value.Last,
            }).OrderByDescending(s => s.Uses).ThenBy(s => s.Cmdlet, StringComparer.OrdinalIgnoreCase).ToList(),
            Charts = BuildCharts(config, since, until, result.Details, summary),
        };
    }

    /// <summary>
    /// A change that was sent but never confirmed (it may or may not have happened): outcome Unconfirmed, or, in records
    /// written before that outcome existed, an action entry with outcome Info (only an unconfirmed flush wrote those; reads
    /// are kind "read"). It needs checking, so it is counted neither as a success nor as a failure.
    /// </summary>
    internal static bool IsUnconfirmed(TimelineEntry e) =>
        e.Outcome == TimelineOutcome.Unconfirmed || (e.Outcome == TimelineOutcome.Info && string.Equals(e.Kind, "action", StringComparison.OrdinalIgnoreCase));

    /// <summary>The review report, rendered (Markdown or HTML; every value escaped for its format, secrets masked).</summary>
    public async Task<IncidentReport> RenderReviewAsync(IncidentOpsConfig? config, DateTimeOffset since, DateTimeOffset until, IncidentReportFormat format, CancellationToken cancellationToken)
    {
        var model = await BuildReviewAsync(config, since, until, null, cancellationToken).ConfigureAwait(false);
        var content = format == IncidentReportFormat.Html ? ReviewReportRenderer.Html(model) : ReviewReportRenderer.Markdown(model);
        return new IncidentReport
        {
            IncidentId = "", Kind = IncidentReportKind.Review, Format = format, Template = "review", Content = SecretRedactor.Redact(content),
            Since = since, Until = until, IncidentIds = model.Incidents.Select(i => i.IncidentId).ToArray(),
        };
    }

    private static ReviewChartData BuildCharts(IncidentOpsConfig? config, DateTimeOffset since, DateTimeOffset until, IReadOnlyList<IncidentMetricDetail> details, IncidentMetricSummary summary)
    {
        var levels = IncidentService.Severities(config);
        var present = details.Select(d => d.Severity).Distinct(StringComparer.OrdinalIgnoreCase).ToList();
        var severities = levels.Where(l => present.Contains(l.Id, StringComparer.OrdinalIgnoreCase)).OrderBy(l => l.Rank).Select(l => l.Id)
            .Concat(present.Where(p => !levels.Any(l => string.Equals(l.Id, p, StringComparison.OrdinalIgnoreCase))).Order(StringComparer.OrdinalIgnoreCase))
            .ToList();
        var weeks = new List<ReviewWeekCount>();
        for (var week = IncidentMetricsService.WeekStart(since); week < until; week = week.AddDays(7))
        {
            var w = week;
            var inWeek = details.Where(d => IncidentMetricsService.WeekStart(d.StartedAt) == w).ToList();
            weeks.Add(new ReviewWeekCount
            {
                Week = IncidentMetricsService.WeekLabel(w), WeekStart = w, Total = inWeek.Count,
                BySeverity = severities.ToDictionary(s => s, s => inWeek.Count(d => string.Equals(d.Severity, s, StringComparison.OrdinalIgnoreCase)), StringComparer.OrdinalIgnoreCase),
            });
        }
        return new ReviewChartData
        {
            Severities = severities,
            IncidentsPerWeek = weeks,
            TimeToResolve = details.Where(d => d.ResolvedAt is not null && d.TimeToResolve is not null)
                .Select(d => new ReviewResolveTime { IncidentId = d.IncidentId, Severity = d.Severity, StartedAt = d.StartedAt, ResolvedAt = d.ResolvedAt!.Value, TimeToResolve = d.TimeToResolve!.Value })
                .ToList(),
            ResponseCompliance = summary.BySeverity.Select(s => new ReviewSeverityCompliance
            {
                Severity = s.Severity, ResponseTarget = s.ResponseTarget, Met = s.ResponseTargetMet, Missed = s.ResponseTargetMissed, Pending = s.ResponsePending, Rate = s.ResponseTargetRate,
            }).ToList(),
        };
    }
}
