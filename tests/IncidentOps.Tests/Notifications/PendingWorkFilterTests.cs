using System.Text.RegularExpressions;
using IncidentOps.Config;
using IncidentOps.Engine.Incidents;
using IncidentOps.Engine.Notifications;
using IncidentOps.Incidents;
using IncidentOps.Notifications;
using Xunit;

namespace IncidentOps.Tests.Notifications;

/// <summary>
/// Send-IncidentUpdate -Pending without -Incident asks the store which incidents may have outbox work
/// (<see cref="IIncidentStore.ListOutboxWorkAsync"/>: one query on PostgreSQL) instead of reading the outbox and timeline of
/// every incident: over 200 incidents of a real PostgreSQL team store, of which a few have a pending update, a few a delivery
/// no timeline entry tells (by key or, for an older version's entry without keys, by text), the store names exactly those,
/// and -Pending (and its -WhatIf plan) re-sends and reconciles exactly as the old path over every incident does, touching
/// none of the settled incidents. Loopback Slack and PagerDuty stand-ins.
/// </summary>
public class PendingWorkFilterTests
{
    private static readonly ChangeContext Context = new("Send-IncidentUpdate");
    private const int Incidents = 200;

    private sealed record Seeded(IReadOnlyList<string> All, IReadOnlyList<string> Work, IReadOnlyList<string> Pending, IReadOnlyList<string> Untold);

    private static ChannelDelivery Delivered(string channel, ChannelType type = ChannelType.Slack) =>
        new() { Channel = channel, ChannelType = type, State = DeliveryState.Delivered, Attempts = 1, StatusCode = 200, DeliveredAt = DateTimeOffset.UtcNow.AddMinutes(-5) };

    private static IncidentUpdate Update(string incidentId, int n, int i, params ChannelDelivery[] deliveries) => new()
    {
        UpdateId = $"UPD-2026120100000{n}-{i:x4}", IncidentId = incidentId, Kind = NotificationKind.Update, Status = IncidentStatus.Investigating,
        Message = $"Update {n} of incident {i}", CreatedAt = DateTimeOffset.UtcNow.AddMinutes(-30 + n), Deliveries = [.. deliveries],
    };

    private static TimelineEntry Told(IncidentUpdate u, string result, bool keys = true, params string[] delivered) => new()
    {
        Kind = "update", Cmdlet = "Send-IncidentUpdate", Action = "Status update (Investigating)", Target = string.Join(",", u.Deliveries.Select(d => d.Channel)),
        Outcome = TimelineOutcome.Succeeded, Result = result, Parameters = new Dictionary<string, string> { ["UpdateId"] = u.UpdateId },
        DeliveryKeys = keys ? delivered.Select(c => IncidentStores.DeliveryKey(u.UpdateId, c)).ToList() : null,
    };

