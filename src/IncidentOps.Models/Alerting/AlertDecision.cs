namespace IncidentOps.Alerting;

/// <summary>What the alerting round did for a service.</summary>
public enum AlertAction
{
    /// <summary>Healthy and nothing open: nothing to do.</summary>
    None,
    /// <summary>Failing (or recovering) but below the threshold: counted, nothing else.</summary>
    Waiting,
    /// <summary>An incident was declared (evidence captured, initial update sent, paged).</summary>
    Declared,
    /// <summary>An incident already open for the service was taken over instead of declaring a second one.</summary>
    Attached,
    /// <summary>Still down and the severity's cadence said an update was due: one was sent.</summary>
    Updated,
    /// <summary>Still down; the incident is open and no update is due yet.</summary>
    Ongoing,
    /// <summary>Crossed the success threshold: the incident went to Monitoring and a recovery update was sent.</summary>
    Recovered,
    /// <summary>Failed again past the threshold while Monitoring: the incident went back to Investigating.</summary>
    Reopened,
    /// <summary>Quiet for autoResolveAfter after recovering: the incident was resolved.</summary>
    Resolved,
    /// <summary>Recovered and being monitored; a person resolves it (or autoResolveAfter, when set, has not passed).</summary>
    Monitoring,
    /// <summary>The result was older than one already counted (an overlapping, slower run): ignored.</summary>
    Stale,
}

/// <summary>
/// One service's outcome of an alerting round (Invoke-ServiceAlert, Watch-ServiceHealth -Alert): what was seen,
/// what was done, and why, in Decision ("Failing 2/3, waiting", "Declared INC-20261130-001 P1, paged").
/// </summary>
public sealed class AlertDecision
{
    /// <summary>environment/service.</summary>
    public required string Service { get; init; }
    /// <summary>Whether every health check of the service passed in this round.</summary>
    public bool Healthy { get; init; }
    /// <summary>What the checks saw: "healthy", or the failing endpoints and why.</summary>
    public string? Observed { get; init; }
    public int ConsecutiveFailures { get; init; }
    public int ConsecutiveSuccesses { get; init; }
    public int FailureThreshold { get; init; }
    public int SuccessThreshold { get; init; }
    public AlertAction Action { get; init; }
    /// <summary>The incident the service has open (or had, for Resolved); null when none.</summary>
    public string? IncidentId { get; init; }
    public string? Severity { get; init; }
    /// <summary>What was done and why, in words.</summary>
    public required string Decision { get; init; }
    /// <summary>Updates sent in this round (channels that received one).</summary>
    public int UpdatesSent { get; init; }
    /// <summary>
    /// True when a pager (PagerDuty, Opsgenie) routed for the incident was triggered in this round, or when this round
    /// confirmed the page of an earlier round that got no answer (re-sent, or found by Opsgenie's alias lookup); the
    /// Decision then says "page to ... confirmed".
    /// </summary>
    public bool Paged { get; init; }
    /// <summary>True when this is a -WhatIf preview: nothing was sent, declared or changed.</summary>
    public bool WhatIf { get; init; }
    /// <summary>The host that ran the round.</summary>
    public string Host { get; init; } = System.Environment.MachineName;
    public DateTimeOffset Timestamp { get; init; } = DateTimeOffset.UtcNow;

    /// <summary>Failures/threshold while failing, successes/threshold while recovering.</summary>
    public string Streak => Healthy ? $"ok {ConsecutiveSuccesses}/{SuccessThreshold}" : $"fail {ConsecutiveFailures}/{FailureThreshold}";

    public override string ToString() => $"{Service}: {(WhatIf ? "What if: " : "")}{Decision}";
}
