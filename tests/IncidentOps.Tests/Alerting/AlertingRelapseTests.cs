using IncidentOps.Alerting;
using IncidentOps.Config;
using IncidentOps.Engine;
using IncidentOps.Engine.Notifications;
using IncidentOps.Incidents;
using IncidentOps.Notifications;
using Xunit;

namespace IncidentOps.Tests.Alerting;

/// <summary>
/// A relapse while the incident is in Monitoring pages again. The on-call acknowledged the page and went back to sleep;
/// the service recovered, then failed again before the incident was resolved. A pager stays silent for a repeat that
/// lands on an acknowledged alert (PagerDuty: no notifications while acknowledged, even for new triggers; Opsgenie
/// folds a create into the open alert of the alias), so recovery closes the pager's alert and the relapse opens a new
/// one, which notifies. The fakes count incidents and alerts the way PagerDuty and Opsgenie do.
/// </summary>
public class AlertingRelapseTests
{
    private static readonly TimeSpan Minute = TimeSpan.FromMinutes(1);
    private const string Rules = "failureThreshold: 2\n  successThreshold: 2\n  severity: P1\n  autoResolveAfter: 5m";

    /// <summary>Rounds a minute apart with the service <paramref name="healthy"/> until one takes <paramref name="until"/> (at most 10).</summary>
    private static async Task<AlertDecision> RoundsUntilAsync(AlertingScenario s, IncidentOpsEngine engine, IncidentOpsConfig config, bool healthy, AlertAction until)
    {
        s.Healthy = healthy;
        AlertDecision d = null!;
        for (var i = 0; i < 10; i++)
        {
            d = await AlertingScenario.RoundAsync(engine, config);
            s.Clock.Advance(Minute);
            if (d.Action == until) return d;
        }
        Assert.Fail($"No round took {until} (last: {d.Action}, {d.Decision}).");
        return d;
    }

    [Fact]
    public async Task PagerDuty_a_relapse_in_Monitoring_opens_a_new_incident_that_notifies_though_the_first_page_was_acknowledged()
    {
        using var s = new AlertingScenario(Rules, p1: "hook, pager");
        var (engine, config) = s.NewEngine();
        var pd = s.PagerDutyIncidents;

        // Outage: paged.
        var declared = await RoundsUntilAsync(s, engine, config, healthy: false, AlertAction.Declared);
        Assert.True(declared.Paged);
        var key = (await s.KeysAsync(declared.IncidentId!)).DedupKey;
        Assert.Equal(1, pd.Notifications);
        // The on-call acknowledges the page in PagerDuty.
        pd.Incidents[0].Status = "acknowledged";

        // Recovery: the incident goes to Monitoring and PagerDuty's incident is resolved.
        await RoundsUntilAsync(s, engine, config, healthy: true, AlertAction.Recovered);
        Assert.Equal([(key, "resolved")], pd.Incidents.Select(i => (i.DedupKey, i.Status)));

        // Relapse before the incident is resolved: the same dedup_key makes a NEW PagerDuty incident, which notifies.
        var relapse = await RoundsUntilAsync(s, engine, config, healthy: false, AlertAction.Reopened);
        Assert.True(relapse.Paged);
        Assert.Equal(declared.IncidentId, relapse.IncidentId);
        Assert.Equal(2, pd.Notifications);
        Assert.Equal([(key, "resolved"), (key, "triggered")], pd.Incidents.Select(i => (i.DedupKey, i.Status)));
        Assert.All(pd.Incidents, i => Assert.Equal(0, i.SilentTriggers));         // no trigger fell on an acknowledged incident

        // Recovery again, then quiet until alerting resolves it: nothing left open, and nobody paged a third time.
        await RoundsUntilAsync(s, engine, config, healthy: true, AlertAction.Recovered);
        var resolved = await RoundsUntilAsync(s, engine, config, healthy: true, AlertAction.Resolved);
        Assert.Equal(declared.IncidentId, resolved.IncidentId);
        Assert.All(pd.Incidents, i => Assert.Equal("resolved", i.Status));
        Assert.Equal(2, pd.Notifications);
        Assert.Equal(["trigger", "resolve", "trigger", "resolve", "resolve"], s.PagerDuty.Requests.Select(r => System.Text.Json.JsonDocument.Parse(r.Body).RootElement.GetProperty("event_action").GetString()));
        Assert.Equal([$"resolve {key}"], pd.Unmatched);                              // the resolution's resolve: already resolved, harmless
        Assert.Empty(await engine.Notifications.GetUpdatesAsync(config, declared.IncidentId!, true, CancellationToken.None));
    }

