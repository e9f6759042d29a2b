using IncidentOps.Alerting;
using IncidentOps.Config;
using IncidentOps.Engine.Alerting;
using Xunit;

namespace IncidentOps.Tests.Alerting;

/// <summary>The rules as a pure function: thresholds, cadence, recovery, auto-resolve, flapping and stale results.</summary>
public class AlertDeciderTests
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 30, 3, 0, 0, TimeSpan.Zero);

    private static ResolvedAlertRule Rule(int failure = 3, int success = 2, TimeSpan? updateEvery = null, TimeSpan? autoResolve = null) =>
        new("production/api", failure, success,
            new SeverityLevel { Id = "P1", Name = "High", ResponseTarget = TimeSpan.FromMinutes(15), UpdateEvery = updateEvery ?? TimeSpan.FromMinutes(1) },
            null, autoResolve, ["health"]);

    /// <summary>Feeds results 10 s apart, carrying out each step the way the round does (declare opens, recover monitors...).</summary>
    private static List<AlertPlan> Feed(ResolvedAlertRule rule, string pattern, ServiceAlertState? start = null, TimeSpan? step = null)
    {
        var state = start ?? new ServiceAlertState { Service = rule.Service };
        var plans = new List<AlertPlan>();
        var at = T0;
        foreach (var c in pattern)
        {
            var plan = AlertDecider.Decide(state, c == '+', c == '+' ? "healthy" : "503", at, at, rule);
            state = plan.State;
            switch (plan.Step)
            {
                case AlertStep.Declare: state.Phase = AlertPhase.Down; state.IncidentId = "INC-1"; state.OutageStartedAt = state.FailingSince; state.LastUpdateAt = at; break;
                case AlertStep.Update: state.LastUpdateAt = at; break;
                case AlertStep.Recover: state.Phase = AlertPhase.Recovered; state.RecoveredAt = state.HealthySince; break;
                case AlertStep.Reopen: state.Phase = AlertPhase.Down; break;
                case AlertStep.Resolve: state.Phase = AlertPhase.Clear; state.IncidentId = null; break;
            }
            plans.Add(plan with { State = state });
            at += step ?? TimeSpan.FromSeconds(10);
        }
        return plans;
    }

    [Fact]
    public void Failures_below_the_threshold_wait_and_say_how_far_they_are()
    {
        var plans = Feed(Rule(), "+--");
        Assert.Equal(["Healthy", "Failing 1/3, waiting", "Failing 2/3, waiting"], plans.Select(p => p.Decision));
        Assert.All(plans, p => Assert.Equal(AlertStep.None, p.Step));
    }

    [Fact]
    public void The_failure_threshold_declares_once_and_the_outage_starts_at_the_first_failure()
    {
        var plans = Feed(Rule(), "+-----");
        Assert.Single(plans, p => p.Step == AlertStep.Declare);
        Assert.Equal(AlertStep.Declare, plans[3].Step);
        Assert.Equal(T0.AddSeconds(10), plans[3].State.OutageStartedAt);
        Assert.Equal("Failing 3/3: declare a P1 incident", plans[3].Decision);
    }

    [Fact]
    public void Healthy_5_failures_healthy_2_failures_healthy_gives_one_declaration_and_one_recovery()
    {
        var plans = Feed(Rule(updateEvery: TimeSpan.FromHours(1)), "+++-----++++++++++--++++++++++");
        Assert.Equal(30, plans.Count);
        Assert.Single(plans, p => p.Step == AlertStep.Declare);
        Assert.Single(plans, p => p.Step == AlertStep.Recover);
        Assert.DoesNotContain(plans, p => p.Step is AlertStep.Reopen or AlertStep.Update);
        Assert.Equal("Recovered 2/2: set INC-1 to Monitoring", plans[9].Decision);
        Assert.Equal("Failing 2/3, waiting (INC-1 in Monitoring)", plans[19].Decision);
    }

    [Fact]
    public void Updates_follow_the_cadence_whatever_the_schedule_frequency()
    {
        // P1 with updateEvery 1m, a run every 10 s, down for 5 minutes: one update a minute, not six.
        var plans = Feed(Rule(updateEvery: TimeSpan.FromMinutes(1)), new string('-', 33));
        var updates = plans.Select((p, i) => (p, i)).Where(x => x.p.Step == AlertStep.Update).Select(x => x.i).ToList();
        Assert.Equal([8, 14, 20, 26, 32], updates);
        Assert.Matches(@"^Down \d+, INC-1 open, next update in \d+s$", plans[9].Decision);
    }

    [Fact]
    public void Flapping_between_the_thresholds_declares_nothing_and_recovers_nothing()
    {
        Assert.All(Feed(Rule(), "--+--+-+--+--+"), p => Assert.Equal(AlertStep.None, p.Step));
        var down = Feed(Rule(updateEvery: TimeSpan.FromHours(1)), "---+-+-+-+-+-+-+");
        Assert.Single(down, p => p.Step == AlertStep.Declare);
        Assert.All(down.Skip(3), p => Assert.Equal(AlertStep.None, p.Step));
    }

    [Fact]
    public void Recovery_then_auto_resolve_after_the_quiet_period()
    {
        var plans = Feed(Rule(autoResolve: TimeSpan.FromMinutes(1), updateEvery: TimeSpan.FromHours(1)), "---++++++++++");
        Assert.Equal(AlertStep.Recover, plans[4].Step);
        var resolve = plans.FindIndex(p => p.Step == AlertStep.Resolve);
        // The last failure was at 20 s; 60 s of quiet is reached at 80 s (the ninth result).
        Assert.Equal(8, resolve);
        Assert.Equal("Quiet for 1m: resolve INC-1", plans[resolve].Decision);
        Assert.StartsWith("Monitoring INC-1, quiet 50s of 1m", plans[7].Decision);
    }

    [Fact]
    public void Without_auto_resolve_a_person_resolves()
    {
        var plans = Feed(Rule(updateEvery: TimeSpan.FromHours(1)), "---++++++++++++++");
        Assert.DoesNotContain(plans, p => p.Step == AlertStep.Resolve);
        Assert.Equal("Monitoring INC-1, a person resolves it", plans[^1].Decision);
    }

    [Fact]
    public void Failing_past_the_threshold_while_monitoring_reopens_the_same_incident()
    {
        var plans = Feed(Rule(updateEvery: TimeSpan.FromHours(1)), "---++---");
        Assert.Equal(AlertStep.Reopen, plans[7].Step);
        Assert.Equal("Failing again 3/3: reopen INC-1", plans[7].Decision);
        Assert.Single(plans, p => p.Step == AlertStep.Declare);
    }

    [Fact]
    public void A_result_older_than_one_already_counted_is_ignored()
    {
        var state = new ServiceAlertState { Service = "production/api", ConsecutiveFailures = 2, LastCheckedAt = T0 };
        var plan = AlertDecider.Decide(state, false, "503", T0.AddSeconds(-5), T0, Rule());
        Assert.Equal(AlertAction.Stale, plan.Action);
        Assert.Equal(2, plan.State.ConsecutiveFailures);
        Assert.Same(state, plan.State);
    }

    [Fact]
    public void A_severity_without_cadence_never_sends_periodic_updates()
    {
        var rule = new ResolvedAlertRule("production/api", 1, 1, new SeverityLevel { Id = "P3", Name = "Low" }, null, null, ["health"]);
        var plans = Feed(rule, "------");
        Assert.Single(plans, p => p.Step == AlertStep.Declare);
        Assert.Equal("Down 6, INC-1 open, P3 has no update cadence", plans[^1].Decision);
    }
}
