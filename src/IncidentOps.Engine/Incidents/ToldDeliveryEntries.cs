using IncidentOps.Incidents;

namespace IncidentOps.Engine.Incidents;

/// <summary>
/// The store's refusal of an entry that tells deliveries another entry already tells (TimelineDeliveryAlreadyTold), with
/// the delivery keys of the entry that another entry carries.
/// </summary>
public sealed class DeliveryAlreadyToldException(string id, IReadOnlyList<string> keys) : IncidentOpsException(IncidentErrorIds.DeliveryAlreadyTold,
    IncidentOpsErrorCategory.ResourceExists,
    $"The timeline of {id} already has an entry for {string.Join(", ", keys)}; each delivery is told by one entry, so this entry was not added.")
{
    /// <summary>The refused entry's delivery keys that another entry of the timeline already carries.</summary>
    public IReadOnlyList<string> Keys { get; } = keys;
}

/// <summary>
/// An update entry (<see cref="TimelineEntry.DeliveryKeys"/>) tells every channel of one send: Target is the channels
/// joined by ",", Result the channels' outcomes in the same order joined by "; " (each "channel: delivered (...)" or
/// "channel: NOT delivered, State (error)"), and a key per delivered channel. When another entry already tells some of
/// those deliveries (an entry that waited in a spool, an archive imported into a store whose timeline moved on), the
/// entry is written without them, so what no other entry tells (another channel's delivery, a failure) is never lost.
/// </summary>
public static class ToldDeliveryEntries
{
    private const string NoteEnd = ": told by another entry)";

    /// <summary>
    /// <paramref name="entry"/> without the channels whose delivery keys are in <paramref name="told"/>: Target, Result,
    /// DeliveryKeys and Outcome (Succeeded only when every remaining channel was delivered) of the channels that remain, and
    /// a note at the end of the result that names the removed ones ("(slack: told by another entry)"). Null when nothing
    /// untold remains. An entry none of whose keys is told, and an entry of an older version (no keys), come back as they are.
    /// </summary>
    public static TimelineEntry? WithoutTold(TimelineEntry entry, IEnumerable<string> told)
    {
        if (entry.DeliveryKeys is not { Count: > 0 } keys) return entry;
        var toldSet = told.ToHashSet(StringComparer.Ordinal);
        if (!keys.Any(toldSet.Contains)) return entry;
        var updateId = UpdateIdOf(entry);
        var channels = (entry.Target ?? "").Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        bool Delivered(string channel) => updateId is not null && keys.Contains(IncidentStores.DeliveryKey(updateId, channel), StringComparer.Ordinal);
        bool Removed(string channel) => updateId is not null && toldSet.Contains(IncidentStores.DeliveryKey(updateId, channel)) && Delivered(channel);
        var kept = channels.Where(c => !Removed(c)).ToList();
        var removed = channels.Where(Removed).ToList();
        if (removed.Count == 0) return entry;
        if (kept.Count == 0) return null;
        var (result, earlier) = SplitNote(entry.Result);
        var segments = Segments(result, channels, Delivered);
        var text = segments is null
            // Not in the shape this version writes: the text is kept whole; the note says which channels another entry tells.
            ? result
            : string.Join("; ", channels.Select((c, i) => (c, i)).Where(x => !Removed(x.c)).Select(x => segments[x.i]));
        var names = earlier.Concat(removed).Distinct(StringComparer.OrdinalIgnoreCase);
        return new TimelineEntry
        {
            Timestamp = entry.Timestamp,
            IncidentId = entry.IncidentId,
            Actor = entry.Actor,
            Kind = entry.Kind,
            Cmdlet = entry.Cmdlet,
            Action = entry.Action,
            Target = string.Join(",", kept),
            Parameters = entry.Parameters,
            Outcome = kept.All(Delivered) ? TimelineOutcome.Succeeded : TimelineOutcome.Failed,
            Result = $"{text} ({string.Join(", ", names)}{NoteEnd}".TrimStart(),
            DeliveryKeys = keys.Where(k => !toldSet.Contains(k)).ToList() is { Count: > 0 } left ? left : null,
        };
    }

