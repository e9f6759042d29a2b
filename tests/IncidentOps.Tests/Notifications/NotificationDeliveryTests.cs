using System.Text.Json.Nodes;
using IncidentOps.Engine.Notifications;
using IncidentOps.Incidents;
using IncidentOps.Notifications;
using Xunit;

namespace IncidentOps.Tests.Notifications;

/// <summary>Delivery under faults (issue 18 items 3, 11, 12, 13, 15; issue 16 items 8, 9): no duplicate public post, no lost update.</summary>
public class NotificationDeliveryTests
{
    private static JsonNode Json(CapturedRequest r) => JsonNode.Parse(r.Body)!;

    [Theory]
    [InlineData("file")]
    [InlineData("team")]
    public async Task Four_simultaneous_first_updates_of_one_incident_open_exactly_one_Statuspage_incident(string store)
    {
        using var s = NotificationScenario.On(store);
        var inc = await s.CreateIncidentAsync("P1");
        // Four independent engines (as four processes would have), all preparing the incident's first update.
        var senders = new List<(NotificationService Service, PreparedUpdate Prepared)>();
        for (var i = 0; i < 4; i++)
        {
            var (engine, _, config) = s.NewEngine();
            senders.Add((engine.Notifications, await engine.Notifications.PrepareAsync(config,
                new IncidentUpdateRequest { IncidentId = inc.Id, Message = $"first update from sender {i}", Channels = ["status"] }, CancellationToken.None)));
        }
        Assert.All(senders, x => Assert.Equal(NotificationKind.Initial, x.Prepared.Update.Kind));
        using var go = new ManualResetEventSlim();
        var tasks = senders.Select(x => Task.Run(async () => { go.Wait(); return await x.Service.SendAsync(x.Prepared, null, new IncidentOps.Engine.Incidents.ChangeContext("Send-IncidentUpdate"), CancellationToken.None); })).ToList();
        go.Set();
        var results = (await Task.WhenAll(tasks)).SelectMany(r => r).ToList();

        Assert.Equal(4, results.Count);
        Assert.All(results, r => Assert.True(r.Delivered, r.Error));
        Assert.Equal(1, s.StatuspageApi.Creates);
        Assert.Single(s.Statuspage.Requests, q => q.Method == "POST");
        Assert.Equal(3, s.Statuspage.Requests.Count(q => q.Method == "PATCH" && q.Path == "/v1/pages/pg7x9q2kzz/incidents/sp-1"));
        Assert.All(results, r => Assert.Equal("sp-1", r.ProviderId));
        Assert.Equal("sp-1", (await s.Incidents.GetAsync(inc.Id, CancellationToken.None))!.ExternalIds["statuspage:status"]);
    }

    [Fact]
    public async Task A_Statuspage_incident_left_by_a_lost_create_is_found_by_its_IncidentOps_id_and_updated_not_created_again()
    {
        using var s = new NotificationScenario();
        var inc = await s.CreateIncidentAsync("P1");
        // A create that reached Statuspage, but whose id was never recorded (the process died after the POST).
        s.StatuspageApi.Handle(new CapturedRequest("POST", "/v1/pages/pg7x9q2kzz/incidents", "", new Dictionary<string, string>(),
            """{"incident":{"name":"Checkout returns 502","status":"investigating","metadata":{"incidentops":{"incident_id":"INCID","update_id":"UPD-lost"}}}}""".Replace("INCID", inc.Id)));
        var r = Assert.Single(await s.SendAsync(new IncidentUpdateRequest { IncidentId = inc.Id, Message = "m", Channels = ["status"] }));
        Assert.True(r.Delivered, r.Error);
        Assert.Equal("sp-1", r.ProviderId);
        Assert.Equal(1, s.StatuspageApi.Creates);
        Assert.DoesNotContain(s.Statuspage.Requests, q => q.Method == "POST");
        Assert.Equal(["GET", "PATCH"], s.Statuspage.Requests.Select(q => q.Method));
    }

