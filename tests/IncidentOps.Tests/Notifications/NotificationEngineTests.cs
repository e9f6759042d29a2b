using System.Text.Json;
using System.Text.Json.Nodes;
using IncidentOps.Engine.Notifications;
using IncidentOps.Incidents;
using IncidentOps.Notifications;
using Xunit;

namespace IncidentOps.Tests.Notifications;

public class NotificationEngineTests
{
    private static JsonNode Json(CapturedRequest r) => JsonNode.Parse(r.Body)!;

    [Fact]
    [ChannelOperation("slack", "initial")]
    public async Task Slack_gets_Block_Kit_with_a_text_fallback()
    {
        using var s = new NotificationScenario();
        var inc = await s.CreateIncidentAsync();
        var r = Assert.Single(await s.SendAsync(new IncidentUpdateRequest { IncidentId = inc.Id, Message = "Investigating the load balancer", Channels = ["incidents"] }));
        Assert.True(r.Delivered, r.Error);
        Assert.Equal(NotificationKind.Initial, r.Kind);
        Assert.Equal(1, r.Attempts);
        var req = Assert.Single(s.Slack.Requests);
        Assert.Equal("POST", req.Method);
        Assert.Equal($"/services/T0001/B0001/{NotificationScenario.SlackCanary}", req.Path);
        Assert.StartsWith("application/json", req.Headers["Content-Type"]);
        var body = Json(req);
        Assert.Contains("Checkout returns 502", body["text"]!.GetValue<string>());
        var blocks = body["blocks"]!.AsArray();
        Assert.Equal(["header", "section", "section", "context"], blocks.Select(b => b!["type"]!.GetValue<string>()));
        Assert.Equal("plain_text", blocks[0]!["text"]!["type"]!.GetValue<string>());
        Assert.Equal("[P1] Checkout returns 502", blocks[0]!["text"]!["text"]!.GetValue<string>());
        Assert.Contains(blocks[1]!["fields"]!.AsArray(), f => f!["type"]!.GetValue<string>() == "mrkdwn" && f["text"]!.GetValue<string>() == "*Status*\nInvestigating");
        Assert.Equal("mrkdwn", blocks[2]!["text"]!["type"]!.GetValue<string>());
        Assert.Contains("Investigating the load balancer", blocks[2]!["text"]!["text"]!.GetValue<string>());
        Assert.Contains("Impact: All checkouts fail", blocks[2]!["text"]!["text"]!.GetValue<string>());
    }

    [Fact]
    public async Task Slack_429_waits_for_Retry_After_and_then_delivers()
    {
        using var s = new NotificationScenario();
        s.Slack.Then(429, "rate_limited", ("Retry-After", "1"));
        var inc = await s.CreateIncidentAsync();
        var r = Assert.Single(await s.SendAsync(new IncidentUpdateRequest { IncidentId = inc.Id, Message = "m", Channels = ["incidents"] }));
        Assert.True(r.Delivered, r.Error);
        Assert.Equal(2, r.Attempts);
        Assert.Equal(2, s.Slack.Requests.Count);
        Assert.Equal(TimeSpan.FromSeconds(1), r.RetryWait);
    }

