using IncidentOps.Engine.Incidents;
using IncidentOps.Incidents;
using Xunit;

namespace IncidentOps.Tests.Incidents;

/// <summary>
/// A status update's timeline entry that waited in the team store's spool (PostgreSQL was down when its sender wrote it)
/// tells every channel of that send; another sender may have told one of those deliveries meanwhile. The flush writes the
/// entry without the deliveries already told, so what no other entry tells (another channel's delivery, a channel's failure)
/// stays on the timeline; only an entry with nothing untold left is dropped. Before, the whole entry was dropped with a
/// warning. On a PostgreSQL of the test's own, stopped and started again.
/// </summary>
public sealed class SpoolToldDeliveryTests : IDisposable
{
    private readonly PrivatePostgres _pg = new();
    private readonly string _local = Paths.TempDir("io-spool-told");
    private readonly string _rivalLocal = Paths.TempDir("io-spool-told-rival");

    public void Dispose()
    {
        _pg.Dispose();
        Paths.DeleteTree(_local);
        Paths.DeleteTree(_rivalLocal);
    }

    private static readonly ChangeContext Context = new("Send-IncidentUpdate");

    /// <summary>An update entry as Send-IncidentUpdate writes it: channels in order, "; "-joined results, a key per delivered channel.</summary>
    internal static TimelineEntry UpdateEntry(string updateId, params (string Channel, string? Error)[] channels) =>
        TimelineWriter.Entry(Context, "update", "Status update (Investigating)", string.Join(",", channels.Select(c => c.Channel)),
            channels.All(c => c.Error is null) ? TimelineOutcome.Succeeded : TimelineOutcome.Failed,
            string.Join("; ", channels.Select(c => c.Error is null ? $"{c.Channel}: delivered (200, 1 attempt(s))" : $"{c.Channel}: NOT delivered, Failed ({c.Error})")),
            new Dictionary<string, string> { ["UpdateId"] = updateId, ["Message"] = "Checkout is failing" },
            channels.Where(c => c.Error is null).Select(c => IncidentStores.DeliveryKey(updateId, c.Channel)).ToList());

    /// <summary>The entry of a sender that adopted another sender's delivery (that sender's entry not on the timeline).</summary>
    internal static TimelineEntry AdoptedEntry(string updateId, string channel) =>
        TimelineWriter.Entry(Context, "update", "Status update (Investigating)", channel, TimelineOutcome.Succeeded,
            $"{channel}: delivered (200, 1 attempt(s); sent by another sender, whose entry for it is not on the timeline (still in its spool, or never added))",
            new Dictionary<string, string> { ["UpdateId"] = updateId, ["Message"] = "Checkout is failing" },
            [IncidentStores.DeliveryKey(updateId, channel)]);

