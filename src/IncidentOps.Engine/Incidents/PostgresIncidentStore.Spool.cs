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
    }

    /// <summary>The spool file of this user for this store.</summary>
    public string SpoolPath => Path.Combine(LocalFolder, "spool.jsonl");

    private string SpoolLockPath => Path.Combine(LocalFolder, ".spool.lock");

    private async Task SpoolAsync(string id, TimelineEntry entry, IncidentOpsException why)
    {
        Directory.CreateDirectory(LocalFolder);
        var line = JsonSerializer.Serialize(new SpooledEntry { Key = Guid.NewGuid().ToString("N"), IncidentId = id, Entry = entry }, Json) + "\n";
        await using (await FileLock.AcquireAsync(SpoolLockPath, TimeSpan.FromSeconds(30), CancellationToken.None).ConfigureAwait(false))
        {
            try
            {
                await using var fs = new FileStream(SpoolPath, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.Read, 0, FileOptions.None);
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
                }
                catch
                {
                    // A write cut short (disk full) is cut back to where it began: it leaves no torn bytes of its own.
                    try { fs.SetLength(start); } catch (IOException) { }
                    throw;
                }
            }
            catch (Exception ex) when (StoreFaults.Translate(ex, SpoolPath) is { } fault) { throw fault; }
        }
        entry.Sequence = 0;
        Warning?.Invoke($"The incident store on {Host}:{Port} cannot be reached ({why.InnerException?.Message ?? "no connection"}). " +
            $"The timeline entry '{$"{entry.Action} {entry.Target}".Trim()}' for {id} was kept in the local spool '{SpoolPath}'; the next command that reaches the store writes it there, once.");
    }

    /// <summary>Writes the spool to the store, in order, each entry once; removes it when all are stored.</summary>
    private async Task FlushSpoolAsync(NpgsqlConnection c, CancellationToken ct)
    {
        if (!File.Exists(SpoolPath)) return;
        await using var _ = await FileLock.AcquireAsync(SpoolLockPath, TimeSpan.FromSeconds(30), ct).ConfigureAwait(false);
        if (!File.Exists(SpoolPath)) return; // another process flushed it meanwhile
        var lines = await File.ReadAllLinesAsync(SpoolPath, ct).ConfigureAwait(false);
        var written = 0;
        foreach (var line in lines)
        {
            if (string.IsNullOrWhiteSpace(line)) continue;
            SpooledEntry? spooled;
            try { spooled = JsonSerializer.Deserialize<SpooledEntry>(line, Json); }
            catch (JsonException) { spooled = null; } // a line torn by a crash while spooling: nothing acknowledged it
            if (spooled is null) continue;
            try
            {
                if (await InsertEntryAsync(c, spooled.IncidentId, spooled.Entry, spooled.Key, ct).ConfigureAwait(false) > 0) written++;
            }
            catch (IncidentOpsException ex) when (ex.ErrorId == IncidentErrorIds.NotFound)
            {
                Warning?.Invoke($"The spooled timeline entry '{spooled.Entry.Action}' is for {spooled.IncidentId}, which is not in {Identity}; it was left in '{SpoolPath}.orphaned'.");
                await File.AppendAllTextAsync(SpoolPath + ".orphaned", line + "\n", CancellationToken.None).ConfigureAwait(false);
            }
        }
        File.Delete(SpoolPath);
        if (written > 0) Warning?.Invoke($"Wrote {written} spooled timeline entr{(written == 1 ? "y" : "ies")} from '{SpoolPath}' to {Identity}.");
    }

    /// <summary>The number of entries waiting in the spool.</summary>
    public int SpooledCount() => File.Exists(SpoolPath) ? File.ReadAllLines(SpoolPath).Count(l => !string.IsNullOrWhiteSpace(l)) : 0;
}
