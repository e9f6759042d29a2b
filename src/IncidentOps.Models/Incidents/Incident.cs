namespace IncidentOps.Incidents;

/// <summary>Incident status, as on a status page (seed 003).</summary>
public enum IncidentStatus { Investigating, Identified, Monitoring, Resolved }

/// <summary>
/// An incident record. Ids are readable and sortable (INC-20261122-001). Times are UTC.
/// Computed members (Duration, Overdue) are evaluated against the current time when read.
/// </summary>
public sealed class Incident
{
    public required string Id { get; init; }
    public required string Title { get; set; }
    /// <summary>Severity id from the configured matrix (P0..P3 by default).</summary>
    public required string Severity { get; set; }
    public string? SeverityName { get; set; }
    public IncidentStatus Status { get; set; } = IncidentStatus.Investigating;
    public DateTimeOffset StartedAt { get; set; } = DateTimeOffset.UtcNow;
    public DateTimeOffset DeclaredAt { get; set; } = DateTimeOffset.UtcNow;
    public DateTimeOffset? DetectedAt { get; set; }
    public DateTimeOffset? AcknowledgedAt { get; set; }
    public DateTimeOffset? MitigatedAt { get; set; }
    public DateTimeOffset? ResolvedAt { get; set; }
    public string? Commander { get; set; }
    public string? Scribe { get; set; }
    public string? Liaison { get; set; }
    public string[] Services { get; set; } = [];
    public string? Impact { get; set; }
    public string? UsersAffected { get; set; }
    public string? RevenueImpact { get; set; }
    public bool? DataLoss { get; set; }
    public string? RootCause { get; set; }
    public string[] ContributingFactors { get; set; } = [];
    public string? Resolution { get; set; }
    public string? Summary { get; set; }
    /// <summary>When the response (acknowledgement) is due, from the severity's response target.</summary>
    public DateTimeOffset? ResponseDue { get; set; }
    /// <summary>When the next status update is due, from the severity's update cadence.</summary>
    public DateTimeOffset? NextUpdateDue { get; set; }
    public DateTimeOffset? LastUpdateAt { get; set; }
    /// <summary>
    /// When each status update reached every channel (its CreatedAt), oldest first: the compact record of the update
    /// cadence that Get-IncidentMetric reads instead of every outbox. Kept by Send-IncidentUpdate and filled by
    /// Import-Incident; null on records written before it existed (the outbox is read for those).
    /// </summary>
    public List<DateTimeOffset>? UpdatesSentAt { get; set; }
    /// <summary>Ids this incident has at providers (for example statuspage:&lt;channel&gt; → Statuspage incident id).</summary>
    public Dictionary<string, string> ExternalIds { get; set; } = new(StringComparer.OrdinalIgnoreCase);
    /// <summary>Severity changes: when each severity took effect.</summary>
    public List<SeverityChange> SeverityHistory { get; set; } = [];
    public string? ConfigPath { get; set; }
    /// <summary>
    /// The store this record was read from (the file store's folder; never a credential). Set on every read, not
    /// saved with the record; it binds by name to the incident cmdlets, which refuse a change when the piped record
    /// came from another store than the one their configuration resolves (PipelineTargetMismatch).
    /// </summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public string? IncidentStore { get; set; }
    /// <summary>Post-mortem material: what went well.</summary>
    public string[] WentWell { get; set; } = [];
    /// <summary>Post-mortem material: what went wrong.</summary>
    public string[] WentWrong { get; set; } = [];
    public string[] LessonsLearned { get; set; } = [];
    public string[] Prevention { get; set; } = [];

    public TimeSpan Duration => (ResolvedAt ?? DateTimeOffset.UtcNow) - StartedAt;

    /// <summary>True when the response or the next update is past due on an open incident.</summary>
    public bool Overdue => Status != IncidentStatus.Resolved &&
        ((AcknowledgedAt is null && ResponseDue is { } r && r < DateTimeOffset.UtcNow) || (NextUpdateDue is { } u && u < DateTimeOffset.UtcNow));

    /// <summary>Same as Id, so Incident objects bind by property name to -IncidentId / -Incident.</summary>
    public string IncidentId => Id;

    public override string ToString() => $"{Id} [{Severity} {Status}] {Title}";
}

public sealed class SeverityChange
{
    public required string Severity { get; init; }
    public DateTimeOffset At { get; init; }

    /// <summary>"P1 at 2026-11-30 23:43:49Z": what Format-List shows in an incident's SeverityHistory.</summary>
    public override string ToString() => $"{Severity} at {At.UtcDateTime:yyyy-MM-dd HH:mm:ss}Z";
}

/// <summary>A follow-up from an incident.</summary>
public sealed class ActionItem
{
    public required string Id { get; init; }
    public required string IncidentId { get; init; }
    public required string Action { get; set; }
    public string? Owner { get; set; }
    public DateTimeOffset? Due { get; set; }
    public string Priority { get; set; } = "P2";
    public string Status { get; set; } = "Open";
    public DateTimeOffset CreatedAt { get; init; } = DateTimeOffset.UtcNow;
    public override string ToString() => $"{Id} [{Priority} {Status}] {Action} ({Owner})";
}
