using IncidentOps.Alerting;
using IncidentOps.Engine.Alerting;
using IncidentOps.Engine.Incidents;
using IncidentOps.Incidents;
using IncidentOps.Notifications;
using IncidentOps.Tests.Incidents;
using Xunit;

namespace IncidentOps.Tests.Alerting;

/// <summary>Alerting rounds against a scripted loopback endpoint, provider stubs on loopback and the real file store.</summary>
public class AlertingRoundTests
{
    private static readonly TimeSpan Ten = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task A_P1_with_updateEvery_1m_checked_every_10s_sends_one_update_a_minute_not_six()
    {
        using var s = new AlertingScenario();
        var (engine, config) = s.NewEngine();
        s.Healthy = false;
        var decisions = new List<(TimeSpan At, AlertDecision D)>();
        var start = s.Clock.Now;
        for (var i = 0; i < 21; i++) // 0 s .. 200 s of simulated time
        {
            decisions.Add((s.Clock.Now - start, await AlertingScenario.RoundAsync(engine, config)));
            s.Clock.Advance(Ten);
        }
        var declared = Assert.Single(decisions, d => d.D.Action == AlertAction.Declared);
        Assert.Equal(TimeSpan.FromSeconds(20), declared.At);
        Assert.Matches(@"^Declared INC-\d{8}-\d{3} P1, paged$", declared.D.Decision);
        Assert.Equal([80, 140, 200], decisions.Where(d => d.D.Action == AlertAction.Updated).Select(d => (int)d.At.TotalSeconds));
        Assert.All(decisions.Where(d => d.D.Action == AlertAction.Updated), d => Assert.Equal("Update due, sent", d.D.Decision));
        Assert.Equal(4, s.HookPosts.Count());          // the initial update and three on cadence
        Assert.Single(s.Pages("trigger"));             // paged once, with the incident's dedup key
        Assert.Single(s.PagerDuty.Requests);
        Assert.Contains($"\"dedup_key\":\"{(await s.KeysAsync(declared.D.IncidentId!)).DedupKey}\"", s.PagerDuty.Requests[0].Body);

        // Every step is on the timeline as alerting@host, and the failing health results are in the evidence.
        var timeline = await engine.Incidents.GetTimelineAsync(config, declared.D.IncidentId!, CancellationToken.None);
        Assert.All(timeline, e => Assert.Equal($"alerting@{Environment.MachineName}", e.Actor));
        Assert.Contains(timeline, e => e.Kind == "declared");
        Assert.Contains(timeline, e => e.Kind == "evidence" && e.Result!.Contains("-health-production-api.json"));
        Assert.Equal(4, timeline.Count(e => e.Kind == "update"));
        var evidence = Directory.GetFiles(Path.Combine(s.StorePath, "incidents", declared.D.IncidentId!, "evidence"), "*-health-*.json").Single();
        Assert.Contains("\"statusCode\": 503", File.ReadAllText(evidence));
        var incident = await engine.Incidents.GetAsync(config, declared.D.IncidentId!, CancellationToken.None);
        Assert.Equal(start, incident.StartedAt);     // the outage began at the first failed check
        Assert.Equal(["production/api"], incident.Services);
    }

