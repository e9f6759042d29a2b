using IncidentOps.Notifications;

namespace IncidentOps.Engine.Notifications;

/// <summary>
/// How a sender's record of its own channels joins what the outbox holds. A sender changes only the channels it works on;
/// every other channel keeps what the store holds (another sender, whose claim ended or who works on another channel, may
/// have recorded it since this sender read the entry). Within its own channels a recorded outcome is never undone by a
/// record made from an older read: Delivered never goes back (a delivery the provider acknowledged, re-posted by a later
/// -Pending, would reach the audience twice), and Superseded gives way only to Delivered (the truth, when a request that
/// was already out arrived after all).
/// </summary>
internal static class OutboxMerge
{
    /// <summary>The entry to write: <paramref name="stored"/> with <paramref name="mine"/>'s deliveries of <paramref name="channels"/> joined in.</summary>
    public static IncidentUpdate Merge(IncidentUpdate? stored, IncidentUpdate mine, IReadOnlyCollection<string> channels)
    {
        if (stored is null) return With(mine, mine.Deliveries.Select(Clone));
        bool Owned(string channel) => channels.Contains(channel, StringComparer.OrdinalIgnoreCase);
        var deliveries = stored.Deliveries
            .Select(s => Owned(s.Channel) && Find(mine, s.Channel) is { } m ? Join(s, m) : Clone(s)).ToList();
        deliveries.AddRange(mine.Deliveries.Where(m => Owned(m.Channel) && Find(stored, m.Channel) is null).Select(Clone));
        return With(stored, deliveries);
    }

    /// <summary>Whether a recorded outcome stands against a record made from an older read.</summary>
    public static bool Settled(ChannelDelivery d) => d.State is DeliveryState.Delivered or DeliveryState.Superseded;

    public static ChannelDelivery? Find(IncidentUpdate update, string channel) =>
        update.Deliveries.FirstOrDefault(d => d.Channel.Equals(channel, StringComparison.OrdinalIgnoreCase));

    private static ChannelDelivery Join(ChannelDelivery stored, ChannelDelivery mine)
    {
        if (mine.State == DeliveryState.Delivered)
        {
            var delivered = Clone(mine);
            delivered.ProviderId ??= stored.ProviderId;
            if (stored.State == DeliveryState.Delivered) delivered.DeliveredAt = stored.DeliveredAt ?? mine.DeliveredAt;
            return delivered;
        }
        return Settled(stored) ? Clone(stored) : Clone(mine);
    }

    /// <summary>Copies the delivery state of <paramref name="from"/> onto <paramref name="to"/> (the same channel).</summary>
    public static void Copy(ChannelDelivery to, ChannelDelivery from)
    {
        to.State = from.State; to.Attempts = from.Attempts; to.StatusCode = from.StatusCode; to.ProviderId = from.ProviderId;
        to.Error = from.Error; to.DeliveredAt = from.DeliveredAt; to.LastAttemptAt = from.LastAttemptAt; to.InFlightUntil = from.InFlightUntil;
    }

    private static ChannelDelivery Clone(ChannelDelivery d)
    {
        var copy = new ChannelDelivery { Channel = d.Channel, ChannelType = d.ChannelType };
        Copy(copy, d);
        return copy;
    }

    private static IncidentUpdate With(IncidentUpdate u, IEnumerable<ChannelDelivery> deliveries) => new()
    {
        UpdateId = u.UpdateId, IncidentId = u.IncidentId, Kind = u.Kind, Status = u.Status, Message = u.Message, ActionsTaken = u.ActionsTaken,
        CurrentFocus = u.CurrentFocus, Eta = u.Eta, CreatedAt = u.CreatedAt, NextUpdateDue = u.NextUpdateDue, Deliveries = deliveries.ToList(),
    };
}
