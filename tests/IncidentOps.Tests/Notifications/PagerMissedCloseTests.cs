using System.Text.Json.Nodes;
using IncidentOps.Incidents;
using IncidentOps.Notifications;
using Xunit;

namespace IncidentOps.Tests.Notifications;

/// <summary>
/// A relapse whose trigger follows a Monitoring close that never reached the pager (the pager's API was down, the close
/// failed, and the relapse's trigger superseded it): the alert of the first outage is still open, perhaps acknowledged,
/// and a trigger or create landing on it notifies nobody. The pager's alert is closed first, so the relapse opens a new one.
/// </summary>
public class PagerMissedCloseTests
{
    private static string Action(CapturedRequest r) => JsonNode.Parse(r.Body)!["event_action"]!.GetValue<string>();

    [Fact]
    public async Task PagerDuty_a_relapse_after_a_Monitoring_resolve_that_never_arrived_pages_again()
    {
        using var s = new NotificationScenario();
        var pd = new PagerDutyFake(s.PagerDuty);
        var inc = await s.CreateIncidentAsync("P1");
        Assert.True(Assert.Single(await s.SendAsync(new IncidentUpdateRequest { IncidentId = inc.Id, Message = "down", Channels = ["pager"] })).Delivered);
        pd.Incidents[0].Status = "acknowledged";                 // the on-call acknowledged the page and went back to sleep
        s.PagerDuty.Then(400, "{\"status\":\"invalid event\"}");
        Assert.False(Assert.Single(await s.SendAsync(new IncidentUpdateRequest { IncidentId = inc.Id, Status = IncidentStatus.Monitoring, Message = "recovered", Channels = ["pager"] })).Delivered);

        var relapse = Assert.Single(await s.SendAsync(new IncidentUpdateRequest { IncidentId = inc.Id, Status = IncidentStatus.Investigating, Message = "down again", Channels = ["pager"] }));
        Assert.True(relapse.Delivered, relapse.Error);
        Assert.Equal(2, pd.Notifications);
        Assert.All(pd.Incidents, i => Assert.Equal(0, i.SilentTriggers));
        Assert.Equal(["resolved", "triggered"], pd.Incidents.Select(i => i.Status));
        Assert.Equal(["trigger", "resolve", "resolve", "trigger"], s.PagerDuty.Requests.Select(Action));

        // The next progress update while investigating lands on the relapse's incident: it is not closed again.
        Assert.True(Assert.Single(await s.SendAsync(new IncidentUpdateRequest { IncidentId = inc.Id, Status = IncidentStatus.Investigating, Message = "still down", Channels = ["pager"] })).Delivered);
        Assert.Equal(["trigger", "resolve", "resolve", "trigger", "trigger"], s.PagerDuty.Requests.Select(Action));
        Assert.Equal(2, pd.Notifications);
    }

    [Fact]
    public async Task PagerDuty_a_relapse_whose_close_first_fails_stays_pending_and_pages_when_PagerDuty_answers_again()
    {
        using var s = new NotificationScenario();
        var pd = new PagerDutyFake(s.PagerDuty);
        var inc = await s.CreateIncidentAsync("P1");
        await s.SendAsync(new IncidentUpdateRequest { IncidentId = inc.Id, Message = "down", Channels = ["pager"] });
        pd.Incidents[0].Status = "acknowledged";
        s.PagerDuty.Then(400, "{\"status\":\"invalid event\"}").Then(400, "{\"status\":\"invalid event\"}");
        await s.SendAsync(new IncidentUpdateRequest { IncidentId = inc.Id, Status = IncidentStatus.Monitoring, Message = "recovered", Channels = ["pager"] });
        var relapse = Assert.Single(await s.SendAsync(new IncidentUpdateRequest { IncidentId = inc.Id, Status = IncidentStatus.Investigating, Message = "down again", Channels = ["pager"] }));
        Assert.False(relapse.Delivered);
        Assert.True(relapse.Pending);
        Assert.Equal(0, pd.Incidents[0].SilentTriggers);         // nothing landed on the acknowledged incident

        var (engine, _, config) = s.NewEngine();
        var resent = Assert.Single(await engine.Notifications.SendPendingAsync(config, inc.Id, null, new IncidentOps.Engine.Incidents.ChangeContext("Send-IncidentUpdate"), CancellationToken.None));
        Assert.True(resent.Delivered, resent.Error);
        Assert.Equal(2, pd.Notifications);
        Assert.All(pd.Incidents, i => Assert.Equal(0, i.SilentTriggers));
    }

    [Fact]
    public async Task Opsgenie_a_relapse_after_a_Monitoring_close_that_never_arrived_creates_a_new_alert()
    {
        using var og = OpsgenieChannelTests.NewFake();
        using var s = new NotificationScenario($"  genie: {{ type: opsgenie, apiKey: file:og.key, apiUrl: '{og.BaseUrl}' }}");
        File.WriteAllText(Path.Combine(s.Dir, "og.key"), OpsgenieChannelTests.KeyCanary);
        var inc = await s.CreateIncidentAsync("P1");
        await s.SendAsync(new IncidentUpdateRequest { IncidentId = inc.Id, Message = "Looking", Channels = ["genie"] });
        og.Alerts[0].Acknowledged = true;
        og.Stub.ScriptOnlyFor("POST").Then(422, "{\"message\":\"Request body is not processable\",\"took\":0.001,\"requestId\":\"r-1\"}");
        Assert.False(Assert.Single(await s.SendAsync(new IncidentUpdateRequest { IncidentId = inc.Id, Status = IncidentStatus.Monitoring, Message = "Fix deployed", Channels = ["genie"] })).Delivered);

        var relapse = Assert.Single(await s.SendAsync(new IncidentUpdateRequest { IncidentId = inc.Id, Status = IncidentStatus.Investigating, Message = "Down again", Channels = ["genie"] }));
        Assert.True(relapse.Delivered, relapse.Error);
        Assert.Equal([(ExpectedPagerKey.Opsgenie(inc), "closed", 1, true), (ExpectedPagerKey.Opsgenie(inc), "open", 1, false)], og.Alerts.Select(a => (a.Alias, a.Status, a.Count, a.Acknowledged)));
    }
}