    [Fact]
    public async Task Ctrl_C_during_a_send_leaves_Unknown_and_Pending_posts_nothing_twice()
    {
        using var s = new NotificationScenario();
        var inc = await s.CreateIncidentAsync("P1");
        s.Slack.ThenHang();
        s.PagerDuty.ThenHang();
        s.Statuspage.ScriptApplies = q => q.Method == "POST";
        s.Statuspage.ThenHandleAndHang(); // Statuspage creates the incident, but the answer never comes
        var (engine, _, config) = s.NewEngine();
        var prepared = await engine.Notifications.PrepareAsync(config,
            new IncidentUpdateRequest { IncidentId = inc.Id, Message = "stuck", Channels = ["incidents", "pager", "status"] }, CancellationToken.None);
        using var ctrlC = new CancellationTokenSource();
        var send = engine.Notifications.SendAsync(prepared, null, new IncidentOps.Engine.Incidents.ChangeContext("Send-IncidentUpdate"), ctrlC.Token);
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while ((s.Slack.Requests.Count == 0 || s.PagerDuty.Requests.Count == 0 || s.StatuspageApi.Creates == 0) && DateTime.UtcNow < deadline) await Task.Delay(20);
        Assert.True(s.Slack.Requests.Count > 0 && s.PagerDuty.Requests.Count > 0 && s.StatuspageApi.Creates > 0, "the three requests were never all sent");
        ctrlC.Cancel();
        // Stopped, the send either ends with what it knows (each channel's attempt recorded) or is cancelled; either
        // way it ends at once (a generous bound, half the 30 s request timeout) and the outbox says what the providers may have.
        try { await send.WaitAsync(TimeSpan.FromSeconds(15)); } catch (OperationCanceledException) { }

        var entry = Assert.Single(await engine.Notifications.GetUpdatesAsync(config, inc.Id, pendingOnly: true, CancellationToken.None));
        Assert.All(entry.Deliveries, d =>
        {
            Assert.Equal(DeliveryState.Unknown, d.State);
            Assert.Equal(1, d.Attempts);
        });

        var (engine2, sink2, _) = s.NewEngine();
        var resent = await engine2.Notifications.SendPendingAsync(config, inc.Id, null, new IncidentOps.Engine.Incidents.ChangeContext("Send-IncidentUpdate"), CancellationToken.None);
        // Slack: cannot be checked, so not re-sent without -Force.
        var slack = resent.Single(r => r.Channel == "incidents");
        Assert.Equal(DeliveryState.Unknown, slack.State);
        Assert.Contains("-Pending -Force", slack.Error);
        Assert.Single(s.Slack.Requests);
        // Statuspage: found by its IncidentOps id, already carrying this update: nothing sent.
        var status = resent.Single(r => r.Channel == "status");
        Assert.True(status.Delivered, status.Error);
        Assert.Equal("sp-1", status.ProviderId);
        Assert.Equal(1, s.StatuspageApi.Creates);
        Assert.Single(s.Statuspage.Requests, q => q.Method == "POST");
        Assert.DoesNotContain(s.Statuspage.Requests, q => q.Method == "PATCH");
        // PagerDuty: re-sent with the same dedup_key, which PagerDuty merges into one alert.
        Assert.True(resent.Single(r => r.Channel == "pager").Delivered);
        Assert.Equal(2, s.PagerDuty.Requests.Count);
        Assert.Single(s.PagerDuty.Requests.Select(q => Json(q)["dedup_key"]!.GetValue<string>()).Distinct());
        Assert.Contains(sink2.Warnings, w => w.Contains("incidents", StringComparison.Ordinal) && w.Contains("Unknown", StringComparison.Ordinal));

        // -Force re-sends the Slack message: the user's explicit choice.
        var forced = Assert.Single(await engine2.Notifications.SendPendingAsync(config, inc.Id, null, force: true, new IncidentOps.Engine.Incidents.ChangeContext("Send-IncidentUpdate"), CancellationToken.None));
        Assert.True(forced.Delivered, forced.Error);
        Assert.Equal(2, s.Slack.Requests.Count);
        Assert.Equal(2, forced.Attempts);
        Assert.Empty(await engine2.Notifications.GetUpdatesAsync(config, inc.Id, pendingOnly: true, CancellationToken.None));
    }