    [Fact]
    public async Task A_spooled_entry_whose_slack_delivery_another_sender_told_meanwhile_is_written_without_slack_and_keeps_teams_and_the_failure()
    {
        var warnings = new List<string>();
        var store = new PostgresIncidentStore(_pg.ConnectionString + ";Timeout=2", "team", _local);
        await store.InitializeAsync(CancellationToken.None);
        var incident = await store.CreateAsync(id => new Incident { Id = id, Title = "checkout down", Severity = "P1" }, CancellationToken.None);

        _pg.Stop();
        var down = new PostgresIncidentStore(_pg.ConnectionString + ";Timeout=2", "team", _local) { Warning = w => { lock (warnings) warnings.Add(w); } };
        Assert.Equal(IncidentErrorIds.StoreUnavailable, (await Assert.ThrowsAsync<IncidentOpsException>(() => down.GetAsync(incident.Id, CancellationToken.None))).ErrorId);
        // Three sends told while the store is down: the error text of statuspage has a "; " of its own.
        var mixed = UpdateEntry("UPD-20261201-0001", ("slack", null), ("teams", null), ("statuspage", "HTTP 500: upstream timeout; retry later"));
        var delivered = UpdateEntry("UPD-20261201-0002", ("slack", null), ("teams", null));
        var slackOnly = UpdateEntry("UPD-20261201-0003", ("slack", null));
        foreach (var e in new[] { mixed, delivered, slackOnly }) await down.AppendTimelineAsync(incident.Id, e, CancellationToken.None);
        Assert.Equal(3, down.SpooledCount());

        // The store is back; another sender (another machine: its own spool folder) tells the Slack deliveries first.
        _pg.Start();
        var rival = new PostgresIncidentStore(_pg.ConnectionString, "team", _rivalLocal);
        foreach (var u in new[] { "UPD-20261201-0001", "UPD-20261201-0002", "UPD-20261201-0003" })
            await rival.AppendTimelineAsync(incident.Id, AdoptedEntry(u, "slack"), CancellationToken.None);

        // This user's next command reaches the store and flushes the spool.
        var back = new PostgresIncidentStore(_pg.ConnectionString, "team", _local) { Warning = w => { lock (warnings) warnings.Add(w); } };
        var timeline = await back.ReadTimelineAsync(incident.Id, CancellationToken.None);
        Assert.False(File.Exists(back.SpoolPath));

        List<TimelineEntry> Of(string u) => timeline.Where(e => e.Kind == "update" && e.Parameters["UpdateId"] == u).ToList();
        // 1: slack told by the rival; teams' delivery and statuspage's failure (its "; " inside) told by the spooled entry.
        var one = Of("UPD-20261201-0001");
        Assert.Equal(2, one.Count);
        Assert.Single(one, e => e.Target == "slack");
        var rest = Assert.Single(one, e => e.Target != "slack");
        Assert.Equal("teams,statuspage", rest.Target);
        Assert.Equal("teams: delivered (200, 1 attempt(s)); statuspage: NOT delivered, Failed (HTTP 500: upstream timeout; retry later) (slack: told by another entry)", rest.Result);
        Assert.Equal(TimelineOutcome.Failed, rest.Outcome);
        Assert.Equal([IncidentStores.DeliveryKey("UPD-20261201-0001", "teams")], rest.DeliveryKeys);
        Assert.Contains(warnings, w => w.Contains($"The spooled timeline entry 'Status update (Investigating)' for {incident.Id} was written for teams, statuspage only: another entry on its timeline already tells the delivery to slack.", StringComparison.Ordinal));
        // 2: what remains was all delivered: Succeeded.
        var two = Of("UPD-20261201-0002");
        Assert.Equal(["slack", "teams"], two.Select(e => e.Target).Order());
        var teams = Assert.Single(two, e => e.Target == "teams");
        Assert.Equal("teams: delivered (200, 1 attempt(s)) (slack: told by another entry)", teams.Result);
        Assert.Equal(TimelineOutcome.Succeeded, teams.Outcome);
        // 3: nothing untold remains: dropped whole, and the warning says which delivery another entry tells.
        Assert.Equal(["slack"], Of("UPD-20261201-0003").Select(e => e.Target));
        Assert.Contains(warnings, w => w.Contains($"The spooled timeline entry 'Status update (Investigating)' for {incident.Id} was not written: another entry on its timeline already tells the same deliveries (slack), and it tells nothing else.", StringComparison.Ordinal));
        Assert.Contains(warnings, w => w.Contains("Wrote 2 spooled timeline entries", StringComparison.Ordinal));

        // Each delivery told once; another call writes nothing twice.
        var keys = timeline.SelectMany(e => e.DeliveryKeys ?? []).ToList();
        Assert.Equal(keys.Count, keys.Distinct().Count());
        await back.AppendTimelineAsync(incident.Id, new TimelineEntry { Kind = "note", Action = "back" }, CancellationToken.None);
        Assert.Equal(timeline.Count + 1, (await back.ReadTimelineAsync(incident.Id, CancellationToken.None)).Count);
    }
}
