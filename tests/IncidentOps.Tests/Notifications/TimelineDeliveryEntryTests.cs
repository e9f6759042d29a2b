using System.Reflection;
using System.Runtime.ExceptionServices;
using IncidentOps.Config;
using IncidentOps.Engine.Incidents;
using IncidentOps.Engine.Notifications;
using IncidentOps.Engine.Notifications.Slack;
using IncidentOps.Incidents;
using IncidentOps.Notifications;
using Xunit;

namespace IncidentOps.Tests.Notifications;

/// <summary>
/// Each delivery of an update is told by exactly one timeline entry: a sender that died after recording the delivery and before
/// its entry, with no other sender on that update, gets its entry from the next Send-IncidentUpdate -Pending (once, even with two
/// at once); and the store itself refuses a second entry for one delivery, also when the first arrives later from the spool of a
/// sender that wrote it while PostgreSQL did not answer. Real PostgreSQL and file stores, loopback providers.
/// </summary>
public class TimelineDeliveryEntryTests
{
    private static readonly ChangeContext Context = new("Send-IncidentUpdate");

    private static NotificationOptions Options() =>
        new() { BackoffBase = TimeSpan.FromMilliseconds(20), RequestTimeout = TimeSpan.FromSeconds(20), InFlightMargin = TimeSpan.FromSeconds(1) };

    private static async Task<List<TimelineEntry>> UpdateEntriesAsync(NotificationScenario s, string incidentId, string updateId) =>
        (await s.Incidents.ReadTimelineAsync(incidentId, CancellationToken.None))
            .Where(e => e.Kind == "update" && e.Parameters.GetValueOrDefault("UpdateId") == updateId).ToList();

    /// <summary>Sender A delivers an update to Slack, records it Delivered, and dies before it adds its timeline entry; no other sender runs.</summary>
    private static async Task<(Incident Incident, string UpdateId)> DeliveredWithoutEntryAsync(NotificationScenario s)
    {
        var inc = await s.CreateIncidentAsync("P1");
        var (serviceA, _, config, aControl) = s.NewSender(HeldWriteStore.Wrap, Options());
        aControl.DieOnTimeline();
        var prepared = await serviceA.PrepareAsync(config,
            new IncidentUpdateRequest { IncidentId = inc.Id, Message = "Checkout is failing", Channels = ["incidents"] }, CancellationToken.None);
        await Assert.ThrowsAsync<InvalidOperationException>(() => serviceA.SendAsync(prepared, null, Context, CancellationToken.None));
        var stored = await s.Incidents.ReadOutboxEntryAsync(inc.Id, prepared.Update.UpdateId, CancellationToken.None);
        Assert.Equal(DeliveryState.Delivered, Assert.Single(stored!.Deliveries).State);
        Assert.Empty(await UpdateEntriesAsync(s, inc.Id, prepared.Update.UpdateId));
        return (inc, prepared.Update.UpdateId);
    }

    [Theory]
    [InlineData("file")]
    [InlineData("team")]
    public async Task Two_Pending_runs_at_once_add_the_missing_entry_of_a_delivery_whose_only_sender_died_before_its_entry_exactly_once(string storeKind)
    {
        using var s = NotificationScenario.On(storeKind);
        var (inc, updateId) = await DeliveredWithoutEntryAsync(s);

        var (b, _, config) = s.NewEngine();
        var (c, _, _) = s.NewEngine();
        var runs = await Task.WhenAll(
            b.Notifications.SendPendingAsync(config, inc.Id, null, Context, CancellationToken.None),
            c.Notifications.SendPendingAsync(config, inc.Id, null, Context, CancellationToken.None)).WaitAsync(TimeSpan.FromSeconds(60));
        Assert.All(runs, r => Assert.Empty(r));   // nothing re-sent

        var entry = Assert.Single(await UpdateEntriesAsync(s, inc.Id, updateId));
        Assert.Equal("incidents", entry.Target);
        Assert.Equal(TimelineOutcome.Succeeded, entry.Outcome);
        Assert.Equal("Send-IncidentUpdate", entry.Cmdlet);
        Assert.StartsWith("incidents: delivered (200, 1 attempt(s); sent by another sender, whose entry for it is not on the timeline (still in its spool, or never added))", entry.Result);
        Assert.Single(s.Slack.Requests);

        // A later -Pending finds it told: still one entry.
        Assert.Empty(await b.Notifications.SendPendingAsync(config, inc.Id, null, Context, CancellationToken.None));
        Assert.Single(await UpdateEntriesAsync(s, inc.Id, updateId));
    }

