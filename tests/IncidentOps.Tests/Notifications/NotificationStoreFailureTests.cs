using IncidentOps.Engine.Incidents;
using IncidentOps.Engine.Notifications;
using IncidentOps.Engine.Notifications.Slack;
using IncidentOps.Incidents;
using IncidentOps.Notifications;
using Xunit;

namespace IncidentOps.Tests.Notifications;

/// <summary>
/// The store fails after a provider answered: every channel's delivery still finishes, what each provider answered is still
/// returned, and one error (UpdateDeliveryNotRecorded) says per channel what it got and not to use -Force for those that got it.
/// </summary>
public class NotificationStoreFailureTests
{
    private static readonly ChangeContext Context = new("Send-IncidentUpdate");

    [Theory]
    [InlineData("file")]
    [InlineData("team")]
    public async Task A_store_failure_after_Slack_answered_still_finishes_every_channel_and_says_what_each_got_and_not_to_use_Force(string storeKind)
    {
        using var s = NotificationScenario.On(storeKind);
        var inc = await s.CreateIncidentAsync("P1");
        var (engine, sink, config) = s.NewEngine();
        // The store goes down on the write that records Slack's answer; PagerDuty's delivery only starts after that.
        var (store, control) = FailingStore.Wrap(engine.OpenStore(config),
            u => u.Deliveries.Any(d => d.Channel == "incidents" && d.State == DeliveryState.Delivered), IncidentStores.ChannelLockName("pager"));
        var service = new NotificationService(_ => store, sink, engine.References, engine.Timeline, NotificationSender.SharedClient,
            new Lazy<SlackIncidentChannel>(() => engine.IncidentChannels))
        {
            // A short deadline: the requests whose end the store could not record count as in flight until it passes.
            Options = new NotificationOptions { BackoffBase = TimeSpan.FromMilliseconds(20), RequestTimeout = TimeSpan.FromSeconds(3), InFlightMargin = TimeSpan.FromMilliseconds(500) },
        };
        // Slack answers once Discord has the request (so both requests have left); Discord answers once the store is down.
        var discordReached = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        s.Slack.ThenHoldThenHandle(new TaskCompletionSource(), discordReached.Task);
        s.Discord.ThenHoldThenHandle(discordReached, control.Tripped);
        var prepared = await service.PrepareAsync(config,
            new IncidentUpdateRequest { IncidentId = inc.Id, Message = "Checkout is failing", Channels = ["incidents", "ops", "pager"] }, CancellationToken.None);

        var error = await Assert.ThrowsAsync<DeliveriesNotRecordedException>(() => service.SendAsync(prepared, null, Context, CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(60)));

        Assert.Equal(NotificationErrorIds.DeliveryNotRecorded, error.ErrorId);
        Assert.Equal(IncidentOpsErrorCategory.WriteError, error.Category);
        // What each provider answered reaches the caller.
        var byChannel = error.Results.ToDictionary(r => r.Channel);
        Assert.Equal(["incidents", "ops", "pager"], byChannel.Keys.Order());
        Assert.True(byChannel["incidents"].Delivered);
        Assert.Equal(200, byChannel["incidents"].StatusCode);
        Assert.True(byChannel["ops"].Delivered);
        Assert.False(byChannel["pager"].Delivered);
        Assert.Contains("not recorded", byChannel["incidents"].Error);
        Assert.Single(s.Slack.Requests);
        Assert.Single(s.Discord.Requests);
        Assert.Empty(s.PagerDuty.Requests);
        // One message, per channel, with what to do.
        Assert.StartsWith($"The incident store failed while recording {inc.Id} update {prepared.Update.UpdateId} (The team store at 127.0.0.1 cannot be reached (connection refused)). Each channel: ", error.Message);
        Assert.Contains("incidents: delivered (200), not recorded", error.Message);
        Assert.Contains("ops: delivered (200), not recorded", error.Message);
        Assert.Contains("pager: not delivered (nothing reached it)", error.Message);
        Assert.Contains("Do not re-send with Send-IncidentUpdate -Pending -Force to incidents, ops", error.Message);
        Assert.Contains($"Once the store is back, run Send-IncidentUpdate -Pending -Incident {inc.Id}", error.Message);
        Assert.IsType<IncidentOpsException>(error.InnerException);

        // The store is back: -Pending sends PagerDuty its update, and posts nothing twice to Slack or Discord.
        control.Restore();
        var (engine2, _, _) = s.NewEngine();
        engine2.Notifications.Options = new NotificationOptions { BackoffBase = TimeSpan.FromMilliseconds(20), RequestTimeout = TimeSpan.FromSeconds(10), InFlightMargin = TimeSpan.FromMilliseconds(500) };
        var resent = await engine2.Notifications.SendPendingAsync(config, inc.Id, null, Context, CancellationToken.None);
        Assert.True(Assert.Single(resent, r => r.Channel == "pager").Delivered);
        Assert.Single(s.Slack.Requests);
        Assert.Single(s.Discord.Requests);
    }

