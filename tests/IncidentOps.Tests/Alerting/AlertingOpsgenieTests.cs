using System.Text.Json;
using IncidentOps.Alerting;
using IncidentOps.Config;
using IncidentOps.Engine;
using IncidentOps.Engine.Incidents;
using IncidentOps.Engine.Notifications;
using IncidentOps.Incidents;
using IncidentOps.Notifications;
using IncidentOps.Tests.Notifications;
using Xunit;

namespace IncidentOps.Tests.Alerting;

/// <summary>
/// Opsgenie as health alerting's pager, with PagerDuty's guarantees: one alert per incident (alias = incident id and declaration time),
/// created when the incident is declared, closed when the service recovers (so a relapse opens a new alert that notifies),
/// never created twice by a progress update, a retried round, a lost answer or an overlapping runner. The Opsgenie
/// fake counts alerts the way Opsgenie does (one open alert per alias), not just requests.
/// </summary>
public class AlertingOpsgenieTests
{
    private static readonly TimeSpan Ten = TimeSpan.FromSeconds(10);
    private const string Rules = "failureThreshold: 2\n  successThreshold: 2\n  severity: P1\n  autoResolveAfter: 5m";

    private static string[] Kinds(IEnumerable<CapturedRequest> posts) =>
        posts.Select(r => JsonDocument.Parse(r.Body).RootElement.GetProperty("kind").GetString()!).ToArray();

    private static string[] PagerDutyActions(AlertingScenario s) =>
        s.PagerDuty.Requests.Select(r => JsonDocument.Parse(r.Body).RootElement.GetProperty("event_action").GetString()!).ToArray();

    /// <summary>Rounds a minute apart: down for 4, then healthy until alerting resolves the incident (at most 10 more).</summary>
    private static async Task<List<AlertDecision>> OutageToResolutionAsync(AlertingScenario s, IncidentOps.Engine.IncidentOpsEngine engine, IncidentOps.Config.IncidentOpsConfig config)
    {
        var decisions = new List<AlertDecision>();
        s.Healthy = false;
        for (var i = 0; i < 4; i++) { decisions.Add(await AlertingScenario.RoundAsync(engine, config)); s.Clock.Advance(TimeSpan.FromMinutes(1)); }
        s.Healthy = true;
        for (var i = 0; i < 10 && decisions[^1].Action != AlertAction.Resolved; i++)
        {
            decisions.Add(await AlertingScenario.RoundAsync(engine, config));
            s.Clock.Advance(TimeSpan.FromMinutes(1));
        }
        return decisions;
    }

