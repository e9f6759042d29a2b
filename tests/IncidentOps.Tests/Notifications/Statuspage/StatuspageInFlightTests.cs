using IncidentOps.Engine;
using IncidentOps.Engine.Incidents;
using IncidentOps.Engine.Notifications;
using IncidentOps.Incidents;
using IncidentOps.Notifications;
using Xunit;

namespace IncidentOps.Tests.Notifications;

/// <summary>
/// A sender whose claim of the channel ended while its request was still in flight (its PostgreSQL connection killed, a
/// server restart, a pooler): the next sender waits that request out before it looks at the status page, so the page never
/// gets a second public incident; the wait stops at once on Ctrl+C and never outlasts the sender's own deadline.
/// </summary>
public class StatuspageInFlightTests
{
    private static readonly ChangeContext Context = new("Send-IncidentUpdate");

    private static NotificationOptions Options(TimeSpan timeout) =>
        new() { BackoffBase = TimeSpan.FromMilliseconds(20), RequestTimeout = timeout, InFlightMargin = TimeSpan.FromSeconds(1) };

    private static string[] Verbose(CollectingSink sink)
    {
        while (true)
            try { return sink.VerboseMessages.ToArray(); }
            catch (ArgumentException) { }
    }

    private static async Task<string> WaitForVerboseAsync(CollectingSink sink, string text, Task sender)
    {
        var until = DateTime.UtcNow.AddSeconds(30);
        while (DateTime.UtcNow < until)
        {
            if (Verbose(sink).FirstOrDefault(m => m.Contains(text, StringComparison.Ordinal)) is { } found) return found;
            // A sender that finished without waiting (it sent at once) fails here with what it did.
            if (sender.IsCompleted) { await sender; throw new Xunit.Sdk.XunitException($"The sender finished without waiting; it said: {string.Join(" | ", Verbose(sink).Concat(sink.Warnings.ToArray()))}"); }
            await Task.Delay(20);
        }
        throw new Xunit.Sdk.XunitException($"No verbose message containing '{text}'; got: {string.Join(" | ", Verbose(sink))}");
    }

    /// <summary>Ends every claim of the scenario's team store the way a DBA's pg_terminate_backend (or a restart) does.</summary>
    private static async Task<int> TerminateClaimsAsync(NotificationScenario s)
    {
        await using var c = new Npgsql.NpgsqlConnection(TestServers.PostgresConnectionString);
        await c.OpenAsync();
        await using var cmd = new Npgsql.NpgsqlCommand("""
            SELECT count(pg_terminate_backend(l.pid)) FROM (SELECT DISTINCT l.pid FROM pg_locks l
              JOIN pg_class r ON r.oid = l.relation JOIN pg_namespace n ON n.oid = r.relnamespace
             WHERE n.nspname = @schema AND r.relname = 'claims' AND l.pid <> pg_backend_pid()) l
            """, c);
        cmd.Parameters.AddWithValue("schema", s.TeamSchema!);
        return Convert.ToInt32(await cmd.ExecuteScalarAsync());
    }

    /// <summary>
    /// Sender A's first update to the status page, with Statuspage slow (A's POST arrives but is not acted on until the test
    /// releases it), and A's claims (the update's and the channel's) ended while that POST is in flight.
    /// </summary>
    private static async Task<(Incident Incident, IncidentOps.Config.IncidentOpsConfig Config, Task<IReadOnlyList<NotificationResult>> SendA, TaskCompletionSource Release)>
        FirstSendHeldWithItsClaimsEndedAsync(NotificationScenario s)
    {
        var inc = await s.CreateIncidentAsync("P1");
        var held = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        s.Statuspage.ScriptApplies = q => q.Method == "POST";
        s.Statuspage.ThenHoldThenHandle(held, release.Task);
        var (a, _, config) = s.NewEngine();
        a.Notifications.Options = Options(TimeSpan.FromSeconds(20));
        var prepared = await a.Notifications.PrepareAsync(config,
            new IncidentUpdateRequest { IncidentId = inc.Id, Message = "Checkout is failing", Channels = ["status"] }, CancellationToken.None);
        var sendA = a.Notifications.SendAsync(prepared, null, Context, CancellationToken.None);
        await held.Task.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(2, await TerminateClaimsAsync(s));
        return (inc, config, sendA, release);
    }

    [Fact]
    public async Task A_second_sender_after_the_first_senders_claim_was_killed_mid_POST_waits_for_it_and_opens_no_second_public_incident()
    {
        using var s = NotificationScenario.OnTeamStore();
        var (inc, config, sendA, release) = await FirstSendHeldWithItsClaimsEndedAsync(s);

        // A teammate's Send-IncidentUpdate -Pending: the outbox says Unknown (A's attempt had started).
        var (b, bSink, _) = s.NewEngine();
        b.Notifications.Options = Options(TimeSpan.FromSeconds(20));
        var pendingB = b.Notifications.SendPendingAsync(config, inc.Id, null, Context, CancellationToken.None);
        var waiting = await WaitForVerboseAsync(bSink, "may still be in flight", pendingB);
        Assert.Contains($"{inc.Id} to 'status': another sender's request may still be in flight", waiting);
        Assert.Contains(bSink.ProgressReports.ToArray(), p => p.ActivityId == 9 && p.Activity.Contains("'status'", StringComparison.Ordinal));
        release.SetResult();

        var resultA = Assert.Single(await sendA.WaitAsync(TimeSpan.FromSeconds(60)));
        var resultB = Assert.Single(await pendingB.WaitAsync(TimeSpan.FromSeconds(60)));
        Assert.True(resultA.Delivered, resultA.Error);
        Assert.Equal("sp-1", resultA.ProviderId);
        // B reports what A did: delivered, to the one public incident, and it posted nothing itself.
        Assert.True(resultB.Delivered, resultB.Error);
        Assert.Equal("sp-1", resultB.ProviderId);
        Assert.Equal(1, s.StatuspageApi.Creates);
        Assert.Single(s.Statuspage.Requests, q => q.Method == "POST");
        Assert.DoesNotContain(s.Statuspage.Requests, q => q.Method == "PATCH");
        Assert.Contains(Verbose(bSink), m => m.Contains("the other sender's attempt ended Delivered; not sent again", StringComparison.Ordinal));
        Assert.Empty(await b.Notifications.GetUpdatesAsync(config, inc.Id, pendingOnly: true, CancellationToken.None));
    }

