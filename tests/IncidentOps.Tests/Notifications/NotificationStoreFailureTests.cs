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
}
