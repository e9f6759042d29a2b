using IncidentOps.Config;

namespace IncidentOps.Engine.Config;

/// <summary>The seeds' P0–P3 matrix (seeds 000, 001 and 003), used when the file has no severities.</summary>
public static class DefaultSeverities
{
    public static IReadOnlyList<SeverityLevel> Levels { get; } =
    [
        new() { Id = "P0", Name = "Critical", Definition = "Complete system outage", ResponseTarget = TimeSpan.FromMinutes(5), UpdateEvery = TimeSpan.FromMinutes(15), Escalation = ["on-call", "engineering-manager"], PagerDutySeverity = "critical", StatuspageImpact = "critical", Rank = 0 },
        new() { Id = "P1", Name = "High", Definition = "Critical feature broken", ResponseTarget = TimeSpan.FromMinutes(15), UpdateEvery = TimeSpan.FromMinutes(30), Escalation = ["on-call"], PagerDutySeverity = "error", StatuspageImpact = "major", Rank = 1 },
        new() { Id = "P2", Name = "Medium", Definition = "Degraded performance", ResponseTarget = TimeSpan.FromHours(1), UpdateEvery = TimeSpan.FromHours(1), PagerDutySeverity = "warning", StatuspageImpact = "minor", Rank = 2 },
        new() { Id = "P3", Name = "Low", Definition = "Minor issues", ResponseTarget = TimeSpan.FromHours(4), UpdateEvery = null, PagerDutySeverity = "info", StatuspageImpact = "none", Rank = 3 },
    ];
}
