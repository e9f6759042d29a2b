using System.Text;
using System.Text.Json;
using IncidentOps.Incidents;
using Npgsql;

namespace IncidentOps.Engine.Incidents;

/// <summary>
/// The local spool of the team store: a timeline entry of a change that already happened (a restart, a terminated
/// session) while the store could not be reached is kept in spool.jsonl under the user's data folder, with a warning
/// that names the file. The next call of any cmdlet that reaches the store writes the spool first, in order; each
/// entry carries a key the store keeps unique, so an interrupted flush never writes an entry twice.
/// </summary>
public sealed partial class PostgresIncidentStore
{
    private sealed class SpooledEntry
    {
        public required string Key { get; init; }
        public required string IncidentId { get; init; }
        public required TimelineEntry Entry { get; init; }

        /// <summary>The server the entry was written for (null: spooled by an earlier version, which did not say).</summary>
        public ServerMark? For { get; init; }
    }

    /// <summary>The spool file of this user for this store.</summary>
    public string SpoolPath => Path.Combine(LocalFolder, "spool.jsonl");

    private async Task SpoolAsync(string id, TimelineEntry entry, string key, IncidentOpsException why)
    {
        var folder = LocalFolder;
        var spoolPath = Path.Combine(folder, "spool.jsonl");
        var newFolder = !Directory.Exists(folder);
        Directory.CreateDirectory(folder);
        var line = JsonSerializer.Serialize(new SpooledEntry { Key = key, IncidentId = id, Entry = entry, For = MarkOfThisAddress() }, Json) + "\n";
        await using (await FileLock.AcquireAsync(Path.Combine(folder, ".spool.lock"), TimeSpan.FromSeconds(30), CancellationToken.None).ConfigureAwait(false))
        {
            try
            {
                var created = !File.Exists(spoolPath);
                await using var fs = new FileStream(spoolPath, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.Read, 0, FileOptions.None);
                var start = fs.Length;
                // A line a killed writer left unfinished is closed first, so it can never swallow this entry (the flush
                // would drop the joined line, and with it an entry this call acknowledged).
                var torn = false;
                if (start > 0)
                {
                    fs.Seek(-1, SeekOrigin.End);
                    torn = fs.ReadByte() != '\n';
                }
                fs.Seek(start, SeekOrigin.Begin);
                try
                {
                    await fs.WriteAsync(Encoding.UTF8.GetBytes(torn ? "\n" + line : line), CancellationToken.None).ConfigureAwait(false);
                    fs.Flush(flushToDisk: true);
                    // The entry is acknowledged as kept: a spool file (or folder) this call created must survive a crash
                    // too, and a new name is on disk only once its directory is.
                    if (created) DirectorySync.Sync(folder);
                    if (newFolder) DirectorySync.SyncParentOf(folder);
                }
                catch
                {
                    // A write cut short (disk full) is cut back to where it began: it leaves no torn bytes of its own.
                    try { fs.SetLength(start); } catch (IOException) { }
                    throw;
                }
            }
            catch (Exception ex) when (StoreFaults.Translate(ex, spoolPath) is { } fault) { throw fault; }
        }
        entry.Sequence = 0;
        var reason = why.ErrorId == IncidentErrorIds.StoreTimeout
            ? $"did not answer within {CallTimeout.TotalSeconds:0} s"
            : $"cannot be reached ({SecretRedactor.Redact(why.InnerException?.Message ?? "no connection")})";
        Warning?.Invoke($"The incident store on {Host}:{Port} {reason}. " +
            $"The timeline entry '{$"{entry.Action} {entry.Target}".Trim()}' for {id} was kept in the local spool '{spoolPath}'; the next command that reaches the store writes it there, once.");
    }

    /// <summary>The file beside the spool that keeps the bytes of spool lines that could not be read, for a person to inspect.</summary>
    public string QuarantinePath => SpoolPath + ".quarantine";