    [Fact]
    public async Task Recovery_goes_to_Monitoring_then_autoResolveAfter_closes_it_and_the_report_shows_the_outage_window()
    {
        using var s = new AlertingScenario("failureThreshold: 2\n  successThreshold: 2\n  severity: P1\n  autoResolveAfter: 5m");
        var (engine, config) = s.NewEngine();
        var start = s.Clock.Now;
        s.Healthy = false;
        for (var i = 0; i < 4; i++) { await AlertingScenario.RoundAsync(engine, config); s.Clock.Advance(TimeSpan.FromMinutes(1)); }
        s.Healthy = true;
        var recovered = await AlertingScenario.RoundAsync(engine, config);
        s.Clock.Advance(TimeSpan.FromMinutes(1));
        recovered = await AlertingScenario.RoundAsync(engine, config);
        Assert.Equal(AlertAction.Recovered, recovered.Action);
        Assert.Equal("Recovered 2/2, set Monitoring", recovered.Decision);
        var id = recovered.IncidentId!;
        Assert.Equal(IncidentStatus.Monitoring, (await engine.Incidents.GetAsync(config, id, CancellationToken.None)).Status);
        AlertDecision last;
        var rounds = 0;
        do { s.Clock.Advance(TimeSpan.FromMinutes(1)); last = await AlertingScenario.RoundAsync(engine, config); rounds++; }
        while (last.Action != AlertAction.Resolved && rounds < 10);
        Assert.Equal(AlertAction.Resolved, last.Action);
        // Last failure at 3 min; healthy from 4 min; five quiet minutes are reached at 8 min.
        Assert.Equal(start.AddMinutes(8), s.Clock.Now);
        Assert.Equal($"Resolved {id} after 5m quiet", last.Decision);
        Assert.Equal((id, "P1"), (last.IncidentId, last.Severity));

        var incident = await engine.Incidents.GetAsync(config, id, CancellationToken.None);
        Assert.Equal(IncidentStatus.Resolved, incident.Status);
        Assert.Equal(start, incident.StartedAt);
        Assert.Equal(start.AddMinutes(4), incident.MitigatedAt);
        Assert.Equal(s.Clock.Now, incident.ResolvedAt);
        var window = $"The outage lasted 4m ({start:u} to {start.AddMinutes(4):u}).";
        Assert.Contains(window, incident.Resolution);
        var report = await engine.Reports.RenderAsync(config, id, IncidentReportKind.PostMortem, IncidentReportFormat.Markdown, null, null, CancellationToken.None);
        Assert.Contains(window, report.Content);
        // Paged on declaration, resolved on recovery (Monitoring), and the resolution's resolve finds nothing left open.
        Assert.Equal(["trigger", "resolve", "resolve"], s.PagerDuty.Requests.Select(r => System.Text.Json.JsonDocument.Parse(r.Body).RootElement.GetProperty("event_action").GetString()));
        var key = (await s.KeysAsync(id)).DedupKey;
        Assert.Equal([(key, "resolved")], s.PagerDutyIncidents.Incidents.Select(i => (i.DedupKey, i.Status)));
        Assert.Equal(["resolve " + key], s.PagerDutyIncidents.Unmatched);
        // initial, two on cadence (down at 2 and 3 min), recovery, resolved
        Assert.Equal(["Initial", "Update", "Update", "Update", "Resolved"], s.HookPosts.Select(r => System.Text.Json.JsonDocument.Parse(r.Body).RootElement.GetProperty("kind").GetString()));
        // After the resolution the next outage is a new incident.
        s.Healthy = false;
        for (var i = 0; i < 2; i++) { s.Clock.Advance(Ten); last = await AlertingScenario.RoundAsync(engine, config); }
        Assert.Equal(AlertAction.Declared, last.Action);
        Assert.NotEqual(id, last.IncidentId);
    }

    [Fact]
    public async Task Two_overlapping_runners_over_50_rounds_of_a_flapping_endpoint_declare_update_and_page_once()
    {
        using var s = new AlertingScenario();
        await OverlappingRunnersAsync(s);
    }

    [Fact]
    public async Task On_the_team_store_two_overlapping_runners_over_50_rounds_of_a_flapping_endpoint_declare_update_and_page_once()
    {
        using var s = AlertingScenario.OnTeamStore();
        await OverlappingRunnersAsync(s);
        // The state lives in the team store's table, not beside the local folder.
        var (engine, config) = s.NewEngine();
        var states = Assert.IsType<PostgresAlertStateStore>(engine.Alerting.OpenState(config));
        Assert.NotNull(await states.GetAsync("production/api", CancellationToken.None));
        Assert.False(Directory.Exists(Path.Combine(s.StorePath, "alerting")));
    }