    /// <summary>
    /// 200 incidents. Every 50th from 3: a pending update (Failed on Slack); from 7: delivered on Slack, no timeline entry;
    /// from 11: delivered, told by an older version's entry without keys (settled); from 13: delivered to Slack and PagerDuty,
    /// an entry without keys tells only Slack (PagerDuty's is missing); from 17: delivered to a channel spelled "Incidents",
    /// told by its (lower-case) key. The rest settled: every other one has a delivered and told update and a Superseded one.
    /// </summary>
    private static async Task<Seeded> SeedAsync(IIncidentStore store)
    {
        var all = new List<string>();
        var work = new List<string>();
        var pending = new List<string>();
        var untold = new List<string>();
        for (var i = 0; i < Incidents; i++)
        {
            var inc = await store.CreateAsync(id => new Incident
            {
                Id = id, Title = $"Checkout returns 502 ({i})", Severity = "P1", Services = ["api"], Impact = "All checkouts fail", StartedAt = DateTimeOffset.UtcNow.AddHours(-1),
            }, CancellationToken.None);
            all.Add(inc.Id);
            switch (i % 50)
            {
                case 3:
                {
                    var u = Update(inc.Id, 1, i, new ChannelDelivery { Channel = "incidents", ChannelType = ChannelType.Slack, State = DeliveryState.Failed, Attempts = 3, StatusCode = 503, Error = "503" });
                    await store.WriteOutboxEntryAsync(u, CancellationToken.None);
                    work.Add(inc.Id); pending.Add(inc.Id);
                    break;
                }
                case 7:
                    await store.WriteOutboxEntryAsync(Update(inc.Id, 1, i, Delivered("incidents")), CancellationToken.None);
                    work.Add(inc.Id); untold.Add(inc.Id);
                    break;
                case 11:
                {
                    var u = Update(inc.Id, 1, i, Delivered("incidents"));
                    await store.WriteOutboxEntryAsync(u, CancellationToken.None);
                    await store.AppendTimelineAsync(inc.Id, Told(u, "incidents: delivered (200, 1 attempt(s))", keys: false), CancellationToken.None);
                    break;
                }
                case 13:
                {
                    var u = Update(inc.Id, 1, i, Delivered("incidents"), Delivered("pager", ChannelType.PagerDuty));
                    await store.WriteOutboxEntryAsync(u, CancellationToken.None);
                    await store.AppendTimelineAsync(inc.Id, Told(u, "incidents: delivered (200, 1 attempt(s)); pager: NOT delivered, Failed (timeout)", keys: false), CancellationToken.None);
                    work.Add(inc.Id); untold.Add(inc.Id);
                    break;
                }
                case 17:
                {
                    var u = Update(inc.Id, 1, i, Delivered("Incidents"));
                    await store.WriteOutboxEntryAsync(u, CancellationToken.None);
                    await store.AppendTimelineAsync(inc.Id, Told(u, "Incidents: delivered (200, 1 attempt(s))", true, "Incidents"), CancellationToken.None);
                    break;
                }
                default:
                    if (i % 2 == 1) break;   // no update at all
                    var old = Update(inc.Id, 1, i, new ChannelDelivery { Channel = "incidents", ChannelType = ChannelType.Slack, State = DeliveryState.Superseded, Error = "superseded" });
                    var later = Update(inc.Id, 2, i, Delivered("incidents"), Delivered("pager", ChannelType.PagerDuty));
                    await store.WriteOutboxEntryAsync(old, CancellationToken.None);
                    await store.WriteOutboxEntryAsync(later, CancellationToken.None);
                    await store.AppendTimelineAsync(inc.Id, Told(later, "incidents: delivered (200, 1 attempt(s)); pager: delivered (202, 1 attempt(s))", true, "incidents", "pager"),
                        CancellationToken.None);
                    break;
            }
        }
        return new Seeded(all, work, pending, untold);
    }

    private static NotificationOptions Options() =>
        new() { BackoffBase = TimeSpan.FromMilliseconds(20), RequestTimeout = TimeSpan.FromSeconds(20), InFlightMargin = TimeSpan.FromSeconds(1) };

    [Fact]
    public async Task The_team_store_names_in_one_call_exactly_the_incidents_with_a_pending_update_or_an_untold_delivery()
    {
        using var s = NotificationScenario.OnTeamStore();
        var seeded = await SeedAsync(s.Incidents);
        Assert.Equal(12, seeded.Work.Count);

        var named = await s.Incidents.ListOutboxWorkAsync(CancellationToken.None);
        Assert.Equal(seeded.Work, named);   // in the order of ListAsync (ordinal by id)

        // What it leaves out needs nothing: the per-incident -WhatIf plan (the C# checks) of each is empty.
        var (engine, _, config) = s.NewEngine();
        foreach (var id in seeded.All.Except(named))
            Assert.Empty(await engine.Notifications.PlanPendingAsync(config, id, null, force: false, CancellationToken.None));

        // The file store keeps the old answer: every incident.
        Assert.Equal([.. (await s.Store.ListAsync(CancellationToken.None)).Select(i => i.Id)], await ((IIncidentStore)s.Store).ListOutboxWorkAsync(CancellationToken.None));
    }