    [Fact]
    public async Task Opsgenie_alone_as_the_pager_gets_one_alert_created_on_declaration_and_closed_on_recovery_and_the_resolution_closes_nothing_more()
    {
        using var s = new AlertingScenario(Rules, p1: "hook, genie");
        var (engine, config) = s.NewEngine();
        s.Healthy = false;
        await AlertingScenario.RoundAsync(engine, config);
        // -WhatIf at the threshold says it would page, and sends nothing.
        var target = config.Services.Single();
        var preview = await engine.Alerting.PreviewAsync(config, (await engine.Alerting.ProbeAsync([target], TimeSpan.FromSeconds(5), CancellationToken.None)).Single(), CancellationToken.None);
        Assert.Equal("Failing 2/2: declare a P1 incident and send the initial update, page", preview.Decision);
        Assert.Empty(s.Opsgenie.Requests);
        s.Clock.Advance(TimeSpan.FromMinutes(1));

        var decisions = await OutageToResolutionAsync(s, engine, config);
        var declared = Assert.Single(decisions, d => d.Action == AlertAction.Declared);
        var id = declared.IncidentId!;
        var alias = (await s.KeysAsync(id)).Alias;
        Assert.Matches(@"^Declared INC-\d{8}-\d{3} P1, paged$", declared.Decision);
        Assert.Equal([declared], decisions.Where(d => d.Paged));                      // paged once, at declaration
        Assert.Contains(decisions, d => d.Action == AlertAction.Updated);               // progress updates went out...
        Assert.Equal(AlertAction.Resolved, decisions[^1].Action);

        // ...to the hook only: Opsgenie saw exactly create, close (recovery) and close (resolution), all by alias.
        Assert.Equal(["/v2/alerts", $"/v2/alerts/{alias}/close", $"/v2/alerts/{alias}/close"], s.Opsgenie.Requests.Select(r => r.Path));
        Assert.All(s.Opsgenie.Requests.Skip(1), r => Assert.Equal("?identifierType=alias", r.Query));
        Assert.All(s.Opsgenie.Requests, r => Assert.Equal($"GenieKey {AlertingScenario.OpsgenieKeyCanary}", r.Headers["Authorization"]));
        var alert = Assert.Single(s.Opsgenie.Alerts);
        // P1 is the most severe level this configuration has (P1, P2), so Opsgenie's P1.
        Assert.Equal((alias, "closed", false, 1, "P1"), (alert.Alias, alert.Status, alert.Acknowledged, alert.Count, alert.Priority));
        Assert.Equal([$"close {alias}"], s.Opsgenie.Unmatched);                         // the resolution's close: already closed, harmless
        Assert.Equal(["Initial", "Update", "Update", "Update", "Update", "Resolved"], Kinds(s.HookPosts)); // three on cadence, the recovery
        Assert.Empty(s.PagerDuty.Requests);                                             // not routed, not paged
        Assert.Equal(IncidentStatus.Resolved, (await engine.Incidents.GetAsync(config, id, CancellationToken.None)).Status);

        // The key never reaches a decision, the timeline or the store.
        Assert.All(decisions, d => Assert.DoesNotContain(AlertingScenario.OpsgenieKeyCanary, d.ToString()));
        Assert.All(Directory.GetFiles(s.StorePath, "*", SearchOption.AllDirectories),
            f => Assert.DoesNotContain(AlertingScenario.OpsgenieKeyCanary, File.ReadAllText(f)));

        // The next outage is a new incident, so a new alert under its own alias; the closed one stays closed.
        s.Healthy = false;
        AlertDecision next = null!;
        for (var i = 0; i < 2; i++) { s.Clock.Advance(Ten); next = await AlertingScenario.RoundAsync(engine, config); }
        Assert.Equal(AlertAction.Declared, next.Action);
        Assert.True(next.Paged);
        Assert.Equal([(alias, "closed"), ((await s.KeysAsync(next.IncidentId!)).Alias, "open")], s.Opsgenie.Alerts.Select(a => (a.Alias, a.Status)));
    }

    /// <summary>Rounds of an outage until the incident is declared, with a short (3 s) request timeout, while Opsgenie does not answer (as the stub was told).</summary>
    private static async Task<(IncidentOpsEngine Engine, IncidentOpsConfig Config, AlertDecision Declared)> DeclareWithoutAnswerAsync(AlertingScenario s)
    {
        var (engine, config) = s.NewEngine();
        engine.Notifications.Options = new NotificationOptions { RequestTimeout = TimeSpan.FromSeconds(3), BackoffBase = TimeSpan.FromMilliseconds(20) };   // short, so the unanswered request ends soon; 3 s, so the channels that answer do so on a loaded machine too
        s.Healthy = false;
        AlertDecision declared = null!;
        for (var i = 0; i < 3; i++) { declared = await AlertingScenario.RoundAsync(engine, config); s.Clock.Advance(Ten); }
        Assert.Equal(AlertAction.Declared, declared.Action);
        return (engine, config, declared);
    }