    private static async Task OverlappingRunnersAsync(AlertingScenario s)
    {
        var runners = new[] { s.NewEngine(), s.NewEngine() };
        var decisions = new List<AlertDecision>();
        for (var round = 0; round < 50; round++)
        {
            // 10 healthy rounds, 10 down, then flapping every round.
            s.Healthy = round < 10 || (round >= 20 && round % 2 == 0);
            var both = await Task.WhenAll(runners.Select(r => Task.Run(() => AlertingScenario.RoundAsync(r.Engine, r.Config))));
            decisions.AddRange(both);
            s.Clock.Advance(Ten);
        }
        var incidents = await runners[0].Engine.Incidents.ListAsync(runners[0].Config, new IncidentQuery(), CancellationToken.None);
        var incident = Assert.Single(incidents);
        Assert.Single(decisions, d => d.Action == AlertAction.Declared);
        Assert.Single(s.Pages("trigger"));
        var updateIds = s.HookPosts.Select(r => System.Text.Json.JsonDocument.Parse(r.Body).RootElement.GetProperty("updateId").GetString()).ToList();
        Assert.Equal(updateIds.Count, updateIds.Distinct().Count());           // no update reached the provider twice
        var outbox = await runners[0].Engine.Notifications.GetUpdatesAsync(runners[0].Config, incident.Id, false, CancellationToken.None);
        Assert.Equal(outbox.Count, updateIds.Count);                            // and every update reached it once
        Assert.Single(outbox, u => u.Kind == NotificationKind.Initial);
        Assert.Equal(decisions.Count(d => d.Action is AlertAction.Declared or AlertAction.Updated or AlertAction.Recovered or AlertAction.Reopened), outbox.Count);
        // Cadence holds across both runners: updates at least a minute apart (simulated), whoever sent them.
        var updates = decisions.Where(d => d.Action == AlertAction.Updated).Select(d => d.Timestamp).Order().ToList();
        Assert.All(updates.Zip(updates.Skip(1)), p => Assert.True(p.Second - p.First >= TimeSpan.FromMinutes(1)));
    }

    [Fact]
    public async Task Store_unreachable_mid_round_fails_clearly_and_the_next_round_neither_loses_nor_redeclares_the_outage()
    {
        using var s = new AlertingScenario();
        var (engine, config) = s.NewEngine();
        var away = s.StorePath + ".unmounted";
        var broken = 0;
        // The store goes away (an unmounted share) while the initial update is in flight: the provider got the
        // update, but the store cannot record it.
        s.Hook.Handler = _ => { if (Interlocked.Exchange(ref broken, 1) == 0) Directory.Move(s.StorePath, away); return null; };
        s.Healthy = false;
        await AlertingScenario.RoundAsync(engine, config);
        s.Clock.Advance(Ten);
        await AlertingScenario.RoundAsync(engine, config);
        s.Clock.Advance(Ten);
        var ex = await Assert.ThrowsAsync<IncidentOpsException>(() => AlertingScenario.RoundAsync(engine, config));
        Assert.Equal(AlertingErrorIds.StoreUnavailable, ex.ErrorId);
        Assert.Contains("could not be read or written while alerting on production/api", ex.Message);
        Assert.Contains("neither loses the outage nor declares it twice", ex.Message);

        Directory.Move(away, s.StorePath);
        s.Clock.Advance(Ten);
        await AssertTheOutageCarriesOnAsync(s, engine, config);
    }

    [Fact]
    public async Task On_the_team_store_a_server_that_stops_mid_round_fails_it_clearly_and_the_next_round_neither_loses_nor_redeclares_the_outage()
    {
        using var pg = new PrivatePostgres();
        using var s = AlertingScenario.OnTeamStore(pg.ConnectionString + ";Password=CANARYteamAl3rt;Timeout=3");
        var (engine, config) = s.NewEngine();
        var broken = 0;
        // The team store's server stops while the initial update is in flight: the provider got the update, but the
        // store cannot record it.
        s.Hook.Handler = _ => { if (Interlocked.Exchange(ref broken, 1) == 0) pg.Stop(); return null; };
        s.Healthy = false;
        await AlertingScenario.RoundAsync(engine, config);
        s.Clock.Advance(Ten);
        await AlertingScenario.RoundAsync(engine, config);
        s.Clock.Advance(Ten);
        var ex = await Assert.ThrowsAsync<IncidentOpsException>(() => AlertingScenario.RoundAsync(engine, config));
        Assert.Equal(AlertingErrorIds.StoreUnavailable, ex.ErrorId);
        Assert.Contains("could not be read or written while alerting on production/api", ex.Message);
        Assert.Contains($"127.0.0.1:{pg.Port}", ex.Message);
        Assert.DoesNotContain("CANARY", ex.ToString());

        // While it is down, every further round fails the same way (and declares nothing elsewhere).
        s.Clock.Advance(Ten);
        var still = await Assert.ThrowsAsync<IncidentOpsException>(() => AlertingScenario.RoundAsync(engine, config));
        Assert.Equal(AlertingErrorIds.StoreUnavailable, still.ErrorId);

        pg.Start();
        s.Clock.Advance(Ten);
        await AssertTheOutageCarriesOnAsync(s, engine, config);
    }

