using System.Text.Json;
using System.Text.Json.Nodes;
using IncidentOps.Engine.Notifications;
using IncidentOps.Incidents;
using IncidentOps.Notifications;
using Xunit;

namespace IncidentOps.Tests.Notifications;

/// <summary>PagerDuty Events API v2 against its loopback stub, which answers as Fixtures/pagerduty.json records.</summary>
public class PagerDutyChannelTests
{
    private static JsonNode Json(CapturedRequest r) => JsonNode.Parse(r.Body)!;

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
        Assert.Equal(ExpectedPagerKey.PagerDuty(inc), Assert.Single(keys));
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
        Assert.Equal(ExpectedPagerKey.PagerDuty(inc), res["dedup_key"]!.GetValue<string>());
    }

    [Fact]
    public async Task Monitoring_resolves_the_PagerDuty_incident_so_an_update_while_investigating_again_opens_a_new_one_that_notifies()
    {
        using var s = new NotificationScenario();
        var pd = new PagerDutyFake(s.PagerDuty);
        var inc = await s.CreateIncidentAsync("P1");
        var key = ExpectedPagerKey.PagerDuty(inc);
        await s.SendAsync(new IncidentUpdateRequest { IncidentId = inc.Id, Message = "Checkout down", Channels = ["pager"] });
        await s.SendAsync(new IncidentUpdateRequest { IncidentId = inc.Id, Status = IncidentStatus.Identified, Message = "pool", Channels = ["pager"] });
        Assert.Equal([(key, "acknowledged")], pd.Incidents.Select(i => (i.DedupKey, i.Status)));
        var monitoring = Assert.Single(await s.SendAsync(new IncidentUpdateRequest { IncidentId = inc.Id, Status = IncidentStatus.Monitoring, Message = "fix deployed", Channels = ["pager"] }));
        Assert.True(monitoring.Delivered, monitoring.Error);
        var resolve = Json(s.PagerDuty.Requests[^1]);
        Assert.Equal(("resolve", key), (resolve["event_action"]!.GetValue<string>(), resolve["dedup_key"]!.GetValue<string>()));
        Assert.Null(resolve["payload"]);
        Assert.Equal([(key, "resolved")], pd.Incidents.Select(i => (i.DedupKey, i.Status)));

        // It fails again: the trigger with the same dedup_key opens a new PagerDuty incident, which notifies.
        await s.SendAsync(new IncidentUpdateRequest { IncidentId = inc.Id, Status = IncidentStatus.Investigating, Message = "down again", Channels = ["pager"] });
        Assert.Equal(2, pd.Notifications);
        Assert.Equal([(key, "resolved", 0), (key, "triggered", 0)], pd.Incidents.Select(i => (i.DedupKey, i.Status, i.SilentTriggers)));
        await s.SendAsync(new IncidentUpdateRequest { IncidentId = inc.Id, Status = IncidentStatus.Resolved, Message = "fixed", Channels = ["pager"] });
        Assert.All(pd.Incidents, i => Assert.Equal("resolved", i.Status));
        Assert.Empty(pd.Unmatched);
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
}
