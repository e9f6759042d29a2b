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

    /// <summary>Names <paramref name="id"/> as the active incident (null: none), under the pointer's lock.</summary>
    public static async Task WriteAsync(string file, string? id, CancellationToken cancellationToken)
    {
        await using var _ = await LockAsync(file, cancellationToken).ConfigureAwait(false);
        await WriteLockedAsync(file, id, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Names <paramref name="id"/> only while the pointer still reads <paramref name="expected"/> (compared without case, as
    /// <paramref name="read"/> gives it: a store's own view of the file); false, changing nothing, when it reads otherwise.
    /// </summary>
    public static async Task<bool> ChangeAsync(string file, string? expected, string? id, Func<string, CancellationToken, Task<string?>> read, CancellationToken cancellationToken)
    {
        await using var _ = await LockAsync(file, cancellationToken).ConfigureAwait(false);
        if (!string.Equals(await read(file, cancellationToken).ConfigureAwait(false), expected, StringComparison.OrdinalIgnoreCase)) return false;
        await WriteLockedAsync(file, id, cancellationToken).ConfigureAwait(false);
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
            try { if (File.Exists(file)) File.Delete(file); }
            catch (Exception ex) when (StoreFaults.Translate(ex, file) is { } fault) { throw fault; }
            return;
        }
        await FileIncidentStore.WriteAtomicAsync(file, id, cancellationToken).ConfigureAwait(false);
    }
}