    [Fact]
    public async Task On_a_team_store_still_at_schema_version_1_the_round_says_to_run_Initialize_IncidentStore_and_declares_nothing()
    {
        using var s = AlertingScenario.OnTeamStore();
        // What version 1 left behind (a store not yet upgraded after the module was).
        await using (var c = new Npgsql.NpgsqlConnection(TestServers.PostgresConnectionString))
        {
            await c.OpenAsync();
            await using var down = new Npgsql.NpgsqlCommand($"DROP TABLE \"{s.TeamSchema}\".alert_state; DELETE FROM \"{s.TeamSchema}\".schema_version WHERE version = 2", c);
            await down.ExecuteNonQueryAsync();
        }
        var (engine, config) = s.NewEngine();
        s.Healthy = false;
        for (var i = 0; i < 3; i++)
        {
            var ex = await Assert.ThrowsAsync<IncidentOpsException>(() => AlertingScenario.RoundAsync(engine, config));
            Assert.Equal(IncidentErrorIds.StoreNotInitialized, ex.ErrorId);
            Assert.Contains("Initialize-IncidentStore", ex.Message);
            s.Clock.Advance(Ten);
        }
        Assert.Empty(s.HookPosts);
        Assert.Empty(s.PagerDuty.Requests);
    }

    [Fact]
    public async Task A_store_path_that_is_not_a_folder_fails_the_round_with_AlertingStoreUnavailable()
    {
        var dir = Paths.TempDir("io-alert-bad");
        var notAFolder = Path.Combine(dir, "store");
        File.WriteAllText(notAFolder, "a file, not a folder");
        using var s = new AlertingScenario(storePath: notAFolder);
        var (engine, config) = s.NewEngine();
        s.Healthy = false;
        var ex = await Assert.ThrowsAsync<IncidentOpsException>(() => AlertingScenario.RoundAsync(engine, config));
        Assert.Equal(AlertingErrorIds.StoreUnavailable, ex.ErrorId);
        Assert.Contains("store.path", ex.Message);
    }

    [Fact]
    public async Task An_incident_a_person_already_opened_for_the_service_is_attached_not_doubled()
    {
        using var s = new AlertingScenario();
        var (engine, config) = s.NewEngine();
        var human = await engine.Incidents.CreateAsync(config, new NewIncidentRequest { Title = "API errors", Severity = "P1", Services = ["production/api"] },
            ChangeContext.Engine, CancellationToken.None);
        s.Healthy = false;
        AlertDecision d = null!;
        for (var i = 0; i < 3; i++) { d = await AlertingScenario.RoundAsync(engine, config); s.Clock.Advance(Ten); }
        Assert.Equal(AlertAction.Attached, d.Action);
        Assert.Equal($"Failing 3/3, attached to {human.Id}, initial update sent, paged", d.Decision);
        Assert.Single(await engine.Incidents.ListAsync(config, new IncidentQuery(), CancellationToken.None));
    }