    [Fact]
    public async Task A_round_retried_after_the_create_lost_its_answer_never_posts_a_second_create_nor_opens_a_second_alert()
    {
        using var s = new AlertingScenario(p1: "hook, genie");
        // Opsgenie gets the create and makes the alert, but its answer never comes back (a proxy timeout, a dropped link).
        s.Opsgenie.Stub.ThenHandleAndHang();
        var (engine, config, declared) = await DeclareWithoutAnswerAsync(s);
        Assert.EndsWith("(genie not reached; re-sent next round)", declared.Decision);
        Assert.False(declared.Paged);                   // not confirmed: the round does not claim it
        var id = declared.IncidentId!;
        var alias = (await s.KeysAsync(id)).Alias;
        Assert.Equal(DeliveryState.Unknown, (await engine.Notifications.GetUpdatesAsync(config, id, true, CancellationToken.None)).Single()
            .Deliveries.Single(d => d.Channel == "genie").State);

        // The next rounds (a new process each, as a scheduler runs them) finish the interrupted page first: the alert is
        // there, so the create is recorded as delivered and not posted again. Six rounds also cross a cadence update.
        var later = new List<AlertDecision>();
        for (var i = 0; i < 6; i++)
        {
            var (retry, retryConfig) = s.NewEngine();
            later.Add(await AlertingScenario.RoundAsync(retry, retryConfig));
            s.Clock.Advance(Ten);
        }
        Assert.Contains(later, d => d.Action == AlertAction.Updated);
        Assert.Single(s.Opsgenie.Creates);
        var alert = Assert.Single(s.Opsgenie.Alerts);
        Assert.Equal((alias, "open", 1), (alert.Alias, alert.Status, alert.Count));
        Assert.Equal([("POST", "/v2/alerts"), ("GET", $"/v2/alerts/{alias}")], s.Opsgenie.Requests.Select(r => (r.Method, r.Path)));
        Assert.Empty(await engine.Notifications.GetUpdatesAsync(config, id, true, CancellationToken.None));
        // The round whose lookup found the alert is the one that says the incident was paged; no other round claims it.
        var confirmed = Assert.Single(later, d => d.Paged);
        Assert.Same(later[0], confirmed);
        Assert.Contains("page to genie confirmed", confirmed.Decision);
        Assert.Single(await engine.Incidents.ListAsync(config, new IncidentQuery(), CancellationToken.None));
    }

    [Fact]
    public async Task A_create_that_never_reached_Opsgenie_is_sent_by_the_next_round_so_the_page_is_not_lost()
    {
        using var s = new AlertingScenario(p1: "hook, genie");
        // The create is cut off before Opsgenie acts on it: no alert, no answer.
        s.Opsgenie.Stub.ThenHang();
        var (engine, config, declared) = await DeclareWithoutAnswerAsync(s);
        Assert.Empty(s.Opsgenie.Alerts);

        Assert.False(declared.Paged);
        var next = await AlertingScenario.RoundAsync(s.NewEngine().Engine, config);
        // The round that re-sent the page, and had it accepted, reports it.
        Assert.True(next.Paged);
        Assert.Contains("page to genie confirmed", next.Decision);
        var id = declared.IncidentId!;
        var alias = (await s.KeysAsync(id)).Alias;
        // Looked up (404), then created under the same alias: one alert.
        Assert.Equal([("POST", "/v2/alerts"), ("GET", $"/v2/alerts/{alias}"), ("POST", "/v2/alerts")], s.Opsgenie.Requests.Select(r => (r.Method, r.Path)));
        var alert = Assert.Single(s.Opsgenie.Alerts);
        Assert.Equal((alias, "open", 1), (alert.Alias, alert.Status, alert.Count));
        Assert.Empty(await engine.Notifications.GetUpdatesAsync(config, id, true, CancellationToken.None));
    }

    [Fact]
    public async Task With_PagerDuty_and_Opsgenie_both_routed_each_is_paged_once_and_closed_on_recovery()
    {
        using var s = new AlertingScenario(Rules, p1: "hook, pager, genie");
        var (engine, config) = s.NewEngine();
        var decisions = await OutageToResolutionAsync(s, engine, config);
        var declared = Assert.Single(decisions, d => d.Action == AlertAction.Declared);
        var id = declared.IncidentId!;
        var alias = (await s.KeysAsync(id)).Alias;
        Assert.Equal(3, declared.UpdatesSent);
        Assert.Equal([declared], decisions.Where(d => d.Paged));
        Assert.Equal(AlertAction.Resolved, decisions[^1].Action);
        Assert.Equal(["trigger", "resolve", "resolve"], PagerDutyActions(s));
        Assert.Equal(["/v2/alerts", $"/v2/alerts/{alias}/close", $"/v2/alerts/{alias}/close"], s.Opsgenie.Requests.Select(r => r.Path));
        var alert = Assert.Single(s.Opsgenie.Alerts);
        Assert.Equal((alias, "closed", 1), (alert.Alias, alert.Status, alert.Count));
        Assert.Equal(((await s.KeysAsync(id)).DedupKey, "resolved"), s.PagerDutyIncidents.Incidents.Select(i => (i.DedupKey, i.Status)).Single());
    }

