using System.Collections.Concurrent;
using System.Text.Json;
using IncidentOps.Incidents;
using Npgsql;

namespace IncidentOps.Engine.Incidents;

/// <summary>
/// Which server a spooled entry or the active-incident pointer was written for. The local folder is named after the
/// cluster's system identifier, database and schema, which a copy made from a base backup (pg_basebackup, a restored backup:
/// a staging clone of production) shares with the original. So each spooled entry, and the pointer (in <c>active.for</c>
/// beside it), carries a mark of the server it was written for: the address it was written through (as configured) and
/// what that server said of itself when this user last reached it through that address (the address and port it serves
/// on, its timeline, the time it started). It is written to (or applies on) a server only when that server is it:
/// <list type="bullet">
/// <item>the same configured address (the address names the server: the original back after a restart, or a failover behind one name);</item>
/// <item>or the same running server (the same start time), or a server that serves on the same address and port (the
/// same cluster restarted, reached through another spelling: localhost and 127.0.0.1);</item>
/// <item>or a server on a later timeline (a standby promoted after the mark was taken: a failover to another address).</item>
/// </list>
/// Anything else (a clone: another address and port, the same timeline) is in doubt: the entry stays in the spool (with a
/// warning naming the server it waits for and how to write it elsewhere on purpose), and the pointer does not apply.
/// </summary>
public sealed partial class PostgresIncidentStore
{
    /// <summary>What a server said of itself, and the address it was reached through.</summary>
    internal sealed class ServerMark
    {
        /// <summary>The store's identity as configured (postgres://host:port/db#schema), the address written through.</summary>
        public string? Address { get; set; }

        /// <summary>The address and port the server serves this connection on (inet_server_addr, inet_server_port); null over a socket.</summary>
        public string? Endpoint { get; set; }

        /// <summary>The server's current timeline (a promotion starts a new one); null on a standby or when not readable.</summary>
        public long? Timeline { get; set; }

        /// <summary>When the running server started (epoch seconds, as the server wrote them).</summary>
        public string? Started { get; set; }
    }

    /// <summary>Connection string and schema -> what the server said of itself when this process first reached it.</summary>
    private static readonly ConcurrentDictionary<string, ServerMark> Servers = new();

    /// <summary>Warnings about entries or a pointer kept for another server, given once per process.</summary>
    private static readonly ConcurrentDictionary<string, byte> WarnedOnce = new();

    /// <summary>The file in the address's folder that keeps what the server it reached said of itself, last time.</summary>
    private string ServerFile => Path.Combine(AddressFolder, "server");

    /// <summary>Asks the server for its mark (without the address). Facts a role may not read are left out (null).</summary>
    private static async Task<ServerMark> QueryServerAsync(NpgsqlConnection c, CancellationToken ct)
    {
        const string Facts = "host(inet_server_addr()) || ':' || inet_server_port()::text, extract(epoch FROM pg_postmaster_start_time())::text";
        try
        {
            await using var cmd = new NpgsqlCommand($"SELECT {Facts}, CASE WHEN pg_is_in_recovery() THEN NULL ELSE substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8) END", c);
            await using var r = await cmd.ExecuteReaderAsync(ct).ConfigureAwait(false);
            await r.ReadAsync(ct).ConfigureAwait(false);
            return new ServerMark
            {
                Endpoint = r.IsDBNull(0) ? null : r.GetString(0),
                Started = r.IsDBNull(1) ? null : r.GetString(1),
                Timeline = r.IsDBNull(2) ? null : Convert.ToInt64(r.GetString(2), 16),
            };
        }
        catch (PostgresException pg) when (pg.SqlState is "42501" or "42883" or "55000")
        {
            // A role that may not read the WAL position: the mark without the timeline.
            await using var cmd = new NpgsqlCommand($"SELECT {Facts}", c);
            await using var r = await cmd.ExecuteReaderAsync(ct).ConfigureAwait(false);
            await r.ReadAsync(ct).ConfigureAwait(false);
            return new ServerMark { Endpoint = r.IsDBNull(0) ? null : r.GetString(0), Started = r.IsDBNull(1) ? null : r.GetString(1) };
        }
    }

