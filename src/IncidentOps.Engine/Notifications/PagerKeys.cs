using IncidentOps.Config;
using IncidentOps.Incidents;
using IncidentOps.Notifications;

namespace IncidentOps.Engine.Notifications;

/// <summary>
/// The key by which a pager (PagerDuty's dedup_key, Opsgenie's alias) folds every request of an incident into one alert.
/// Incident ids are numbered per store (INC-20261130-001), and the default store is one person's files, so two engineers
/// each declaring the day's first incident get the same id: a key of the id alone would fold the second outage into the
/// first one's alert (nobody notified when it was acknowledged) and let one resolve close the other's alert. The key
/// therefore also carries when the incident was declared, to the millisecond (as Statuspage's metadata declared_at does):
/// INC-20261130-001-20261130T091512345Z. It is recorded in Incident.ExternalIds before the first request leaves and read
/// from there ever after, so it never changes for the incident's life (trigger, acknowledge, resolve, re-sends, lookups).
/// An incident an older build already paged under the id alone (a delivered or maybe-delivered request of this provider in
/// its outbox, and no recorded key) keeps that old key, so its acknowledge and resolve reach the same alert.
/// </summary>
public static class PagerKeys
{
    /// <summary>The incident's own part of a new key: its id and when it was declared (UTC, to the millisecond).</summary>
    public static string Unique(Incident incident) =>
        $"{incident.Id}-{incident.DeclaredAt.UtcDateTime.ToString("yyyyMMdd'T'HHmmssfff'Z'", System.Globalization.CultureInfo.InvariantCulture)}";

    /// <summary>The recorded key, else the one a first send would record (<paramref name="fresh"/>).</summary>
    public static string Current(Incident incident, string externalIdKey, string fresh) => Recorded(incident, externalIdKey) ?? fresh;

    private static string? Recorded(Incident incident, string externalIdKey) =>
        incident.ExternalIds.TryGetValue(externalIdKey, out var known) && !string.IsNullOrEmpty(known) ? known : null;

    /// <summary>
    /// True when an older build (which recorded no key) already sent this incident to a channel of this provider: a delivery
    /// that arrived, or may have (Unknown), is in the outbox. Its later requests must use the old key to reach that alert.
    /// </summary>
    /// <param name="fresh">The new key: a delivery whose provider id is it (PagerDuty answers the dedup_key) was sent by this build.</param>
    public static bool PagedUnderOldKey(IReadOnlyList<IncidentUpdate> outbox, ChannelType type, string fresh) =>
        outbox.Any(e => e.Deliveries.Any(d => d.ChannelType == type && d.State is DeliveryState.Delivered or DeliveryState.Unknown && d.ProviderId != fresh));

    /// <summary>
    /// The key this delivery uses: the recorded one, or (first send) the old key when an older build paged the incident,
    /// else the new unique one, recorded in the store at once (before the request leaves) so it never changes afterwards.
    /// Concurrent senders agree: the choice is made again inside the store's update, which keeps a key already recorded.
    /// </summary>
    public static async Task<string> EnsureAsync(ChannelDeliveryContext context, string externalIdKey, string legacy, string fresh)
    {
        if (Recorded(context.Incident, externalIdKey) is { } known) return known;
        var chosen = PagedUnderOldKey(context.Outbox, context.Channel.Type, fresh) ? legacy : fresh;
        context.Incident = await context.UpdateIncident(i =>
        {
            if (Recorded(i, externalIdKey) is null) i.ExternalIds[externalIdKey] = chosen;
        }).ConfigureAwait(false);
        var recorded = context.Incident.ExternalIds.GetValueOrDefault(externalIdKey) ?? chosen;
        if (recorded == legacy && legacy != fresh)
            context.Sink.Verbose($"{context.Channel.Name}: {context.Incident.Id} was paged by an older IncidentOps under the key {legacy}; it keeps that key, so its acknowledge and resolve reach the same alert.");
        return recorded;
    }

    /// <summary>For a -WhatIf preview: records on <paramref name="preview"/> (a copy, never saved) the key a first send would choose.</summary>
    public static void Preview(Incident preview, IReadOnlyList<IncidentUpdate> outbox, ChannelType type, string externalIdKey, string legacy, string fresh)
    {
        if (Recorded(preview, externalIdKey) is null) preview.ExternalIds[externalIdKey] = PagedUnderOldKey(outbox, type, fresh) ? legacy : fresh;
    }
}