    [Fact]
    public async Task Slack_500_is_not_retried_stays_pending_and_is_delivered_once_by_SendPending()
    {
        using var s = new NotificationScenario();
        s.Slack.Then(500, "oops");
        var inc = await s.CreateIncidentAsync();
        var r = Assert.Single(await s.SendAsync(new IncidentUpdateRequest { IncidentId = inc.Id, Message = "first", Channels = ["incidents"] }));
        Assert.False(r.Delivered);
        Assert.True(r.Pending);
        Assert.Equal(500, r.StatusCode);
        Assert.Equal(1, r.Attempts);
        Assert.Single(s.Slack.Requests);

        var (engine, _, config) = s.NewEngine();
        var pending = await engine.Notifications.GetUpdatesAsync(config, inc.Id, pendingOnly: true, CancellationToken.None);
        Assert.Equal(DeliveryState.Pending, Assert.Single(Assert.Single(pending).Deliveries).State);

        var resent = Assert.Single(await engine.Notifications.SendPendingAsync(config, inc.Id, null, new IncidentOps.Engine.Incidents.ChangeContext("Send-IncidentUpdate"), CancellationToken.None));
        Assert.True(resent.Delivered, resent.Error);
        Assert.Equal(r.UpdateId, resent.UpdateId);
        Assert.Equal(2, resent.Attempts);
        Assert.Equal(2, s.Slack.Requests.Count);
        Assert.Contains("first", s.Slack.Requests[1].Body);

        // Delivered channels are never sent twice.
        Assert.Empty(await engine.Notifications.SendPendingAsync(config, inc.Id, null, new IncidentOps.Engine.Incidents.ChangeContext("Send-IncidentUpdate"), CancellationToken.None));
        Assert.Empty(await engine.Notifications.GetUpdatesAsync(config, inc.Id, pendingOnly: true, CancellationToken.None));
        Assert.Equal(2, s.Slack.Requests.Count);
    }

    [Fact]
    public async Task Other_4xx_are_never_retried_and_marked_failed()
    {
        using var s = new NotificationScenario();
        s.Slack.Then(404, "no_service");
        var inc = await s.CreateIncidentAsync();
        var r = Assert.Single(await s.SendAsync(new IncidentUpdateRequest { IncidentId = inc.Id, Message = "m", Channels = ["incidents"] }));
        Assert.False(r.Delivered);
        Assert.Equal(404, r.StatusCode);
        Assert.Equal(1, r.Attempts);
        Assert.Contains("no_service", r.Error);
        Assert.Single(s.Slack.Requests);
        var (engine, _, config) = s.NewEngine();
        Assert.Equal(DeliveryState.Failed, (await engine.Notifications.GetUpdatesAsync(config, inc.Id, true, CancellationToken.None)).Single().Deliveries.Single().State);
    }

    [Fact]
    [ChannelOperation("teams", "initial")]
    public async Task Teams_gets_an_Adaptive_Card_1_4_in_the_attachments_envelope_and_a_200_error_body_is_a_failure()
    {
        using var s = new NotificationScenario();
        var inc = await s.CreateIncidentAsync("P0");
        var ok = Assert.Single(await s.SendAsync(new IncidentUpdateRequest { IncidentId = inc.Id, Message = "m", Channels = ["teams"] }));
        Assert.True(ok.Delivered, ok.Error);
        Assert.Equal(202, ok.StatusCode);
        var body = Json(Assert.Single(s.Teams.Requests));
        Assert.Equal("message", body["type"]!.GetValue<string>());
        var att = Assert.Single(body["attachments"]!.AsArray())!;
        Assert.Equal("application/vnd.microsoft.card.adaptive", att["contentType"]!.GetValue<string>());
        var card = att["content"]!;
        Assert.Equal("AdaptiveCard", card["type"]!.GetValue<string>());
        Assert.Equal("1.4", card["version"]!.GetValue<string>());
        Assert.Equal("http://adaptivecards.io/schemas/adaptive-card.json", card["$schema"]!.GetValue<string>());
        var types = card["body"]!.AsArray().Select(b => b!["type"]!.GetValue<string>()).ToList();
        Assert.Equal(["RichTextBlock", "FactSet"], types.Take(2));
        Assert.All(types.Skip(2), t => Assert.Equal("RichTextBlock", t));
        Assert.Equal("[P0] Checkout returns 502", card["body"]![0]!["inlines"]![0]!["text"]!.GetValue<string>());
        Assert.Equal("TextRun", card["body"]![0]!["inlines"]![0]!["type"]!.GetValue<string>());

        s.Teams.Then(200, "Microsoft Teams endpoint returned HTTP error 413 with ContextId tcid=0");
        var bad = Assert.Single(await s.SendAsync(new IncidentUpdateRequest { IncidentId = inc.Id, Message = "m2", Channels = ["teams"] }));
        Assert.False(bad.Delivered);
        Assert.Equal(200, bad.StatusCode);
        Assert.Equal(1, bad.Attempts);
        Assert.Contains("HTTP error 413", bad.Error);
    }