    [Fact]
    public async Task When_one_of_two_pagers_fails_the_next_round_pages_only_that_one_and_never_the_other_twice()
    {
        using var s = new AlertingScenario(p1: "hook, pager, genie");
        // PagerDuty is down for the declaration (503 on every attempt); Opsgenie takes the page.
        for (var i = 0; i < new NotificationOptions().MaxAttempts; i++) s.PagerDuty.Then(503, "{\"status\":\"unavailable\"}");
        var (engine, config) = s.NewEngine();
        s.Healthy = false;
        AlertDecision declared = null!;
        for (var i = 0; i < 3; i++) { declared = await AlertingScenario.RoundAsync(engine, config); s.Clock.Advance(Ten); }
        Assert.Equal(AlertAction.Declared, declared.Action);
        Assert.True(declared.Paged);                     // Opsgenie was paged
        Assert.EndsWith(", paged (pager not reached; re-sent next round)", declared.Decision);
        var failedTriggers = s.PagerDuty.Requests.Count;

        for (var i = 0; i < 3; i++) { await AlertingScenario.RoundAsync(engine, config); s.Clock.Advance(Ten); }
        // PagerDuty got its trigger once it answered (the same event, re-sent), and Opsgenie was not paged again.
        Assert.Equal(failedTriggers + 1, s.PagerDuty.Requests.Count);
        Assert.Single(s.Pages("trigger").Select(r => r.Body).Distinct());
        Assert.Single(s.Opsgenie.Creates);
        Assert.Equal(1, Assert.Single(s.Opsgenie.Alerts).Count);
        Assert.Empty(await engine.Notifications.GetUpdatesAsync(config, declared.IncidentId!, true, CancellationToken.None));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Two_overlapping_runners_through_an_outage_a_recovery_and_a_relapse_create_one_alert_per_page_and_page_only_at_each_step(bool teamStore)
    {
        using var s = teamStore ? AlertingScenario.OnTeamStore(p1: "hook, genie") : new AlertingScenario(p1: "hook, genie");
        var runners = new[] { s.NewEngine(), s.NewEngine() };
        var decisions = new List<AlertDecision>();
        for (var round = 0; round < 40; round++)
        {
            // 10 healthy, 10 down (declare), 10 healthy (recover: close), 10 down (reopen: a new alert, page again).
            s.Healthy = round < 10 || (round >= 20 && round < 30);
            decisions.AddRange(await Task.WhenAll(runners.Select(r => Task.Run(() => AlertingScenario.RoundAsync(r.Engine, r.Config)))));
            s.Clock.Advance(Ten);
        }
        Assert.Single(decisions, d => d.Action == AlertAction.Declared);
        Assert.Single(decisions, d => d.Action == AlertAction.Recovered);
        Assert.Single(decisions, d => d.Action == AlertAction.Reopened);
        var incident = Assert.Single(await runners[0].Engine.Incidents.ListAsync(runners[0].Config, new IncidentQuery(), CancellationToken.None));
        // One create per paging step (declared, reopened), never one per runner; one close for the recovery, so the
        // relapse's create opened a second alert (which notifies) instead of folding into the first.
        Assert.Equal(2, decisions.Count(d => d.Paged));
        Assert.Equal(2, s.Opsgenie.Creates.Count);
        Assert.Single(s.Opsgenie.Actions("close"));
        Assert.Empty(s.Opsgenie.Actions("acknowledge"));
        Assert.Equal([(ExpectedPagerKey.Opsgenie(incident), "closed", 1), (ExpectedPagerKey.Opsgenie(incident), "open", 1)], s.Opsgenie.Alerts.Select(a => (a.Alias, a.Status, a.Count)));
        Assert.Empty(s.Opsgenie.Unmatched);
    }
}
