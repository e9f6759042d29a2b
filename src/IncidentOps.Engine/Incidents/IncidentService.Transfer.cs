using System.IO.Compression;
using System.Text;
using System.Text.Json;
using IncidentOps.Config;
using IncidentOps.Incidents;
using IncidentOps.Notifications;

namespace IncidentOps.Engine.Incidents;

/// <summary>
/// Export-Incident / Import-Incident: a self-contained zip archive of incidents (record, timeline, action items,
/// outbox updates, evidence with SHA-256), read into any store. Import is idempotent: an incident already in the
/// store is left as it is, and one whose earlier import was interrupted is completed (the missing timeline tail,
/// action items, updates and evidence), so importing twice changes nothing.
/// </summary>
public sealed partial class IncidentService
{
    private const string ArchiveFormat = "incidentops-archive";
    private const int ArchiveVersion = 1;
    private static readonly JsonSerializerOptions ArchiveJson = FileIncidentStore.Json;

    private sealed class ArchiveManifest
    {
        public string Format { get; init; } = ArchiveFormat;
        public int Version { get; init; } = ArchiveVersion;
        public DateTimeOffset ExportedAt { get; init; }
        public string ExportedBy { get; init; } = "";
        public string SourceStore { get; init; } = "";
        public List<string> Incidents { get; init; } = [];
    }

    private sealed record EvidenceManifest(string Name, string Sha256, long Bytes, DateTimeOffset CapturedAt);

    /// <summary>Writes the incidents to a new archive at <paramref name="path"/> (replacing it only with <paramref name="force"/>).</summary>
    public async Task<IReadOnlyList<IncidentTransfer>> ExportAsync(IncidentOpsConfig? config, IReadOnlyList<string> ids, string path, bool force, CancellationToken cancellationToken)
    {
        var store = openStore(config);
        if (File.Exists(path) && !force)
            throw new IncidentOpsException(IncidentErrorIds.ArchiveExists, IncidentOpsErrorCategory.ResourceExists,
                $"'{path}' already exists. Give another -Path, or -Force to replace it.") { TargetObject = path };
        var results = new List<IncidentTransfer>();
        var temp = StoreFaults.TempPath(path);
        try
        {
            await using (var fs = new FileStream(temp, FileMode.CreateNew, FileAccess.Write))
            using (var zip = new ZipArchive(fs, ZipArchiveMode.Create))
            {
                var manifest = new ArchiveManifest { ExportedAt = DateTimeOffset.UtcNow, ExportedBy = TimelineEntry.DefaultActor(), SourceStore = store.Identity };
                foreach (var id in ids.Distinct(StringComparer.OrdinalIgnoreCase))
                {
                    var incident = await store.GetAsync(id, cancellationToken).ConfigureAwait(false) ?? throw FileIncidentStore.NotFound(id);
                    var timeline = (await store.ReadTimelineAsync(incident.Id, cancellationToken).ConfigureAwait(false)).OrderBy(e => e.Sequence).ToList();
                    var actions = await store.ReadActionItemsAsync(incident.Id, cancellationToken).ConfigureAwait(false);
                    var updates = await store.ReadOutboxAsync(incident.Id, cancellationToken).ConfigureAwait(false);
                    var evidence = await store.ListEvidenceAsync(incident.Id, cancellationToken).ConfigureAwait(false);
                    var dir = $"incidents/{incident.Id}/";
                    Write(zip, dir + "incident.json", JsonSerializer.Serialize(incident, ArchiveJson));
                    Write(zip, dir + "timeline.jsonl", string.Concat(timeline.Select(e => JsonSerializer.Serialize(e, ArchiveJson) + "\n")));
                    Write(zip, dir + "actions.json", JsonSerializer.Serialize(actions, ArchiveJson));
                    Write(zip, dir + "updates.json", JsonSerializer.Serialize(updates, ArchiveJson));
                    Write(zip, dir + "evidence.json", JsonSerializer.Serialize(evidence.Select(e => new EvidenceManifest(e.Name, e.Sha256, e.Bytes, e.CapturedAt)), ArchiveJson));
                    // Every listed piece's content in one read of the store, not a round trip each. The hash stays the one
                    // the store recorded at capture, so content that changed since is refused by the import, not hidden.
                    var listed = evidence.Select(e => e.Name).ToHashSet(StringComparer.Ordinal);
                    var texts = (await store.ReadEvidenceManyAsync(incident.Id, listed.Contains, cancellationToken).ConfigureAwait(false))
                        .ToDictionary(t => t.Name, t => t.Content, StringComparer.Ordinal);
                    foreach (var e in evidence)
                        Write(zip, $"{dir}evidence/{e.Name}", texts.TryGetValue(e.Name, out var content) ? content
                            : await store.ReadEvidenceAsync(incident.Id, e.Name, cancellationToken).ConfigureAwait(false) ?? "");
                    manifest.Incidents.Add(incident.Id);
                    results.Add(new IncidentTransfer
                    {
                        IncidentId = incident.Id, Action = "Exported", Path = path, IncidentStore = store.Identity,
                        TimelineEntries = timeline.Count, ActionItems = actions.Count, Updates = updates.Count, Evidence = evidence.Count,
                    });
                }
                Write(zip, "manifest.json", JsonSerializer.Serialize(manifest, ArchiveJson));
            }
            // The archive is what an incident moves in: whole on disk, and then its name, before it is reported exported.
            await using (var written = new FileStream(temp, FileMode.Open, FileAccess.ReadWrite)) written.Flush(flushToDisk: true);
            File.Move(temp, path, overwrite: force);
            DirectorySync.SyncParentOf(path);
        }
        finally
        {
            if (File.Exists(temp)) File.Delete(temp);
        }
        return results;
    }

