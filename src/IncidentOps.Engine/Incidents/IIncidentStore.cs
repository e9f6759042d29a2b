using IncidentOps.Incidents;
using IncidentOps.Notifications;

namespace IncidentOps.Engine.Incidents;

/// <summary>
/// Where incidents live: one contract for everything an incident owns (record, timeline, action items, notification
/// outbox, evidence, id allocation), so no service writes beside the store into a folder of its own. The file store is
/// the default; the PostgreSQL team store implements the same interface. Implementations make appends atomic and safe
/// across processes and machines. The active incident is per person and stays local, whatever the store.
/// </summary>
public interface IIncidentStore
{
    /// <summary>Which store this is (no credential in it); every incident read from it carries it as Incident.IncidentStore.</summary>
    string Identity { get; }
    /// <summary>Creates an incident, allocating the next id of its start day (INC-yyyyMMdd-NNN); concurrent callers get distinct ids.</summary>
    Task<Incident> CreateAsync(Func<string, Incident> build, CancellationToken cancellationToken);
    Task<Incident?> GetAsync(string id, CancellationToken cancellationToken);
    Task<IReadOnlyList<Incident>> ListAsync(CancellationToken cancellationToken);
    /// <summary>Replaces the incident record atomically (creates it when it is new).</summary>
    Task SaveAsync(Incident incident, CancellationToken cancellationToken);
    /// <summary>
    /// Stores a record under its own id (imports) only when the store has no incident by that id, in one atomic step
    /// with respect to <see cref="CreateAsync"/> and other adds: true when it was stored; false, writing nothing, when an
    /// incident with that id is there already (declared or imported meanwhile), which must never be written over.
    /// </summary>
    Task<bool> AddAsync(Incident incident, CancellationToken cancellationToken);
    /// <summary>Loads, changes and saves under the incident's lock, so concurrent writers do not lose changes.</summary>
    Task<Incident> UpdateAsync(string id, Action<Incident> change, CancellationToken cancellationToken);
    /// <summary>
    /// Appends the entry and assigns its <see cref="TimelineEntry.Sequence"/> (one more than the incident's last). An
    /// append either lands whole or not at all: a failure leaves nothing that a reader would see, and fails with
    /// StoreDiskFull / StoreReadOnly when the store is full or cannot be written, without waiting. An entry with
    /// <see cref="TimelineEntry.DeliveryKeys"/> is refused (TimelineDeliveryAlreadyTold, nothing stored) when an entry of
    /// the incident already carries one of its keys, checked and appended in one step under the incident's lock (its row
    /// lock in PostgreSQL), so that no two writers, and no entry that arrives later from a spool, tell one delivery twice.
    /// </summary>
    Task AppendTimelineAsync(string id, TimelineEntry entry, CancellationToken cancellationToken);
    /// <summary>
    /// Appends the entry as <see cref="AppendTimelineAsync"/> does and returns the incident's record as it stood at the
    /// append, in one call to the store (the PostgreSQL store: one statement, one round trip), so a caller that must
    /// know the record (a note on a resolved incident warns) does not read it first. Fails with IncidentNotFound when
    /// there is no such incident, and with StoreUnavailable when the store cannot be reached: nothing is spooled, the
    /// caller sees the failure.
    /// </summary>
    Task<Incident> AppendTimelineWithRecordAsync(string id, TimelineEntry entry, CancellationToken cancellationToken);
    /// <summary>Every entry, ordered by Timestamp, then Sequence: one total order, the same for every reader.</summary>
    Task<IReadOnlyList<TimelineEntry>> ReadTimelineAsync(string id, CancellationToken cancellationToken);
    /// <summary>
    /// The timeline as it grows: every entry already there (in the order of <see cref="ReadTimelineAsync"/>), then each
    /// entry any writer appends, as it lands, until cancelled.
    /// </summary>
    IAsyncEnumerable<TimelineEntry> FollowTimelineAsync(string id, CancellationToken cancellationToken);
    /// <summary>The active incident of this user (kept locally, per person, even when the record is shared).</summary>
    Task<string?> GetActiveIdAsync(CancellationToken cancellationToken);
    Task SetActiveIdAsync(string? id, CancellationToken cancellationToken);
    /// <summary>
    /// Makes <paramref name="id"/> the active incident (null: none) only while the active incident is still
    /// <paramref name="expected"/> as <see cref="GetActiveIdAsync"/> reads it (compare-and-set, ids compared without
    /// case); false, changing nothing, when another writer changed it since. Serialised with <see cref="SetActiveIdAsync"/>.
    /// </summary>
    Task<bool> ChangeActiveIdAsync(string? expected, string? id, CancellationToken cancellationToken);