    [Fact]
    [ChannelOperation("discord", "initial")]
    public async Task Discord_truncates_visibly_within_its_limits_and_honours_retry_after_in_the_429_body()
    {
        using var s = new NotificationScenario();
        s.Discord.Then(429, "{\"message\":\"You are being rate limited.\",\"retry_after\":0.25,\"global\":false}", ("Content-Type", "application/json"));
        var inc = await s.CreateIncidentAsync("P2", title: new string('T', 400));
        var r = Assert.Single(await s.SendAsync(new IncidentUpdateRequest { IncidentId = inc.Id, Message = new string('x', 9000), Channels = ["ops"] }));
        Assert.True(r.Delivered, r.Error);
        Assert.Equal(2, r.Attempts);
        Assert.Equal(TimeSpan.FromSeconds(0.25), r.RetryWait);
        Assert.Equal("1122334455", r.ProviderId);
        var req = s.Discord.Requests[1];
        Assert.Equal("?wait=true", req.Query);
        var body = Json(req);
        Assert.True(body["content"]!.GetValue<string>().Length <= 2000);
        var embeds = body["embeds"]!.AsArray();
        Assert.InRange(embeds.Count, 1, 10);
        var e = embeds[0]!;
        var title = e["title"]!.GetValue<string>();
        var description = e["description"]!.GetValue<string>();
        Assert.Equal(256, title.Length);
        Assert.EndsWith(ProviderPayloads.TruncationMark, title);
        Assert.EndsWith(ProviderPayloads.TruncationMark, description);
        var fields = e["fields"]!.AsArray();
        Assert.All(fields, f => Assert.True(f!["value"]!.GetValue<string>().Length <= 1024));
        var total = title.Length + description.Length + e["footer"]!["text"]!.GetValue<string>().Length
            + fields.Sum(f => f!["name"]!.GetValue<string>().Length + f["value"]!.GetValue<string>().Length);
        Assert.InRange(total, 1, 6000);
        Assert.Empty(body["allowed_mentions"]!["parse"]!.AsArray());
    }

    [Fact]
    [ChannelOperation("pagerduty", "trigger")]
    [ChannelOperation("pagerduty", "acknowledge")]
    [ChannelOperation("pagerduty", "resolve")]
    public async Task PagerDuty_triggers_with_a_stable_dedup_key_retrying_5xx_and_resets_then_acknowledges_and_resolves()
    {
        using var s = new NotificationScenario();
        s.PagerDuty.Then(500, "{}").ThenReset();
        var inc = await s.CreateIncidentAsync("P1");
        var r = Assert.Single(await s.SendAsync(new IncidentUpdateRequest { IncidentId = inc.Id, Message = "Checkout down", Channels = ["pager"] }));
        Assert.True(r.Delivered, r.Error);
        Assert.Equal(3, r.Attempts);
        Assert.Equal(3, s.PagerDuty.Requests.Count);
        Assert.All(s.PagerDuty.Requests, q => Assert.Equal("/v2/enqueue", q.Path));
        var keys = s.PagerDuty.Requests.Select(q => Json(q)["dedup_key"]!.GetValue<string>()).Distinct().ToList();
        Assert.Equal($"incidentops-{inc.Id}", Assert.Single(keys));
        var t = Json(s.PagerDuty.Requests[0]);
        Assert.Equal(NotificationScenario.RoutingKeyCanary, t["routing_key"]!.GetValue<string>());
        Assert.Equal("trigger", t["event_action"]!.GetValue<string>());
        Assert.Equal("error", t["payload"]!["severity"]!.GetValue<string>());
        Assert.Equal("api", t["payload"]!["source"]!.GetValue<string>());
        Assert.True(t["payload"]!["summary"]!.GetValue<string>().Length <= 1024);
        Assert.NotNull(t["payload"]!["timestamp"]);

        await s.SendAsync(new IncidentUpdateRequest { IncidentId = inc.Id, Status = IncidentStatus.Identified, Message = "pool", Channels = ["pager"] });
        var ack = Json(s.PagerDuty.Requests[3]);
        Assert.Equal("acknowledge", ack["event_action"]!.GetValue<string>());
        Assert.Null(ack["payload"]);
        await s.SendAsync(new IncidentUpdateRequest { IncidentId = inc.Id, Status = IncidentStatus.Resolved, Message = "fixed", Channels = ["pager"] });
        var res = Json(s.PagerDuty.Requests[4]);
        Assert.Equal("resolve", res["event_action"]!.GetValue<string>());
        Assert.Equal($"incidentops-{inc.Id}", res["dedup_key"]!.GetValue<string>());
    }