    [Fact]
    public async Task A_connection_refused_is_Pending_not_Unknown_and_is_re_sent()
    {
        using var s = new NotificationScenario("  dead: { type: slack, url: 'http://127.0.0.1:9/services/T/B/x' }");
        var inc = await s.CreateIncidentAsync("P1");
        var r = Assert.Single(await s.SendAsync(new IncidentUpdateRequest { IncidentId = inc.Id, Message = "m", Channels = ["dead"] }));
        Assert.False(r.Delivered);
        Assert.Equal(DeliveryState.Pending, r.State);
        Assert.Equal(1, r.Attempts);
    }

    [Fact]
    public async Task A_failed_send_does_not_move_NextUpdateDue_so_the_overdue_reminder_comes()
    {
        using var s = new NotificationScenario();
        var inc = await s.CreateIncidentAsync("P1");
        await s.SendAsync(new IncidentUpdateRequest { IncidentId = inc.Id, Message = "one", Channels = ["incidents"], NextUpdateIn = TimeSpan.FromMinutes(15) });
        var overdueSince = DateTimeOffset.UtcNow.AddMinutes(-5);
        await s.Store.UpdateAsync(inc.Id, i => i.NextUpdateDue = overdueSince, CancellationToken.None);

        s.Slack.Then(500, "oops");
        var failed = Assert.Single(await s.SendAsync(new IncidentUpdateRequest { IncidentId = inc.Id, Message = "two", Channels = ["incidents"], NextUpdateIn = TimeSpan.FromMinutes(15) }));
        Assert.False(failed.Delivered);
        var after = (await s.Store.GetAsync(inc.Id, CancellationToken.None))!;
        Assert.Equal(overdueSince, after.NextUpdateDue);
        var (engine, _, config) = s.NewEngine();
        var due = Assert.Single(await engine.Notifications.GetDueAsync(config, TimeSpan.Zero, CancellationToken.None));
        Assert.Equal(inc.Id, due.IncidentId);
        Assert.True(due.OverdueBy > TimeSpan.Zero);
        Assert.Equal(1, due.PendingUpdates);

        // Delivered later: the cadence moves to that update's next-update time and the reminder stops.
        Assert.True(Assert.Single(await engine.Notifications.SendPendingAsync(config, inc.Id, null, new IncidentOps.Engine.Incidents.ChangeContext("Send-IncidentUpdate"), CancellationToken.None)).Delivered);
        after = (await s.Store.GetAsync(inc.Id, CancellationToken.None))!;
        Assert.True(after.NextUpdateDue > DateTimeOffset.UtcNow.AddMinutes(10));
        Assert.Empty(await engine.Notifications.GetDueAsync(config, TimeSpan.Zero, CancellationToken.None));
    }

    [Fact]
    public async Task A_failed_first_update_with_a_cadence_is_due_at_once()
    {
        using var s = new NotificationScenario();
        var inc = await s.CreateIncidentAsync("P1");
        s.Slack.Then(500, "oops");
        await s.SendAsync(new IncidentUpdateRequest { IncidentId = inc.Id, Message = "one", Channels = ["incidents"], NextUpdateIn = TimeSpan.FromMinutes(15) });
        var after = (await s.Store.GetAsync(inc.Id, CancellationToken.None))!;
        Assert.Null(after.LastUpdateAt);
        Assert.True(after.NextUpdateDue <= DateTimeOffset.UtcNow);
    }

