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
    public async Task A_provider_that_never_answers_times_out_and_the_update_stays_pending()
    {
        using var s = new NotificationScenario();
        s.Webhook.ThenHang();
        var inc = await s.CreateIncidentAsync("P3");
        var (engine, _, config) = s.NewEngine();
        engine.Notifications.Options = new NotificationOptions { RequestTimeout = TimeSpan.FromSeconds(4) };
        var prepared = await engine.Notifications.PrepareAsync(config, new IncidentUpdateRequest { IncidentId = inc.Id, Message = "m" }, CancellationToken.None);
        // The provider never answers, so only the deadline ends the send ("does not hang": well within a minute).
        var r = Assert.Single(await engine.Notifications.SendAsync(prepared, null, new IncidentOps.Engine.Incidents.ChangeContext("Send-IncidentUpdate"), CancellationToken.None)
            .WaitAsync(TimeSpan.FromSeconds(60)));
        Assert.False(r.Delivered);
        Assert.True(r.Pending);
        Assert.Equal(1, r.Attempts);
        Assert.Contains("no answer within 4s", r.Error);
        Assert.Single(s.Webhook.Requests);   // it was the provider's silence that timed out, not a request that never left
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
}
