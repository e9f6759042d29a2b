using IncidentOps.Engine.Incidents;
using IncidentOps.Engine.Notifications;
using IncidentOps.Engine.Notifications.Slack;
using IncidentOps.Incidents;
using IncidentOps.Notifications;
using Xunit;

namespace IncidentOps.Tests.Notifications;

/// <summary>
/// Within one channel: a sender whose claim ended and whose result comes late (after the next sender took the channel over and
/// sent) does not write over the next sender's in-flight record, so a third sender still waits for that request and the status
/// page never gets a second public incident.
/// </summary>
public class StatuspageLateResultTests
{
    private static readonly ChangeContext Context = new("Send-IncidentUpdate");

    private static NotificationOptions Options(TimeSpan timeout) =>
        new() { BackoffBase = TimeSpan.FromMilliseconds(20), RequestTimeout = timeout, InFlightMargin = TimeSpan.FromMilliseconds(500) };

    private static async Task<ChannelDelivery> StatusAsync(NotificationScenario s, string incidentId, string updateId) =>
        Assert.Single((await s.Incidents.ReadOutboxEntryAsync(incidentId, updateId, CancellationToken.None))!.Deliveries, d => d.Channel == "status");

    private static async Task UntilAsync(Func<bool> condition, string what)
    {
        var until = DateTime.UtcNow.AddSeconds(60);
        while (!condition())
        {
            if (DateTime.UtcNow > until) throw new Xunit.Sdk.XunitException($"Never happened: {what}");
            await Task.Delay(20);
        }
    }

    [Theory]
    [InlineData("file")]
    [InlineData("team")]
    public async Task A_late_result_of_a_sender_whose_claim_ended_keeps_the_next_senders_request_in_flight_and_a_third_sender_posts_no_second_incident(string storeKind)
    {
        using var s = NotificationScenario.On(storeKind);
        var inc = await s.CreateIncidentAsync("P1");
        // A's POST: held, then refused with a 500 (nothing created). B's POST: held until the test lets Statuspage act on it.
        var aHeld = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var aRelease = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var bHeld = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var bRelease = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        s.Statuspage.ScriptApplies = q => q.Method == "POST";
        s.Statuspage.ThenHoldThenAnswer(aHeld, aRelease.Task, 500, """{"error":"internal"}""").ThenHoldThenHandle(bHeld, bRelease.Task);

        // Sender A, whose writes to the store can be held (its connection killed, a slow reconnect).
        var (a, aSink, config) = s.NewEngine();
        var (aStore, aControl) = HeldWriteStore.Wrap(a.OpenStore(config));
        var serviceA = new NotificationService(_ => aStore, aSink, a.References, a.Timeline, NotificationSender.SharedClient,
            new Lazy<SlackIncidentChannel>(() => a.IncidentChannels)) { Options = Options(TimeSpan.FromSeconds(3)) };
        var prepared = await serviceA.PrepareAsync(config,
            new IncidentUpdateRequest { IncidentId = inc.Id, Message = "Checkout is failing", Channels = ["status"] }, CancellationToken.None);
        var updateId = prepared.Update.UpdateId;
        var sendA = serviceA.SendAsync(prepared, null, Context, CancellationToken.None);
        await aHeld.Task.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(2, await OutboxConcurrentSendersTests.EndClaimsAsync(s, inc.Id));   // A's claims (the update's, the channel's) end
        // A's request ends (refused), but A's record of that is slow to reach the store.
        aControl.HoldNextWrite();
        aRelease.SetResult();
        await aControl.Reached.WaitAsync(TimeSpan.FromSeconds(30));

        // Sender B (-Pending): waits out A's request in flight (A's deadline), takes the channel over and posts; its POST is out.
        var (b, _, _) = s.NewEngine();
        b.Notifications.Options = Options(TimeSpan.FromSeconds(30));
        var pendingB = b.Notifications.SendPendingAsync(config, inc.Id, null, Context, CancellationToken.None);
        await bHeld.Task.WaitAsync(TimeSpan.FromSeconds(30));
        var bInFlight = await StatusAsync(s, inc.Id, updateId);
        Assert.NotNull(bInFlight.InFlightUntil);
        Assert.Equal(2, await OutboxConcurrentSendersTests.EndClaimsAsync(s, inc.Id));   // B's claims end too (a failover)

        // A's late record reaches the store now.
        aControl.Release();
        var resultA = Assert.Single(await sendA.WaitAsync(TimeSpan.FromSeconds(60)));
        Assert.False(resultA.Delivered);

        // Sender C (a teammate's -Pending) must still see B's request in flight, and wait for it rather than post.
        var (c, cSink, _) = s.NewEngine();
        c.Notifications.Options = Options(TimeSpan.FromSeconds(30));
        var pendingC = c.Notifications.SendPendingAsync(config, inc.Id, null, Context, CancellationToken.None);
        await UntilAsync(() => pendingC.IsCompleted || cSink.VerboseMessages.ToArray().Any(m => m.Contains("may still be in flight", StringComparison.Ordinal)),
            "C waits for B's request, or finishes");
        bRelease.SetResult();
        var resultB = Assert.Single(await pendingB.WaitAsync(TimeSpan.FromSeconds(60)));
        var resultsC = await pendingC.WaitAsync(TimeSpan.FromSeconds(60));

        // One public incident: B's. C posted nothing.
        Assert.Equal(1, s.StatuspageApi.Creates);
        Assert.Equal(2, s.Statuspage.Requests.Count(q => q.Method == "POST"));   // A's (refused) and B's
        Assert.True(resultB.Delivered, resultB.Error);
        Assert.True(Assert.Single(resultsC).Delivered);
        // A's result says that another sender took the channel over; the store holds B's delivery.
        Assert.StartsWith("Another sender took over this update's delivery to 'status' after this sender's claim of the channel ended", resultA.Error);
        var stored = await StatusAsync(s, inc.Id, updateId);
        Assert.Equal(DeliveryState.Delivered, stored.State);
        Assert.Equal("sp-1", stored.ProviderId);
        Assert.Null(stored.InFlightUntil);
    }
}
