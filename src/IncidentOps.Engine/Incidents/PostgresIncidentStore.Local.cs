using System.Collections.Concurrent;
using System.Text;
using IncidentOps.Incidents;
using Npgsql;

namespace IncidentOps.Engine.Incidents;

/// <summary>
/// This user's local folder for the team store (the active incident, the spool) is named after the database the
/// server says it is, not after the address as written: Host=localhost and Host=127.0.0.1, a postgres:// URL and the
/// key=value form, a default port written or not, all reach one database and so share one active incident. Before, each
/// spelling had a pointer of its own, and a scheduled script with its own configuration recorded its changes on no
/// incident, or on the one its own stale pointer named.
/// <para>
/// The database is the cluster's system identifier (pg_control_system(), the same on every path to that cluster)
/// with current_database() and the schema. What an address resolved to is remembered in its old folder (a file named
/// <c>database</c>), so a store that cannot be reached still finds the pointer and the spool; an address never reached
/// keeps the old per-address folder. A pointer left in the old folder by an earlier version is moved to the database's
/// folder the first time the address is reached (the newer one wins when both exist), so it is still honoured.
/// </para>
/// </summary>
public sealed partial class PostgresIncidentStore
{
    /// <summary>Connection string and schema -> the database folder's name, resolved once per process.</summary>
    private static readonly ConcurrentDictionary<string, string> Databases = new();

    /// <summary>Old folders whose pointer and mapping were already taken over by their database folder, this process.</summary>
    private static readonly ConcurrentDictionary<string, byte> Adopted = new();

    /// <summary>Addresses found unreachable (until then the last known database folder is used without asking again).</summary>
    private static readonly ConcurrentDictionary<string, DateTime> Unreachable = new();

    private static readonly TimeSpan UnreachableFor = TimeSpan.FromSeconds(30);

    private readonly string _storesRoot;

    /// <summary>For tests: forget what this process learned, as a new process would.</summary>
    internal static void ForgetResolvedDatabases()
    {
        Databases.Clear();
        Adopted.Clear();
        Instances.Clear();
        Unreachable.Clear();
        Servers.Clear();
        WarnedOnce.Clear();
    }

    /// <summary>The folder of this address as written (what earlier versions used for everything local).</summary>
    public string AddressFolder { get; }

    /// <summary>
    /// This user's local folder for this store (the active incident, the spool): the database's folder once the server
    /// told which database this address reaches (this process, or an earlier one on this machine), else the address's.
    /// </summary>
    public string LocalFolder => Path.Combine(_storesRoot, Databases.TryGetValue(_key, out var name) ? name : MappedName() ?? Path.GetFileName(AddressFolder));

    private string MappingFile => Path.Combine(AddressFolder, "database");

    /// <summary>The database folder this address was last seen to reach (the file <c>database</c> in its folder), or null.</summary>
    private string? MappedName()
    {
        try
        {
            if (!File.Exists(MappingFile)) return null;
            var name = File.ReadAllText(MappingFile).Trim();
            return IsFolderName(name) ? name : null;
        }
        catch (IOException) { return null; }
        catch (UnauthorizedAccessException) { return null; }
    }

    private static bool IsFolderName(string name) =>
        name.Length is > 0 and <= 200 && name != "." && name != ".." && name.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.');

    /// <summary>
    /// Which database this connection reached, as a folder name: the cluster's system identifier, the database (its
    /// name as written, plus a hash, as names differing only in case are different databases) and the schema. A role
    /// that may not call pg_control_system() gets the server's own address and port instead. With it, the running
    /// server: the folder name and the time its postmaster started (null without a system identifier), which
    /// <see cref="InstanceAsync"/> compares.
    /// </summary>
    private async Task<(string Name, string? Instance)> QueryDatabaseAsync(NpgsqlConnection c, CancellationToken ct)
    {
        string cluster, database, started;
        var bySystemId = true;
        try
        {
            await using var cmd = new NpgsqlCommand("SELECT (SELECT system_identifier FROM pg_control_system())::text, current_database(), extract(epoch FROM pg_postmaster_start_time())::text", c);
            await using var r = await cmd.ExecuteReaderAsync(ct).ConfigureAwait(false);
            await r.ReadAsync(ct).ConfigureAwait(false);
            cluster = r.GetString(0);
            database = r.GetString(1);
            started = r.GetString(2);
        }
        catch (PostgresException pg) when (pg.SqlState is "42501" or "42883")
        {
            await using var cmd = new NpgsqlCommand("SELECT coalesce(host(inet_server_addr()), 'local') || '_' || coalesce(inet_server_port(), 0)::text, current_database()", c);
            await using var r = await cmd.ExecuteReaderAsync(ct).ConfigureAwait(false);
            await r.ReadAsync(ct).ConfigureAwait(false);
            cluster = "at_" + r.GetString(0);
            database = r.GetString(1);
            started = "";
            bySystemId = false;
        }
        var hash = IncidentStores.Sha256(database)[..8];
        var readable = Sanitize(database);
        if (readable.Length > 40) readable = readable[..40];
        var name = Sanitize($"db-{cluster}-{readable}-{hash}-{_schema}");
        return (name, bySystemId ? $"{name}@{started}" : null);
    }

