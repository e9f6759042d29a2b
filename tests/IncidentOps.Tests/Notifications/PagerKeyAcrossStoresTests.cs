using System.Text.Json.Nodes;
using IncidentOps.Config;
using IncidentOps.Engine.Notifications.Opsgenie;
using IncidentOps.Engine.Notifications.PagerDuty;
using IncidentOps.Incidents;
using IncidentOps.Notifications;
using Xunit;

namespace IncidentOps.Tests.Notifications;

/// <summary>
/// Incident ids are numbered per store, so two on-call engineers with their own stores who each declare the day's first
/// incident both get INC-&lt;today&gt;-001. Their pages must still be two alerts: PagerDuty folds a trigger into the open
/// incident of its dedup_key and Opsgenie a create into the open alert of its alias, so a key of the id alone would hide
/// the second outage in the first one's (acknowledged: nobody notified) alert, and one person's resolve would close the
/// other's. And an incident an older build paged under the id alone keeps that key to the end.
/// </summary>
public sealed class PagerKeyAcrossStoresTests
{
    private static JsonNode Json(CapturedRequest r) => JsonNode.Parse(r.Body)!;

    /// <summary>Two stores' first incident of the day: the same id, declared at different times (a colleague, minutes later).</summary>
    private static async Task<(Incident First, Incident Second)> SameIdAsync(NotificationScenario first, NotificationScenario second)
    {
        var declared = DateTimeOffset.UtcNow.AddMinutes(-20);
        var a = await first.Incidents.CreateAsync(id => new Incident { Id = id, Title = "Checkout returns 502", Severity = "P1", Services = ["api"], DeclaredAt = declared }, CancellationToken.None);
        var b = await second.Incidents.CreateAsync(id => new Incident { Id = id, Title = "Search is slow", Severity = "P1", Services = ["web"], DeclaredAt = declared.AddMinutes(7) }, CancellationToken.None);
        Assert.Equal(a.Id, b.Id);
        return (a, b);
    }

    private static string ChannelYaml(string name, string type, string url, string keyFile, string keyName) =>
        $"  {name}: {{ type: {type}, {keyName}: file:{keyFile}, {(type == "opsgenie" ? "apiUrl" : "url")}: '{url}' }}";

    [Theory]
    [InlineData("file")]
    [InlineData("team")]
    public async Task Two_stores_incidents_with_the_same_id_open_two_PagerDuty_incidents_and_resolving_one_leaves_the_other_open(string secondStore)
    {
        using var mine = new NotificationScenario();
        var pd = new PagerDutyFake(mine.PagerDuty);
        // The colleague's store (a file store of their own, or the team's PostgreSQL store) pages the same PagerDuty service.
        using var theirs = NotificationScenario.On(secondStore, ChannelYaml("shared", "pagerduty", mine.PagerDuty.BaseUrl, "pd.key", "routingKey"));
        var (a, b) = await SameIdAsync(mine, theirs);

        Assert.True(Assert.Single(await mine.SendAsync(new IncidentUpdateRequest { IncidentId = a.Id, Message = "Checkout down", Channels = ["pager"] })).Delivered);
        await mine.SendAsync(new IncidentUpdateRequest { IncidentId = a.Id, Status = IncidentStatus.Identified, Message = "pool exhausted", Channels = ["pager"] });
        Assert.Equal("acknowledged", Assert.Single(pd.Incidents).Status);

        // The second outage is paged: a new PagerDuty incident, which notifies (not a silent trigger on the acknowledged one).
        var page = Assert.Single(await theirs.SendAsync(new IncidentUpdateRequest { IncidentId = b.Id, Message = "Search down", Channels = ["shared"] }));
        Assert.True(page.Delivered, page.Error);
        Assert.Equal(2, pd.Notifications);
        Assert.All(pd.Incidents, i => Assert.Equal(0, i.SilentTriggers));
        var keys = pd.Incidents.Select(i => i.DedupKey).ToList();
        Assert.NotEqual(keys[0], keys[1]);
        Assert.All(keys, k => Assert.StartsWith($"incidentops-{a.Id}-", k));
        Assert.Equal($"incidentops-{a.Id}-{a.DeclaredAt.UtcDateTime:yyyyMMdd'T'HHmmssfff'Z'}", keys[0]);

        // The colleague resolves theirs: mine stays open (acknowledged), and theirs is resolved.
        await theirs.SendAsync(new IncidentUpdateRequest { IncidentId = b.Id, Status = IncidentStatus.Resolved, Message = "fixed", Channels = ["shared"] });
        Assert.Equal([(keys[0], "acknowledged"), (keys[1], "resolved")], pd.Incidents.Select(i => (i.DedupKey, i.Status)));
        Assert.Empty(pd.Unmatched);

        // The key was recorded on each incident at its first send, and every later request used it.
        Assert.Equal(keys[0], (await mine.Incidents.GetAsync(a.Id, CancellationToken.None))!.ExternalIds[PagerDutyChannel.ExternalIdKey]);
        Assert.Equal(keys[1], (await theirs.Incidents.GetAsync(b.Id, CancellationToken.None))!.ExternalIds[PagerDutyChannel.ExternalIdKey]);
        await mine.SendAsync(new IncidentUpdateRequest { IncidentId = a.Id, Status = IncidentStatus.Resolved, Message = "fixed", Channels = ["pager"] });
        Assert.All(pd.Incidents, i => Assert.Equal("resolved", i.Status));
        Assert.Empty(pd.Unmatched);
    }

