using IncidentOps.Engine.Incidents;
using IncidentOps.Engine.Notifications;
using IncidentOps.Incidents;
using IncidentOps.Notifications;
using Xunit;

namespace IncidentOps.Tests.Notifications;

/// <summary>
/// Two senders of one update whose claims overlap (the first sender's claims ended while its requests were out: its PostgreSQL
/// connections killed by pg_terminate_backend, or the file store's lock files removed): each records only the channels it
/// works on, so neither writes over the other's record of another channel, a recorded "delivered" never goes back, and the
/// update gets one timeline entry per delivery event, each naming only what its sender did.
/// </summary>
public class OutboxConcurrentSendersTests
{
    private static readonly ChangeContext Context = new("Send-IncidentUpdate");

    private static NotificationOptions Options(int maxAttempts = 4) =>
        new() { BackoffBase = TimeSpan.FromMilliseconds(20), RequestTimeout = TimeSpan.FromSeconds(20), InFlightMargin = TimeSpan.FromSeconds(1), MaxAttempts = maxAttempts };

    /// <summary>Ends the claims of the first sender: its sessions killed (team store), or its lock files removed (file store, as on a share that drops locks).</summary>
    internal static async Task<int> EndClaimsAsync(NotificationScenario s, string incidentId)
    {
        if (s.TeamSchema is null)
        {
            var dir = Path.Combine(s.Store.GetIncidentDirectory(incidentId), "outbox");
            var locks = Directory.GetFiles(dir, "*.lock").Where(f => !f.EndsWith(".write.lock", StringComparison.Ordinal)).ToList();
            foreach (var f in locks) File.Delete(f);
            return locks.Count;
        }
        await using var c = new Npgsql.NpgsqlConnection(TestServers.PostgresConnectionString);
        await c.OpenAsync();
        await using var cmd = new Npgsql.NpgsqlCommand("""
            SELECT count(pg_terminate_backend(l.pid)) FROM (SELECT DISTINCT l.pid FROM pg_locks l
              JOIN pg_class r ON r.oid = l.relation JOIN pg_namespace n ON n.oid = r.relnamespace
             WHERE n.nspname = @schema AND r.relname = 'claims' AND l.pid <> pg_backend_pid()) l
            """, c);
        cmd.Parameters.AddWithValue("schema", s.TeamSchema);
        return Convert.ToInt32(await cmd.ExecuteScalarAsync());
    }

    private static async Task<ChannelDelivery> StoredAsync(NotificationScenario s, string incidentId, string updateId, string channel) =>
        Assert.Single((await s.Incidents.ReadOutboxEntryAsync(incidentId, updateId, CancellationToken.None))!.Deliveries, d => d.Channel == channel);

    private static async Task UntilAsync(Func<Task<bool>> condition, string what)
    {
        var until = DateTime.UtcNow.AddSeconds(30);
        while (!await condition())
        {
            if (DateTime.UtcNow > until) throw new Xunit.Sdk.XunitException($"Never happened: {what}");
            await Task.Delay(20);
        }
    }

