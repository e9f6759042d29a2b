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
            throw new IncidentOpsException("IncidentArchiveExists", IncidentOpsErrorCategory.ResourceExists,
                $"'{path}' already exists. Give another -Path, or -Force to replace it.") { TargetObject = path };
        var results = new List<IncidentTransfer>();
        var temp = $"{path}.{System.Environment.ProcessId}.{Guid.NewGuid():N}.tmp";
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
                    foreach (var e in evidence)
                        Write(zip, $"{dir}evidence/{e.Name}", await store.ReadEvidenceAsync(incident.Id, e.Name, cancellationToken).ConfigureAwait(false) ?? "");
                    manifest.Incidents.Add(incident.Id);
                    results.Add(new IncidentTransfer
                    {
                        IncidentId = incident.Id, Action = "Exported", Path = path, IncidentStore = store.Identity,
                        TimelineEntries = timeline.Count, ActionItems = actions.Count, Updates = updates.Count, Evidence = evidence.Count,
                    });
                }
                Write(zip, "manifest.json", JsonSerializer.Serialize(manifest, ArchiveJson));
            }
            File.Move(temp, path, overwrite: force);
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

            var existing = await store.GetAsync(id, cancellationToken).ConfigureAwait(false);
            if (existing is not null && (existing.DeclaredAt != record.DeclaredAt || existing.Title != record.Title))
            {
                // The same id, allocated independently in this store for another incident: never mix the two records.
                sink.Warning($"{id} in {store.Identity} is another incident ('{existing.Title}', declared {existing.DeclaredAt:u}) than {id} in '{path}' " +
                    $"('{record.Title}', declared {record.DeclaredAt:u}); it was not imported. Import it into another store, or rename one of them first.");
                results.Add(new IncidentTransfer { IncidentId = id, Action = "Conflict", Path = path, IncidentStore = store.Identity });
                continue;
            }
            var have = existing is null ? [] : (await store.ReadTimelineAsync(id, cancellationToken).ConfigureAwait(false)).OrderBy(e => e.Sequence).ToList();
            var haveActions = existing is null ? [] : await store.ReadActionItemsAsync(id, cancellationToken).ConfigureAwait(false);
            var haveUpdates = existing is null ? [] : await store.ReadOutboxAsync(id, cancellationToken).ConfigureAwait(false);
            var haveEvidence = existing is null ? [] : await store.ListEvidenceAsync(id, cancellationToken).ConfigureAwait(false);
            var missingEntries = archived.Skip(have.Count).ToList();
            var missingActions = actions.Where(a => haveActions.All(h => h.Id != a.Id)).ToList();
            var missingUpdates = updates.Where(u => haveUpdates.All(h => h.UpdateId != u.UpdateId)).ToList();
            var missingEvidence = evidence.Where(e => haveEvidence.All(h => h.Name != e.Name)).ToList();
            var transfer = (string action) => new IncidentTransfer
            {
                IncidentId = id, Action = action, Path = path, IncidentStore = store.Identity,
                TimelineEntries = missingEntries.Count, ActionItems = missingActions.Count, Updates = missingUpdates.Count, Evidence = missingEvidence.Count,
            };
            if (existing is not null && missingEntries.Count + missingActions.Count + missingUpdates.Count + missingEvidence.Count == 0)
            {
                results.Add(transfer("Unchanged"));
                continue;
            }
            var action = existing is null ? "Imported" : "Completed";
            if (planOnly)
            {
                results.Add(transfer(existing is null ? "Import" : "Complete"));
                continue;
            }
            if (approved is not null && !approved.Contains(id, StringComparer.OrdinalIgnoreCase)) continue;
            // Archives from before the compact cadence record: it is made from the updates every channel received.
            if (existing is null && record.UpdatesSentAt is null && updates.Any(u => !u.Pending))
                foreach (var u in updates.Where(u => !u.Pending)) IncidentMetricsService.RecordUpdateSent(record, u.CreatedAt);
            if (existing is null) await store.SaveAsync(record, cancellationToken).ConfigureAwait(false);
            foreach (var e in missingEntries) await timeline.AppendAsync(store, id, e, cancellationToken).ConfigureAwait(false);
            if (missingActions.Count > 0)
                await store.ChangeActionItemsAsync(id, list => list.AddRange(missingActions.Where(a => list.All(h => h.Id != a.Id))), cancellationToken).ConfigureAwait(false);
            foreach (var u in missingUpdates) await store.WriteOutboxEntryAsync(u, cancellationToken).ConfigureAwait(false);
            foreach (var e in missingEvidence) await store.PutEvidenceAsync(id, e.Name, contents[e.Name], e.CapturedAt, cancellationToken).ConfigureAwait(false);
            sink.Verbose($"{id}: {action.ToLowerInvariant()} into {store.Identity} from '{path}'.");
            results.Add(transfer(action));
        }
        return results;
    }

    private static ZipArchive OpenArchive(string path)
    {
        try { return ZipFile.OpenRead(path); }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new IncidentOpsException("IncidentArchiveNotFound", IncidentOpsErrorCategory.ObjectNotFound, $"No archive at '{path}'. Give the -Path that Export-Incident wrote.", ex) { TargetObject = path };
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