    /// <summary>
    /// Address as records carry it (Incident.IncidentStore) -> the running server and database it reached when this process
    /// first asked (see <see cref="QueryDatabaseAsync"/>): what a piped record's store is compared by.
    /// </summary>
    private static readonly ConcurrentDictionary<string, string> Instances = new();

    /// <summary>
    /// The running server, database and schema a record read through <paramref name="identity"/> came from, as this process
    /// learned it; null when it never reached that address, or could not tell (no access to pg_control_system()).
    /// </summary>
    public static string? KnownInstance(string identity) => Instances.TryGetValue(identity, out var instance) ? instance : null;

    /// <summary>
    /// Asks the server now which running server, database and schema this store reaches: the system identifier (the same on
    /// every path to one cluster), the database and schema, and the time the server started (which tells a clone made from
    /// a base backup, which shares the system identifier, from the original). Null when the server cannot be reached or
    /// does not tell.
    /// </summary>
    public async Task<string?> InstanceAsync(CancellationToken cancellationToken)
    {
        try
        {
            return await RunAsync(async (c, ct) => (await QueryDatabaseAsync(c, ct).ConfigureAwait(false)).Instance, cancellationToken, checkSchema: false, beforeCall: false).ConfigureAwait(false);
        }
        catch (IncidentOpsException ex) when (ex.ErrorId is IncidentErrorIds.StoreUnavailable or IncidentErrorIds.StoreTimeout) { return null; }
    }

    /// <summary>
    /// Learns (once per process) which database this open connection reaches, and makes this user's folder of the
    /// address point there: the mapping file, and the pointer an earlier version left in the address folder.
    /// </summary>
    private async Task ResolveDatabaseAsync(NpgsqlConnection c, CancellationToken ct)
    {
        if (!Databases.TryGetValue(_key, out var name))
        {
            (name, var instance) = await QueryDatabaseAsync(c, ct).ConfigureAwait(false);
            Databases[_key] = name;
            if (instance is null) Instances.TryRemove(Identity, out _);
            else Instances[Identity] = instance;
            var server = await QueryServerAsync(c, ct).ConfigureAwait(false);
            Servers[_key] = server;
            await RememberServerAsync(server, ct).ConfigureAwait(false);
        }
        Unreachable.TryRemove(_key, out _);
        await AdoptAddressFolderAsync(name, ct).ConfigureAwait(false);
    }

    /// <summary>Records the address -> database mapping and moves an old pointer into the database folder (idempotent).</summary>
    private async Task AdoptAddressFolderAsync(string name, CancellationToken ct)
    {
        var marker = AddressFolder + "|" + name;
        var oldPointer = Path.Combine(AddressFolder, "active");
        if (Adopted.ContainsKey(marker) && !File.Exists(oldPointer)) return;
        var databaseFolder = Path.Combine(_storesRoot, name);
        if (string.Equals(databaseFolder, AddressFolder, StringComparison.Ordinal)) return;
        try
        {
            if (MappedName() is { } before && before != name)
            {
                // The address reaches another database than it did (a restore, a DNS change): what was spooled for the
                // one it reached before belongs there, never on this one's incidents of the same ids.
                var stranded = Path.Combine(_storesRoot, before, "spool.jsonl");
                if (File.Exists(stranded))
                    Warning?.Invoke($"{Host}:{Port} now reaches another database than when '{stranded}' was spooled; those timeline entries are left there, " +
                        "for the database they were recorded for. They are written when a configuration reaching that database runs a command.");
            }
            if (MappedName() != name)
            {
                Directory.CreateDirectory(AddressFolder);
                await FileIncidentStore.WriteAtomicAsync(MappingFile, name + "\n", ct).ConfigureAwait(false);
            }
            if (File.Exists(oldPointer)) await MovePointerAsync(oldPointer, Path.Combine(databaseFolder, "active"), ct).ConfigureAwait(false);
            Adopted[marker] = 0;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or IncidentOpsException && !ct.IsCancellationRequested)
        {
            // Not adopted: the pointer stays where it is and is tried again next call. Reads go to the database folder.
            Warning?.Invoke($"Could not move this user's active incident for {Identity} from '{AddressFolder}' to '{databaseFolder}' ({ex.Message}); it is tried again on the next command.");
        }
    }

