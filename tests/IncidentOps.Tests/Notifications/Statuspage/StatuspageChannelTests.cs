using System.Text.Json;
using System.Text.Json.Nodes;
using IncidentOps.Engine.Notifications;
using IncidentOps.Incidents;
using IncidentOps.Notifications;
using Xunit;

namespace IncidentOps.Tests.Notifications;

/// <summary>Atlassian Statuspage against its loopback stub, which answers as Fixtures/statuspage.json records.</summary>
public class StatuspageChannelTests
{
    private static JsonNode Json(CapturedRequest r) => JsonNode.Parse(r.Body)!;

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