    [Fact]
    public async Task A_truncated_outbox_entry_is_reported_quarantined_and_skipped_alone()
    {
        using var s = new NotificationScenario();
        s.Slack.DefaultStatus = 500;
        var ids = new List<string>();
        for (var i = 0; i < 5; i++)
        {
            var inc = await s.CreateIncidentAsync("P1", active: false, title: $"incident {i}");
            ids.Add(inc.Id);
            await s.SendAsync(new IncidentUpdateRequest { IncidentId = inc.Id, Message = "m", Channels = ["incidents"], NextUpdateIn = TimeSpan.FromMinutes(15) });
        }
        var victim = Assert.Single(s.OutboxFiles(ids[2]));
        var text = await File.ReadAllTextAsync(victim);
        await File.WriteAllTextAsync(victim, text[..(text.Length / 2)]);

        var (engine, sink, config) = s.NewEngine();
        var pending = await engine.Notifications.GetUpdatesAsync(config, null, pendingOnly: true, CancellationToken.None);
        Assert.Equal(4, pending.Count);
        Assert.DoesNotContain(pending, u => u.IncidentId == ids[2]);
        var warning = Assert.Single(sink.Warnings, w => w.Contains("corrupt", StringComparison.Ordinal));
        Assert.Contains(victim, warning);
        Assert.False(File.Exists(victim));
        var aside = Assert.Single(Directory.GetFiles(Path.GetDirectoryName(victim)!, Path.GetFileName(victim) + ".corrupt-*"));
        Assert.Contains(aside, warning);

        var due = await engine.Notifications.GetDueAsync(config, TimeSpan.Zero, CancellationToken.None);
        Assert.Equal(ids.Order(), due.Select(d => d.IncidentId).Order());
    }