    [Fact]
    [ChannelOperation("pagerduty", "change")]
    public async Task PagerDuty_summary_is_capped_at_1024_and_change_events_go_to_the_change_endpoint()
    {
        using var s = new NotificationScenario();
        var inc = await s.CreateIncidentAsync("P0");
        await s.SendAsync(new IncidentUpdateRequest { IncidentId = inc.Id, Message = new string('y', 3000), Channels = ["pager"] });
        var summary = Json(s.PagerDuty.Requests[0])["payload"]!["summary"]!.GetValue<string>();
        Assert.Equal(1024, summary.Length);
        Assert.EndsWith(ProviderPayloads.TruncationMark, summary);
        Assert.Equal("critical", Json(s.PagerDuty.Requests[0])["payload"]!["severity"]!.GetValue<string>());

        var (engine, _, config) = s.NewEngine();
        var change = Assert.Single(await engine.Notifications.SendChangeEventAsync(config, "Rolled back api to v41", "api",
            new Dictionary<string, string> { ["from"] = "v42", ["to"] = "v41" }, ["pager"], inc.Id, CancellationToken.None));
        Assert.True(change.Delivered, change.Error);
        var req = s.PagerDuty.Requests[1];
        Assert.Equal("/v2/change/enqueue", req.Path);
        var body = Json(req);
        Assert.Equal("Rolled back api to v41", body["payload"]!["summary"]!.GetValue<string>());
        Assert.Equal("v41", body["payload"]!["custom_details"]!["to"]!.GetValue<string>());
        Assert.Null(body["event_action"]);
    }