    private static void Write(ZipArchive zip, string name, string content)
    {
        using var w = new StreamWriter(zip.CreateEntry(name, CompressionLevel.Optimal).Open(), new UTF8Encoding(false));
        w.Write(content);
    }

    /// <summary>The incident ids in an archive (checked to be an IncidentOps archive).</summary>
    public static IReadOnlyList<string> ReadArchiveIds(string path)
    {
        using var zip = OpenArchive(path);
        return ReadManifest(zip, path).Incidents;
    }

    /// <summary>
    /// Reads the archive into this configuration's store: only the incidents in <paramref name="approved"/> (all when null);
    /// with <paramref name="planOnly"/>, writes nothing and says per incident what it would do (Import, Complete, Unchanged).
    /// Evidence whose content does not match its recorded SHA-256 stops the import.
    /// </summary>
    public async Task<IReadOnlyList<IncidentTransfer>> ImportAsync(IncidentOpsConfig? config, string path, IReadOnlyCollection<string>? approved, bool planOnly, CancellationToken cancellationToken)
    {
        var store = openStore(config);
        using var zip = OpenArchive(path);
        var manifest = ReadManifest(zip, path);
        var results = new List<IncidentTransfer>();
        foreach (var id in manifest.Incidents)
        {
            IncidentStores.CheckId(id);
            var dir = $"incidents/{id}/";
            var record = Deserialize<Incident>(zip, dir + "incident.json", path);
            var archived = (ReadText(zip, dir + "timeline.jsonl", path) ?? "").Split('\n', StringSplitOptions.RemoveEmptyEntries)
                .Select(l => JsonSerializer.Deserialize<TimelineEntry>(l, ArchiveJson)!).OrderBy(e => e.Sequence).ToList();
            var actions = Deserialize<List<ActionItem>>(zip, dir + "actions.json", path);
            var updates = Deserialize<List<IncidentUpdate>>(zip, dir + "updates.json", path);
            var evidence = Deserialize<List<EvidenceManifest>>(zip, dir + "evidence.json", path);
            var contents = new Dictionary<string, string>();
            foreach (var e in evidence)
            {
                var content = ReadText(zip, $"{dir}evidence/{e.Name}", path) ?? throw Invalid(path, $"the evidence '{e.Name}' of {id} is missing");
                if (IncidentStores.Sha256(content) != e.Sha256) throw Invalid(path, $"the evidence '{e.Name}' of {id} does not match its SHA-256 {e.Sha256}");
                contents[e.Name] = content;
            }

            var archive = new ArchivedIncident(id, record, archived, actions, updates, evidence, contents);
            var existing = await store.GetAsync(id, cancellationToken).ConfigureAwait(false);
            if (existing is null && !planOnly && (approved is null || approved.Contains(id, StringComparer.OrdinalIgnoreCase)))
            {
                // Archives from before the compact cadence record: it is made from the updates every channel received.
                if (record.UpdatesSentAt is null && updates.Any(u => !u.Pending))
                    foreach (var u in updates.Where(u => !u.Pending)) IncidentMetricsService.RecordUpdateSent(record, u.CreatedAt);
                // Created only when the id is still free: an incident declared (or imported) in this store since the
                // lookup above keeps its record, and is then compared like any existing one.
                if (!await store.AddAsync(record, cancellationToken).ConfigureAwait(false))
                    existing = await store.GetAsync(id, cancellationToken).ConfigureAwait(false);
                else
                {
                    results.Add(await CompleteAsync(store, archive, path, "Imported", have: null, cancellationToken).ConfigureAwait(false));
                    continue;
                }
            }
            if (existing is not null && (existing.DeclaredAt != record.DeclaredAt || existing.Title != record.Title))
            {
                // The same id, allocated independently in this store for another incident: never mix the two records.
                sink.Warning($"{id} in {store.Identity} is another incident ('{existing.Title}', declared {existing.DeclaredAt:u}) than {id} in '{path}' " +
                    $"('{record.Title}', declared {record.DeclaredAt:u}); it was not imported. Import it into another store, or rename one of them first.");
                results.Add(new IncidentTransfer { IncidentId = id, Action = "Conflict", Path = path, IncidentStore = store.Identity });
                continue;
            }
            if (existing is null)
            {
                // -WhatIf, or not approved: say what an import would do.
                if (planOnly) results.Add(Transfer(store, archive, path, "Import", Missing(archive, null, null, null, null)));
                continue;
            }
            var missing = await MissingAsync(store, archive, cancellationToken).ConfigureAwait(false);
            if (missing.Total == 0)
            {
                results.Add(Transfer(store, archive, path, "Unchanged", missing));
                continue;
            }
            if (planOnly)
            {
                results.Add(Transfer(store, archive, path, "Complete", missing));
                continue;
            }
            if (approved is not null && !approved.Contains(id, StringComparer.OrdinalIgnoreCase)) continue;
            results.Add(await CompleteAsync(store, archive, path, "Completed", missing, cancellationToken).ConfigureAwait(false));
        }
        return results;
    }