    /// <summary>
    /// Writes the spools to the store: this database's (the entries written for this server: see <see cref="IsFor"/>), and
    /// the one an address that was never reached before kept in its own folder (all of it: it was written through this address).
    /// </summary>
    private async Task FlushSpoolAsync(NpgsqlConnection c, CancellationToken ct)
    {
        var folder = LocalFolder;
        var addressFolder = string.Equals(folder, AddressFolder, StringComparison.Ordinal);
        await FlushSpoolAsync(c, folder, throughThisAddress: addressFolder, ct).ConfigureAwait(false);
        if (!addressFolder) await FlushSpoolAsync(c, AddressFolder, throughThisAddress: true, ct).ConfigureAwait(false);
    }

    /// <summary>
    /// Writes one spool to the store, in order, each entry once; removes it when all are stored. A line that cannot be read
    /// (torn by a crash or a full disk, or damaged) never takes a readable entry with it: an entry that follows torn bytes
    /// on the same line (written by a version that did not close a torn line first) is found and written, and the bytes
    /// that are no entry are kept, as they were, in the quarantine file beside the spool, with a warning that names it.
    /// <para>
    /// The database's folder is shared by a cluster and its copies made from a base backup: an entry written for another
    /// server (or by an earlier version, which did not say for which) is not written here; it stays in the spool, as it
    /// was, with a warning (once per process) that names the server it waits for and how to write it elsewhere on purpose.
    /// </para>
    /// </summary>
    private async Task FlushSpoolAsync(NpgsqlConnection c, string folder, bool throughThisAddress, CancellationToken ct)
    {
        var spool = Path.Combine(folder, "spool.jsonl");
        if (!File.Exists(spool)) return;
        await using var _ = await FileLock.AcquireAsync(Path.Combine(folder, ".spool.lock"), TimeSpan.FromSeconds(30), ct).ConfigureAwait(false);
        if (!File.Exists(spool)) return; // another process flushed it meanwhile
        var bytes = await File.ReadAllBytesAsync(spool, ct).ConfigureAwait(false);
        var written = 0;
        var quarantined = new List<byte[]>();
        var orphaned = new List<byte[]>();
        var start = 0;
        // A line with no entry in it is what may have been lost; torn bytes before an entry that was found (an earlier
        // version appended onto a line a killed writer left) are kept too, but that line's entry was not lost.
        var unrecovered = 0;
        var tornBeforeEntry = 0;
        // Lines written for another server, as they were; and this server's mark, asked for when a line needs it.
        var kept = new List<(ReadOnlyMemory<byte> Line, SpooledEntry Entry)>();
        ServerMark? here = null;
        while (start < bytes.Length)
        {
            var end = Array.IndexOf(bytes, (byte)'\n', start);
            if (end < 0) end = bytes.Length;
            var line = bytes.AsMemory(start, end - start);
            start = end + 1;
            if (line.Span.Trim(" \t\r"u8).IsEmpty) continue;
            var (spooled, unreadable) = ReadSpoolLine(line);
            if (unreadable.Length > 0) quarantined.Add(unreadable.ToArray());
            if (spooled is null) { unrecovered++; continue; }
            if (!throughThisAddress && !string.Equals(spooled.For?.Address, Identity, StringComparison.Ordinal))
            {
                if (here is null)
                {
                    here = await QueryServerAsync(c, ct).ConfigureAwait(false);
                    here.Address = Identity;
                }
                if (!IsFor(spooled.For, here))
                {
                    // The readable entry only: torn bytes before it go to the quarantine as for any other line.
                    kept.Add((line[unreadable.Length..], spooled));
                    if (unreadable.Length > 0) tornBeforeEntry++;
                    continue;
                }
            }
            if (unreadable.Length > 0) tornBeforeEntry++;
            try
            {
                // Written while the store was down, some of its deliveries may have been told meanwhile by another sender (which
                // could not see this spool): the entry is written without those, so what no other entry tells (another channel's
                // delivery, a failure) is kept; it is left out only when nothing untold remains.
                var seq = 0L;
                var told = await ToldDeliveryEntries.AppendUntoldAsync(spooled.Entry,
                    async e => seq = await InsertEntryAsync(c, spooled.IncidentId, e, spooled.Key, ct).ConfigureAwait(false)).ConfigureAwait(false);
                if (seq > 0) written++;
                // (seq -1: an earlier, interrupted flush stored it under its key, and warned then.)
                if (told.ToldElsewhere.Count > 0 && seq >= 0)
                    Warning?.Invoke(told.Written is { } rest
                        ? $"The spooled timeline entry '{spooled.Entry.Action}' for {spooled.IncidentId} was written for {rest.Target?.Replace(",", ", ")} only: " +
                          $"another entry on its timeline already tells the delivery to {string.Join(", ", told.ToldElsewhere)}."
                        : $"The spooled timeline entry '{spooled.Entry.Action}' for {spooled.IncidentId} was not written: another entry on its timeline already tells " +
                          $"the same deliveries ({string.Join(", ", told.ToldElsewhere)}), and it tells nothing else.");
            }
            catch (IncidentOpsException ex) when (ex.ErrorId == IncidentErrorIds.DeliveryAlreadyTold)
            {
                Warning?.Invoke($"The spooled timeline entry '{spooled.Entry.Action}' for {spooled.IncidentId} was not written: another entry on its timeline " +
                    $"already tells the same deliveries ({ex.Message})");
            }
            catch (IncidentOpsException ex) when (ex.ErrorId == IncidentErrorIds.NotFound)
            {
                Warning?.Invoke($"The spooled timeline entry '{spooled.Entry.Action}' is for {spooled.IncidentId}, which is not in {Identity}; it was left in '{spool}.orphaned'.");
                orphaned.Add(JsonSerializer.SerializeToUtf8Bytes(spooled, Json));
            }
        }
        // What cannot be written to the store is on disk beside the spool before the spool goes.
        try
        {
            if (orphaned.Count > 0) await AppendDurableAsync(spool + ".orphaned", orphaned.SelectMany(o => o.Append((byte)'\n')).ToArray()).ConfigureAwait(false);
            if (quarantined.Count > 0) await AppendDurableAsync(spool + ".quarantine", quarantined.SelectMany(q => q.Append((byte)'\n')).ToArray()).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // The readable entries are stored (each under its key: a later flush does not write them twice); the spool
            // stays, unreadable lines included, until they can be set aside.
            Warning?.Invoke($"The local spool '{spool}' has {Unreadable(unrecovered, tornBeforeEntry)} that could not be set aside in '{spool}.quarantine' ({ex.Message}); " +
                "the spool is kept as it is, and the next command that reaches the store tries again. Free space in that folder.");
            return;
        }
        if (kept.Count == 0) File.Delete(spool);
        else
        {
            // Only what was written for another server stays, byte for byte, in its order (replaced at once: a crash leaves
            // the old spool, whose written entries are not written twice, under their keys).
            var rest = kept.SelectMany(k => k.Line.ToArray().Append((byte)'\n')).ToArray();
            if (rest.Length != bytes.Length)
            {
                try { await FileIncidentStore.WriteAtomicAsync(spool, Encoding.UTF8.GetString(rest), ct).ConfigureAwait(false); }
                catch (IncidentOpsException ex) { Warning?.Invoke($"The local spool '{spool}' could not be rewritten ({ex.Message}); it is kept as it was, and its written entries are not written twice."); }
            }
            WarnKept(spool, kept.Select(k => k.Entry).ToList(), here!);
        }
        if (written > 0) Warning?.Invoke($"Wrote {written} spooled timeline entr{(written == 1 ? "y" : "ies")} from '{spool}' to {Identity}.");
        if (quarantined.Count > 0)
            Warning?.Invoke($"The local spool '{spool}' had {Unreadable(unrecovered, tornBeforeEntry)} (a write cut short by a crash or a full disk, or a damaged file): " +
                $"every readable entry was written to {Identity}, and the unreadable bytes were kept in '{spool}.quarantine'. Inspect them with " +
                $"Get-Content -LiteralPath '{spool}.quarantine' (or Format-Hex); if one is a change that happened, record it with Add-IncidentNote -Incident <id>, then remove the file.");
    }