    [Fact]
    [ChannelOperation("statuspage", "create")]
    [ChannelOperation("statuspage", "resolve")]
    public async Task Statuspage_creates_then_patches_with_OAuth_impact_and_component_statuses_and_retries_420()
    {
        using var s = new NotificationScenario();
        s.Statuspage.ScriptApplies = q => q.Method != "GET";
        s.Statuspage.Then(420, "{\"error\":\"rate limited\"}", ("Retry-After", "1"));
        var inc = await s.CreateIncidentAsync("P1", services: ["api"]);
        var r = Assert.Single(await s.SendAsync(new IncidentUpdateRequest { IncidentId = inc.Id, Message = "Looking", Channels = ["status"] }));
        Assert.True(r.Delivered, r.Error);
        Assert.Equal(2, r.Attempts);
        Assert.Equal(TimeSpan.FromSeconds(1), r.RetryWait);
        Assert.Equal("sp-1", r.ProviderId);
        var lookup = s.Statuspage.Requests[0];
        Assert.Equal("GET", lookup.Method);
        Assert.Equal("/v1/pages/pg7x9q2kzz/incidents/unresolved", lookup.Path);
        var create = s.Statuspage.Requests[2];
        Assert.Equal("POST", create.Method);
        Assert.Equal("/v1/pages/pg7x9q2kzz/incidents", create.Path);
        Assert.Equal($"OAuth {NotificationScenario.ApiKeyCanary}", create.Headers["Authorization"]);
        var incident = Json(create)["incident"]!;
        Assert.Equal("Checkout returns 502", incident["name"]!.GetValue<string>());
        Assert.Equal("investigating", incident["status"]!.GetValue<string>());
        Assert.Equal("major", incident["impact_override"]!.GetValue<string>());
        Assert.Equal(["cmpapi111"], incident["component_ids"]!.AsArray().Select(x => x!.GetValue<string>()));
        Assert.Equal("partial_outage", incident["components"]!["cmpapi111"]!.GetValue<string>());
        Assert.Contains("Looking", incident["body"]!.GetValue<string>());
        Assert.Equal(inc.Id, incident["metadata"]!["incidentops"]!["incident_id"]!.GetValue<string>());
        Assert.Equal("sp-1", (await s.Store.GetAsync(inc.Id, CancellationToken.None))!.ExternalIds["statuspage:status"]);

        var r2 = Assert.Single(await s.SendAsync(new IncidentUpdateRequest { IncidentId = inc.Id, Status = IncidentStatus.Resolved, Message = "Fixed", Channels = ["status"] }));
        Assert.True(r2.Delivered, r2.Error);
        var patch = s.Statuspage.Requests[3];
        Assert.Equal("PATCH", patch.Method);
        Assert.Equal("/v1/pages/pg7x9q2kzz/incidents/sp-1", patch.Path);
        Assert.Equal("resolved", Json(patch)["incident"]!["status"]!.GetValue<string>());
        Assert.Equal("operational", Json(patch)["incident"]!["components"]!["cmpapi111"]!.GetValue<string>());
        Assert.Equal(4, s.Statuspage.Requests.Count);
        Assert.Equal(1, s.StatuspageApi.Creates);
    }

    [Fact]
    [ChannelOperation("webhook", "initial")]
    public async Task Generic_webhook_gets_the_incident_fields_and_a_reset_is_not_retried()
    {
        using var s = new NotificationScenario();
        s.Webhook.ThenReset();
        var inc = await s.CreateIncidentAsync("P3");
        var r = Assert.Single(await s.SendAsync(new IncidentUpdateRequest { IncidentId = inc.Id, Message = "hello", NextUpdateIn = TimeSpan.FromMinutes(20) }));
        Assert.Equal("audit", r.Channel);
        Assert.False(r.Delivered);
        Assert.Equal(1, r.Attempts);
        Assert.Single(s.Webhook.Requests);

        var (engine, _, config) = s.NewEngine();
        var resent = Assert.Single(await engine.Notifications.SendPendingAsync(config, null, null, new IncidentOps.Engine.Incidents.ChangeContext("Send-IncidentUpdate"), CancellationToken.None));
        Assert.True(resent.Delivered, resent.Error);
        var req = s.Webhook.Requests[1];
        Assert.Equal($"{r.UpdateId}-audit", req.Headers["Idempotency-Key"]);
        var body = Json(req);
        Assert.Equal(inc.Id, body["incidentId"]!.GetValue<string>());
        Assert.Equal("Initial", body["kind"]!.GetValue<string>());
        Assert.Equal("P3", body["severity"]!.GetValue<string>());
        Assert.Equal("hello", body["message"]!.GetValue<string>());
        Assert.Contains("hello", body["text"]!.GetValue<string>());
        Assert.NotNull(body["nextUpdateDue"]);
    }

    [Fact]
    public async Task A_Retry_After_beyond_the_cap_leaves_the_update_pending_without_waiting()
    {
        using var s = new NotificationScenario();
        s.Slack.Then(429, "rate_limited", ("Retry-After", "3600"));
        var inc = await s.CreateIncidentAsync();
        var r = Assert.Single(await s.SendAsync(new IncidentUpdateRequest { IncidentId = inc.Id, Message = "m", Channels = ["incidents"] }));
        Assert.False(r.Delivered);
        Assert.True(r.Pending);
        Assert.Equal(1, r.Attempts);
        Assert.Equal(TimeSpan.Zero, r.RetryWait);
        Assert.Contains("-Pending", r.Error);
    }

