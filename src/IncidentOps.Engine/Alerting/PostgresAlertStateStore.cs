using System.Text.Json;
using IncidentOps.Engine.Incidents;
using IncidentOps.Incidents;
using Npgsql;

namespace IncidentOps.Engine.Alerting;

/// <summary>
/// The alerting state of the team store: one row per service (service, state json) in the store's schema (table
/// alert_state, added by schema version 2). The service's lock is a session-level advisory lock on a hash of the
/// schema and the service, held on the lease's own (unpooled) session: a second round polls for it up to the
/// timeout and then fails with AlertingStateBusy, and a holder that dies releases it with its session. Saves are
/// autocommitted upserts on that same session (a lease whose session was lost cannot save); reads take no lock.
/// A server that cannot be reached is AlertingStoreUnavailable naming host and port, never credentials.
/// </summary>
public sealed class PostgresAlertStateStore : IAlertStateStore
{
    private readonly PostgresIncidentStore _store;

    public PostgresAlertStateStore(PostgresIncidentStore store)
    {
        _store = store;
    }

    /// <summary>postgres://host:port/database#schema/alerting: no user, no password.</summary>
    public string Identity => _store.Identity + "/alerting";

    private string Table => $"{_store.QuotedSchema}.alert_state";

    /// <summary>The advisory lock key: a 64-bit hash of the schema and the service (other schemas on the server never collide by name).</summary>
    private const string LockKey = "hashtextextended('incidentops.alerting.' || @schema || '.' || @service, 0)";