    /// <summary>
    /// Moves the pointer an earlier version kept per address into the database's folder, under both pointers' locks (the
    /// database's first, always in that order). When both name an incident, the one written last wins.
    /// </summary>
    private async Task MovePointerAsync(string oldPointer, string newPointer, CancellationToken ct)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(newPointer)!);
        await using var newLock = await FileLock.AcquireAsync(newPointer + ".lock", TimeSpan.FromSeconds(30), ct).ConfigureAwait(false);
        await using var oldLock = await FileLock.AcquireAsync(oldPointer + ".lock", TimeSpan.FromSeconds(30), ct).ConfigureAwait(false);
        if (!File.Exists(oldPointer)) return;
        var oldId = await ActivePointer.ReadAsync(oldPointer, ct).ConfigureAwait(false);
        var newId = await ActivePointer.ReadAsync(newPointer, ct).ConfigureAwait(false);
        if (oldId is not null && (newId is null || File.GetLastWriteTimeUtc(oldPointer) > File.GetLastWriteTimeUtc(newPointer)))
        {
            await FileIncidentStore.WriteAtomicAsync(newPointer, oldId, ct).ConfigureAwait(false);
            File.SetLastWriteTimeUtc(newPointer, File.GetLastWriteTimeUtc(oldPointer));
            await MarkPointerAsync(newPointer, oldId, ct).ConfigureAwait(false); // set through this address: for the server it reaches
            if (newId is not null && !string.Equals(newId, oldId, StringComparison.OrdinalIgnoreCase))
                Warning?.Invoke($"Two active incidents were set for {Identity} through different addresses: {oldId} (through {Host}:{Port}, set last) is now the active one, not {newId}. Make another active with Set-Incident -Activate.");
        }
        else if (oldId is not null && newId is not null && !string.Equals(newId, oldId, StringComparison.OrdinalIgnoreCase))
            Warning?.Invoke($"Two active incidents were set for {Identity} through different addresses: {newId} (set last) stays the active one, not {oldId} (set through {Host}:{Port}). Make another active with Set-Incident -Activate.");
        File.Delete(oldPointer);
    }

    /// <summary>
    /// The folder of this user's active incident: the database's, asking the server which database this address reaches
    /// when this process has not yet. When it cannot be reached, the database it reached last (or the address's folder).
    /// </summary>
    private async Task<string> PointerFolderAsync(CancellationToken cancellationToken)
    {
        if (Databases.TryGetValue(_key, out var known))
        {
            await AdoptAddressFolderAsync(known, cancellationToken).ConfigureAwait(false);
            return Path.Combine(_storesRoot, known);
        }
        if (!(Unreachable.TryGetValue(_key, out var until) && until > DateTime.UtcNow))
        {
            try
            {
                await RunAsync(async (_, _) => { await Task.CompletedTask.ConfigureAwait(false); return true; }, cancellationToken, checkSchema: false, beforeCall: false).ConfigureAwait(false);
                return LocalFolder;
            }
            catch (IncidentOpsException ex) when (ex.ErrorId is IncidentErrorIds.StoreUnavailable or IncidentErrorIds.StoreTimeout)
            {
                Unreachable[_key] = DateTime.UtcNow + UnreachableFor;
            }
        }
        return LocalFolder;
    }

    private async Task<string> PointerFileAsync(CancellationToken cancellationToken) =>
        Path.Combine(await PointerFolderAsync(cancellationToken).ConfigureAwait(false), "active");

    // ------------------------------------------------------------------ active incident (local, per person)

    /// <summary>The active incident, when the pointer was set for the server this configuration reaches (see <see cref="IsFor"/>).</summary>
    public async Task<string?> GetActiveIdAsync(CancellationToken cancellationToken) =>
        await ReadPointerForThisServerAsync(await PointerFileAsync(cancellationToken).ConfigureAwait(false), cancellationToken).ConfigureAwait(false);

    public async Task SetActiveIdAsync(string? id, CancellationToken cancellationToken)
    {
        var checkedId = id is null ? null : IncidentStores.CheckId(id);
        var pointer = await PointerFileAsync(cancellationToken).ConfigureAwait(false);
        await ActivePointer.WriteAsync(pointer, checkedId, cancellationToken, ct => MarkPointerAsync(pointer, checkedId, ct)).ConfigureAwait(false);
    }

    public async Task<bool> ChangeActiveIdAsync(string? expected, string? id, CancellationToken cancellationToken)
    {
        var checkedId = id is null ? null : IncidentStores.CheckId(id);
        var pointer = await PointerFileAsync(cancellationToken).ConfigureAwait(false);
        return await ActivePointer.ChangeAsync(pointer, expected, checkedId, ReadPointerForThisServerAsync, cancellationToken, ct => MarkPointerAsync(pointer, checkedId, ct)).ConfigureAwait(false);
    }

    /// <summary>Appends <paramref name="bytes"/>, flushed to disk before this returns (a new file's name too: its folder is synced).</summary>
    private static async Task AppendDurableAsync(string path, byte[] bytes)
    {
        var created = !File.Exists(path);
        await using (var fs = new FileStream(path, FileMode.Append, FileAccess.Write, FileShare.Read, 0, FileOptions.None))
        {
            await fs.WriteAsync(bytes, CancellationToken.None).ConfigureAwait(false);
            fs.Flush(flushToDisk: true);
        }
        // The spool is deleted once this returns: the quarantined (or orphaned) bytes must be findable after a crash.
        if (created) DirectorySync.SyncParentOf(path);
    }

    private static byte[] Utf8(string text) => Encoding.UTF8.GetBytes(text);
}
