using IncidentOps.Engine.Incidents;
using IncidentOps.Engine.Notifications;
using IncidentOps.Engine.Notifications.Statuspage;
using IncidentOps.Incidents;
using IncidentOps.Notifications;
using Xunit;

namespace IncidentOps.Tests.Notifications;

/// <summary>
/// Two successful Statuspage deliveries of one update (an unavoidable duplicate: the first sender's claim of the channel ended and
/// its request's deadline, as the second sender read it, had passed, while the request was still out): the incident keeps the
/// first public incident, the one the outbox records, so later updates PATCH it, and the person is told the duplicate's id to delete it.
/// </summary>
public class StatuspageDuplicateTests
{
    private static readonly ChangeContext Context = new("Send-IncidentUpdate");

    private static NotificationOptions Options() =>
        new() { BackoffBase = TimeSpan.FromMilliseconds(20), RequestTimeout = TimeSpan.FromSeconds(20), InFlightMargin = TimeSpan.FromMilliseconds(500) };

    [Theory]
    [InlineData("file")]
    [InlineData("team")]
    public async Task Two_deliveries_of_one_update_keep_the_first_Statuspage_incident_on_the_incident_and_the_outbox_and_warn_of_the_duplicate(string storeKind)
    {
        using var s = NotificationScenario.On(storeKind);
        var inc = await s.CreateIncidentAsync("P1");
        var held = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        s.Statuspage.ScriptApplies = q => q.Method == "POST";
        s.Statuspage.ThenHoldThenHandle(held, release.Task);   // A's POST: held, then handled (opens sp-2, after B's sp-1)

        var (a, aSink, config) = s.NewEngine();
        a.Notifications.Options = Options();
        var prepared = await a.Notifications.PrepareAsync(config,
            new IncidentUpdateRequest { IncidentId = inc.Id, Message = "Checkout is failing", Channels = ["status"] }, CancellationToken.None);
        var updateId = prepared.Update.UpdateId;
        var sendA = a.Notifications.SendAsync(prepared, null, Context, CancellationToken.None);
        await held.Task.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(2, await OutboxConcurrentSendersTests.EndClaimsAsync(s, inc.Id));
        // A's request deadline, as the store holds it, has passed (A's clock behind the store's): B does not wait for it.
        await s.Incidents.ChangeOutboxEntryAsync(inc.Id, updateId, e =>
        {
            e!.Deliveries.Single(d => d.Channel == "status").InFlightUntil = DateTimeOffset.UtcNow.AddMinutes(-5);
            return e;
        }, CancellationToken.None);

        // B (-Pending) looks at Statuspage (nothing there yet: A's POST is still out), posts and opens sp-1.
        var (b, _, _) = s.NewEngine();
        b.Notifications.Options = Options();
        Assert.True(Assert.Single(await b.Notifications.SendPendingAsync(config, inc.Id, null, Context, CancellationToken.None)).Delivered);
        // A's POST lands now: a second public incident, sp-2.
        release.SetResult();
        var resultA = Assert.Single(await sendA.WaitAsync(TimeSpan.FromSeconds(60)));
        Assert.True(resultA.Delivered, resultA.Error);
        Assert.Equal(2, s.StatuspageApi.Creates);

        // The outbox and the incident agree on the first: sp-1.
        var stored = Assert.Single((await s.Incidents.ReadOutboxEntryAsync(inc.Id, updateId, CancellationToken.None))!.Deliveries);
        Assert.Equal("sp-1", stored.ProviderId);
        Assert.Equal("sp-1", (await s.Incidents.GetAsync(inc.Id, CancellationToken.None))!.ExternalIds[StatuspageChannel.ExternalIdKey("status")]);
        Assert.Equal("sp-1", resultA.ProviderId);
        // A is told of the duplicate, by its id, and what to do.
        var warning = Assert.Single(aSink.Warnings.ToArray(), w => w.Contains("two public incidents", StringComparison.Ordinal));
        Assert.Contains("'sp-2', a duplicate that this send opened", warning);
        Assert.Contains("Delete the duplicate incident 'sp-2' on the status page", warning);
        Assert.Contains($"{inc.Id} keeps 'sp-1'", warning);

        // The next update PATCHes sp-1, the incident the outbox names.
        var (c, _, _) = s.NewEngine();
        c.Notifications.Options = Options();
        var next = await c.Notifications.PrepareAsync(config,
            new IncidentUpdateRequest { IncidentId = inc.Id, Message = "Fix deployed", Status = IncidentStatus.Monitoring, Channels = ["status"] }, CancellationToken.None);
        Assert.True(Assert.Single(await c.Notifications.SendAsync(next, null, Context, CancellationToken.None)).Delivered);
        var patch = Assert.Single(s.Statuspage.Requests, q => q.Method == "PATCH");
        Assert.EndsWith("/incidents/sp-1", patch.Path);
        Assert.Equal(2, s.StatuspageApi.Creates);
    }
}
