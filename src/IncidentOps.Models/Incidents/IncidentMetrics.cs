namespace IncidentOps.Incidents;

/// <summary>How Get-IncidentMetric groups its summaries (one summary per group; None: one for the whole period).</summary>
public enum IncidentMetricGroupBy { None, Week, Month, Severity, Service, Environment }

/// <summary>
/// A summary of the incidents of one period (and group): counts, response times as p50/p90, response-target and
/// update-cadence compliance, action items and the services hit most (Get-IncidentMetric output). Every figure
/// names the incidents behind it (IncidentIds, and the ids on each part), so <c>| Select-Object -ExpandProperty</c>
/// or <c>Get-IncidentMetric -Detailed</c> shows why a target was missed.
/// </summary>
/// <remarks>
/// Times are measured from the incident's start (StartedAt), as the post-mortem's key figures are. Percentiles use the
/// nearest-rank method: the p-th percentile of n sorted values is the value at rank ceil(p/100 × n) (1-based), so
/// it is always one of the incidents' own figures. An incident without the moment (not yet acknowledged, mitigated
/// or resolved) is left out of that figure only.
/// </remarks>
public sealed class IncidentMetricSummary
{
    /// <summary>What the summaries are grouped by.</summary>
    public IncidentMetricGroupBy GroupBy { get; init; }
    /// <summary>The group: "All", a week (2026-W46), a month (2026-11), a severity, a service or an environment.</summary>
    public required string Group { get; init; }
    /// <summary>Start of the period (inclusive): incidents that started at or after it.</summary>
    public DateTimeOffset Since { get; init; }
    /// <summary>End of the period (exclusive).</summary>
    public DateTimeOffset Until { get; init; }
    public int Incidents { get; init; }
    public int Open { get; init; }
    public int Resolved { get; init; }
    /// <summary>Median time from start to acknowledgement (nearest rank).</summary>
    public TimeSpan? TimeToAcknowledgeP50 { get; init; }
    public TimeSpan? TimeToAcknowledgeP90 { get; init; }
    public TimeSpan? TimeToMitigateP50 { get; init; }
    public TimeSpan? TimeToMitigateP90 { get; init; }
    public TimeSpan? TimeToResolveP50 { get; init; }
    public TimeSpan? TimeToResolveP90 { get; init; }
    /// <summary>Incidents acknowledged by their response due time.</summary>
    public int ResponseTargetMet { get; init; }
    /// <summary>Incidents whose response target has been decided (met or missed; an open one not yet due is not counted).</summary>
    public int ResponseTargetDecided { get; init; }
    /// <summary>ResponseTargetMet / ResponseTargetDecided (0..1), or null when none was decided.</summary>
    public double? ResponseTargetRate { get; init; }
    /// <summary>Status updates sent within the severity's cadence.</summary>
    public int UpdatesOnTime { get; init; }
    /// <summary>Status updates that were due: every update sent, plus each one that the cadence called for and never came.</summary>
    public int UpdatesDue { get; init; }
    /// <summary>UpdatesOnTime / UpdatesDue (0..1), or null when no severity in the group has a cadence.</summary>
    public double? CadenceRate { get; init; }
    /// <summary>Response-target and cadence compliance per severity (most severe first).</summary>
    public IncidentSeverityCompliance[] BySeverity { get; init; } = [];
    public int ActionItemsOpen { get; init; }
    public int ActionItemsOverdue { get; init; }
    /// <summary>Open and overdue action items per owner (most overdue first).</summary>
    public IncidentOwnerActionItems[] ActionItemsByOwner { get; init; } = [];
    /// <summary>The services with the most incidents (most first, at most 5).</summary>
    public IncidentServiceCount[] TopServices { get; init; } = [];
    /// <summary>Every incident behind these figures.</summary>
    public string[] IncidentIds { get; init; } = [];
    /// <summary>The incidents that missed their response target.</summary>
    public string[] MissedResponseIds { get; init; } = [];
    /// <summary>The incidents with at least one update late or missing.</summary>
    public string[] MissedCadenceIds { get; init; } = [];
    public override string ToString() => $"{Group}: {Incidents} incidents, response target {Percent(ResponseTargetRate)}, cadence {Percent(CadenceRate)}";

    /// <summary>A share as text: 75%, or n/a.</summary>
    public static string Percent(double? rate) => rate is { } r ? $"{Math.Round(r * 100, 1, MidpointRounding.AwayFromZero):0.#}%" : "n/a";
}