    // ---------------------------------------------------------------- action items

    /// <summary>The incident's action items, in the order they were added.</summary>
    Task<IReadOnlyList<ActionItem>> ReadActionItemsAsync(string id, CancellationToken cancellationToken);
    /// <summary>Loads, changes and saves the action items under the incident's action-item lock (no lost change).</summary>
    Task ChangeActionItemsAsync(string id, Action<List<ActionItem>> change, CancellationToken cancellationToken);
    /// <summary>
    /// The action items of every incident that has any, by incident id, in one read of the store (Get-IncidentMetric over
    /// thousands of incidents): the same items <see cref="ReadActionItemsAsync"/> gives per incident.
    /// </summary>
    Task<IReadOnlyDictionary<string, IReadOnlyList<ActionItem>>> ReadAllActionItemsAsync(CancellationToken cancellationToken);

    // ---------------------------------------------------------------- notification outbox

    /// <summary>The outbox entries of an incident, oldest first (by update id). Corrupt entries are reported and skipped.</summary>
    Task<IReadOnlyList<IncidentUpdate>> ReadOutboxAsync(string id, CancellationToken cancellationToken);
    /// <summary>
    /// The incidents Send-IncidentUpdate -Pending (and its -WhatIf plan) has to look at, by id, in the order of
    /// <see cref="ListAsync"/>: those with an outbox entry that is still pending, and those with an update the outbox records
    /// Delivered on a channel whose delivery key (<see cref="IncidentStores.DeliveryKey"/>) no timeline entry of the incident
    /// carries (a sender that died before its entry). A pre-filter: it may name an incident that turns out to need nothing
    /// (an update entry of an older version, without keys, that only the caller's text check recognises), never leave out one
    /// that needs work; the caller checks each named incident as before. The default names every incident (one read of the
    /// store per incident afterwards); the PostgreSQL store answers in one query, so a run over a store of many settled
    /// incidents costs one round trip instead of three per incident.
    /// </summary>
    async Task<IReadOnlyList<string>> ListOutboxWorkAsync(CancellationToken cancellationToken) =>
        (await ListAsync(cancellationToken).ConfigureAwait(false)).Select(i => i.Id).ToList();
    /// <summary>One outbox entry, or null when there is none (or it is corrupt: reported and skipped).</summary>
    Task<IncidentUpdate?> ReadOutboxEntryAsync(string id, string updateId, CancellationToken cancellationToken);
    /// <summary>Writes or replaces an outbox entry (with its per-channel delivery state) atomically.</summary>
    Task WriteOutboxEntryAsync(IncidentUpdate update, CancellationToken cancellationToken);
    /// <summary>
    /// Reads an outbox entry (null when there is none) and writes what <paramref name="change"/> makes of it (null: writes
    /// nothing), in one step that no other change of the entry interleaves with (the entry's lock / row lock), across
    /// processes and machines; returns what the store holds afterwards. Two senders that each record their own channel
    /// therefore never write over each other's outcome.
    /// </summary>
    Task<IncidentUpdate?> ChangeOutboxEntryAsync(string id, string updateId, Func<IncidentUpdate?, IncidentUpdate?> change, CancellationToken cancellationToken);
    /// <summary>
    /// Claims a named outbox lock of the incident (an update id, or <see cref="ChannelLockName"/>) across processes and
    /// machines, waiting up to <paramref name="wait"/>; fails with StoreLockTimeout when another holder keeps it. The
    /// claim ends when the result is disposed, or when its holder dies.
    /// </summary>
    Task<IAsyncDisposable> ClaimOutboxAsync(string id, string name, TimeSpan wait, CancellationToken cancellationToken);

