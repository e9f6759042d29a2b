using IncidentOps.Config;
using IncidentOps.Engine.Incidents;
using IncidentOps.Engine.Notifications;
using IncidentOps.Engine.Notifications.Slack;
using IncidentOps.Incidents;
using IncidentOps.Notifications;
using Xunit;

namespace IncidentOps.Tests.Notifications;

/// <summary>
/// Two processes on one incident and one channel (a scheduled Send-IncidentUpdate -Pending and a person): an older update
/// that waited for the channel while the other process delivered a later one is never posted after it, on the file store
/// and on the PostgreSQL team store.
/// </summary>
public class NotificationOrderTests
{
    private static readonly ChangeContext Context = new("Send-IncidentUpdate");

    /// <summary>A -Pending sender (as another process would run it) that stops where it waits for <paramref name="channel"/>'s lock.</summary>
    private static (NotificationService Service, GatedStore Gate, IncidentOpsConfig Config) GatedSender(NotificationScenario s, string channel)
    {
        var (engine, _, config) = s.NewEngine();
        var (store, gate) = GatedStore.Wrap(engine.OpenStore(config), IncidentStores.ChannelLockName(channel));
        var service = new NotificationService(_ => store, engine.Sink, engine.References, engine.Timeline, NotificationSender.SharedClient,
            new Lazy<SlackIncidentChannel>(() => engine.IncidentChannels)) { Options = engine.Notifications.Options };
        return (service, gate, config);
    }

    private static int Posted(StatuspageFake api, string text) =>
        api.Incidents.SelectMany(i => i["incident_updates"]!.AsArray()).Count(u => u!["body"]!.GetValue<string>().Contains(text, StringComparison.Ordinal));

    [Theory]
    [InlineData("file")]
    [InlineData("team")]
    public async Task An_older_Statuspage_update_re_sent_while_another_process_posted_the_resolution_is_not_posted_after_it(string storeKind)
    {
        using var s = NotificationScenario.On(storeKind);
        var inc = await s.CreateIncidentAsync("P1");
        Assert.True(Assert.Single(await s.SendAsync(new IncidentUpdateRequest { IncidentId = inc.Id, Message = "Looking", Channels = ["status"] })).Delivered);
        s.Statuspage.ScriptApplies = q => q.Method == "PATCH";
        s.Statuspage.Then(503, "{\"error\":\"unavailable\"}");
        var identified = Assert.Single(await s.SendAsync(new IncidentUpdateRequest { IncidentId = inc.Id, Status = IncidentStatus.Identified, Message = "Pool exhausted", Channels = ["status"] }));
        Assert.False(identified.Delivered);

        // A scheduled -Pending takes the Identified update and waits for the channel ...
        var (pending, gate, config) = GatedSender(s, "status");
        var resend = pending.SendPendingAsync(config, inc.Id, null, Context, CancellationToken.None);
        await gate.Reached.WaitAsync(TimeSpan.FromSeconds(30));
        // ... while a person resolves the incident from another shell.
        var resolved = Assert.Single(await s.SendAsync(new IncidentUpdateRequest { IncidentId = inc.Id, Status = IncidentStatus.Resolved, Message = "Fixed by a rollback", Channels = ["status"] }));
        Assert.True(resolved.Delivered, resolved.Error);
        gate.Open();

        var late = Assert.Single(await resend.WaitAsync(TimeSpan.FromSeconds(30)));
        Assert.Equal(identified.UpdateId, late.UpdateId);
        Assert.Equal(DeliveryState.Superseded, late.State);
        Assert.Contains(resolved.UpdateId, late.Error);
        var page = Assert.Single(s.StatuspageApi.Incidents);
        Assert.Equal("resolved", page["status"]!.GetValue<string>());
        Assert.Equal(0, Posted(s.StatuspageApi, "Pool exhausted"));
        Assert.Equal("PATCH", s.Statuspage.Requests.Last(q => q.Method != "GET").Method);
        Assert.Contains("Fixed by a rollback", s.Statuspage.Requests.Last(q => q.Method == "PATCH").Body);
        Assert.Empty(await s.NewEngine().Engine.Notifications.GetUpdatesAsync(config, inc.Id, pendingOnly: true, CancellationToken.None));
    }

    [Theory]
    [InlineData("file")]
    [InlineData("team")]
    public async Task A_PagerDuty_trigger_re_sent_while_another_process_sent_the_resolution_does_not_page_for_a_resolved_incident(string storeKind)
    {
        using var s = NotificationScenario.On(storeKind);
        var pd = new PagerDutyFake(s.PagerDuty);
        var inc = await s.CreateIncidentAsync("P1");
        s.PagerDuty.Then(400, "{\"status\":\"invalid event\"}");
        var trigger = Assert.Single(await s.SendAsync(new IncidentUpdateRequest { IncidentId = inc.Id, Message = "down", Channels = ["pager"] }));
        Assert.False(trigger.Delivered);

        var (pending, gate, config) = GatedSender(s, "pager");
        var resend = pending.SendPendingAsync(config, inc.Id, null, Context, CancellationToken.None);
        await gate.Reached.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.True(Assert.Single(await s.SendAsync(new IncidentUpdateRequest { IncidentId = inc.Id, Status = IncidentStatus.Resolved, Message = "fixed", Channels = ["pager"] })).Delivered);
        gate.Open();

        var late = Assert.Single(await resend.WaitAsync(TimeSpan.FromSeconds(30)));
        Assert.Equal(trigger.UpdateId, late.UpdateId);
        Assert.Equal(DeliveryState.Superseded, late.State);
        // Nobody is paged for an incident that is already over, and no PagerDuty incident is left open with nothing to resolve it.
        Assert.Equal(0, pd.Notifications);
        Assert.Equal("resolve", System.Text.Json.Nodes.JsonNode.Parse(s.PagerDuty.Requests.Last().Body)!["event_action"]!.GetValue<string>());
    }

    [Theory]
    [InlineData("file")]
    [InlineData("team")]
    public async Task Two_Pending_runs_at_once_post_a_pending_Slack_update_once(string storeKind)
    {
        using var s = NotificationScenario.On(storeKind);
        var inc = await s.CreateIncidentAsync("P1");
        s.Slack.Then(500, "oops");
        var failed = Assert.Single(await s.SendAsync(new IncidentUpdateRequest { IncidentId = inc.Id, Message = "Checkout is failing", Channels = ["incidents"] }));
        Assert.Equal(DeliveryState.Pending, failed.State);

        var (one, _, config) = s.NewEngine();
        var (two, _, _) = s.NewEngine();
        using var go = new ManualResetEventSlim();
        var runs = new[] { one, two }.Select(e => Task.Run(async () => { go.Wait(); return await e.Notifications.SendPendingAsync(config, inc.Id, null, Context, CancellationToken.None); })).ToList();
        go.Set();
        var results = (await Task.WhenAll(runs).WaitAsync(TimeSpan.FromSeconds(60))).SelectMany(r => r).ToList();

        Assert.Equal(2, s.Slack.Requests.Count);                       // the failed attempt and one re-send, never two
        Assert.Single(results, r => r.Delivered);
        Assert.Empty(await one.Notifications.GetUpdatesAsync(config, inc.Id, pendingOnly: true, CancellationToken.None));
    }
}