    public async Task<IAlertStateLease> LockAsync(string service, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow + timeout;
        var session = await Translated(() => _store.OpenSessionAsync(cancellationToken), cancellationToken).ConfigureAwait(false);
        try
        {
            var delay = 10;
            while (true)
            {
                var held = await OnSession(session, async ct =>
                {
                    await using var cmd = new NpgsqlCommand($"SELECT pg_try_advisory_lock({LockKey})", session);
                    cmd.Parameters.AddWithValue("schema", _store.Schema);
                    cmd.Parameters.AddWithValue("service", service);
                    return (bool)(await cmd.ExecuteScalarAsync(ct).ConfigureAwait(false))!;
                }, cancellationToken).ConfigureAwait(false);
                if (held) break;
                if (DateTime.UtcNow >= deadline)
                    throw new IncidentOpsException(AlertingErrorIds.StateBusy, IncidentOpsErrorCategory.ResourceBusy,
                        $"The alerting state of {service} stayed locked for {timeout.TotalSeconds:0.#} s: another alerting round is still working on it (or is stuck). " +
                        "This round left the service alone; the next round picks it up.") { TargetObject = service };
                await Task.Delay(delay, cancellationToken).ConfigureAwait(false);
                delay = Math.Min(delay * 2, 200);
            }
            var state = await OnSession(session, ct => ReadAsync(session, service, ct), cancellationToken).ConfigureAwait(false)
                ?? new ServiceAlertState { Service = service };
            return new Lease(this, session, state);
        }
        catch
        {
            // Closing the session releases the advisory lock if it was taken.
            await session.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    public Task<ServiceAlertState?> GetAsync(string service, CancellationToken cancellationToken) =>
        Translated(() => _store.CallAsync((c, ct) => ReadAsync(c, service, ct), cancellationToken), cancellationToken);

    public Task<IReadOnlyList<ServiceAlertState>> ListAsync(CancellationToken cancellationToken) =>
        Translated(() => _store.CallAsync<IReadOnlyList<ServiceAlertState>>(async (c, ct) =>
        {
            await using var cmd = new NpgsqlCommand($"SELECT service, state::text FROM {Table} ORDER BY service COLLATE \"C\"", c);
            await using var r = await cmd.ExecuteReaderAsync(ct).ConfigureAwait(false);
            var all = new List<ServiceAlertState>();
            while (await r.ReadAsync(ct).ConfigureAwait(false)) all.Add(Parse(r.GetString(0), r.GetString(1)));
            return all;
        }, cancellationToken), cancellationToken);

    private async Task<ServiceAlertState?> ReadAsync(NpgsqlConnection c, string service, CancellationToken ct)
    {
        await using var cmd = new NpgsqlCommand($"SELECT state::text FROM {Table} WHERE service = @service", c);
        cmd.Parameters.AddWithValue("service", service);
        return await cmd.ExecuteScalarAsync(ct).ConfigureAwait(false) is string json ? Parse(service, json) : null;
    }

    private ServiceAlertState Parse(string service, string json)
    {
        try
        {
            return JsonSerializer.Deserialize<ServiceAlertState>(json, FileIncidentStore.Json) ?? throw new JsonException("empty state");
        }
        catch (JsonException ex)
        {
            throw new IncidentOpsException(AlertingErrorIds.StateCorrupt, IncidentOpsErrorCategory.InvalidData,
                $"The alerting state of {service} in {_store.Identity} (table alert_state) is not valid: {ex.Message}. Delete that row: the next round starts counting afresh " +
                "and attaches to the incident still open for the service.", ex) { TargetObject = service };
        }
    }

    private async Task SaveAsync(NpgsqlConnection session, ServiceAlertState state, CancellationToken cancellationToken)
    {
        var json = JsonSerializer.Serialize(state.Clone(), FileIncidentStore.Json);
        // Saved even when the round is being cancelled (the state must match what was already done), within the call timeout.
        await OnSession(session, async ct =>
        {
            await using var cmd = new NpgsqlCommand(
                $"INSERT INTO {Table} (service, state, updated_at, updated_by) VALUES (@service, @state, now(), @by) " +
                "ON CONFLICT (service) DO UPDATE SET state = excluded.state, updated_at = excluded.updated_at, updated_by = excluded.updated_by", session);
            cmd.Parameters.AddWithValue("service", state.Service);
            cmd.Parameters.Add(new NpgsqlParameter("state", NpgsqlTypes.NpgsqlDbType.Json) { Value = json });
            cmd.Parameters.AddWithValue("by", TimelineEntry.DefaultActor());
            return await cmd.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
        }, CancellationToken.None).ConfigureAwait(false);
    }

    /// <summary>One statement on the lease's session, within the store's call timeout, failures translated.</summary>
    private Task<T> OnSession<T>(NpgsqlConnection session, Func<CancellationToken, Task<T>> work, CancellationToken cancellationToken) => Translated(async () =>
    {
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        cts.CancelAfter(PostgresIncidentStore.CallTimeout);
        try { return await work(cts.Token).ConfigureAwait(false); }
        catch (Exception ex) when (_store.TranslateFault(ex, cancellationToken) is { } translated) { throw translated; }
        catch (InvalidOperationException ex) when (session.State is not System.Data.ConnectionState.Open)
        {
            // The session broke earlier (the server went away): the lock is gone with it.
            throw _store.TranslateFault(new NpgsqlException(ex.Message, ex), cancellationToken)!;
        }
    }, cancellationToken);

    /// <summary>The team store's StoreUnavailable / StoreTimeout become AlertingStoreUnavailable (same text: host and port, no credentials).</summary>
    private static async Task<T> Translated<T>(Func<Task<T>> work, CancellationToken cancellationToken)
    {
        try { return await work().ConfigureAwait(false); }
        catch (IncidentOpsException ex) when (ex.ErrorId is IncidentErrorIds.StoreUnavailable or IncidentErrorIds.StoreTimeout && !cancellationToken.IsCancellationRequested)
        {
            throw new IncidentOpsException(AlertingErrorIds.StoreUnavailable, IncidentOpsErrorCategory.ResourceUnavailable,
                $"The alerting state could not be read or written: {ex.Message}", ex) { TargetObject = ex.TargetObject };
        }
    }

    private sealed class Lease(PostgresAlertStateStore store, NpgsqlConnection session, ServiceAlertState state) : IAlertStateLease
    {
        public ServiceAlertState State { get; } = state;
        public Task SaveAsync(ServiceAlertState state, CancellationToken cancellationToken) => store.SaveAsync(session, state, cancellationToken);

        public async ValueTask DisposeAsync()
        {
            // An unpooled session: closing it ends the session on the server, and the advisory lock with it.
            try { await session.DisposeAsync().ConfigureAwait(false); }
            catch (Exception ex) when (ex is NpgsqlException or IOException or System.Net.Sockets.SocketException) { /* already gone: so is the lock */ }
        }
    }
}