    [Fact]
    public async Task Opsgenie_a_relapse_in_Monitoring_creates_a_new_alert_that_notifies_though_the_first_was_acknowledged()
    {
        using var s = new AlertingScenario(Rules, p1: "hook, genie");
        var (engine, config) = s.NewEngine();

        var declared = await RoundsUntilAsync(s, engine, config, healthy: false, AlertAction.Declared);
        Assert.True(declared.Paged);
        var id = declared.IncidentId!;
        var alias = (await s.KeysAsync(id)).Alias;
        // The on-call acknowledges the alert in Opsgenie.
        s.Opsgenie.Alerts[0].Acknowledged = true;

        await RoundsUntilAsync(s, engine, config, healthy: true, AlertAction.Recovered);
        Assert.Equal([(alias, "closed")], s.Opsgenie.Alerts.Select(a => (a.Alias, a.Status)));

        var relapse = await RoundsUntilAsync(s, engine, config, healthy: false, AlertAction.Reopened);
        Assert.True(relapse.Paged);
        // A second alert under the same alias, new (count 1, not acknowledged): Opsgenie notifies for it.
        Assert.Equal([(alias, "closed", 1, true), (alias, "open", 1, false)], s.Opsgenie.Alerts.Select(a => (a.Alias, a.Status, a.Count, a.Acknowledged)));

        await RoundsUntilAsync(s, engine, config, healthy: true, AlertAction.Recovered);
        await RoundsUntilAsync(s, engine, config, healthy: true, AlertAction.Resolved);
        Assert.All(s.Opsgenie.Alerts, a => Assert.Equal("closed", a.Status));
        Assert.Equal(2, s.Opsgenie.Alerts.Count);
        Assert.Equal(2, s.Opsgenie.Creates.Count);
        Assert.Empty(s.Opsgenie.Actions("acknowledge"));
        Assert.Equal([$"close {alias}"], s.Opsgenie.Unmatched);
    }

    [Theory]
    [InlineData(false)]   // the relapse's create never reached Opsgenie
    [InlineData(true)]    // it reached Opsgenie (a new alert), the answer was lost
    public async Task Opsgenie_a_relapse_create_that_lost_its_answer_is_looked_up_and_the_old_closed_alert_does_not_count_as_the_page(bool arrived)
    {
        using var s = new AlertingScenario(Rules, p1: "hook, genie");
        var (engine, config) = s.NewEngine();
        engine.Notifications.Options = new NotificationOptions { RequestTimeout = TimeSpan.FromSeconds(3), BackoffBase = TimeSpan.FromMilliseconds(20) };   // short, so the unanswered request ends soon; 3 s, so the channels that answer do so on a loaded machine too
        var declared = await RoundsUntilAsync(s, engine, config, healthy: false, AlertAction.Declared);
        var id = declared.IncidentId!;
        var alias = (await s.KeysAsync(id)).Alias;
        await RoundsUntilAsync(s, engine, config, healthy: true, AlertAction.Recovered);
        // The outage began minutes before the relapse (the simulated clock); Opsgenie's createdAt says the same.
        s.Opsgenie.Alerts[0].CreatedAt = DateTimeOffset.UtcNow.AddMinutes(-6);

        if (arrived) s.Opsgenie.Stub.ThenHandleAndHang(); else s.Opsgenie.Stub.ThenHang();
        var relapse = await RoundsUntilAsync(s, engine, config, healthy: false, AlertAction.Reopened);
        Assert.False(relapse.Paged);                                                 // not confirmed
        Assert.EndsWith("(genie not reached; re-sent next round)", relapse.Decision);

        // The next round (a new process) finishes the page: it looks the alias up first.
        var next = await AlertingScenario.RoundAsync(s.NewEngine().Engine, config);
        Assert.True(next.Paged);
        Assert.Contains("page to genie confirmed", next.Decision);
        var lookups = s.Opsgenie.Requests.Where(r => r.Method == "GET").ToList();
        Assert.Equal($"/v2/alerts/{alias}", Assert.Single(lookups).Path);
        // Either way exactly one new, open alert besides the closed one, created once.
        Assert.Equal([(alias, "closed"), (alias, "open")], s.Opsgenie.Alerts.Select(a => (a.Alias, a.Status)));
        Assert.Equal(1, s.Opsgenie.Alerts[1].Count);
        // Not arrived: the lookup found only the old, closed alert and the create was sent again. Arrived: the new open
        // alert was found, and the create was not posted twice.
        Assert.Equal(arrived ? 2 : 3, s.Opsgenie.Creates.Count);
        Assert.Empty(await engine.Notifications.GetUpdatesAsync(config, id, true, CancellationToken.None));
    }

