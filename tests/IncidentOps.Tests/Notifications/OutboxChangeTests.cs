using IncidentOps.Config;
using IncidentOps.Engine.Notifications;
using IncidentOps.Incidents;
using IncidentOps.Notifications;
using Xunit;

namespace IncidentOps.Tests.Notifications;

/// <summary>
/// The store's change of one outbox entry (read, change, write in one step) on the file and the team store: concurrent
/// changes of different channels of one entry all land; and the engine's join keeps every recorded outcome.
/// </summary>
public class OutboxChangeTests
{
    private static IncidentUpdate Entry(string incidentId, int channels) => new()
    {
        UpdateId = "UPD-20261130000000000-0001", IncidentId = incidentId, Kind = NotificationKind.Initial, Status = IncidentStatus.Investigating,
        Deliveries = Enumerable.Range(0, channels).Select(i => new ChannelDelivery { Channel = $"c{i}", ChannelType = ChannelType.Webhook }).ToList(),
    };

    [Theory]
    [InlineData("file")]
    [InlineData("team")]
    public async Task Concurrent_changes_of_different_channels_of_one_entry_all_land(string storeKind)
    {
        using var s = NotificationScenario.On(storeKind);
        var inc = await s.CreateIncidentAsync("P1");
        var entry = Entry(inc.Id, 12);
        await s.Incidents.WriteOutboxEntryAsync(entry, CancellationToken.None);
        // Twelve writers, each from the same stale copy, each recording its own channel delivered.
        await Task.WhenAll(Enumerable.Range(0, 12).Select(i => Task.Run(async () =>
        {
            var mine = Entry(inc.Id, 12);
            mine.Deliveries[i].State = DeliveryState.Delivered;
            mine.Deliveries[i].StatusCode = 200 + i;
            await s.Incidents.ChangeOutboxEntryAsync(inc.Id, entry.UpdateId, stored => OutboxMerge.Merge(stored, mine, [$"c{i}"]), CancellationToken.None);
        })));
        var stored = (await s.Incidents.ReadOutboxEntryAsync(inc.Id, entry.UpdateId, CancellationToken.None))!;
        Assert.All(stored.Deliveries, d => Assert.Equal(DeliveryState.Delivered, d.State));
        Assert.Equal(Enumerable.Range(200, 12).Select(i => (int?)i), stored.Deliveries.Select(d => d.StatusCode));
        Assert.False(stored.Pending);
    }

    [Theory]
    [InlineData("file")]
    [InlineData("team")]
    public async Task A_change_that_returns_null_writes_nothing_and_returns_what_is_stored(string storeKind)
    {
        using var s = NotificationScenario.On(storeKind);
        var inc = await s.CreateIncidentAsync("P1");
        Assert.Null(await s.Incidents.ChangeOutboxEntryAsync(inc.Id, "UPD-20261130000000000-0001", _ => null, CancellationToken.None));
        Assert.Empty(await s.Incidents.ReadOutboxAsync(inc.Id, CancellationToken.None));
    }

    [Theory]
    [InlineData(DeliveryState.Pending)]
    [InlineData(DeliveryState.Unknown)]
    [InlineData(DeliveryState.Failed)]
    [InlineData(DeliveryState.Superseded)]
    public void A_recorded_delivery_never_goes_back_whatever_a_record_from_an_older_read_says(DeliveryState stale)
    {
        var stored = Entry("INC-20261130-001", 2);
        stored.Deliveries[0].State = DeliveryState.Delivered;
        stored.Deliveries[0].StatusCode = 200;
        stored.Deliveries[0].ProviderId = "sp-1";
        var mine = Entry("INC-20261130-001", 2);
        mine.Deliveries[0].State = stale;
        mine.Deliveries[1].State = DeliveryState.Unknown;

        var merged = OutboxMerge.Merge(stored, mine, ["c0", "c1"]);

        Assert.Equal(DeliveryState.Delivered, merged.Deliveries[0].State);
        Assert.Equal("sp-1", merged.Deliveries[0].ProviderId);
        Assert.Equal(DeliveryState.Unknown, merged.Deliveries[1].State);
    }

    [Fact]
    public void Only_the_writers_own_channels_change_and_Superseded_gives_way_only_to_Delivered()
    {
        var stored = Entry("INC-20261130-001", 3);
        stored.Deliveries[0].State = DeliveryState.Failed;
        stored.Deliveries[1].State = DeliveryState.Superseded;
        stored.Deliveries[2].State = DeliveryState.Superseded;
        var mine = Entry("INC-20261130-001", 3);
        mine.Deliveries[0].State = DeliveryState.Pending;     // not the writer's channel
        mine.Deliveries[1].State = DeliveryState.Unknown;
        mine.Deliveries[2].State = DeliveryState.Delivered;

        var merged = OutboxMerge.Merge(stored, mine, ["c1", "c2"]);

        Assert.Equal([DeliveryState.Failed, DeliveryState.Superseded, DeliveryState.Delivered], merged.Deliveries.Select(d => d.State));
        Assert.NotSame(mine.Deliveries[2], merged.Deliveries[2]);
    }
}