    [Fact]
    public async Task A_later_update_supersedes_an_undelivered_one_which_is_never_sent_late()
    {
        using var s = new NotificationScenario();
        var inc = await s.CreateIncidentAsync("P1");
        await s.SendAsync(new IncidentUpdateRequest { IncidentId = inc.Id, Message = "first", Channels = ["incidents"] });
        s.Slack.Then(500, "oops");
        var monitoring = Assert.Single(await s.SendAsync(new IncidentUpdateRequest { IncidentId = inc.Id, Status = IncidentStatus.Monitoring, Message = "watching the fix", Channels = ["incidents"] }));
        Assert.False(monitoring.Delivered);
        var resolved = Assert.Single(await s.SendAsync(new IncidentUpdateRequest { IncidentId = inc.Id, Status = IncidentStatus.Resolved, Message = "all good", Channels = ["incidents"] }));
        Assert.True(resolved.Delivered, resolved.Error);

        var (engine, _, config) = s.NewEngine();
        var stale = (await engine.Notifications.GetUpdatesAsync(config, inc.Id, false, CancellationToken.None)).Single(u => u.UpdateId == monitoring.UpdateId);
        Assert.Equal(DeliveryState.Superseded, stale.Deliveries.Single().State);
        Assert.Contains(resolved.UpdateId, stale.Deliveries.Single().Error);
        Assert.Empty(await engine.Notifications.SendPendingAsync(config, null, null, new IncidentOps.Engine.Incidents.ChangeContext("Send-IncidentUpdate"), CancellationToken.None));
        Assert.Equal(3, s.Slack.Requests.Count);
        Assert.DoesNotContain(s.Slack.Requests.Skip(2), q => q.Body.Contains("watching the fix", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Pending_marks_an_older_update_Superseded_and_reports_it_with_the_incident_id()
    {
        using var s = new NotificationScenario();
        var inc = await s.CreateIncidentAsync("P1");
        s.Slack.Then(500, "a").Then(500, "b");
        var monitoring = Assert.Single(await s.SendAsync(new IncidentUpdateRequest { IncidentId = inc.Id, Status = IncidentStatus.Monitoring, Message = "watching the fix", Channels = ["incidents"] }));
        var resolved = Assert.Single(await s.SendAsync(new IncidentUpdateRequest { IncidentId = inc.Id, Status = IncidentStatus.Resolved, Message = "all good", Channels = ["incidents"] }));
        // An outbox written before superseding existed: the older update still says Pending.
        var file = s.OutboxFiles(inc.Id).Single(f => f.Contains(monitoring.UpdateId, StringComparison.Ordinal));
        await File.WriteAllTextAsync(file, (await File.ReadAllTextAsync(file)).Replace("\"Superseded\"", "\"Pending\"", StringComparison.Ordinal));

        var (engine, _, config) = s.NewEngine();
        var results = await engine.Notifications.SendPendingAsync(config, null, null, new IncidentOps.Engine.Incidents.ChangeContext("Send-IncidentUpdate"), CancellationToken.None);
        var stale = results.Single(r => r.UpdateId == monitoring.UpdateId);
        Assert.Equal(DeliveryState.Superseded, stale.State);
        Assert.Equal(inc.Id, stale.IncidentId);
        Assert.False(stale.Delivered);
        Assert.False(stale.Pending);
        Assert.Contains(inc.Id, stale.ToString());
        Assert.True(results.Single(r => r.UpdateId == resolved.UpdateId).Delivered);
        Assert.Equal(3, s.Slack.Requests.Count);
        Assert.Contains("all good", s.Slack.Requests[2].Body);
        Assert.Empty(await engine.Notifications.GetUpdatesAsync(config, inc.Id, true, CancellationToken.None));
    }

    [Fact]
    public async Task An_undelivered_PagerDuty_trigger_is_not_superseded_by_an_acknowledge_so_the_page_is_not_lost()
    {
        using var s = new NotificationScenario();
        var inc = await s.CreateIncidentAsync("P1");
        s.PagerDuty.Then(400, "{\"status\":\"invalid event\"}");
        var trigger = Assert.Single(await s.SendAsync(new IncidentUpdateRequest { IncidentId = inc.Id, Message = "down", Channels = ["pager"] }));
        Assert.False(trigger.Delivered);
        var ack = Assert.Single(await s.SendAsync(new IncidentUpdateRequest { IncidentId = inc.Id, Status = IncidentStatus.Identified, Message = "found it", Channels = ["pager"] }));
        Assert.True(ack.Delivered, ack.Error);

        var (engine, _, config) = s.NewEngine();
        var resent = Assert.Single(await engine.Notifications.SendPendingAsync(config, inc.Id, null, new IncidentOps.Engine.Incidents.ChangeContext("Send-IncidentUpdate"), CancellationToken.None));
        Assert.Equal(trigger.UpdateId, resent.UpdateId);
        Assert.True(resent.Delivered, resent.Error);
        Assert.Equal(["trigger", "acknowledge", "trigger"], s.PagerDuty.Requests.Select(q => Json(q)["event_action"]!.GetValue<string>()));
    }

    [Fact]
    public async Task An_undelivered_PagerDuty_trigger_of_a_relapse_is_not_superseded_by_Monitorings_resolve_but_the_resolution_supersedes_it()
    {
        using var s = new NotificationScenario();
        var pd = new PagerDutyFake(s.PagerDuty);
        var inc = await s.CreateIncidentAsync("P1");
        await s.SendAsync(new IncidentUpdateRequest { IncidentId = inc.Id, Message = "down", Channels = ["pager"] });
        await s.SendAsync(new IncidentUpdateRequest { IncidentId = inc.Id, Status = IncidentStatus.Monitoring, Message = "recovered", Channels = ["pager"] });
        s.PagerDuty.Then(400, "{\"status\":\"invalid event\"}");
        var relapse = Assert.Single(await s.SendAsync(new IncidentUpdateRequest { IncidentId = inc.Id, Status = IncidentStatus.Investigating, Message = "down again", Channels = ["pager"] }));
        Assert.False(relapse.Delivered);
        Assert.True(Assert.Single(await s.SendAsync(new IncidentUpdateRequest { IncidentId = inc.Id, Status = IncidentStatus.Monitoring, Message = "recovered again", Channels = ["pager"] })).Delivered);

        var (engine, _, config) = s.NewEngine();
        var resent = Assert.Single(await engine.Notifications.SendPendingAsync(config, inc.Id, null, new IncidentOps.Engine.Incidents.ChangeContext("Send-IncidentUpdate"), CancellationToken.None));
        Assert.Equal(relapse.UpdateId, resent.UpdateId);
        Assert.True(resent.Delivered, resent.Error);
        Assert.Equal(2, pd.Notifications);                  // the relapse paged, late rather than never

        // The resolution does supersede an undelivered trigger: the incident is over.
        s.PagerDuty.Then(400, "{\"status\":\"invalid event\"}");
        Assert.False(Assert.Single(await s.SendAsync(new IncidentUpdateRequest { IncidentId = inc.Id, Status = IncidentStatus.Investigating, Message = "third", Channels = ["pager"] })).Delivered);
        await s.SendAsync(new IncidentUpdateRequest { IncidentId = inc.Id, Status = IncidentStatus.Resolved, Message = "fixed", Channels = ["pager"] });
        Assert.Empty(await engine.Notifications.GetUpdatesAsync(config, inc.Id, true, CancellationToken.None));
        Assert.Equal(2, pd.Notifications);
    }

    [Theory]
    [InlineData("api", "production/api")]
    [InlineData("production/api", "api")]
    [InlineData("production/api", "production/api")]
    public async Task Statuspage_components_match_a_service_by_name_or_environment_slash_service(string key, string service)
    {
        using var s = new NotificationScenario(statuspageComponents: $"'{key}': cmpapi111");
        var inc = await s.CreateIncidentAsync("P1", services: [service]);
        Assert.True(Assert.Single(await s.SendAsync(new IncidentUpdateRequest { IncidentId = inc.Id, Message = "m", Channels = ["status"] })).Delivered);
        var incident = Json(s.Statuspage.Requests.Single(q => q.Method == "POST"))["incident"]!;
        Assert.Equal(["cmpapi111"], incident["component_ids"]!.AsArray().Select(x => x!.GetValue<string>()));
        Assert.Equal("partial_outage", incident["components"]!["cmpapi111"]!.GetValue<string>());
    }

    [Fact]
    public void An_unknown_Statuspage_component_key_is_a_config_error_with_its_line_and_a_suggestion()
    {
        using var s = new NotificationScenario(statuspageComponents: "apii: cmpapi111");
        var (engine, _, _) = s.NewEngine(loadConfig: false);
        var findings = engine.Config.Load(s.ConfigPath).Findings;
        var f = Assert.Single(findings, x => x.Code == "ConfigUnknownComponent");
        Assert.Contains("'apii'", f.Message);
        Assert.Contains("'api'", f.Message);
        Assert.Contains("production/api", f.Message);
        Assert.True(f.Line > 0);
        var ex = Assert.ThrowsAny<IncidentOpsException>(() => engine.Config.LoadOrThrow(s.ConfigPath, s.Dir));
        Assert.Contains("apii", ex.Message);
    }

    [Fact]
    public async Task Slack_gets_mentions_and_disguised_links_escaped_as_Slack_documents()
    {
        using var s = new NotificationScenario();
        var inc = await s.CreateIncidentAsync("P1", title: "<!channel> Checkout <http://evil.example|status.example.com>", impact: "<!subteam^S123> & co");
        await s.SendAsync(new IncidentUpdateRequest { IncidentId = inc.Id, Message = "<!here> ask <@U0123ABC> in <#C0123>", ActionsTaken = ["<!everyone>"], Channels = ["incidents"] });
        var req = Assert.Single(s.Slack.Requests);
        var body = Json(req);
        var text = body["text"]!.GetValue<string>();
        Assert.StartsWith("[P1] &lt;!channel&gt; Checkout &lt;http://evil.example|status.example.com&gt;: ", text);
        Assert.Contains("&lt;!here&gt; ask &lt;@U0123ABC&gt; in &lt;#C0123&gt;", text);
        Assert.Contains("- &lt;!everyone&gt;", text);
        Assert.Contains("Impact: &lt;!subteam^S123&gt; &amp; co", text);
        var blocks = body["blocks"]!.AsArray();
        Assert.Equal("[P1] &lt;!channel&gt; Checkout &lt;http://evil.example|status.example.com&gt;", blocks[0]!["text"]!["text"]!.GetValue<string>());
        Assert.Contains(blocks[1]!["fields"]!.AsArray(), f => f!["text"]!.GetValue<string>() == "*Impact*\n&lt;!subteam^S123&gt; &amp; co");
        // No control sequence survives anywhere in what Slack receives.
        var json = body.ToJsonString(new System.Text.Json.JsonSerializerOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping });
        foreach (var raw in new[] { "<!", "<@", "<#", "<http", "& co" }) Assert.DoesNotContain(raw, json, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Discord_gets_markup_escaped_and_no_mention_can_notify()
    {
        using var s = new NotificationScenario();
        var inc = await s.CreateIncidentAsync("P2", title: "[Reset your password](http://evil.example) @everyone", impact: "<@123456> *all*");
        await s.SendAsync(new IncidentUpdateRequest { IncidentId = inc.Id, Message = "@here see [docs](http://evil.example) <@&987>", Channels = ["ops"] });
        var body = Json(Assert.Single(s.Discord.Requests));
        Assert.Empty(body["allowed_mentions"]!["parse"]!.AsArray());
        Assert.Single(body["allowed_mentions"]!.AsObject());
        Assert.Equal(@"**[P2] \[Reset your password\](http://evil.example) @everyone**", body["content"]!.GetValue<string>());
        var embed = body["embeds"]![0]!;
        Assert.Equal(@"[P2] \[Reset your password\](http://evil.example) @everyone", embed["title"]!.GetValue<string>());
        var description = embed["description"]!.GetValue<string>();
        Assert.Contains(@"@here see \[docs\](http://evil.example) \<@&987\>", description);
        Assert.DoesNotContain("[docs](", description, StringComparison.Ordinal);
        Assert.Contains(embed["fields"]!.AsArray(), f => f!["name"]!.GetValue<string>() == "Impact" && f["value"]!.GetValue<string>() == @"\<@123456\> \*all\*");
    }

    [Fact]
    public async Task Teams_gets_text_as_TextRuns_that_are_never_markdown_and_fact_links_neutralised()
    {
        using var s = new NotificationScenario();
        var inc = await s.CreateIncidentAsync("P0", title: "[Sign in again](http://evil.example)", impact: "see [status](http://evil.example) <at>Everyone</at>");
        await s.SendAsync(new IncidentUpdateRequest { IncidentId = inc.Id, Message = "open [this](http://evil.example)", Channels = ["teams"] });
        var card = Json(Assert.Single(s.Teams.Requests))["attachments"]![0]!["content"]!;
        var body = card["body"]!.AsArray();
        Assert.DoesNotContain(body, b => b!["type"]!.GetValue<string>() == "TextBlock");
        Assert.Null(card["msteams"]);
        var runs = body.Where(b => b!["type"]!.GetValue<string>() == "RichTextBlock").SelectMany(b => b!["inlines"]!.AsArray()).ToList();
        Assert.All(runs, r => Assert.Equal("TextRun", r!["type"]!.GetValue<string>()));
        Assert.Equal("[P0] [Sign in again](http://evil.example)", runs[0]!["text"]!.GetValue<string>());
        Assert.Contains(runs, r => r!["text"]!.GetValue<string>() == "open [this](http://evil.example)");
        var impact = body.Single(b => b!["type"]!.GetValue<string>() == "FactSet")!["facts"]!.AsArray().Single(f => f!["title"]!.GetValue<string>() == "Impact")!["value"]!.GetValue<string>();
        Assert.Equal("see [status]\u200B(http://evil.example) <\u200Bat>Everyone<\u200B/at>", impact);
        Assert.DoesNotContain("](", impact, StringComparison.Ordinal);
    }
}