    [Theory]
    [InlineData("file")]
    [InlineData("team")]
    public async Task Two_stores_incidents_with_the_same_id_open_two_Opsgenie_alerts_and_closing_one_leaves_the_other_open(string secondStore)
    {
        var og = OpsgenieChannelTests.NewFake();
        using var _ = og.Stub;
        using var mine = new NotificationScenario(ChannelYaml("genie", "opsgenie", og.BaseUrl, "og.key", "apiKey"));
        using var theirs = NotificationScenario.On(secondStore, ChannelYaml("genie", "opsgenie", og.BaseUrl, "og.key", "apiKey"));
        File.WriteAllText(Path.Combine(mine.Dir, "og.key"), OpsgenieChannelTests.KeyCanary);
        File.WriteAllText(Path.Combine(theirs.Dir, "og.key"), OpsgenieChannelTests.KeyCanary);
        var (a, b) = await SameIdAsync(mine, theirs);

        await mine.SendAsync(new IncidentUpdateRequest { IncidentId = a.Id, Message = "Checkout down", Channels = ["genie"] });
        await mine.SendAsync(new IncidentUpdateRequest { IncidentId = a.Id, Status = IncidentStatus.Identified, Message = "pool exhausted", Channels = ["genie"] });
        Assert.True(Assert.Single(og.Alerts).Acknowledged);

        // The second outage: a new alert (count 1, not acknowledged), so Opsgenie notifies for it.
        var page = Assert.Single(await theirs.SendAsync(new IncidentUpdateRequest { IncidentId = b.Id, Message = "Search down", Channels = ["genie"] }));
        Assert.True(page.Delivered, page.Error);
        Assert.Equal(2, og.Alerts.Count);
        Assert.Equal((1, true), (og.Alerts[0].Count, og.Alerts[0].Acknowledged));
        Assert.Equal((1, false, "open"), (og.Alerts[1].Count, og.Alerts[1].Acknowledged, og.Alerts[1].Status));
        Assert.NotEqual(og.Alerts[0].Alias, og.Alerts[1].Alias);
        Assert.Equal($"{a.Id}-{a.DeclaredAt.UtcDateTime:yyyyMMdd'T'HHmmssfff'Z'}", og.Alerts[0].Alias);

        // The colleague closes theirs: mine stays open.
        await theirs.SendAsync(new IncidentUpdateRequest { IncidentId = b.Id, Status = IncidentStatus.Resolved, Message = "fixed", Channels = ["genie"] });
        Assert.Equal([(og.Alerts[0].Alias, "open"), (og.Alerts[1].Alias, "closed")], og.Alerts.Select(x => (x.Alias, x.Status)));
        Assert.Equal(og.Alerts[1].Alias, (await theirs.Incidents.GetAsync(b.Id, CancellationToken.None))!.ExternalIds[OpsgenieChannel.ExternalIdKey]);
        Assert.Empty(og.Unmatched);
    }