    [Fact]
    public async Task A_relapse_page_still_undelivered_at_the_next_recovery_is_not_superseded_by_its_resolve_and_is_sent_late()
    {
        using var s = new AlertingScenario(Rules, p1: "hook, pager");
        var (engine, config) = s.NewEngine();
        var pd = s.PagerDutyIncidents;
        await RoundsUntilAsync(s, engine, config, healthy: false, AlertAction.Declared);
        await RoundsUntilAsync(s, engine, config, healthy: true, AlertAction.Recovered);
        // PagerDuty refuses the relapse's trigger, and the re-sends of the next two rounds (a 400 is not retried)...
        for (var i = 0; i < 3; i++) s.PagerDuty.Then(400, "{\"status\":\"invalid event\",\"message\":\"Event object is invalid\"}");
        var relapse = await RoundsUntilAsync(s, engine, config, healthy: false, AlertAction.Reopened);
        Assert.False(relapse.Paged);
        // ...and the service recovers meanwhile: the recovery's resolve is sent, the undelivered page stays pending.
        await RoundsUntilAsync(s, engine, config, healthy: true, AlertAction.Recovered);
        Assert.Equal(1, pd.Notifications);
        var pending = Assert.Single(await engine.Notifications.GetUpdatesAsync(config, relapse.IncidentId!, true, CancellationToken.None));
        Assert.Equal(IncidentStatus.Investigating, pending.Status);
        // The next round sends the page late: a new PagerDuty incident, which notifies.
        var late = await AlertingScenario.RoundAsync(engine, config);
        Assert.True(late.Paged);
        Assert.Equal(2, pd.Notifications);
        await RoundsUntilAsync(s, engine, config, healthy: true, AlertAction.Resolved);
        Assert.All(pd.Incidents, i => Assert.Equal("resolved", i.Status));
        var updates = await engine.Notifications.GetUpdatesAsync(config, relapse.IncidentId!, false, CancellationToken.None);
        Assert.DoesNotContain(updates, u => u.Deliveries.Any(d => d.State == DeliveryState.Superseded));
    }

    [Fact]
    public async Task A_resolution_that_a_channel_missed_is_re_sent_by_the_next_round_as_the_round_said()
    {
        using var s = new AlertingScenario(Rules, p1: "hook, pager");
        var (engine, config) = s.NewEngine();
        var declared = await RoundsUntilAsync(s, engine, config, healthy: false, AlertAction.Declared);
        await RoundsUntilAsync(s, engine, config, healthy: true, AlertAction.Recovered);
        var hookRequests = s.Hook.Requests.Count;
        // The hook (the people following the incident) fails once, on the resolution.
        s.Hook.Then(500, "oops");
        var resolved = await RoundsUntilAsync(s, engine, config, healthy: true, AlertAction.Resolved);
        Assert.Contains("hook not reached; re-sent next round", resolved.Decision);
        var missed = Assert.Single(await engine.Notifications.GetUpdatesAsync(config, declared.IncidentId!, true, CancellationToken.None));
        Assert.Equal(NotificationKind.Resolved, missed.Kind);
        Assert.Equal(hookRequests + 1, s.Hook.Requests.Count);

        // The next round (the service is fine, nothing else to do) re-sends it, as the decision said.
        var next = await AlertingScenario.RoundAsync(engine, config);
        Assert.Equal(AlertAction.None, next.Action);
        Assert.Empty(await engine.Notifications.GetUpdatesAsync(config, declared.IncidentId!, true, CancellationToken.None));
        Assert.Equal(hookRequests + 2, s.Hook.Requests.Count);
        Assert.Equal($"{missed.UpdateId}-hook", s.Hook.Requests[^1].Headers["Idempotency-Key"]);
        // Once delivered it is not sent again.
        s.Clock.Advance(Minute);
        await AlertingScenario.RoundAsync(engine, config);
        Assert.Equal(hookRequests + 2, s.Hook.Requests.Count);
    }

