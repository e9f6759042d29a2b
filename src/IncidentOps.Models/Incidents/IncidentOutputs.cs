namespace IncidentOps.Incidents;

/// <summary>One capture saved by Save-IncidentEvidence: where it is, when it was taken and its SHA-256.</summary>
public sealed class EvidenceCapture
{
    public required string IncidentId { get; init; }
    /// <summary>Capture source (config, timeline, incident, platform-status, pg-activity, redis-info ...).</summary>
    public required string Source { get; init; }
    public string? Service { get; init; }
    public string? Path { get; init; }
    public DateTimeOffset CapturedAt { get; init; }
    public string? Sha256 { get; init; }
    public long Bytes { get; init; }
    public bool Succeeded { get; init; }
    public string? Error { get; init; }
    public override string ToString() => Succeeded ? $"{Source}{(Service is null ? "" : " " + Service)} -> {Path} (sha256 {Sha256?[..12]})" : $"{Source}{(Service is null ? "" : " " + Service)} failed: {Error}";
}

/// <summary>Output kinds of New-IncidentReport (Review: the incidents of a period, -Since/-Until).</summary>
public enum IncidentReportKind { PostMortem, CustomerCommunication, Review }

/// <summary>Output formats of New-IncidentReport.</summary>
public enum IncidentReportFormat { Markdown, Html }

/// <summary>A rendered post-mortem or customer communication draft.</summary>
public sealed class IncidentReport
{
    public required string IncidentId { get; init; }
    public IncidentReportKind Kind { get; init; }
    public IncidentReportFormat Format { get; init; }
    /// <summary>Built-in style (seed, google-sre, pagerduty) or the template file used.</summary>
    public required string Template { get; init; }
    public required string Content { get; init; }
    /// <summary>File written with -Path, if any.</summary>
    public string? Path { get; set; }
    /// <summary>A review's period start (inclusive); null for a single incident's report.</summary>
    public DateTimeOffset? Since { get; init; }
    /// <summary>A review's period end (exclusive).</summary>
    public DateTimeOffset? Until { get; init; }
    /// <summary>The incidents a review covers.</summary>
    public string[] IncidentIds { get; init; } = [];
    public override string ToString() => Content;
}

/// <summary>Changes for Set-Incident; null members are left as they are.</summary>
public sealed class IncidentChanges
{
    public string? Title { get; set; }
    public IncidentStatus? Status { get; set; }
    public string? Severity { get; set; }
    public string? Commander { get; set; }
    public string? Scribe { get; set; }
    public string? Liaison { get; set; }
    public string? Impact { get; set; }
    public string? UsersAffected { get; set; }
    public string? RevenueImpact { get; set; }
    public bool? DataLoss { get; set; }
    public string? RootCause { get; set; }
    public string[]? ContributingFactors { get; set; }
    public string? Resolution { get; set; }
    public string? Summary { get; set; }
    public string[]? Services { get; set; }
    public string[]? WentWell { get; set; }
    public string[]? WentWrong { get; set; }
    public string[]? LessonsLearned { get; set; }
    public string[]? Prevention { get; set; }
    public DateTimeOffset? DetectedAt { get; set; }
    public DateTimeOffset? MitigatedAt { get; set; }

    public bool IsEmpty => GetType().GetProperties().Where(p => p.Name != nameof(IsEmpty)).All(p => p.GetValue(this) is null);
}

/// <summary>Changes for Set-IncidentActionItem; null members are left as they are.</summary>
public sealed class ActionItemChanges
{
    public string? Action { get; set; }
    public string? Owner { get; set; }
    public DateTimeOffset? Due { get; set; }
    public string? Priority { get; set; }
    public string? Status { get; set; }
}