    [Fact]
    public async Task The_preview_decides_without_changing_the_store_or_sending()
    {
        using var s = new AlertingScenario();
        var (engine, config) = s.NewEngine();
        s.Healthy = false;
        var target = config.Services.Single();
        for (var i = 0; i < 5; i++)
        {
            var o = (await engine.Alerting.ProbeAsync([target], TimeSpan.FromSeconds(5), CancellationToken.None)).Single();
            var preview = await engine.Alerting.PreviewAsync(config, o, CancellationToken.None);
            Assert.True(preview.WhatIf);
            Assert.Equal("Failing 1/3, waiting", preview.Decision);
        }
        Assert.False(Directory.Exists(Path.Combine(s.StorePath, "alerting")) && Directory.GetFiles(Path.Combine(s.StorePath, "alerting"), "state.json").Length > 0);
        Assert.Empty(Directory.Exists(Path.Combine(s.StorePath, "incidents")) ? Directory.GetDirectories(Path.Combine(s.StorePath, "incidents")) : []);
        Assert.Empty(s.Hook.Requests);
        Assert.Empty(s.PagerDuty.Requests);
    }

    /// <summary>
    /// The round after the store came back: it carries on with the outage (no new declaration, still counting, the
    /// state still Down on the one incident), finishes the interrupted initial update instead of sending a second one,
    /// and pages once.
    /// </summary>
    private static async Task AssertTheOutageCarriesOnAsync(AlertingScenario s, IncidentOps.Engine.IncidentOpsEngine engine, IncidentOps.Config.IncidentOpsConfig config)
    {
        var next = await AlertingScenario.RoundAsync(engine, config);
        Assert.NotEqual(AlertAction.Declared, next.Action);
        Assert.NotEqual(AlertAction.Attached, next.Action);
        var incident = Assert.Single(await engine.Incidents.ListAsync(config, new IncidentQuery(), CancellationToken.None));
        Assert.Equal(incident.Id, next.IncidentId);
        Assert.Equal(IncidentStatus.Investigating, incident.Status);
        Assert.Equal(4, next.ConsecutiveFailures);                               // the outage was not lost: still counting
        var state = await engine.Alerting.OpenState(config).GetAsync("production/api", CancellationToken.None);
        Assert.Equal((AlertPhase.Down, incident.Id), (state!.Phase, state.IncidentId));
        // The interrupted initial update was completed (idempotently), not sent as a second one.
        var outbox = await engine.Notifications.GetUpdatesAsync(config, incident.Id, false, CancellationToken.None);
        Assert.Single(outbox);
        Assert.False(outbox[0].Pending);
        // A page whose delivery the store could not record is re-sent as the very same event (same dedup_key and
        // body), which PagerDuty folds into the one alert: one page, never a second one.
        Assert.Single(s.Pages("trigger").Select(r => r.Body).Distinct());
    }

    [Fact]
    public async Task A_PagerDuty_trigger_without_an_answer_is_reported_paged_by_the_round_that_re_sends_it()
    {
        using var s = new AlertingScenario();
        // PagerDuty gets the trigger but its answer never comes: the declaring round cannot claim the page.
        s.PagerDuty.ThenHandleAndHang();
        var (engine, config) = s.NewEngine();
        engine.Notifications.Options = new IncidentOps.Engine.Notifications.NotificationOptions { RequestTimeout = TimeSpan.FromSeconds(3), BackoffBase = TimeSpan.FromMilliseconds(20) };   // short, so the unanswered request ends soon; 3 s, so the channels that answer do so on a loaded machine too
        s.Healthy = false;
        AlertDecision declared = null!;
        for (var i = 0; i < 3; i++) { declared = await AlertingScenario.RoundAsync(engine, config); s.Clock.Advance(TimeSpan.FromSeconds(10)); }
        Assert.Equal(AlertAction.Declared, declared.Action);
        Assert.False(declared.Paged);

        // The next round re-sends it (same dedup_key, so PagerDuty keeps one incident) and is the one that says so.
        var next = await AlertingScenario.RoundAsync(s.NewEngine().Engine, config);
        Assert.True(next.Paged);
        Assert.Contains("page to pager confirmed", next.Decision);
        Assert.Equal(2, s.Pages("trigger").Count());
        Assert.Single(s.Pages("trigger").Select(r => System.Text.Json.JsonDocument.Parse(r.Body).RootElement.GetProperty("dedup_key").GetString()).Distinct());
        var after = await AlertingScenario.RoundAsync(s.NewEngine().Engine, config);
        Assert.False(after.Paged);
    }
}