    /// <summary>What the on-call sends by hand (Send-IncidentUpdate -Status ...) to the routed channels, pager included.</summary>
    private static async Task SendByHandAsync(IncidentOpsEngine engine, IncidentOpsConfig config, string incidentId, IncidentStatus status, string message)
    {
        var prepared = await engine.Notifications.PrepareAsync(config, new IncidentUpdateRequest { IncidentId = incidentId, Status = status, Message = message }, CancellationToken.None);
        Assert.All(await engine.Notifications.SendAsync(prepared, null, new IncidentOps.Engine.Incidents.ChangeContext("Send-IncidentUpdate"), CancellationToken.None),
            r => Assert.True(r.Delivered, r.Error));
    }

    [Fact]
    public async Task PagerDuty_a_relapse_after_the_on_call_set_Identified_by_hand_still_pages()
    {
        using var s = new AlertingScenario(Rules, p1: "hook, pager");
        var (engine, config) = s.NewEngine();
        var pd = s.PagerDutyIncidents;
        var declared = await RoundsUntilAsync(s, engine, config, healthy: false, AlertAction.Declared);
        // The on-call finds the cause and says so: Identified acknowledges the PagerDuty incident.
        await SendByHandAsync(engine, config, declared.IncidentId!, IncidentStatus.Identified, "Pool exhausted, raising it");
        Assert.Equal("acknowledged", Assert.Single(pd.Incidents).Status);

        await RoundsUntilAsync(s, engine, config, healthy: true, AlertAction.Recovered);
        var relapse = await RoundsUntilAsync(s, engine, config, healthy: false, AlertAction.Reopened);
        Assert.True(relapse.Paged);
        Assert.Equal(2, pd.Notifications);
        Assert.All(pd.Incidents, i => Assert.Equal(0, i.SilentTriggers));
    }

    [Fact]
    public async Task The_cadence_update_of_a_round_keeps_the_status_the_on_call_set_and_does_not_send_Investigating_again()
    {
        using var s = new AlertingScenario(Rules, p1: "hook, pager");
        var (engine, config) = s.NewEngine();
        var declared = await RoundsUntilAsync(s, engine, config, healthy: false, AlertAction.Declared);
        await SendByHandAsync(engine, config, declared.IncidentId!, IncidentStatus.Identified, "Pool exhausted, raising it");

        // Still down: the round's cadence update goes to the hook (the people following), not to the pager.
        var update = await RoundsUntilAsync(s, engine, config, healthy: false, AlertAction.Updated);
        Assert.Equal(declared.IncidentId, update.IncidentId);
        var body = System.Text.Json.Nodes.JsonNode.Parse(s.HookPosts.Last().Body)!;
        Assert.Equal("Identified", body["status"]!.GetValue<string>());
        Assert.Equal(IncidentStatus.Identified, (await engine.Incidents.GetAsync(config, declared.IncidentId!, CancellationToken.None)).Status);
        Assert.Equal(["trigger", "acknowledge"], s.PagerDuty.Requests.Select(r => System.Text.Json.JsonDocument.Parse(r.Body).RootElement.GetProperty("event_action").GetString()));
    }

    [Fact]
    public async Task A_round_that_re_sends_a_pending_update_says_whether_the_channel_got_it_this_time()
    {
        using var s = new AlertingScenario(Rules, p1: "hook, pager");
        var (engine, config) = s.NewEngine();
        s.Healthy = false;
        await AlertingScenario.RoundAsync(engine, config);
        s.Hook.Then(500, "oops").Then(500, "oops");
        var declared = await AlertingScenario.RoundAsync(engine, config);
        Assert.Equal(AlertAction.Declared, declared.Action);
        Assert.Contains("hook not reached", declared.Decision);

        // The next round re-sends the initial update to the hook, which fails again: the decision says so (not only a warning).
        var again = await AlertingScenario.RoundAsync(engine, config);
        Assert.Equal(AlertAction.Ongoing, again.Action);
        Assert.Contains("hook still not reached", again.Decision);

        var delivered = await AlertingScenario.RoundAsync(engine, config);
        Assert.Contains("re-sent 1 pending update(s) to hook", delivered.Decision);
        Assert.DoesNotContain("not reached", delivered.Decision);
        Assert.Empty(await engine.Notifications.GetUpdatesAsync(config, declared.IncidentId!, true, CancellationToken.None));
    }
}