    /// <summary>The channels of <paramref name="entry"/> whose delivery keys are in <paramref name="told"/> (for warnings).</summary>
    public static IReadOnlyList<string> ToldChannels(TimelineEntry entry, IEnumerable<string> told)
    {
        var toldSet = told.ToHashSet(StringComparer.Ordinal);
        var updateId = UpdateIdOf(entry);
        if (updateId is null || entry.DeliveryKeys is not { Count: > 0 } keys) return [];
        return (entry.Target ?? "").Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)
            .Where(c => IncidentStores.DeliveryKey(updateId, c) is var k && keys.Contains(k, StringComparer.Ordinal) && toldSet.Contains(k)).ToList();
    }

    /// <summary>What <see cref="AppendUntoldAsync"/> did: the entry it wrote (null: none, every delivery it told is told by another entry) and the channels it left out.</summary>
    public sealed record Outcome(TimelineEntry? Written, IReadOnlyList<string> ToldElsewhere);

    /// <summary>
    /// Appends <paramref name="entry"/> through <paramref name="append"/>; when the store refuses it because another entry
    /// tells some of its deliveries, appends it again without those (<see cref="WithoutTold"/>), until it lands or nothing
    /// untold is left. A refusal that names no key of the entry is the caller's to handle.
    /// </summary>
    public static async Task<Outcome> AppendUntoldAsync(TimelineEntry entry, Func<TimelineEntry, Task> append)
    {
        var told = new HashSet<string>(StringComparer.Ordinal);
        var current = entry;
        while (true)
        {
            try
            {
                await append(current).ConfigureAwait(false);
                return new Outcome(current, ToldChannels(entry, told));
            }
            catch (DeliveryAlreadyToldException ex) when (ex.Keys.Count(told.Add) > 0)
            {
                if (WithoutTold(entry, told) is not { } rest) return new Outcome(null, ToldChannels(entry, told));
                current = rest;
            }
        }
    }

    private static string? UpdateIdOf(TimelineEntry entry)
    {
        if (entry.Parameters.TryGetValue("UpdateId", out var id) && !string.IsNullOrEmpty(id)) return id;
        // delivery:<UpdateId>:<channel>
        var key = entry.DeliveryKeys?.FirstOrDefault();
        if (key is null || !key.StartsWith("delivery:", StringComparison.Ordinal)) return null;
        var end = key.LastIndexOf(':');
        return end > "delivery:".Length ? key["delivery:".Length..end] : null;
    }

    /// <summary>The result without the note of an earlier removal, and the channels that note names.</summary>
    private static (string Text, IReadOnlyList<string> Names) SplitNote(string? result)
    {
        if (result is null) return ("", []);
        if (!result.EndsWith(NoteEnd, StringComparison.Ordinal)) return (result, []);
        // The note is the last "(...)" of the result: channel names have no parentheses.
        var open = result.LastIndexOf('(');
        var names = result[(open + 1)..^NoteEnd.Length];
        return (result[..open].TrimEnd(' '), names.Split(", ", StringSplitOptions.RemoveEmptyEntries));
    }

    /// <summary>
    /// The result's text per channel, in the Target's order: each segment starts "channel: delivered (" (a delivered channel)
    /// or "channel: NOT delivered, ", the next one after "; ", so a "; " inside a segment (an error text, an adopted
    /// delivery's note) never splits it. Null when the result is not in that shape.
    /// </summary>
    private static string[]? Segments(string result, IReadOnlyList<string> channels, Func<string, bool> delivered)
    {
        string Head(string c) => delivered(c) ? $"{c}: delivered (" : $"{c}: NOT delivered, ";
        if (channels.Count == 0 || !result.StartsWith(Head(channels[0]), StringComparison.Ordinal)) return null;
        var starts = new int[channels.Count];
        for (var i = 1; i < channels.Count; i++)
        {
            var at = result.IndexOf("; " + Head(channels[i]), starts[i - 1] + Head(channels[i - 1]).Length, StringComparison.Ordinal);
            if (at < 0) return null;
            starts[i] = at + 2;
        }
        return channels.Select((_, i) => result[starts[i]..(i + 1 < channels.Count ? starts[i + 1] - 2 : result.Length)]).ToArray();
    }
}
