using System.Text.Json;

namespace IncidentOps.Engine.Incidents;

/// <summary>
/// The local file that names this person's active incident (each store keeps one: the file store in its folder, the
/// team store in its local folder). Every write, and every compare-and-set, holds one lock file beside it, so the
/// person's New-Incident and the alerting round (the same user's cron job) never overwrite each other's choice.
/// </summary>
internal static class ActivePointer
{
    private static readonly TimeSpan LockTimeout = TimeSpan.FromSeconds(30);

    /// <summary>The id the file names (trimmed), or null when there is none.</summary>
    public static async Task<string?> ReadAsync(string file, CancellationToken cancellationToken)
    {
        if (!File.Exists(file)) return null;
        string text;
        try { text = await File.ReadAllTextAsync(file, cancellationToken).ConfigureAwait(false); }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException) { return null; }
        var id = text.Trim();
        return id.Length == 0 ? null : id;
    }

    /// <summary>
    /// Names <paramref name="id"/> as the active incident (null: none), under the pointer's lock; <paramref name="alsoLocked"/>
    /// runs after the write, still under the lock (a file of the store's own beside the pointer).
    /// </summary>
    public static async Task WriteAsync(string file, string? id, CancellationToken cancellationToken, Func<CancellationToken, Task>? alsoLocked = null)
    {
        await using var _ = await LockAsync(file, cancellationToken).ConfigureAwait(false);
        await WriteLockedAsync(file, id, cancellationToken).ConfigureAwait(false);
        if (alsoLocked is not null) await alsoLocked(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Names <paramref name="id"/> only while the pointer still reads <paramref name="expected"/> (compared without case, as
    /// <paramref name="read"/> gives it: a store's own view of the file); false, changing nothing, when it reads otherwise.
    /// </summary>
    public static async Task<bool> ChangeAsync(string file, string? expected, string? id, Func<string, CancellationToken, Task<string?>> read, CancellationToken cancellationToken,
        Func<CancellationToken, Task>? alsoLocked = null)
    {
        await using var _ = await LockAsync(file, cancellationToken).ConfigureAwait(false);
        if (!string.Equals(await read(file, cancellationToken).ConfigureAwait(false), expected, StringComparison.OrdinalIgnoreCase)) return false;
        await WriteLockedAsync(file, id, cancellationToken).ConfigureAwait(false);
        if (alsoLocked is not null) await alsoLocked(cancellationToken).ConfigureAwait(false);
        return true;
    }

    private static async Task<FileLock> LockAsync(string file, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(file))!);
        return await FileLock.AcquireAsync(file + ".lock", LockTimeout, cancellationToken).ConfigureAwait(false);
    }

    private static async Task WriteLockedAsync(string file, string? id, CancellationToken cancellationToken)
    {
        if (id is null)
        {
            try
            {
                if (File.Exists(file)) File.Delete(file);
                if (File.Exists(StampFile(file))) File.Delete(StampFile(file));
            }
            catch (Exception ex) when (StoreFaults.Translate(ex, file) is { } fault) { throw fault; }
            return;
        }
        // Who made it active, and when, beside the pointer (the pointer itself stays the bare id every version reads). On a
        // shared folder the pointer is everyone's: the stamp lets the next change of another session say who switched it.
        var stamp = new ActiveStamp { Id = id, By = Me, At = DateTimeOffset.UtcNow };
        await FileIncidentStore.WriteAtomicAsync(file, id, cancellationToken).ConfigureAwait(false);
        try { await FileIncidentStore.WriteAtomicAsync(StampFile(file), JsonSerializer.Serialize(stamp, FileIncidentStore.Json), cancellationToken).ConfigureAwait(false); }
        catch (IncidentOpsException) { /* the pointer is written; a missing stamp only means no one is told who set it */ }
    }

    /// <summary>This session's user and machine, as a stamp names them (not a timeline actor override: a person's own cron job is the same person).</summary>
    public static string Me => $"{System.Environment.UserName}@{System.Environment.MachineName}";

    /// <summary>The file beside the pointer that says who made the incident active and when (<c>active.by</c>).</summary>
    public static string StampFile(string file) => file + ".by";

    /// <summary>Who made the pointer's incident active and when; null when no stamp is there (none written, or by an older version).</summary>
    public static ActiveStamp? ReadStamp(string file)
    {
        try
        {
            var path = StampFile(file);
            return File.Exists(path) ? JsonSerializer.Deserialize<ActiveStamp>(File.ReadAllText(path), FileIncidentStore.Json) : null;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or JsonException) { return null; }
    }
}

/// <summary>Who made an incident the active one, and when (the file <c>active.by</c> beside the pointer).</summary>
internal sealed class ActiveStamp
{
    public string? Id { get; init; }
    public string? By { get; init; }
    public DateTimeOffset At { get; init; }
}