    [Fact]
    public async Task Pending_without_Incident_resends_and_reconciles_as_over_every_incident_and_reads_only_the_named_ones()
    {
        using var before = NotificationScenario.OnTeamStore();
        using var after = NotificationScenario.OnTeamStore();
        var seeded = await SeedAsync(before.Incidents);
        Assert.Equal(seeded, await SeedAsync(after.Incidents), SeededComparer.Instance);

        var (oldPath, _, oldConfig, oldCalls) = before.NewSender(inner => CountingStore.Wrap(inner, everyIncident: true), Options());
        var (newPath, _, newConfig, newCalls) = after.NewSender(inner => CountingStore.Wrap(inner), Options());

        // -WhatIf: the same plan, and the new path reads nothing of a settled incident.
        var oldPlan = await oldPath.PlanPendingAsync(oldConfig, null, null, force: false, CancellationToken.None);
        var newPlan = await newPath.PlanPendingAsync(newConfig, null, null, force: false, CancellationToken.None);
        Assert.Equal(oldPlan.Select(Plain), newPlan.Select(Plain));
        Assert.Equal(seeded.Pending.Count + seeded.Untold.Count, newPlan.Count);
        Assert.Subset(seeded.Work.ToHashSet(), newCalls.Touched.ToHashSet());
        Assert.Equal(1, newCalls.Count(nameof(IIncidentStore.ListOutboxWorkAsync)));
        Assert.Equal(0, newCalls.Count(nameof(IIncidentStore.ListAsync)));
        Assert.Equal(Incidents, oldCalls.Touched.Count);

        oldCalls.Calls.Clear();
        newCalls.Calls.Clear();
        var oldResults = await oldPath.SendPendingAsync(oldConfig, null, null, Context, CancellationToken.None);
        var newResults = await newPath.SendPendingAsync(newConfig, null, null, Context, CancellationToken.None);

        // The same re-sends: each pending update delivered to Slack once, in both stores.
        Assert.Equal(oldResults.Select(r => (r.IncidentId, r.UpdateId, r.Channel, r.State)), newResults.Select(r => (r.IncidentId, r.UpdateId, r.Channel, r.State)));
        Assert.Equal(seeded.Pending, newResults.Select(r => r.IncidentId));
        Assert.All(newResults, r => Assert.Equal(DeliveryState.Delivered, r.State));
        Assert.Equal(seeded.Pending.Count, after.Slack.Requests.Count);
        Assert.Equal(seeded.Pending.Count, before.Slack.Requests.Count);

        // The same timelines: an entry for each re-send and for each delivery no entry told, nothing anywhere else.
        foreach (var id in seeded.All)
        {
            var o = (await before.Incidents.ReadTimelineAsync(id, CancellationToken.None)).Select(Plain).ToList();
            var n = (await after.Incidents.ReadTimelineAsync(id, CancellationToken.None)).Select(Plain).ToList();
            Assert.Equal(o, n);
        }
        foreach (var id in seeded.Untold)
            Assert.Contains(await after.Incidents.ReadTimelineAsync(id, CancellationToken.None), e => e.Result?.Contains("sent by another sender") == true);

        // The calls: one listing, then only the named incidents (the old path reads every incident's outbox, and timeline when it has a delivery).
        Assert.Equal(1, newCalls.Count(nameof(IIncidentStore.ListOutboxWorkAsync)));
        Assert.Equal(0, newCalls.Count(nameof(IIncidentStore.ListAsync)));
        Assert.Subset(seeded.Work.ToHashSet(), newCalls.Touched.ToHashSet());
        Assert.Equal(Incidents, oldCalls.Touched.Count);
        Assert.True(oldCalls.Count(nameof(IIncidentStore.ReadOutboxAsync)) >= 2 * Incidents, $"old path: {oldCalls.Count(nameof(IIncidentStore.ReadOutboxAsync))} outbox reads");
        Assert.Equal(1, newCalls.Calls.Count(c => c.Id is null));
        Assert.All(newCalls.Calls.Where(c => c.Id is not null), c => Assert.Contains(c.Id, seeded.Work));

        // Settled now: the store names nothing, and a second run does nothing.
        Assert.Empty(await after.Incidents.ListOutboxWorkAsync(CancellationToken.None));
        Assert.Empty(await newPath.SendPendingAsync(newConfig, null, null, Context, CancellationToken.None));
    }