    [Theory]
    [InlineData("file")]
    [InlineData("team")]
    public async Task A_second_sender_never_reverts_the_first_senders_recorded_Slack_delivery_and_a_later_Pending_Force_posts_nothing_twice(string storeKind)
    {
        using var s = NotificationScenario.On(storeKind);
        var inc = await s.CreateIncidentAsync("P1");
        // Sender A: Slack and the status page both slow; its claims end while both requests are out.
        var slackPost = new NotificationScenario.Held();
        var statusPost = new NotificationScenario.Held();
        s.Slack.ThenHoldThenHandle(slackPost.Reached, slackPost.Released);
        s.Statuspage.ScriptApplies = q => q.Method == "POST";
        s.Statuspage.ThenHoldThenAnswer(statusPost.Reached, statusPost.Released, 500, """{"error":"internal"}""");
        var (a, _, config) = s.NewEngine();
        a.Notifications.Options = Options(maxAttempts: 1);
        var prepared = await a.Notifications.PrepareAsync(config,
            new IncidentUpdateRequest { IncidentId = inc.Id, Message = "Checkout is failing", Channels = ["incidents", "status"] }, CancellationToken.None);
        var updateId = prepared.Update.UpdateId;
        var sendA = a.Notifications.SendAsync(prepared, null, Context, CancellationToken.None);
        await Task.WhenAll(slackPost.Reached.Task, statusPost.Reached.Task).WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(3, await EndClaimsAsync(s, inc.Id));   // the update's claim and both channels'

        // Sender B: Send-IncidentUpdate -Pending reads the entry while both of A's requests are out.
        var (b, bSink, _) = s.NewEngine();
        b.Notifications.Options = Options();
        var pendingB = b.Notifications.SendPendingAsync(config, inc.Id, null, Context, CancellationToken.None);
        await UntilAsync(async () => (await StoredAsync(s, inc.Id, updateId, "incidents")).Error?.Contains("may have reached", StringComparison.Ordinal) == true,
            "B recorded that A's Slack request may have arrived");
        await UntilAsync(() => Task.FromResult(bSink.VerboseMessages.ToArray().Any(m => m.Contains("may still be in flight", StringComparison.Ordinal))), "B waits for A's status page request");

        // A's Slack request arrives and A records it; then A's status page request fails, which B (waiting) then sends.
        slackPost.Release();
        await UntilAsync(async () => (await StoredAsync(s, inc.Id, updateId, "incidents")).State == DeliveryState.Delivered, "A recorded Slack delivered");
        statusPost.Release();
        var resultsA = await sendA.WaitAsync(TimeSpan.FromSeconds(60));
        var resultsB = await pendingB.WaitAsync(TimeSpan.FromSeconds(60));

        Assert.True(Assert.Single(resultsA, r => r.Channel == "incidents").Delivered);
        Assert.True(Assert.Single(resultsB, r => r.Channel == "status").Delivered);
        // The outbox keeps A's Slack delivery: B's record of the status page did not write over it.
        var slack = await StoredAsync(s, inc.Id, updateId, "incidents");
        Assert.Equal(DeliveryState.Delivered, slack.State);
        Assert.Equal(200, slack.StatusCode);
        Assert.Equal(DeliveryState.Delivered, (await StoredAsync(s, inc.Id, updateId, "status")).State);
        Assert.Empty(await b.Notifications.GetUpdatesAsync(config, inc.Id, pendingOnly: true, CancellationToken.None));
        // So even -Pending -Force (for a delivery that reads Unknown) posts nothing to Slack a second time.
        var (c, _, _) = s.NewEngine();
        Assert.Empty(await c.Notifications.SendPendingAsync(config, inc.Id, null, force: true, Context, CancellationToken.None));
        Assert.Single(s.Slack.Requests);
        Assert.Equal(1, s.StatuspageApi.Creates);

        // One timeline entry per delivery event: A's (Slack delivered, the status page not), and B's for the status page only.
        var entries = (await s.Incidents.ReadTimelineAsync(inc.Id, CancellationToken.None)).Where(e => e.Kind == "update" && e.Parameters.GetValueOrDefault("UpdateId") == updateId).ToList();
        Assert.Equal(2, entries.Count);
        var entryA = Assert.Single(entries, e => e.Target!.StartsWith("incidents", StringComparison.Ordinal));
        Assert.StartsWith("incidents: delivered (200", entryA.Result);
        var entryB = Assert.Single(entries, e => e.Target == "status");
        Assert.StartsWith("status: delivered", entryB.Result);
        Assert.DoesNotContain("incidents", entryB.Result);
    }

    [Theory]
    [InlineData("file")]
    [InlineData("team")]
    public async Task A_Pending_that_finds_the_update_delivered_by_the_sender_whose_claim_ended_adds_no_second_timeline_entry(string storeKind)
    {
        using var s = NotificationScenario.On(storeKind);
        var inc = await s.CreateIncidentAsync("P1");
        var post = new NotificationScenario.Held();
        s.Statuspage.ScriptApplies = q => q.Method == "POST";
        s.Statuspage.ThenHoldThenHandle(post.Reached, post.Released);
        var (a, _, config) = s.NewEngine();
        a.Notifications.Options = Options();
        var prepared = await a.Notifications.PrepareAsync(config,
            new IncidentUpdateRequest { IncidentId = inc.Id, Message = "Checkout is failing", Channels = ["status"] }, CancellationToken.None);
        var sendA = a.Notifications.SendAsync(prepared, null, Context, CancellationToken.None);
        await post.Reached.Task.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(2, await EndClaimsAsync(s, inc.Id));

        var (b, bSink, _) = s.NewEngine();
        b.Notifications.Options = Options();
        var pendingB = b.Notifications.SendPendingAsync(config, inc.Id, null, Context, CancellationToken.None);
        await UntilAsync(() => Task.FromResult(bSink.VerboseMessages.ToArray().Any(m => m.Contains("may still be in flight", StringComparison.Ordinal))), "B waits for A's request");
        post.Release();
        Assert.True(Assert.Single(await sendA.WaitAsync(TimeSpan.FromSeconds(60))).Delivered);
        Assert.True(Assert.Single(await pendingB.WaitAsync(TimeSpan.FromSeconds(60))).Delivered);

        var entries = (await s.Incidents.ReadTimelineAsync(inc.Id, CancellationToken.None))
            .Where(e => e.Kind == "update" && e.Parameters.GetValueOrDefault("UpdateId") == prepared.Update.UpdateId).ToList();
        var entry = Assert.Single(entries);
        Assert.Equal(TimelineOutcome.Succeeded, entry.Outcome);
        Assert.StartsWith("status: delivered (", entry.Result);
        // Whichever sender came first told the delivery; the other added nothing.
        Assert.True(bSink.VerboseMessages.ToArray().Any(m => m.Contains("recorded by another sender", StringComparison.Ordinal) && m.Contains("no entry added", StringComparison.Ordinal))
            || entry.Result!.Contains("sent by another sender", StringComparison.Ordinal), entry.Result);
        Assert.Equal(1, s.StatuspageApi.Creates);
    }