    [Fact]
    public async Task Rate_limits_stop_after_the_attempt_cap()
    {
        using var s = new NotificationScenario();
        for (var i = 0; i < 6; i++) s.PagerDuty.Then(429, "{}", ("Retry-After", "0"));
        var inc = await s.CreateIncidentAsync();
        var r = Assert.Single(await s.SendAsync(new IncidentUpdateRequest { IncidentId = inc.Id, Message = "m", Channels = ["pager"] }));
        Assert.False(r.Delivered);
        Assert.Equal(new NotificationOptions().MaxAttempts, r.Attempts);
        Assert.Equal(r.Attempts, s.PagerDuty.Requests.Count);
    }

    [Fact]
    public async Task Routing_by_severity_picks_channels_kind_is_inferred_and_the_incident_and_timeline_are_updated()
    {
        using var s = new NotificationScenario();
        var inc = await s.CreateIncidentAsync("P1");
        var first = await s.SendAsync(new IncidentUpdateRequest { IncidentId = inc.Id, Message = "one" });
        Assert.Equal(["incidents", "pager"], first.Select(r => r.Channel));
        Assert.All(first, r => Assert.Equal(NotificationKind.Initial, r.Kind));
        var second = await s.SendAsync(new IncidentUpdateRequest { IncidentId = inc.Id, Status = IncidentStatus.Monitoring, Message = "two", NextUpdateIn = TimeSpan.FromMinutes(10) });
        Assert.All(second, r => Assert.Equal(NotificationKind.Update, r.Kind));
        var after = (await s.Store.GetAsync(inc.Id, CancellationToken.None))!;
        Assert.Equal(IncidentStatus.Monitoring, after.Status);
        Assert.NotNull(after.LastUpdateAt);
        Assert.InRange(after.NextUpdateDue!.Value - after.LastUpdateAt!.Value, TimeSpan.FromMinutes(10), TimeSpan.FromMinutes(10));
        var third = await s.SendAsync(new IncidentUpdateRequest { IncidentId = inc.Id, Status = IncidentStatus.Resolved, Message = "done" });
        Assert.All(third, r => Assert.Equal(NotificationKind.Resolved, r.Kind));
        after = (await s.Store.GetAsync(inc.Id, CancellationToken.None))!;
        Assert.Equal(IncidentStatus.Resolved, after.Status);
        Assert.NotNull(after.ResolvedAt);
        Assert.Null(after.NextUpdateDue);
        var timeline = await s.Store.ReadTimelineAsync(inc.Id, CancellationToken.None);
        var updates = timeline.Where(e => e.Kind == "update").ToList();
        Assert.Equal(3, updates.Count);
        Assert.All(updates, e => Assert.Equal(TimelineOutcome.Succeeded, e.Outcome));
        Assert.Contains("pager: delivered", updates[0].Result);
        Assert.Equal(3, s.OutboxFiles(inc.Id).Length);
        foreach (var canary in NotificationScenario.Canaries) Assert.DoesNotContain(canary, s.StoreText());
    }

    [Fact]
    public async Task A_channel_template_override_is_rendered_with_Scriban()
    {
        using var s = new NotificationScenario("  custom: { type: webhook, url: file:hook.url, templates: { initial: 'NEW {{ severity }} {{ title | string.upcase }} {{ for a in actions }}[{{ a }}]{{ end }}' } }");
        var inc = await s.CreateIncidentAsync("P2", title: "db slow");
        var r = Assert.Single(await s.SendAsync(new IncidentUpdateRequest { IncidentId = inc.Id, Channels = ["custom"], ActionsTaken = ["a1", "a2"] }));
        Assert.True(r.Delivered, r.Error);
        Assert.Equal("NEW P2 DB SLOW [a1][a2]", Json(Assert.Single(s.Webhook.Requests))["text"]!.GetValue<string>());
    }