    [Fact]
    public async Task Entries_in_shapes_the_query_cannot_judge_are_named_and_none_that_needs_work_is_left_out()
    {
        using var s = NotificationScenario.OnTeamStore();
        var ids = new List<string>();
        for (var i = 0; i < 8; i++)
            ids.Add((await s.CreateIncidentAsync(active: false, title: $"shape {i}")).Id);
        async Task WriteAsync(int i, IncidentUpdate u, string? rawEntry = null, TimelineEntry? told = null)
        {
            await s.Incidents.WriteOutboxEntryAsync(u, CancellationToken.None);
            if (told is not null) await s.Incidents.AppendTimelineAsync(ids[i], told, CancellationToken.None);
            if (rawEntry is null) return;
            await using var c = new Npgsql.NpgsqlConnection(TestServers.PostgresConnectionString);
            await c.OpenAsync();
            await using var cmd = new Npgsql.NpgsqlCommand($"UPDATE {s.TeamSchema}.outbox SET entry = @e::json, pending = false WHERE incident_id = @id", c);
            cmd.Parameters.AddWithValue("e", rawEntry);
            cmd.Parameters.AddWithValue("id", ids[i]);
            Assert.Equal(1, await cmd.ExecuteNonQueryAsync());
        }
        string Raw(int i, string deliveries) => $$"""{"updateId":"UPD-20261201000001-{{i:x4}}","incidentId":"{{ids[i]}}","kind":"Update","status":"Investigating","createdAt":"2026-12-01T00:00:00+00:00","deliveries":{{deliveries}}}""";

        // 0: state spelled in lower case (C# reads it Delivered), told by its key: settled.
        var u0 = Update(ids[0], 1, 0, Delivered("incidents"));
        await WriteAsync(0, u0, Raw(0, """[{"channel":"incidents","channelType":"Slack","state":"delivered","attempts":1}]"""), Told(u0, "incidents: delivered (200, 1 attempt(s))", true, "incidents"));
        // 1: state as a number (C# reads 1 as Delivered): the query cannot tell, so it is named.
        var u1 = Update(ids[1], 1, 1, Delivered("incidents"));
        await WriteAsync(1, u1, Raw(1, """[{"channel":"incidents","channelType":"Slack","state":1,"attempts":1}]"""), Told(u1, "incidents: delivered (200, 1 attempt(s))", true, "incidents"));
        // 2: a delivery without a state (C# reads Pending) while the column says not pending: named.
        await WriteAsync(2, Update(ids[2], 1, 2, Delivered("incidents")), Raw(2, """[{"channel":"incidents","channelType":"Slack","attempts":0}]"""));
        // 3: an older version's entry without keys, in capitals (C# compares ignoring case): settled.
        var u3 = Update(ids[3], 1, 3, Delivered("incidents"));
        await WriteAsync(3, u3, told: new TimelineEntry
        {
            Kind = "update", Target = "INCIDENTS", Result = "INCIDENTS: DELIVERED (200, 1 attempt(s))", Parameters = new Dictionary<string, string> { ["UpdateId"] = u3.UpdateId },
        });
        // 4: a channel with a non-ASCII capital, told by its key: the query folds A-Z only, so it names it (the C# check finds it told).
        var u4 = Update(ids[4], 1, 4, Delivered("Ärger"));
        await WriteAsync(4, u4, told: Told(u4, "Ärger: delivered (200, 1 attempt(s))", true, "Ärger"));
        // 5: an entry without keys whose target does not name the channel: untold, named.
        var u5 = Update(ids[5], 1, 5, Delivered("incidents"));
        await WriteAsync(5, u5, told: new TimelineEntry
        {
            Kind = "update", Target = "pager", Result = "incidents: delivered (200, 1 attempt(s))", Parameters = new Dictionary<string, string> { ["UpdateId"] = u5.UpdateId },
        });
        // 6: told by the key of another update: untold, named.
        var u6 = Update(ids[6], 2, 6, Delivered("incidents"));
        await WriteAsync(6, u6, told: Told(Update(ids[6], 1, 6, Delivered("incidents")), "incidents: delivered (200, 1 attempt(s))", true, "incidents"));
        // 7: Superseded only: settled.
        await WriteAsync(7, Update(ids[7], 1, 7, new ChannelDelivery { Channel = "incidents", ChannelType = ChannelType.Slack, State = DeliveryState.Superseded }));

        var named = await s.Incidents.ListOutboxWorkAsync(CancellationToken.None);
        Assert.Equal([ids[1], ids[2], ids[4], ids[5], ids[6]], named);
        var (engine, _, config) = s.NewEngine();
        foreach (var id in ids.Except(named))
            Assert.Empty(await engine.Notifications.PlanPendingAsync(config, id, null, force: false, CancellationToken.None));
        foreach (var i in new[] { 2, 5, 6 })
            Assert.NotEmpty(await engine.Notifications.PlanPendingAsync(config, ids[i], null, force: false, CancellationToken.None));
    }

    /// <summary>A plan step without the stand-in's port (each scenario has stand-ins of its own).</summary>
    private static string Plain(PendingPlanStep p) => Regex.Replace($"{p.Target} | {p.Action}", @"127\.0\.0\.1:\d+", "127.0.0.1:port");
    private static string Plain(TimelineEntry e) => $"{e.Kind} | {e.Cmdlet} | {e.Action} | {e.Target} | {e.Outcome} | {e.Result} | {string.Join(",", e.DeliveryKeys ?? [])}";

    private sealed class SeededComparer : IEqualityComparer<Seeded>
    {
        public static readonly SeededComparer Instance = new();
        public bool Equals(Seeded? x, Seeded? y) => x!.All.SequenceEqual(y!.All) && x.Work.SequenceEqual(y.Work) && x.Pending.SequenceEqual(y.Pending) && x.Untold.SequenceEqual(y.Untold);
        public int GetHashCode(Seeded obj) => obj.All.Count;
    }
}