    /// <summary>What an older build left behind: a delivered initial page under the id alone, and no recorded key.</summary>
    private static async Task PagedByOlderBuildAsync(NotificationScenario s, Incident incident, string channel, ChannelType type, string? providerId,
        DeliveryState state = DeliveryState.Delivered)
    {
        await s.Incidents.WriteOutboxEntryAsync(new IncidentUpdate
        {
            UpdateId = $"UPD-{DateTimeOffset.UtcNow.AddMinutes(-5):yyyyMMddHHmmssfff}-a1b2", IncidentId = incident.Id, Kind = NotificationKind.Initial,
            Status = IncidentStatus.Investigating, Message = "Checkout down", CreatedAt = DateTimeOffset.UtcNow.AddMinutes(-5),
            Deliveries = [state == DeliveryState.Delivered
                ? new ChannelDelivery { Channel = channel, ChannelType = type, State = state, Attempts = 1, StatusCode = 202, ProviderId = providerId, DeliveredAt = DateTimeOffset.UtcNow.AddMinutes(-5) }
                : new ChannelDelivery { Channel = channel, ChannelType = type, State = state, Attempts = 1, LastAttemptAt = DateTimeOffset.UtcNow.AddMinutes(-5), Error = "no answer" }],
        }, CancellationToken.None);
    }