    [Fact]
    [ChannelOperation("webhook", "resolved")]
    public async Task Built_in_templates_carry_the_seed_fields()
    {
        using var s = new NotificationScenario();
        var inc = await s.CreateIncidentAsync("P1");
        await s.Store.UpdateAsync(inc.Id, i => { i.RootCause = "Pool exhausted"; i.Resolution = "Raised pool size"; }, CancellationToken.None);
        await s.SendAsync(new IncidentUpdateRequest { IncidentId = inc.Id, Message = "m", ActionsTaken = ["Restarted api"], CurrentFocus = "DB", Eta = "30 minutes", NextUpdateIn = TimeSpan.FromMinutes(15), Channels = ["audit"] });
        var initial = Json(s.Webhook.Requests[0])["text"]!.GetValue<string>();
        foreach (var part in new[] { "P1 (High)", "Checkout returns 502", "Status: Investigating", "Impact: All checkouts fail", "Started: ", "- Restarted api", "Current focus: DB", "ETA: 30 minutes", "Next update: " })
            Assert.Contains(part, initial);
        await s.SendAsync(new IncidentUpdateRequest { IncidentId = inc.Id, Kind = NotificationKind.Resolved, Message = "ok", Channels = ["audit"] });
        var resolved = Json(s.Webhook.Requests[1])["text"]!.GetValue<string>();
        foreach (var part in new[] { "Resolved: Checkout returns 502", "Duration: ", "Root cause: Pool exhausted", "Resolution: Raised pool size" })
            Assert.Contains(part, resolved);
    }

    [Fact]
    public async Task Unknown_channel_is_ChannelNotFound_and_nothing_is_written()
    {
        using var s = new NotificationScenario();
        var inc = await s.CreateIncidentAsync();
        var ex = await Assert.ThrowsAsync<IncidentOpsException>(() => s.SendAsync(new IncidentUpdateRequest { IncidentId = inc.Id, Channels = ["nope"] }));
        Assert.Equal("ChannelNotFound", ex.ErrorId);
        Assert.Contains("incidents", ex.Message);
        Assert.Empty(s.OutboxFiles(inc.Id));
    }

    [Fact]
    public async Task Statuspage_5xx_is_not_retried_because_a_second_POST_would_open_a_second_incident()
    {
        using var s = new NotificationScenario();
        s.Statuspage.ScriptApplies = q => q.Method != "GET";
        s.Statuspage.Then(502, "bad gateway");
        var inc = await s.CreateIncidentAsync("P1");
        var r = Assert.Single(await s.SendAsync(new IncidentUpdateRequest { IncidentId = inc.Id, Message = "m", Channels = ["status"] }));
        Assert.False(r.Delivered);
        Assert.True(r.Pending);
        Assert.Equal(502, r.StatusCode);
        Assert.Equal(1, r.Attempts);
        Assert.Single(s.Statuspage.Requests, q => q.Method == "POST");
        Assert.False((await s.Store.GetAsync(inc.Id, CancellationToken.None))!.ExternalIds.ContainsKey("statuspage:status"));
    }

    [Fact]
    public async Task A_provider_that_never_answers_times_out_and_the_update_stays_pending()
    {
        using var s = new NotificationScenario();
        s.Webhook.ThenHang();
        var inc = await s.CreateIncidentAsync("P3");
        var (engine, _, config) = s.NewEngine();
        engine.Notifications.Options = new NotificationOptions { RequestTimeout = TimeSpan.FromSeconds(1) };
        var prepared = await engine.Notifications.PrepareAsync(config, new IncidentUpdateRequest { IncidentId = inc.Id, Message = "m" }, CancellationToken.None);
        var r = Assert.Single(await engine.Notifications.SendAsync(prepared, null, new IncidentOps.Engine.Incidents.ChangeContext("Send-IncidentUpdate"), CancellationToken.None));
        Assert.False(r.Delivered);
        Assert.True(r.Pending);
        Assert.Equal(1, r.Attempts);
        Assert.Contains("no answer within 1s", r.Error);
        foreach (var canary in NotificationScenario.Canaries) Assert.DoesNotContain(canary, r.Error);
    }