    /// <summary>
    /// Says (once per process for these entries) that entries of the spool were left there for another server, which one,
    /// and how to write them there, or here on purpose.
    /// </summary>
    private void WarnKept(string spool, IReadOnlyList<SpooledEntry> kept, ServerMark here)
    {
        var mine = Path.Combine(AddressFolder, "spool.jsonl");
        foreach (var group in kept.GroupBy(k => k.For is null ? "" : Describe(k.For)))
        {
            var entries = group.ToList();
            var count = entries.Count == 1 ? "1 timeline entry" : $"{entries.Count} timeline entries";
            var which = string.Join(", ", entries.Select(e => $"'{$"{e.Entry.Action} {e.Entry.Target}".Trim()}' for {e.IncidentId}").Take(5)) + (entries.Count > 5 ? ", ..." : "");
            var forWhom = group.Key.Length == 0
                ? "were spooled by an earlier version of IncidentOps, which did not record for which server"
                : $"were spooled for {group.Key}";
            WarnOnce($"spool|{spool}|{here.Address}|{group.Key}|{string.Join(",", entries.Select(e => e.Key))}",
                $"{count} in the local spool '{spool}' ({which}) {forWhom}, and {Describe(here)} is another server with the same system identifier, database " +
                "and schema (a copy made from a base backup, such as a staging clone, or one that cannot be confirmed to be that server): they were not written here " +
                "and stay in the spool. The next command whose configuration reaches the server they were spooled for writes them there. " +
                $"Only if this server is that one (its promoted standby, or the same cluster reached another way), write them here on purpose: " +
                $"Get-Content -LiteralPath '{spool}' | Add-Content -LiteralPath '{mine}'; Remove-Item -LiteralPath '{spool}' " +
                "(this moves every entry of that spool to this address's spool; the next command with this configuration writes them, once).");
        }
    }