    private static async Task PostAsync(string url, string json, string? auth = null)
    {
        using var http = new HttpClient();
        using var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = new StringContent(json, System.Text.Encoding.UTF8, "application/json") };
        if (auth is not null) request.Headers.TryAddWithoutValidation("Authorization", auth);
        (await http.SendAsync(request)).EnsureSuccessStatusCode();
    }

    [Fact]
    public async Task An_incident_an_older_build_paged_under_the_id_alone_is_acknowledged_and_resolved_under_that_key()
    {
        using var s = new NotificationScenario();
        var pd = new PagerDutyFake(s.PagerDuty);
        var inc = await s.CreateIncidentAsync("P1");
        var old = $"incidentops-{inc.Id}";
        // The older build's trigger reached PagerDuty under the old key, and its outbox says so.
        await PostAsync($"{s.PagerDuty.BaseUrl}/v2/enqueue", new JsonObject { ["routing_key"] = "k", ["event_action"] = "trigger", ["dedup_key"] = old, ["payload"] = new JsonObject { ["summary"] = "down" } }.ToJsonString());
        await PagedByOlderBuildAsync(s, inc, "pager", ChannelType.PagerDuty, old);
        var before = s.PagerDuty.Requests.Count;

        // -WhatIf shows the key that will really be sent.
        var (engine, _, config) = s.NewEngine();
        var preview = await engine.Notifications.PrepareAsync(config, new IncidentUpdateRequest { IncidentId = inc.Id, Status = IncidentStatus.Identified, Message = "pool", Channels = ["pager"] }, CancellationToken.None);
        Assert.Contains($"\"dedup_key\":\"{old}\"", Assert.Single(preview.Rendered).Body);

        await s.SendAsync(new IncidentUpdateRequest { IncidentId = inc.Id, Status = IncidentStatus.Identified, Message = "pool", Channels = ["pager"] });
        Assert.Equal([(old, "acknowledged")], pd.Incidents.Select(i => (i.DedupKey, i.Status)));
        await s.SendAsync(new IncidentUpdateRequest { IncidentId = inc.Id, Status = IncidentStatus.Resolved, Message = "fixed", Channels = ["pager"] });
        Assert.Equal([(old, "resolved")], pd.Incidents.Select(i => (i.DedupKey, i.Status)));
        Assert.All(s.PagerDuty.Requests.Skip(before), q => Assert.Equal(old, Json(q)["dedup_key"]!.GetValue<string>()));
        Assert.Empty(pd.Unmatched);
        Assert.Equal(old, (await s.Incidents.GetAsync(inc.Id, CancellationToken.None))!.ExternalIds[PagerDutyChannel.ExternalIdKey]);
    }

    [Fact]
    public async Task An_incident_an_older_build_paged_on_Opsgenie_under_the_id_alone_is_acknowledged_and_closed_under_that_alias()
    {
        var og = OpsgenieChannelTests.NewFake();
        using var _ = og.Stub;
        using var s = new NotificationScenario(ChannelYaml("genie", "opsgenie", og.BaseUrl, "og.key", "apiKey"));
        File.WriteAllText(Path.Combine(s.Dir, "og.key"), OpsgenieChannelTests.KeyCanary);
        var inc = await s.CreateIncidentAsync("P1");
        await PostAsync($"{og.BaseUrl}/v2/alerts", new JsonObject { ["message"] = "down", ["alias"] = inc.Id }.ToJsonString(), "GenieKey x");
        await PagedByOlderBuildAsync(s, inc, "genie", ChannelType.Opsgenie, "43a29c5c-3dbf-4fa4-9c26-f4f71023e120");
        var before = og.Requests.Count;

        await s.SendAsync(new IncidentUpdateRequest { IncidentId = inc.Id, Status = IncidentStatus.Identified, Message = "pool", Channels = ["genie"] });
        await s.SendAsync(new IncidentUpdateRequest { IncidentId = inc.Id, Status = IncidentStatus.Resolved, Message = "fixed", Channels = ["genie"] });
        Assert.Equal([$"/v2/alerts/{inc.Id}/acknowledge", $"/v2/alerts/{inc.Id}/close"], og.Requests.Skip(before).Select(r => r.Path));
        var alert = Assert.Single(og.Alerts);
        Assert.Equal((inc.Id, true, "closed"), (alert.Alias, alert.Acknowledged, alert.Status));
        Assert.Empty(og.Unmatched);
    }

    [Fact]
    public async Task A_trigger_an_older_build_sent_without_an_answer_is_re_sent_by_Pending_under_the_old_key_so_it_lands_on_the_same_PagerDuty_incident()
    {
        using var s = new NotificationScenario();
        var pd = new PagerDutyFake(s.PagerDuty);
        var inc = await s.CreateIncidentAsync("P1");
        var old = $"incidentops-{inc.Id}";
        // The older build's trigger reached PagerDuty, but its answer never came: Unknown in the outbox, no key recorded.
        await PostAsync($"{s.PagerDuty.BaseUrl}/v2/enqueue", new JsonObject { ["routing_key"] = "k", ["event_action"] = "trigger", ["dedup_key"] = old, ["payload"] = new JsonObject { ["summary"] = "down" } }.ToJsonString());
        await PagedByOlderBuildAsync(s, inc, "pager", ChannelType.PagerDuty, null, DeliveryState.Unknown);
        var before = s.PagerDuty.Requests.Count;

        var (engine, _, config) = s.NewEngine();
        var resent = Assert.Single(await engine.Notifications.SendPendingAsync(config, inc.Id, null, new IncidentOps.Engine.Incidents.ChangeContext("Send-IncidentUpdate"), CancellationToken.None));
        Assert.True(resent.Delivered, resent.Error);
        Assert.Equal(old, Json(Assert.Single(s.PagerDuty.Requests.Skip(before)))["dedup_key"]!.GetValue<string>());
        // Folded into the one PagerDuty incident: nobody paged twice for one outage.
        Assert.Equal([(old, "triggered", 2)], pd.Incidents.Select(i => (i.DedupKey, i.Status, i.Triggers)));
        await s.SendAsync(new IncidentUpdateRequest { IncidentId = inc.Id, Status = IncidentStatus.Resolved, Message = "fixed", Channels = ["pager"] });
        Assert.Equal([(old, "resolved")], pd.Incidents.Select(i => (i.DedupKey, i.Status)));
        Assert.Empty(pd.Unmatched);
    }
}
