using IncidentOps.Incidents;

namespace IncidentOps.Engine.Incidents;

/// <summary>
/// Everything the review report (New-IncidentReport -Kind Review) shows for one period: the metrics, every incident with
/// its figures, the overdue action items, the runbook steps used, and the charts' data. Renderers read only this.
/// </summary>
public sealed class ReviewReportModel
{
    /// <summary>Start of the period (inclusive).</summary>
    public DateTimeOffset Since { get; init; }
    /// <summary>End of the period (exclusive).</summary>
    public DateTimeOffset Until { get; init; }
    /// <summary>When the report was made (overdue is judged at this time).</summary>
    public DateTimeOffset GeneratedAt { get; init; }
    /// <summary>The metrics of the whole period (Get-IncidentMetric -Since -Until).</summary>
    public required IncidentMetricSummary Metrics { get; init; }
    /// <summary>Every incident of the period with its figures, oldest first (Get-IncidentMetric -Detailed).</summary>
    public required IReadOnlyList<IncidentMetricDetail> Incidents { get; init; }
    /// <summary>The open action items of the period's incidents whose due date has passed, most overdue first.</summary>
    public required IReadOnlyList<ReviewActionItem> OverdueActionItems { get; init; }
    /// <summary>The steps run during the period's incidents (the cmdlets their timelines recorded), most used first.</summary>
    public required IReadOnlyList<ReviewRunbookStep> RunbookSteps { get; init; }
    /// <summary>The numbers behind the report's charts (each is also shown as a table).</summary>
    public required ReviewChartData Charts { get; init; }
}

/// <summary>An overdue action item in the review (Open or InProgress, due date passed).</summary>
public sealed class ReviewActionItem
{
    public required string Id { get; init; }
    public required string IncidentId { get; init; }
    public required string Action { get; init; }
    /// <summary>The owner, or "unassigned".</summary>
    public required string Owner { get; init; }
    public DateTimeOffset Due { get; init; }
    public string Priority { get; init; } = "";
    public string Status { get; init; } = "";
    /// <summary>How long past due at GeneratedAt.</summary>
    public TimeSpan OverdueBy { get; init; }
}

/// <summary>
/// One runbook step used during the period: a cmdlet the incidents' timelines recorded (bookkeeping of the record itself,
/// such as New-Incident or Add-IncidentNote, is left out), how often, with what outcome, and in which incidents. The
/// runbooks these steps come from are the ones seed 001's weekly review looks at.
/// </summary>
public sealed class ReviewRunbookStep
{
    public required string Cmdlet { get; init; }
    public int Uses { get; init; }
    public int Succeeded { get; init; }
    public int Failed { get; init; }
    /// <summary>Runs with -WhatIf (previews; nothing changed).</summary>
    public int Previewed { get; init; }
    /// <summary>Changes sent but never confirmed (no answer, a lost connection, Ctrl+C while waiting): they may or may not have happened and need checking.</summary>
    public int Unconfirmed { get; init; }
    public string[] IncidentIds { get; init; } = [];
    public DateTimeOffset LastUsed { get; init; }
}

/// <summary>
/// The numbers behind the review report's three charts. The HTML report shows each as a table now and has a
/// &lt;section class="charts"&gt; with one &lt;figure data-chart="..."&gt; per chart where an SVG drawing of the same
/// numbers goes (see <see cref="ReviewReportRenderer.ChartSvg"/>).
/// </summary>
public sealed class ReviewChartData
{
    /// <summary>The chart ids (data-chart attributes of the figures).</summary>
    public const string IncidentsPerWeekId = "incidents-per-week";
    public const string TimeToResolveId = "time-to-resolve";
    public const string ResponseComplianceId = "response-compliance";

    /// <summary>The severities of the stacks, most severe first (the configured ones that had incidents, then any others).</summary>
    public required IReadOnlyList<string> Severities { get; init; }
    /// <summary>Incidents per ISO week of the period (every week, quiet ones too), stacked by severity.</summary>
    public required IReadOnlyList<ReviewWeekCount> IncidentsPerWeek { get; init; }
    /// <summary>Time to resolve of each resolved incident, in order of start.</summary>
    public required IReadOnlyList<ReviewResolveTime> TimeToResolve { get; init; }
    /// <summary>Response-target compliance per severity, most severe first.</summary>
    public required IReadOnlyList<ReviewSeverityCompliance> ResponseCompliance { get; init; }
}

/// <summary>One week's bar: incidents that started in the week, per severity.</summary>
public sealed class ReviewWeekCount
{
    /// <summary>The ISO week (2026-W46).</summary>
    public required string Week { get; init; }
    /// <summary>Monday 00:00 UTC.</summary>
    public DateTimeOffset WeekStart { get; init; }
    /// <summary>Incidents per severity id (every id of ReviewChartData.Severities, zeros included).</summary>
    public required IReadOnlyDictionary<string, int> BySeverity { get; init; }
    public int Total { get; init; }
}

/// <summary>One point of the time-to-resolve chart.</summary>
public sealed class ReviewResolveTime
{
    public required string IncidentId { get; init; }
    public required string Severity { get; init; }
    public DateTimeOffset StartedAt { get; init; }
    public DateTimeOffset ResolvedAt { get; init; }
    public TimeSpan TimeToResolve { get; init; }
}

/// <summary>One bar of the response-target chart.</summary>
public sealed class ReviewSeverityCompliance
{
    public required string Severity { get; init; }
    public TimeSpan ResponseTarget { get; init; }
    public int Met { get; init; }
    public int Missed { get; init; }
    /// <summary>Open and not yet due (not counted in Rate).</summary>
    public int Pending { get; init; }
    /// <summary>Met / (Met + Missed), or null when none was decided.</summary>
    public double? Rate { get; init; }
}
