using IncidentOps.Config;
using IncidentOps.Engine.Notifications;
using IncidentOps.Incidents;
using IncidentOps.Notifications;
using Xunit;

namespace IncidentOps.Tests.Notifications;

/// <summary>
/// The join of one channel's record with what the store holds, when two senders' attempts overlap (the first sender's claim
/// ended): an attempt's in-flight record is cleared or replaced only by that attempt, and what each sender learnt is kept.
/// </summary>
public class OutboxMergeAttemptTests
{
    private static readonly DateTimeOffset T0 = new(2026, 12, 1, 2, 0, 0, TimeSpan.Zero);

    private static IncidentUpdate Entry(ChannelDelivery d) => new()
    {
        UpdateId = "UPD-20261201020000000-0001", IncidentId = "INC-20261201-001", Kind = NotificationKind.Initial, Status = IncidentStatus.Investigating,
        Deliveries = [d],
    };

    private static ChannelDelivery InFlight(string attempt, int attempts, TimeSpan until) => new()
    {
        Channel = "status", ChannelType = ChannelType.Statuspage, State = DeliveryState.Unknown, Attempts = attempts, AttemptId = attempt, InFlightUntil = T0 + until,
    };

    private static ChannelDelivery Merged(ChannelDelivery stored, ChannelDelivery mine, OutboxWrite how) =>
        Assert.Single(OutboxMerge.Merge(Entry(stored), Entry(mine), ["status"], how).Deliveries);

    [Fact]
    public void An_older_attempts_failure_leaves_the_newer_attempts_request_in_flight()
    {
        var b = InFlight("b", 2, TimeSpan.FromSeconds(30));
        var aFailed = new ChannelDelivery { Channel = "status", ChannelType = ChannelType.Statuspage, State = DeliveryState.Pending, Attempts = 1, AttemptId = "a", StatusCode = 500, Error = "500" };
        var d = Merged(b, aFailed, OutboxWrite.End("a"));
        Assert.Equal(DeliveryState.Unknown, d.State);
        Assert.Equal("b", d.AttemptId);
        Assert.Equal(T0.AddSeconds(30), d.InFlightUntil);
        Assert.Equal(2, d.Attempts);
        Assert.True(OutboxMerge.OtherAttemptInFlight(d, OutboxWrite.End("a")));
    }

    [Fact]
    public void An_older_attempts_delivery_is_recorded_with_its_provider_id_and_keeps_the_newer_attempts_request_in_flight()
    {
        var b = InFlight("b", 2, TimeSpan.FromSeconds(30));
        var aDelivered = new ChannelDelivery { Channel = "status", ChannelType = ChannelType.Statuspage, State = DeliveryState.Delivered, Attempts = 1, AttemptId = "a", StatusCode = 201, ProviderId = "sp-1", DeliveredAt = T0 };
        var d = Merged(b, aDelivered, OutboxWrite.End("a"));
        Assert.Equal(DeliveryState.Delivered, d.State);
        Assert.Equal("sp-1", d.ProviderId);
        Assert.Equal("b", d.AttemptId);
        Assert.Equal(T0.AddSeconds(30), d.InFlightUntil);

        // B's end then clears its own request; the first recorded delivery (and its provider id) stands.
        var bDelivered = new ChannelDelivery { Channel = "status", ChannelType = ChannelType.Statuspage, State = DeliveryState.Delivered, Attempts = 2, AttemptId = "b", StatusCode = 201, ProviderId = "sp-2", DeliveredAt = T0.AddSeconds(5) };
        var after = Merged(d, bDelivered, OutboxWrite.End("b"));
        Assert.Equal(DeliveryState.Delivered, after.State);
        Assert.Equal("sp-1", after.ProviderId);
        Assert.Equal(T0, after.DeliveredAt);
        Assert.Null(after.InFlightUntil);
    }

    [Fact]
    public void A_start_takes_over_only_the_request_its_sender_waited_out()
    {
        var a = InFlight("a", 1, TimeSpan.FromSeconds(3));
        var b = InFlight("b", 2, TimeSpan.FromSeconds(30));
        Assert.Equal("b", Merged(a, b, OutboxWrite.Start("b", replaces: "a")).AttemptId);
        // Another attempt ("x") started since B looked: B's start is not recorded, and B does not send.
        var x = InFlight("x", 2, TimeSpan.FromSeconds(20));
        var refused = Merged(x, b, OutboxWrite.Start("b", replaces: "a"));
        Assert.Equal("x", refused.AttemptId);
        Assert.Equal(T0.AddSeconds(20), refused.InFlightUntil);
    }

    [Fact]
    public void A_note_never_touches_the_in_flight_record()
    {
        var b = InFlight("b", 2, TimeSpan.FromSeconds(30));
        var note = new ChannelDelivery { Channel = "status", ChannelType = ChannelType.Statuspage, State = DeliveryState.Superseded, Attempts = 1, AttemptId = "a", Error = "Superseded" };
        var d = Merged(b, note, OutboxWrite.Note);
        Assert.Equal(DeliveryState.Superseded, d.State);
        Assert.Equal("b", d.AttemptId);
        Assert.Equal(T0.AddSeconds(30), d.InFlightUntil);
    }

    [Fact]
    public void An_attempts_own_end_clears_its_request_in_flight()
    {
        var a = InFlight("a", 1, TimeSpan.FromSeconds(3));
        var aFailed = new ChannelDelivery { Channel = "status", ChannelType = ChannelType.Statuspage, State = DeliveryState.Pending, Attempts = 1, AttemptId = "a", StatusCode = 500 };
        var d = Merged(a, aFailed, OutboxWrite.End("a"));
        Assert.Equal(DeliveryState.Pending, d.State);
        Assert.Null(d.InFlightUntil);
    }
}