    [Theory]
    [InlineData("file", false)]
    [InlineData("file", true)]
    [InlineData("team", false)]
    [InlineData("team", true)]
    public async Task CtrlC_on_one_channel_after_the_store_failed_to_record_Slacks_delivery_keeps_what_Slack_got(string storeKind, bool storeBackBeforeTheStop)
    {
        using var s = NotificationScenario.On(storeKind);
        var inc = await s.CreateIncidentAsync("P1");
        var (engine, sink, config) = s.NewEngine();
        var pagerLock = IncidentStores.ChannelLockName("pager");
        // The store goes down on the write that records Slack's answer, while PagerDuty's delivery waits for its channel
        // (a teammate's sender holds it), where Ctrl+C then stops it.
        var (store, control) = FailingStore.Wrap(engine.OpenStore(config), u => u.Deliveries.Any(d => d.Channel == "incidents" && d.State == DeliveryState.Delivered));
        control.Watch(pagerLock);
        await using var teammate = await s.Incidents.ClaimOutboxAsync(inc.Id, pagerLock, TimeSpan.FromSeconds(5), CancellationToken.None);
        var service = new NotificationService(_ => store, sink, engine.References, engine.Timeline, NotificationSender.SharedClient,
            new Lazy<SlackIncidentChannel>(() => engine.IncidentChannels))
        {
            Options = new NotificationOptions { BackoffBase = TimeSpan.FromMilliseconds(20), RequestTimeout = TimeSpan.FromSeconds(10) },
        };
        s.Slack.ThenHoldThenHandle(new TaskCompletionSource(), control.WatchedClaimAsked);
        var prepared = await service.PrepareAsync(config,
            new IncidentUpdateRequest { IncidentId = inc.Id, Message = "Checkout is failing", Channels = ["incidents", "pager"] }, CancellationToken.None);
        using var ctrlC = new CancellationTokenSource();
        var send = service.SendAsync(prepared, null, Context, ctrlC.Token);
        await control.Tripped.WaitAsync(TimeSpan.FromSeconds(30));
        if (storeBackBeforeTheStop) control.Restore();
        ctrlC.Cancel();

        // The stop wins (nothing more can reach a stopped pipeline) ...
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => send.WaitAsync(TimeSpan.FromSeconds(30)));
        Assert.Single(s.Slack.Requests);
        Assert.Empty(s.PagerDuty.Requests);
        control.Restore();
        var slack = Assert.Single((await s.Incidents.ReadOutboxEntryAsync(inc.Id, prepared.Update.UpdateId, CancellationToken.None))!.Deliveries, d => d.Channel == "incidents");
        var warnings = sink.Warnings.ToArray();
        if (storeBackBeforeTheStop)
        {
            // ... and what Slack got is in the outbox, and on the timeline, once the store answers again.
            Assert.Equal(DeliveryState.Delivered, slack.State);
            Assert.Equal(200, slack.StatusCode);
            Assert.Contains(warnings, w => w.StartsWith($"Stopped. {inc.Id} update {prepared.Update.UpdateId}: what each channel got is recorded in the outbox", StringComparison.Ordinal));
            var entry = Assert.Single(await s.Incidents.ReadTimelineAsync(inc.Id, CancellationToken.None), e => e.Kind == "update");
            Assert.Contains("incidents: delivered (200", entry.Result);
            Assert.Contains("pager: NOT delivered", entry.Result);
            // So -Pending -Force cannot post it to Slack again.
            var (again, _, _) = s.NewEngine();
            await teammate.DisposeAsync();
            var resent = await again.Notifications.SendPendingAsync(config, inc.Id, null, force: true, Context, CancellationToken.None);
            Assert.True(Assert.Single(resent, r => r.Channel == "pager").Delivered);
            Assert.Single(s.Slack.Requests);
        }
        else
        {
            // ... and the per-channel report still reaches whoever listens (a warning), with what not to re-send.
            var report = Assert.Single(warnings, w => w.StartsWith("Stopped. The incident store failed while recording", StringComparison.Ordinal));
            Assert.Contains("incidents: delivered (200), not recorded", report);
            Assert.Contains("pager: not delivered (Pending)", report);
            Assert.Contains("Do not re-send with Send-IncidentUpdate -Pending -Force to incidents", report);
        }
    }
}