    /// <summary>Keeps <paramref name="server"/> in the address's folder, for a later process that finds the server down.</summary>
    private async Task RememberServerAsync(ServerMark server, CancellationToken ct)
    {
        var json = JsonSerializer.Serialize(server, Json);
        try
        {
            if (File.Exists(ServerFile) && File.ReadAllText(ServerFile) == json) return;
            Directory.CreateDirectory(AddressFolder);
            await FileIncidentStore.WriteAtomicAsync(ServerFile, json, ct).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or IncidentOpsException && !ct.IsCancellationRequested)
        {
            // Not kept: an entry spooled later by a new process carries only the address, and is written through it only.
        }
    }

    private static ServerMark? ReadMark(string file)
    {
        try
        {
            return File.Exists(file) ? JsonSerializer.Deserialize<ServerMark>(File.ReadAllText(file), Json) : null;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or JsonException) { return null; }
    }

    /// <summary>
    /// The mark of the server this configuration reaches: its address, and what the server said of itself when this
    /// process reached it (or, not reached yet, when this user last did, through this address).
    /// </summary>
    internal ServerMark MarkOfThisAddress()
    {
        var facts = Servers.TryGetValue(_key, out var known) ? known : ReadMark(ServerFile);
        return new ServerMark { Address = Identity, Endpoint = facts?.Endpoint, Timeline = facts?.Timeline, Started = facts?.Started };
    }

    /// <summary>Whether what was written for <paramref name="wanted"/> belongs on <paramref name="here"/> (see the class remarks).</summary>
    internal static bool IsFor(ServerMark? wanted, ServerMark here)
    {
        if (wanted is null) return false;
        if (wanted.Address is not null && string.Equals(wanted.Address, here.Address, StringComparison.Ordinal)) return true;
        if (wanted.Started is not null && string.Equals(wanted.Started, here.Started, StringComparison.Ordinal)) return true;
        if (wanted.Endpoint is not null && string.Equals(wanted.Endpoint, here.Endpoint, StringComparison.Ordinal)) return true;
        return wanted.Timeline is { } then && here.Timeline is { } now && now > then;
    }

    /// <summary>"postgres://127.0.0.1:5432/app#incidentops (the server on 127.0.0.1:5432, timeline 1)", for a message.</summary>
    internal static string Describe(ServerMark mark) =>
        (mark.Address ?? "an unknown address") +
        (mark.Endpoint is null && mark.Timeline is null ? "" :
            " (" + string.Join(", ", new[] { mark.Endpoint is { } e ? $"the server on {e}" : null, mark.Timeline is { } t ? $"timeline {t}" : null }.OfType<string>()) + ")");

    private void WarnOnce(string key, string message)
    {
        if (WarnedOnce.TryAdd(key, 0)) Warning?.Invoke(message);
    }

    /// <summary>The pointer's incident when it was set for the server this configuration reaches (or by an earlier version, which did not say).</summary>
    private async Task<string?> ReadPointerForThisServerAsync(string file, CancellationToken cancellationToken)
    {
        var id = await ActivePointer.ReadAsync(file, cancellationToken).ConfigureAwait(false);
        if (id is null) return null;
        var mark = ReadMark(PointerMarkFile(file));
        if (mark is null) return id;
        var here = MarkOfThisAddress();
        if (IsFor(mark, here)) return id;
        WarnOnce($"pointer|{file}|{id}|{here.Address}",
            $"The active incident {id} was set for {Describe(mark)}; {Describe(here)} is another server with the same system identifier, database and schema " +
            $"(a copy made from a base backup, such as a staging clone), so {id} is not the active incident here. Make an incident of this server the active one " +
            "with Set-Incident -Activate (that replaces the other server's active incident for this user).");
        return null;
    }

    /// <summary>The file beside the pointer that names the server it was set for (<c>active.for</c>).</summary>
    private static string PointerMarkFile(string pointer) => pointer + ".for";

    /// <summary>Records (under the pointer's lock) that the pointer now names an incident of this server, or removes the record with the pointer.</summary>
    private async Task MarkPointerAsync(string pointer, string? id, CancellationToken cancellationToken)
    {
        var file = PointerMarkFile(pointer);
        try
        {
            if (id is null) { if (File.Exists(file)) File.Delete(file); return; }
            await FileIncidentStore.WriteAtomicAsync(file, JsonSerializer.Serialize(MarkOfThisAddress(), Json), cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (StoreFaults.Translate(ex, file) is { } fault) { throw fault; }
    }
}