    /// <summary>One incident as the archive holds it, its evidence already checked against the hashes.</summary>
    private sealed record ArchivedIncident(string Id, Incident Record, List<TimelineEntry> Timeline, List<ActionItem> Actions,
        List<IncidentUpdate> Updates, List<EvidenceManifest> Evidence, Dictionary<string, string> Contents);

    /// <summary>What of an archived incident the store lacks.</summary>
    private sealed record MissingParts(List<TimelineEntry> Entries, List<ActionItem> Actions, List<IncidentUpdate> Updates, List<EvidenceManifest> Evidence)
    {
        public int Total => Entries.Count + Actions.Count + Updates.Count + Evidence.Count;
    }

    /// <summary>
    /// Who wrote what, when: the identity of a timeline entry apart from its place (each store numbers its own entries).
    /// An incident that moved on in both stores since an earlier import has entries of its own after the ones they share,
    /// so the archived entries the store lacks are found by identity, never by counting.
    /// </summary>
    private static string EntryKey(TimelineEntry e) =>
        string.Join('\u001f', e.Timestamp.UtcTicks.ToString(System.Globalization.CultureInfo.InvariantCulture), e.Actor, e.Kind, e.Cmdlet, e.Action, e.Target, e.Outcome.ToString(), e.Result);

    private static MissingParts Missing(ArchivedIncident a, IReadOnlyList<TimelineEntry>? have, IReadOnlyList<ActionItem>? haveActions,
        IReadOnlyList<IncidentUpdate>? haveUpdates, IReadOnlyList<StoredEvidence>? haveEvidence)
    {
        // A multiset: two identical entries archived are two entries, and one already stored accounts for one of them.
        var stored = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var e in have ?? []) stored[EntryKey(e)] = stored.GetValueOrDefault(EntryKey(e)) + 1;
        var entries = new List<TimelineEntry>();
        // An update entry the store has only without the channels another of its entries tells (an earlier import added it so),
        // or whose every delivery another entry tells, is there as far as it can be: it is not missing.
        var told = (have ?? []).SelectMany(e => e.DeliveryKeys ?? []).ToHashSet(StringComparer.Ordinal);
        foreach (var e in a.Timeline)
        {
            var key = EntryKey(e);
            if (stored.GetValueOrDefault(key) is var n && n > 0) stored[key] = n - 1;
            else if (e.DeliveryKeys is { Count: > 0 } && TrimmedFormStored(e, have ?? [], stored) is { } trimmed) stored[trimmed] -= 1;
            else if (e.DeliveryKeys is { Count: > 0 } && ToldDeliveryEntries.WithoutTold(e, told) is null) { }
            else entries.Add(e);
        }
        return new MissingParts(entries,
            a.Actions.Where(x => (haveActions ?? []).All(h => h.Id != x.Id)).ToList(),
            a.Updates.Where(u => (haveUpdates ?? []).All(h => h.UpdateId != u.UpdateId)).ToList(),
            a.Evidence.Where(e => (haveEvidence ?? []).All(h => h.Name != e.Name)).ToList());
    }

    /// <summary>
    /// The identity of a stored entry that is <paramref name="e"/> without the channels whose delivery its own keys lack
    /// (<see cref="ToldDeliveryEntries.WithoutTold"/>), still unaccounted for in <paramref name="stored"/>; null when there is none.
    /// </summary>
    private static string? TrimmedFormStored(TimelineEntry e, IReadOnlyList<TimelineEntry> have, Dictionary<string, int> stored)
    {
        foreach (var s in have)
        {
            if (s.Timestamp.UtcTicks != e.Timestamp.UtcTicks || s.Kind != e.Kind || s.Action != e.Action || s.Actor != e.Actor) continue;
            var removed = e.DeliveryKeys!.Except(s.DeliveryKeys ?? [], StringComparer.Ordinal).ToList();
            if (removed.Count == 0 || (s.DeliveryKeys ?? []).Except(e.DeliveryKeys!, StringComparer.Ordinal).Any()) continue;
            if (ToldDeliveryEntries.WithoutTold(e, removed) is { } trimmed && EntryKey(trimmed) is var key && key == EntryKey(s)
                && stored.GetValueOrDefault(key) > 0) return key;
        }
        return null;
    }

    private static async Task<MissingParts> MissingAsync(IIncidentStore store, ArchivedIncident a, CancellationToken cancellationToken) => Missing(a,
        await store.ReadTimelineAsync(a.Id, cancellationToken).ConfigureAwait(false),
        await store.ReadActionItemsAsync(a.Id, cancellationToken).ConfigureAwait(false),
        await store.ReadOutboxAsync(a.Id, cancellationToken).ConfigureAwait(false),
        await store.ListEvidenceAsync(a.Id, cancellationToken).ConfigureAwait(false));

    private static IncidentTransfer Transfer(IIncidentStore store, ArchivedIncident a, string path, string action, MissingParts m) => new()
    {
        IncidentId = a.Id, Action = action, Path = path, IncidentStore = store.Identity,
        TimelineEntries = m.Entries.Count, ActionItems = m.Actions.Count, Updates = m.Updates.Count, Evidence = m.Evidence.Count,
    };

    /// <summary>Writes what the store lacks (all of it for a record just added, <paramref name="have"/> null).</summary>
    private async Task<IncidentTransfer> CompleteAsync(IIncidentStore store, ArchivedIncident a, string path, string action, MissingParts? have, CancellationToken cancellationToken)
    {
        var m = have ?? Missing(a, null, null, null, null);
        foreach (var e in m.Entries)
            try
            {
                // A delivery this store's timeline already tells (by another entry) is told once: the entry is added without it,
                // so what no other entry tells (another channel's delivery, a failure) is kept; left out only when nothing is.
                var told = await ToldDeliveryEntries.AppendUntoldAsync(e, x => timeline.AppendAsync(store, a.Id, x, cancellationToken)).ConfigureAwait(false);
                if (told.ToldElsewhere.Count > 0)
                    sink.Warning(told.Written is { } rest
                        ? $"{a.Id}: the archived timeline entry '{e.Action}' of {e.Timestamp:u} was added for {rest.Target?.Replace(",", ", ")} only: " +
                          $"another entry on the timeline in {store.Identity} already tells the delivery to {string.Join(", ", told.ToldElsewhere)}."
                        : $"{a.Id}: the archived timeline entry '{e.Action}' of {e.Timestamp:u} was not added: another entry on the timeline in {store.Identity} " +
                          $"already tells the same deliveries ({string.Join(", ", told.ToldElsewhere)}), and it tells nothing else.");
            }
            catch (IncidentOpsException ex) when (ex.ErrorId == IncidentErrorIds.DeliveryAlreadyTold)
            {
                sink.Warning($"{a.Id}: the archived timeline entry '{e.Action}' of {e.Timestamp:u} was not added: {ex.Message}");
            }
        if (m.Actions.Count > 0)
            await store.ChangeActionItemsAsync(a.Id, list => list.AddRange(m.Actions.Where(x => list.All(h => h.Id != x.Id))), cancellationToken).ConfigureAwait(false);
        foreach (var u in m.Updates) await store.WriteOutboxEntryAsync(u, cancellationToken).ConfigureAwait(false);
        foreach (var e in m.Evidence) await store.PutEvidenceAsync(a.Id, e.Name, a.Contents[e.Name], e.CapturedAt, cancellationToken).ConfigureAwait(false);
        sink.Verbose($"{a.Id}: {action.ToLowerInvariant()} into {store.Identity} from '{path}'.");
        return Transfer(store, a, path, action, m);
    }

    private static ZipArchive OpenArchive(string path)
    {
        try { return ZipFile.OpenRead(path); }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new IncidentOpsException(IncidentErrorIds.ArchiveNotFound, IncidentOpsErrorCategory.ObjectNotFound, $"No archive at '{path}'. Give the -Path that Export-Incident wrote.", ex) { TargetObject = path };
        }
        catch (InvalidDataException ex) { throw Invalid(path, "it is not a zip archive", ex); }
    }

    private static ArchiveManifest ReadManifest(ZipArchive zip, string path)
    {
        var manifest = Deserialize<ArchiveManifest>(zip, "manifest.json", path);
        if (manifest.Format != ArchiveFormat) throw Invalid(path, "its manifest is not an IncidentOps archive's");
        if (manifest.Version > ArchiveVersion) throw Invalid(path, $"it is format version {manifest.Version}, newer than this IncidentOps reads ({ArchiveVersion}); update the module");
        return manifest;
    }

    private static string? ReadText(ZipArchive zip, string name, string path)
    {
        var entry = zip.GetEntry(name);
        if (entry is null) return null;
        using var r = new StreamReader(entry.Open(), Encoding.UTF8);
        return r.ReadToEnd();
    }

    private static T Deserialize<T>(ZipArchive zip, string name, string path)
    {
        var text = ReadText(zip, name, path) ?? throw Invalid(path, $"it has no {name}");
        try { return JsonSerializer.Deserialize<T>(text, ArchiveJson) ?? throw Invalid(path, $"{name} is empty"); }
        catch (JsonException ex) { throw Invalid(path, $"{name} is not valid JSON ({ex.Message})", ex); }
    }

    private static IncidentOpsException Invalid(string path, string why, Exception? inner = null) =>
        new(IncidentErrorIds.ArchiveInvalid, IncidentOpsErrorCategory.InvalidData,
            $"'{path}' cannot be imported: {why}. Nothing more was read from it. Export the incidents again with Export-Incident.", inner) { TargetObject = path };
}