    [Theory]
    [InlineData("file")]
    [InlineData("team")]
    public async Task Pending_WhatIf_says_it_would_add_the_missing_entry_and_adds_nothing(string storeKind)
    {
        using var s = NotificationScenario.On(storeKind);
        var (inc, updateId) = await DeliveredWithoutEntryAsync(s);
        var before = (await s.Incidents.ReadTimelineAsync(inc.Id, CancellationToken.None)).Count;

        var (w, _, config) = s.NewEngine();
        var plan = await w.Notifications.PlanPendingAsync(config, inc.Id, null, force: false, CancellationToken.None);

        var step = Assert.Single(plan);
        Assert.Equal($"the timeline of {inc.Id}", step.Target);
        Assert.StartsWith($"Add the missing entry of Initial alert (Investigating) {updateId} to incidents: recorded delivered in the outbox, sent by a sender whose entry for it is not on the timeline, still in its spool or never added", step.Action);
        Assert.Equal(before, (await s.Incidents.ReadTimelineAsync(inc.Id, CancellationToken.None)).Count);
        Assert.Single(s.Slack.Requests);
    }

    [Theory]
    [InlineData("file")]
    [InlineData("team")]
    public async Task The_store_refuses_a_second_entry_for_one_delivery_and_an_older_versions_entry_without_keys_still_counts(string storeKind)
    {
        using var s = NotificationScenario.On(storeKind);
        var inc = await s.CreateIncidentAsync("P1");
        var key = IncidentStores.DeliveryKey("UPD-20261201-0001", "incidents");
        TimelineEntry Told(string who) => new()
        {
            Kind = "update", Action = "Status update (Investigating)", Target = "incidents", Outcome = TimelineOutcome.Succeeded,
            Result = $"incidents: delivered (200, 1 attempt(s)) by {who}", DeliveryKeys = [key],
            Parameters = new Dictionary<string, string> { ["UpdateId"] = "UPD-20261201-0001" },
        };
        await s.Incidents.AppendTimelineAsync(inc.Id, Told("A"), CancellationToken.None);
        var refused = await Assert.ThrowsAsync<DeliveryAlreadyToldException>(() => s.Incidents.AppendTimelineAsync(inc.Id, Told("B"), CancellationToken.None));
        Assert.Equal([key], refused.Keys);
        Assert.Equal(IncidentErrorIds.DeliveryAlreadyTold, refused.ErrorId);
        Assert.Equal("TimelineDeliveryAlreadyTold", refused.ErrorId);
        Assert.Contains(key, refused.Message);
        var kept = Assert.Single(await s.Incidents.ReadTimelineAsync(inc.Id, CancellationToken.None), e => e.Kind == "update");
        Assert.EndsWith("by A", kept.Result);
        Assert.Equal([key], kept.DeliveryKeys);

        // An entry as an older version wrote it (no keys) is read as before, and its text still tells the delivery.
        await s.Incidents.AppendTimelineAsync(inc.Id, new TimelineEntry
        {
            Kind = "update", Action = "Status update (Identified)", Target = "incidents,pager", Outcome = TimelineOutcome.Succeeded,
            Result = "incidents: delivered (200, 1 attempt(s)); pager: delivered (202, 1 attempt(s))",
            Parameters = new Dictionary<string, string> { ["UpdateId"] = "UPD-20261201-0002" },
        }, CancellationToken.None);
        var old = Assert.Single(await s.Incidents.ReadTimelineAsync(inc.Id, CancellationToken.None), e => e.Action == "Status update (Identified)");
        Assert.Null(old.DeliveryKeys);
        var update = new IncidentUpdate
        {
            UpdateId = "UPD-20261201-0002", IncidentId = inc.Id, Kind = NotificationKind.Update, Status = IncidentStatus.Identified, CreatedAt = DateTimeOffset.UtcNow,
            Deliveries = [new ChannelDelivery { Channel = "incidents", ChannelType = ChannelType.Slack }, new ChannelDelivery { Channel = "pager", ChannelType = ChannelType.PagerDuty }],
        };
        Assert.Equal(["incidents", "pager"], NotificationService.ToldDeliveries(await s.Incidents.ReadTimelineAsync(inc.Id, CancellationToken.None), update).Order());
    }

