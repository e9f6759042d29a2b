using IncidentOps.Notifications;

namespace IncidentOps.Engine.Notifications;

/// <summary>
/// What a sender's record of a channel is, for <see cref="OutboxMerge"/>: a note (no attempt: a channel marked Superseded or
/// withdrawn, an error that says why nothing was sent), the start of an attempt (its request is about to leave: the record
/// carries the attempt's id and until when the request may be in flight), or the end of one (how it ended).
/// </summary>
/// <param name="Attempt">The attempt the record belongs to (null: a note).</param>
/// <param name="Starts">The record starts the attempt (puts its request in flight).</param>
/// <param name="Replaces">For a start: the attempt whose in-flight deadline the sender last read, and waited out.</param>
internal readonly record struct OutboxWrite(string? Attempt = null, bool Starts = false, string? Replaces = null)
{
    public static OutboxWrite Note => default;
    public static OutboxWrite Start(string attempt, string? replaces) => new(attempt, true, replaces);
    public static OutboxWrite End(string attempt) => new(attempt);
}

/// <summary>
/// How a sender's record of its own channels joins what the outbox holds. A sender changes only the channels it works on;
/// every other channel keeps what the store holds (another sender, whose claim ended or who works on another channel, may
/// have recorded it since this sender read the entry). Within its own channels a recorded outcome is never undone by a
/// record made from an older read: Delivered never goes back (a delivery the provider acknowledged, re-posted by a later
/// -Pending, would reach the audience twice), and Superseded gives way only to Delivered (the truth, when a request that
/// was already out arrived after all).
/// <para>
/// Attempts. Each attempt at sending a channel has an id (<see cref="ChannelDelivery.AttemptId"/>), recorded with until when
/// its request may be in flight (<see cref="ChannelDelivery.InFlightUntil"/>) before the request leaves. The in-flight record
/// belongs to the attempt that made it: only that attempt's own end clears it, and a later attempt takes it over only from
/// the attempt whose deadline its sender waited out. So a sender whose claim of the channel ended and whose result comes late
/// (its request failed, or got no answer, after the next sender had already sent) cannot hide the next sender's request in
/// flight: a third sender still sees it, waits for it, and posts nothing twice. Keeping what matters from both:
/// </para>
/// <list type="bullet">
/// <item>A late Delivered (with the provider's id) is recorded all the same, and the newer attempt's in-flight deadline stays
/// on it, since that request may still be out.</item>
/// <item>When the channel is recorded Delivered already, the first recorded delivery's provider id and time stand (later
/// updates were built on them); a second delivery only ends its own attempt's in-flight deadline.</item>
/// <item>A late result that is not a delivery (failed, pending, maybe arrived) leaves the newer attempt's record as it is,
/// only counting its attempts: the newer attempt's own end says how the channel stands.</item>
/// <item>A start that finds another attempt in flight than the one its sender waited out is not recorded (the sender does not
/// send), and a note never touches the in-flight deadline at all.</item>
/// </list>
/// </summary>
internal static class OutboxMerge
{
    /// <summary>The entry to write: <paramref name="stored"/> with <paramref name="mine"/>'s deliveries of <paramref name="channels"/> joined in.</summary>
    public static IncidentUpdate Merge(IncidentUpdate? stored, IncidentUpdate mine, IReadOnlyCollection<string> channels) =>
        Merge(stored, mine, channels, OutboxWrite.Note);

    /// <summary>The entry to write, for a record of the kind <paramref name="how"/> (a note, an attempt's start or its end).</summary>
    public static IncidentUpdate Merge(IncidentUpdate? stored, IncidentUpdate mine, IReadOnlyCollection<string> channels, OutboxWrite how)
    {
        if (stored is null) return With(mine, mine.Deliveries.Select(Clone));
        bool Owned(string channel) => channels.Contains(channel, StringComparer.OrdinalIgnoreCase);
        var deliveries = stored.Deliveries
            .Select(s => Owned(s.Channel) && Find(mine, s.Channel) is { } m ? Join(s, m, how) : Clone(s)).ToList();
        deliveries.AddRange(mine.Deliveries.Where(m => Owned(m.Channel) && Find(stored, m.Channel) is null).Select(Clone));
        return With(stored, deliveries);
    }

    /// <summary>Whether a recorded outcome stands against a record made from an older read.</summary>
    public static bool Settled(ChannelDelivery d) => d.State is DeliveryState.Delivered or DeliveryState.Superseded;

    /// <summary>
    /// Whether what the store holds (<paramref name="held"/>, after a record of the kind <paramref name="how"/>) is another
    /// attempt's: a request of another attempt in flight there (not delivered), whose own end will say how the channel stands.
    /// </summary>
    public static bool OtherAttemptInFlight(ChannelDelivery held, OutboxWrite how) =>
        how.Attempt is not null && held.InFlightUntil is not null && held.AttemptId != how.Attempt && held.State != DeliveryState.Delivered;

    public static ChannelDelivery? Find(IncidentUpdate update, string channel) =>
        update.Deliveries.FirstOrDefault(d => d.Channel.Equals(channel, StringComparison.OrdinalIgnoreCase));

    private static ChannelDelivery Join(ChannelDelivery stored, ChannelDelivery mine, OutboxWrite how)
    {
        // Whose in-flight record the result carries: the writer's attempt may set it when none is stored, when it is its own,
        // or (a start) when it is the one its sender waited out. A note never sets it.
        var owns = how.Attempt is not null &&
            (stored.InFlightUntil is null || stored.AttemptId == how.Attempt || (how.Starts && stored.AttemptId == how.Replaces));
        ChannelDelivery joined;
        if (how.Starts && (Settled(stored) || !owns)) return Clone(stored);
        if (mine.State == DeliveryState.Delivered)
        {
            joined = Clone(mine);
            if (stored.State == DeliveryState.Delivered)
            {
                joined.ProviderId = stored.ProviderId ?? mine.ProviderId;
                joined.DeliveredAt = stored.DeliveredAt ?? mine.DeliveredAt;
                joined.StatusCode = stored.StatusCode ?? mine.StatusCode;
            }
            else joined.ProviderId ??= stored.ProviderId;
        }
        else if (Settled(stored)) joined = Clone(stored);
        else if (how.Attempt is not null && !owns)
        {
            joined = Clone(stored);
            joined.Attempts = Math.Max(stored.Attempts, mine.Attempts);
        }
        else joined = Clone(mine);
        (joined.AttemptId, joined.InFlightUntil) = owns ? (mine.AttemptId, mine.InFlightUntil) : (stored.AttemptId, stored.InFlightUntil);
        return joined;
    }

    /// <summary>Copies the delivery state of <paramref name="from"/> onto <paramref name="to"/> (the same channel).</summary>
    public static void Copy(ChannelDelivery to, ChannelDelivery from)
    {
        to.State = from.State; to.Attempts = from.Attempts; to.StatusCode = from.StatusCode; to.ProviderId = from.ProviderId;
        to.Error = from.Error; to.DeliveredAt = from.DeliveredAt; to.LastAttemptAt = from.LastAttemptAt; to.InFlightUntil = from.InFlightUntil;
        to.AttemptId = from.AttemptId;
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