    [Theory]
    [InlineData("incidents", "slack")]
    [InlineData("teams", "teams")]
    [InlineData("ops", "discord")]
    [InlineData("audit", "webhook")]
    [ChannelOperation("slack", "update"), ChannelOperation("slack", "resolved")]
    [ChannelOperation("teams", "update"), ChannelOperation("teams", "resolved")]
    [ChannelOperation("discord", "update"), ChannelOperation("discord", "resolved")]
    [ChannelOperation("webhook", "update")]
    public async Task Message_channels_carry_the_progress_update_and_the_resolution(string channel, string type)
    {
        using var s = new NotificationScenario();
        var stub = type switch { "slack" => s.Slack, "teams" => s.Teams, "discord" => s.Discord, _ => s.Webhook };
        var inc = await s.CreateIncidentAsync("P1");
        await s.SendAsync(new IncidentUpdateRequest { IncidentId = inc.Id, Message = "Looking", Channels = [channel] });
        var update = Assert.Single(await s.SendAsync(new IncidentUpdateRequest { IncidentId = inc.Id, Status = IncidentStatus.Identified, Message = "Pool exhausted", Channels = [channel] }));
        var resolved = Assert.Single(await s.SendAsync(new IncidentUpdateRequest { IncidentId = inc.Id, Status = IncidentStatus.Resolved, Message = "Pool raised", Channels = [channel] }));
        Assert.True(update.Delivered, update.Error);
        Assert.True(resolved.Delivered, resolved.Error);
        Assert.Equal([NotificationKind.Update, NotificationKind.Resolved], new[] { update.Kind, resolved.Kind });
        Assert.Equal(3, stub.Requests.Count);
        // The header names the kind ("[P1] Update: ..."); the generic webhook carries it as "kind".
        Assert.Matches("Update: Checkout returns 502|\"kind\":\"Update\"", stub.Requests[1].Body);
        Assert.Matches("Resolved: Checkout returns 502|\"kind\":\"Resolved\"", stub.Requests[2].Body);
        Assert.Contains("Pool exhausted", stub.Requests[1].Body);
        Assert.Contains("Identified", stub.Requests[1].Body);
        Assert.Contains("Resolved", stub.Requests[2].Body);
        Assert.Contains("Pool raised", stub.Requests[2].Body);
    }

    [Fact]
    [ChannelOperation("statuspage", "update")]
    public async Task Statuspage_progress_update_patches_the_same_incident_with_its_new_status()
    {
        using var s = new NotificationScenario();
        var inc = await s.CreateIncidentAsync("P1", services: ["api"]);
        Assert.True(Assert.Single(await s.SendAsync(new IncidentUpdateRequest { IncidentId = inc.Id, Message = "Looking", Channels = ["status"] })).Delivered);
        var r = Assert.Single(await s.SendAsync(new IncidentUpdateRequest { IncidentId = inc.Id, Status = IncidentStatus.Identified, Message = "Pool exhausted", Channels = ["status"] }));
        Assert.True(r.Delivered, r.Error);
        var patch = s.Statuspage.Requests.Last();
        Assert.Equal("PATCH", patch.Method);
        Assert.Equal($"/v1/pages/pg7x9q2kzz/incidents/{r.ProviderId}", patch.Path);
        var body = Json(patch)["incident"]!;
        Assert.Equal("identified", body["status"]!.GetValue<string>());
        Assert.Contains("Pool exhausted", body["body"]!.GetValue<string>());
        Assert.Equal("partial_outage", body["components"]!["cmpapi111"]!.GetValue<string>());
        Assert.Equal(1, s.StatuspageApi.Creates);
    }
}