    [Theory]
    [InlineData("file")]
    [InlineData("team")]
    public async Task A_delivery_adopted_from_a_sender_that_died_before_its_timeline_entry_gets_exactly_one_entry(string storeKind)
    {
        using var s = NotificationScenario.On(storeKind);
        var inc = await s.CreateIncidentAsync("P1");
        var post = new NotificationScenario.Held();
        s.Statuspage.ScriptApplies = q => q.Method == "POST";
        s.Statuspage.ThenHoldThenHandle(post.Reached, post.Released);
        // Sender A records its delivery, then dies before it adds its timeline entry.
        var (serviceA, _, config, aControl) = s.NewSender(HeldWriteStore.Wrap, Options());
        aControl.DieOnTimeline();
        var prepared = await serviceA.PrepareAsync(config,
            new IncidentUpdateRequest { IncidentId = inc.Id, Message = "Checkout is failing", Channels = ["status"] }, CancellationToken.None);
        var sendA = serviceA.SendAsync(prepared, null, Context, CancellationToken.None);
        await post.Reached.Task.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(2, await EndClaimsAsync(s, inc.Id));

        var (b, bSink, _) = s.NewEngine();
        b.Notifications.Options = Options();
        var pendingB = b.Notifications.SendPendingAsync(config, inc.Id, null, Context, CancellationToken.None);
        await UntilAsync(() => Task.FromResult(bSink.VerboseMessages.ToArray().Any(m => m.Contains("may still be in flight", StringComparison.Ordinal))), "B waits for A's request");
        post.Release();
        try { await sendA.WaitAsync(TimeSpan.FromSeconds(60)); }
        catch (InvalidOperationException) { /* A died at its timeline entry */ }
        var resultB = Assert.Single(await pendingB.WaitAsync(TimeSpan.FromSeconds(60)));
        Assert.True(resultB.Delivered, resultB.Error);
        Assert.Equal(DeliveryState.Delivered, (await StoredAsync(s, inc.Id, prepared.Update.UpdateId, "status")).State);

        // The timeline shows the update was sent: one entry, added by B for A's delivery.
        var entry = Assert.Single(await s.Incidents.ReadTimelineAsync(inc.Id, CancellationToken.None),
            e => e.Kind == "update" && e.Parameters.GetValueOrDefault("UpdateId") == prepared.Update.UpdateId);
        Assert.Equal(TimelineOutcome.Succeeded, entry.Outcome);
        Assert.StartsWith("status: delivered (", entry.Result);
        Assert.Contains("sent by another sender, whose entry for it is not on the timeline (still in its spool, or never added)", entry.Result);
        Assert.Equal("status", entry.Target);
        Assert.Equal(1, s.StatuspageApi.Creates);
    }

    [Theory]
    [InlineData("file")]
    [InlineData("team")]
    public async Task A_Pending_that_finds_the_update_delivered_by_a_sender_that_died_before_its_entry_adds_the_entry(string storeKind)
    {
        using var s = NotificationScenario.On(storeKind);
        var inc = await s.CreateIncidentAsync("P1");
        var slack = new NotificationScenario.Held();
        s.Slack.ThenHoldThenHandle(slack.Reached, slack.Released);
        var (serviceA, _, config, aControl) = s.NewSender(HeldWriteStore.Wrap, Options());
        aControl.DieOnTimeline();
        var prepared = await serviceA.PrepareAsync(config,
            new IncidentUpdateRequest { IncidentId = inc.Id, Message = "Checkout is failing", Channels = ["incidents"] }, CancellationToken.None);
        var sendA = serviceA.SendAsync(prepared, null, Context, CancellationToken.None);
        await slack.Reached.Task.WaitAsync(TimeSpan.FromSeconds(30));

        // B's -Pending reads the update pending and waits for its lock, which A holds until it dies.
        var (serviceB, _, _, gate) = s.NewSender(store => GatedStore.Wrap(store, prepared.Update.UpdateId), Options());
        var pendingB = serviceB.SendPendingAsync(config, inc.Id, null, Context, CancellationToken.None);
        await gate.Reached.WaitAsync(TimeSpan.FromSeconds(30));
        slack.Release();
        await Assert.ThrowsAsync<InvalidOperationException>(() => sendA.WaitAsync(TimeSpan.FromSeconds(60)));
        gate.Open();
        Assert.Empty(await pendingB.WaitAsync(TimeSpan.FromSeconds(60)));

        var entry = Assert.Single(await s.Incidents.ReadTimelineAsync(inc.Id, CancellationToken.None),
            e => e.Kind == "update" && e.Parameters.GetValueOrDefault("UpdateId") == prepared.Update.UpdateId);
        Assert.StartsWith("incidents: delivered (200, 1 attempt(s); sent by another sender, whose entry for it is not on the timeline (still in its spool, or never added))", entry.Result);
        Assert.Single(s.Slack.Requests);
    }
}