    [Fact]
    public async Task A_new_update_sent_while_the_first_POST_of_a_sender_whose_claim_was_killed_is_in_flight_updates_that_incident_instead_of_opening_another()
    {
        using var s = NotificationScenario.OnTeamStore();
        var (inc, config, sendA, release) = await FirstSendHeldWithItsClaimsEndedAsync(s);

        // A teammate (or an alerting round) sends the next update meanwhile: its own update, never tried before.
        var (b, bSink, _) = s.NewEngine();
        b.Notifications.Options = Options(TimeSpan.FromSeconds(20));
        var next = await b.Notifications.PrepareAsync(config,
            new IncidentUpdateRequest { IncidentId = inc.Id, Status = IncidentStatus.Identified, Message = "Pool exhausted", Channels = ["status"] }, CancellationToken.None);
        var sendB = b.Notifications.SendAsync(next, null, Context, CancellationToken.None);
        await WaitForVerboseAsync(bSink, "may still be in flight", sendB);
        release.SetResult();

        Assert.True(Assert.Single(await sendA.WaitAsync(TimeSpan.FromSeconds(60))).Delivered);
        var resultB = Assert.Single(await sendB.WaitAsync(TimeSpan.FromSeconds(60)));
        Assert.True(resultB.Delivered, resultB.Error);
        Assert.Equal(1, s.StatuspageApi.Creates);
        var page = Assert.Single(s.StatuspageApi.Incidents);
        Assert.Equal(2, page["incident_updates"]!.AsArray().Count);
        Assert.Single(s.Statuspage.Requests, q => q.Method == "PATCH" && q.Path.EndsWith("/incidents/sp-1", StringComparison.Ordinal));
    }

    /// <summary>An outbox entry as a sender leaves it while its request to the status page is out.</summary>
    private static async Task<IncidentUpdate> InFlightEntryAsync(NotificationScenario s, Incident inc, TimeSpan inFlightFor)
    {
        var now = DateTimeOffset.UtcNow;
        var update = new IncidentUpdate
        {
            UpdateId = $"UPD-{now:yyyyMMddHHmmssfff}-abcd", IncidentId = inc.Id, Kind = NotificationKind.Initial, Status = IncidentStatus.Investigating,
            Message = "Checkout is failing", CreatedAt = now,
            Deliveries = [new ChannelDelivery { Channel = "status", ChannelType = IncidentOps.Config.ChannelType.Statuspage, State = DeliveryState.Unknown, Attempts = 1, LastAttemptAt = now, InFlightUntil = now + inFlightFor }],
        };
        await s.Incidents.WriteOutboxEntryAsync(update, CancellationToken.None);
        return update;
    }

    [Fact]
    public async Task The_wait_for_another_senders_request_in_flight_stops_at_once_on_CtrlC_and_sends_nothing()
    {
        using var s = new NotificationScenario();
        var inc = await s.CreateIncidentAsync("P1");
        await InFlightEntryAsync(s, inc, TimeSpan.FromSeconds(8));
        var (b, sink, config) = s.NewEngine();
        b.Notifications.Options = Options(TimeSpan.FromSeconds(20));
        using var cts = new CancellationTokenSource();
        var pending = b.Notifications.SendPendingAsync(config, inc.Id, null, Context, cts.Token);
        await WaitForVerboseAsync(sink, "may still be in flight", pending);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        cts.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => pending.WaitAsync(TimeSpan.FromSeconds(30)));
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(7.5), $"Ctrl+C took {clock.Elapsed}");   // the wait itself would last 9 s
        Assert.Empty(s.Statuspage.Requests);
        Assert.Equal(DeliveryState.Unknown, Assert.Single(Assert.Single(await s.Incidents.ReadOutboxAsync(inc.Id, CancellationToken.None)).Deliveries).State);
    }

    [Fact]
    public async Task A_request_in_flight_longer_than_the_senders_own_deadline_is_left_pending_with_when_to_run_Pending_and_nothing_is_sent()
    {
        using var s = new NotificationScenario();
        var inc = await s.CreateIncidentAsync("P1");
        await InFlightEntryAsync(s, inc, TimeSpan.FromMinutes(2));
        var (b, _, config) = s.NewEngine();
        b.Notifications.Options = Options(TimeSpan.FromSeconds(10));
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var r = Assert.Single(await b.Notifications.SendPendingAsync(config, inc.Id, null, Context, CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(30)));
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(15), $"took {clock.Elapsed}");   // waiting would take 2 minutes
        Assert.False(r.Delivered);
        Assert.Equal(DeliveryState.Unknown, r.State);
        Assert.StartsWith("Not sent: another sender's request to Statuspage for this incident may still be in flight until ", r.Error);
        Assert.Contains($"run Send-IncidentUpdate -Pending -Incident {inc.Id} after ", r.Error);
        Assert.Empty(s.Statuspage.Requests);
    }
}