    // ---------------------------------------------------------------- evidence

    /// <summary>Stores one piece of evidence with its SHA-256 (of the UTF-8 content).</summary>
    Task<StoredEvidence> PutEvidenceAsync(string id, string name, string content, DateTimeOffset capturedAt, CancellationToken cancellationToken);
    /// <summary>The incident's evidence, by name.</summary>
    Task<IReadOnlyList<StoredEvidence>> ListEvidenceAsync(string id, CancellationToken cancellationToken);
    /// <summary>The content of one piece of evidence, or null when there is none by that name.</summary>
    Task<string?> ReadEvidenceAsync(string id, string name, CancellationToken cancellationToken);
    /// <summary>
    /// The content of every piece of the incident's evidence whose name <paramref name="include"/> accepts, ordered by
    /// name (ordinal), in one read of the store: the same names <see cref="ListEvidenceAsync"/> lists and the same texts
    /// <see cref="ReadEvidenceAsync"/> gives one by one, without a call per piece (a post-mortem over a full ring of
    /// alerting round samples reads 1,440 of them). The PostgreSQL store answers in two statements on one connection,
    /// the file store from one directory listing without reading the hash files.
    /// </summary>
    Task<IReadOnlyList<EvidenceText>> ReadEvidenceManyAsync(string id, Func<string, bool> include, CancellationToken cancellationToken);
}

/// <summary>The name and content of one piece of evidence (<see cref="IIncidentStore.ReadEvidenceManyAsync"/>).</summary>
public sealed record EvidenceText(string Name, string Content);

/// <summary>One stored piece of evidence: where it is (a path or a store address), its hash and size.</summary>
public sealed record StoredEvidence(string IncidentId, string Name, string Sha256, long Bytes, DateTimeOffset CapturedAt, string Location);

/// <summary>Names shared by every store.</summary>
public static class IncidentStores
{
    /// <summary>The outbox lock that serialises deliveries of one incident to one channel.</summary>
    public static string ChannelLockName(string channel) =>
        "channel-" + string.Concat(channel.Select(ch => char.IsLetterOrDigit(ch) || ch is '-' or '_' ? ch : '_'));

    /// <summary>The key of one delivery of a status update (update id and channel), as the timeline entry that tells it carries it.</summary>
    public static string DeliveryKey(string updateId, string channel) => $"delivery:{updateId}:{channel.ToLowerInvariant()}";

    /// <summary>The delivery keys of <paramref name="entry"/> that <paramref name="timeline"/> already carries.</summary>
    public static List<string> AlreadyTold(TimelineEntry entry, IEnumerable<TimelineEntry> timeline)
    {
        if (entry.DeliveryKeys is not { Count: > 0 } keys) return [];
        var told = timeline.SelectMany(e => e.DeliveryKeys ?? []).ToHashSet(StringComparer.Ordinal);
        return keys.Where(told.Contains).ToList();
    }

    /// <summary>The store's refusal of an entry that tells deliveries another entry already tells.</summary>
    public static DeliveryAlreadyToldException DeliveryAlreadyTold(string id, IReadOnlyCollection<string> keys) => new(id, [.. keys]) { TargetObject = id };

    /// <summary>Checks an incident id before it is used as a name anywhere (IncidentIdInvalid).</summary>
    public static string CheckId(string id)
    {
        if (string.IsNullOrWhiteSpace(id) || id.IndexOfAny(Path.GetInvalidFileNameChars()) >= 0 || id.Contains(".."))
            throw new IncidentOpsException(IncidentErrorIds.IdInvalid, IncidentOpsErrorCategory.InvalidArgument, $"'{id}' is not an incident id (expected INC-yyyyMMdd-NNN).");
        return id;
    }

    /// <summary>The SHA-256 of the UTF-8 text, lower-case hex.</summary>
    public static string Sha256(string content) =>
        Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(content))).ToLowerInvariant();
}