/// <summary>Response-target and cadence compliance of one severity (part of IncidentMetricSummary).</summary>
public sealed class IncidentSeverityCompliance
{
    public required string Severity { get; init; }
    public string? Name { get; init; }
    /// <summary>The severity's configured response target (severities.&lt;id&gt;.responseTarget).</summary>
    public TimeSpan ResponseTarget { get; init; }
    /// <summary>The severity's configured update cadence (severities.&lt;id&gt;.updateEvery), or null when it has none.</summary>
    public TimeSpan? UpdateEvery { get; init; }
    public int Incidents { get; init; }
    public int ResponseTargetMet { get; init; }
    public int ResponseTargetMissed { get; init; }
    /// <summary>Open incidents not yet acknowledged whose response is not yet due.</summary>
    public int ResponsePending { get; init; }
    public double? ResponseTargetRate { get; init; }
    public int UpdatesOnTime { get; init; }
    public int UpdatesDue { get; init; }
    public double? CadenceRate { get; init; }
    public string[] IncidentIds { get; init; } = [];
    public string[] MissedResponseIds { get; init; } = [];
    public string[] MissedCadenceIds { get; init; } = [];
    public override string ToString() => $"{Severity}: response {ResponseTargetMet}/{ResponseTargetMet + ResponseTargetMissed}, cadence {UpdatesOnTime}/{UpdatesDue}";
}

/// <summary>One owner's open and overdue action items (part of IncidentMetricSummary).</summary>
public sealed class IncidentOwnerActionItems
{
    /// <summary>The owner, or "unassigned".</summary>
    public required string Owner { get; init; }
    public int Open { get; init; }
    public int Overdue { get; init; }
    /// <summary>The open items (INC-...-A01).</summary>
    public string[] ActionItemIds { get; init; } = [];
    public string[] OverdueIds { get; init; } = [];
    public override string ToString() => $"{Owner}: {Open} open, {Overdue} overdue";
}

/// <summary>How many incidents hit one service (part of IncidentMetricSummary).</summary>
public sealed class IncidentServiceCount
{
    /// <summary>The service as recorded on the incidents (production/api, or api).</summary>
    public required string Service { get; init; }
    public int Incidents { get; init; }
    public string[] IncidentIds { get; init; } = [];
    public override string ToString() => $"{Service}: {Incidents}";
}

/// <summary>
/// One incident's figures and whether it met its targets, and why not (Get-IncidentMetric -Detailed output).
/// </summary>
public sealed class IncidentMetricDetail
{
    public required string IncidentId { get; init; }
    public required string Title { get; init; }
    public required string Severity { get; init; }
    public IncidentStatus Status { get; init; }
    public string[] Services { get; init; } = [];
    public string[] Environments { get; init; } = [];
    public DateTimeOffset StartedAt { get; init; }
    public DateTimeOffset DeclaredAt { get; init; }
    public DateTimeOffset? AcknowledgedAt { get; init; }
    public DateTimeOffset? MitigatedAt { get; init; }
    public DateTimeOffset? ResolvedAt { get; init; }
    public TimeSpan? TimeToAcknowledge { get; init; }
    public TimeSpan? TimeToMitigate { get; init; }
    public TimeSpan? TimeToResolve { get; init; }
    /// <summary>The severity's response target (from the configuration).</summary>
    public TimeSpan ResponseTarget { get; init; }
    /// <summary>When the response was due (the record's ResponseDue: declaration plus the target).</summary>
    public DateTimeOffset? ResponseDue { get; init; }
    /// <summary>True when acknowledged by ResponseDue; false when late or still unacknowledged past it; null while pending.</summary>
    public bool? ResponseTargetMet { get; init; }
    /// <summary>What decided ResponseTargetMet, in words (acknowledged 22m after declaration, 7m after the 15m target).</summary>
    public string? ResponseReason { get; init; }
    /// <summary>The severity's update cadence, or null when it has none.</summary>
    public TimeSpan? UpdateEvery { get; init; }
    public DateTimeOffset[] UpdatesSentAt { get; init; } = [];
    public int UpdatesOnTime { get; init; }
    public int UpdatesDue { get; init; }
    /// <summary>True when every update came within the cadence and none was missing; null when the severity has no cadence.</summary>
    public bool? CadenceMet { get; init; }
    /// <summary>Which updates were late or missing, in words; "every update within 30m" when kept.</summary>
    public string? CadenceReason { get; init; }
    public int ActionItemsOpen { get; init; }
    public int ActionItemsOverdue { get; init; }
    public override string ToString() => $"{IncidentId} [{Severity}] response {(ResponseTargetMet switch { true => "met", false => "missed", _ => "pending" })}, cadence {(CadenceMet switch { true => "kept", false => "missed", _ => "n/a" })}";
}