    /// <summary>"2 unreadable line(s)", "and torn bytes before 1 entry that was recovered": only lines with no entry count as unreadable.</summary>
    private static string Unreadable(int unrecovered, int tornBeforeEntry) =>
        (unrecovered > 0 || tornBeforeEntry == 0 ? $"{unrecovered} unreadable line(s)" : "no unreadable line") +
        (tornBeforeEntry > 0 ? $" and torn bytes before {tornBeforeEntry} entr{(tornBeforeEntry == 1 ? "y" : "ies")} that {(tornBeforeEntry == 1 ? "was" : "were")} recovered" : "");

    private static ReadOnlySpan<byte> EntryStart => "{\"key\":"u8;

    /// <summary>
    /// One spool line: the entry it holds (or null) and the bytes that are no entry. A line that does not parse is searched
    /// for an entry that begins after torn bytes (an entry's text cannot contain its own start unescaped).
    /// </summary>
    private static (SpooledEntry? Entry, ReadOnlyMemory<byte> Unreadable) ReadSpoolLine(ReadOnlyMemory<byte> line)
    {
        if (ParseSpooled(line.Span) is { } whole) return (whole, ReadOnlyMemory<byte>.Empty);
        for (var at = 1; at < line.Length; at++)
        {
            var next = line.Span[at..].IndexOf(EntryStart);
            if (next < 0) break;
            at += next;
            if (ParseSpooled(line.Span[at..]) is { } tail) return (tail, line[..at]);
        }
        return (null, line);
    }

    private static SpooledEntry? ParseSpooled(ReadOnlySpan<byte> utf8)
    {
        try
        {
            return JsonSerializer.Deserialize<SpooledEntry>(utf8, Json) is { Key.Length: > 0, IncidentId.Length: > 0, Entry: not null } e ? e : null;
        }
        catch (Exception ex) when (ex is JsonException or NotSupportedException or ArgumentException or InvalidOperationException) { return null; }
    }

    /// <summary>The number of entries waiting in the spool.</summary>
    public int SpooledCount() => File.Exists(SpoolPath) ? File.ReadAllLines(SpoolPath).Count(l => !string.IsNullOrWhiteSpace(l)) : 0;
}