    [Fact]
    public async Task A_spooled_entry_of_a_delivery_that_another_sender_told_meanwhile_is_not_written_twice_when_the_spool_is_flushed()
    {
        using var s = NotificationScenario.On("team");
        var inc = await s.CreateIncidentAsync("P1");
        var slack = new NotificationScenario.Held();
        s.Slack.ThenHoldThenHandle(slack.Reached, slack.Released);

        // Sender A on its own machine (its own spool folder): PostgreSQL does not answer its timeline append (the incident's row
        // held by a stuck transaction past the call timeout), so A's entry goes to A's local spool.
        var aLocal = Paths.TempDir("io-notify-a");
        try
        {
            var (a, aSink, config) = s.NewEngine();
            var aWarnings = new List<string>();
            var teamA = new PostgresIncidentStore(TestServers.PostgresConnectionString, s.TeamSchema!, aLocal) { Warning = w => { lock (aWarnings) aWarnings.Add(w); } };
            var aStore = RowHeldAtTimelineStore.Wrap(teamA, s.TeamSchema!, inc.Id);
            var serviceA = new NotificationService(_ => aStore, aSink, a.References, a.Timeline, NotificationSender.SharedClient,
                new Lazy<SlackIncidentChannel>(() => a.IncidentChannels)) { Options = Options() };
            var prepared = await serviceA.PrepareAsync(config,
                new IncidentUpdateRequest { IncidentId = inc.Id, Message = "Checkout is failing", Channels = ["incidents"] }, CancellationToken.None);
            var updateId = prepared.Update.UpdateId;
            var sendA = serviceA.SendAsync(prepared, null, Context, CancellationToken.None);
            await slack.Reached.Task.WaitAsync(TimeSpan.FromSeconds(30));

            // Sender B (-Pending) reads the update pending and waits for its claim, which A holds.
            var (serviceB, _, _, gate) = s.NewSender(store => GatedStore.Wrap(store, updateId), Options());
            var pendingB = serviceB.SendPendingAsync(config, inc.Id, null, Context, CancellationToken.None);
            await gate.Reached.WaitAsync(TimeSpan.FromSeconds(30));

            slack.Release();
            Assert.True(Assert.Single(await sendA.WaitAsync(TimeSpan.FromSeconds(90))).Delivered);
            Assert.Contains(aWarnings, w => w.Contains("was kept in the local spool", StringComparison.Ordinal));
            Assert.True(File.Exists(teamA.SpoolPath));

            // B finds it delivered, and no entry on the timeline (A's is in A's spool, which B cannot see): B tells it.
            gate.Open();
            Assert.Empty(await pendingB.WaitAsync(TimeSpan.FromSeconds(60)));
            // B's entry says what B knows: the sender's own entry is not on the timeline (it is in A's spool), not that A added none.
            Assert.StartsWith("incidents: delivered (200, 1 attempt(s); sent by another sender, whose entry for it is not on the timeline (still in its spool, or never added))",
                Assert.Single(await UpdateEntriesAsync(s, inc.Id, updateId)).Result);

            // A's next call reaches the store and flushes its spool: the delivery is told already, so A's entry is not written.
            await teamA.ReadTimelineAsync(inc.Id, CancellationToken.None);
            Assert.False(File.Exists(teamA.SpoolPath));
            var entry = Assert.Single(await UpdateEntriesAsync(s, inc.Id, updateId));
            Assert.StartsWith("incidents: delivered (200", entry.Result);
            Assert.Contains(aWarnings, w => w.Contains("was not written: another entry on its timeline already tells the same deliveries", StringComparison.Ordinal));
            Assert.Single(s.Slack.Requests);
        }
        finally { Paths.DeleteTree(aLocal); }
    }

    /// <summary>
    /// A team store whose timeline appends find the incident's row held by another transaction (a stuck session) until the
    /// append gives up (the store's call timeout) and spools the entry; the row is let go right after.
    /// </summary>
    public class RowHeldAtTimelineStore : DispatchProxy
    {
        private IIncidentStore _inner = null!;
        private string _schema = "";
        private string _incidentId = "";

        public static IIncidentStore Wrap(IIncidentStore inner, string schema, string incidentId)
        {
            var store = Create<IIncidentStore, RowHeldAtTimelineStore>();
            var control = (RowHeldAtTimelineStore)(object)store;
            (control._inner, control._schema, control._incidentId) = (inner, schema, incidentId);
            return store;
        }

        protected override object? Invoke(MethodInfo? targetMethod, object?[]? args)
        {
            if (targetMethod!.Name == nameof(IIncidentStore.AppendTimelineAsync))
                return HeldAppendAsync((string)args![0]!, (TimelineEntry)args[1]!, (CancellationToken)args[2]!);
            try { return targetMethod.Invoke(_inner, args); }
            catch (TargetInvocationException ex) { ExceptionDispatchInfo.Throw(ex.InnerException!); throw; }
        }

        private async Task HeldAppendAsync(string id, TimelineEntry entry, CancellationToken cancellationToken)
        {
            await using var holder = new Npgsql.NpgsqlConnection(TestServers.PostgresConnectionString);
            await holder.OpenAsync(cancellationToken);
            await using (var hold = new Npgsql.NpgsqlCommand($"BEGIN; SELECT 1 FROM \"{_schema}\".incidents WHERE id = '{_incidentId}' FOR UPDATE;", holder))
                await hold.ExecuteNonQueryAsync(cancellationToken);
            await _inner.AppendTimelineAsync(id, entry, cancellationToken);
            await using var rollback = new Npgsql.NpgsqlCommand("ROLLBACK", holder);
            await rollback.ExecuteNonQueryAsync(CancellationToken.None);
        }
    }
}
