using IncidentOps.Alerting;

namespace IncidentOps.Engine.Alerting;

/// <summary>The state change a decision calls for.</summary>
public enum AlertStep { None, Declare, Update, Recover, Reopen, Resolve }

/// <summary>A decision before it is carried out: the action, the step to take, the text, and the state after it.</summary>
public sealed record AlertPlan(AlertAction Action, AlertStep Step, string Decision, ServiceAlertState State);

/// <summary>
/// The alerting rules as one pure function: the state before, one observation, the clock and the rules in; the
/// decision and the state after out. Nothing here touches a store or a network, so xunit covers every rule directly.
/// </summary>
public static class AlertDecider
{
    public static AlertPlan Decide(ServiceAlertState before, bool healthy, string? observed, DateTimeOffset checkedAt, DateTimeOffset now, ResolvedAlertRule rule)
    {
        var s = before.Clone();
        if (s.LastCheckedAt is { } last && checkedAt < last)
            return new AlertPlan(AlertAction.Stale, AlertStep.None,
                $"Stale result from {checkedAt:u} (one from {last:u} is already counted), ignored", before);
        s.LastCheckedAt = checkedAt;
        if (healthy)
        {
            if (s.ConsecutiveSuccesses++ == 0) s.HealthySince = checkedAt;
            s.ConsecutiveFailures = 0;
            s.FailingSince = null;
        }
        else
        {
            if (s.ConsecutiveFailures++ == 0) s.FailingSince = checkedAt;
            s.ConsecutiveSuccesses = 0;
            s.HealthySince = null;
            s.LastFailureAt = checkedAt;
            s.LastFailure = observed;
        }
        int f = s.ConsecutiveFailures, ft = rule.FailureThreshold, ok = s.ConsecutiveSuccesses, st = rule.SuccessThreshold;
        var id = s.IncidentId;
        switch (s.Phase)
        {
            case AlertPhase.Clear:
                if (healthy) return new(AlertAction.None, AlertStep.None, "Healthy", s);
                if (f < ft) return new(AlertAction.Waiting, AlertStep.None, $"Failing {f}/{ft}, waiting", s);
                return new(AlertAction.Declared, AlertStep.Declare, $"Failing {f}/{ft}: declare a {rule.Severity.Id} incident", s);

            case AlertPhase.Down:
                if (healthy)
                    return ok < st
                        ? new(AlertAction.Waiting, AlertStep.None, $"Recovering {ok}/{st}, waiting", s)
                        : new(AlertAction.Recovered, AlertStep.Recover, $"Recovered {ok}/{st}: set {id} to Monitoring", s);
                if (rule.UpdateEvery is not { } every)
                    return new(AlertAction.Ongoing, AlertStep.None, $"Down {f}, {id} open, {rule.Severity.Id} has no update cadence", s);
                var since = s.LastUpdateAt is { } u ? now - u : (TimeSpan?)null;
                if (since is null || since >= every)
                    return new(AlertAction.Updated, AlertStep.Update, $"Update due (every {IncidentOps.Duration.Format(every)}): send", s);
                return new(AlertAction.Ongoing, AlertStep.None, $"Down {f}, {id} open, next update in {IncidentOps.Duration.Format(every - since.Value)}", s);

            default: // Recovered: the incident is in Monitoring
                if (!healthy)
                    return f < ft
                        ? new(AlertAction.Waiting, AlertStep.None, $"Failing {f}/{ft}, waiting ({id} in Monitoring)", s)
                        : new(AlertAction.Reopened, AlertStep.Reopen, $"Failing again {f}/{ft}: reopen {id}", s);
                var quiet = now - (s.LastFailureAt ?? s.RecoveredAt ?? now);
                if (quiet < TimeSpan.Zero) quiet = TimeSpan.Zero;
                if (rule.AutoResolveAfter is { } after)
                    return quiet >= after
                        ? new(AlertAction.Resolved, AlertStep.Resolve, $"Quiet for {IncidentOps.Duration.Format(quiet)}: resolve {id}", s)
                        : new(AlertAction.Monitoring, AlertStep.None, $"Monitoring {id}, quiet {IncidentOps.Duration.Format(quiet)} of {IncidentOps.Duration.Format(after)}", s);
                return new(AlertAction.Monitoring, AlertStep.None, $"Monitoring {id}, a person resolves it", s);
        }
    }
}
