using System.Collections.Concurrent;
using System.Text.Json;
using System.Text.RegularExpressions;
using IncidentOps.Incidents;
using IncidentOps.Notifications;
using Npgsql;

namespace IncidentOps.Engine.Incidents;

/// <summary>
/// The team store: every incident record, timeline, action item, outbox entry and piece of evidence in one PostgreSQL
/// schema, shared by every responder and automation host pointed at it. Ids are allocated in the database (a counter
/// row per day), record changes run under a row lock, timeline entries get a server-assigned sequence and a NOTIFY,
/// and outbox claims are rows taken with FOR UPDATE SKIP LOCKED on a session that holds them (a dead holder's claim
/// ends with its connection). The active incident stays local to the user. Every call has a timeout and honours
/// cancellation; a server that cannot be reached is StoreUnavailable (host and port, never credentials).
/// </summary>
public sealed partial class PostgresIncidentStore : IIncidentStore, IStoreClock
{
    /// <summary>The newest schema this version understands; a store at a newer one is refused (StoreSchemaTooNew).</summary>
    public const int SchemaVersion = 2;

    /// <summary>The default schema name (store.schema).</summary>
    public const string DefaultSchema = "incidentops";

    /// <summary>How long one store call may take, connecting included.</summary>
    public static TimeSpan CallTimeout { get; set; } = TimeSpan.FromSeconds(15);

    private static readonly ConcurrentDictionary<string, NpgsqlDataSource> Sources = new();
    private static readonly ConcurrentDictionary<string, int> CheckedSchemas = new();
    private static readonly JsonSerializerOptions Json = FileIncidentStore.Json;

    private readonly NpgsqlDataSource _source;
    private readonly string _schema;
    private readonly string _s; // the quoted schema, for SQL text

    /// <param name="connectionString">Npgsql form or postgres:// URL (already resolved from env:/file:/secret:).</param>
    /// <param name="schema">The schema that holds the store's tables (created by Initialize-IncidentStore).</param>
    /// <param name="localFolder">Where this user's active incident and spool live (local, per person).</param>
    public PostgresIncidentStore(string connectionString, string? schema, string localFolder)
    {
        _schema = string.IsNullOrWhiteSpace(schema) ? DefaultSchema : schema.Trim();
        if (!SchemaName().IsMatch(_schema))
            throw new IncidentOpsException(IncidentErrorIds.StoreConfigInvalid, IncidentOpsErrorCategory.InvalidArgument,
                $"store.schema '{_schema}' is not a plain PostgreSQL name. Use lower-case letters, digits and underscores (for example: schema: incidentops).") { TargetObject = _schema };
        _s = $"\"{_schema}\"";
        var b = IncidentOps.Engine.Postgres.PgConnectionFactory.Parse(connectionString, "store.connectionString");
        if (string.IsNullOrEmpty(b.Host)) b.Host = "localhost";
        SecretRedactor.Register(b.Password);
        Host = b.Host!;
        Port = b.Port;
        Database = string.IsNullOrEmpty(b.Database) ? b.Username ?? "postgres" : b.Database;
        b.ApplicationName = "IncidentOps store";
        if (!connectionString.Contains("Timeout", StringComparison.OrdinalIgnoreCase)) b.Timeout = 5;
        b.CommandTimeout = (int)Math.Ceiling(CallTimeout.TotalSeconds);
        b.CancellationTimeout = 250;
        // A warm session repeats the same few statements: prepare them once per connection, and keep them prepared
        // across pooled opens (the store sets no session state that a reset would have to clear).
        b.MaxAutoPrepare = 32;
        b.AutoPrepareMinUsages = 2;
        b.NoResetOnClose = true;
        _storesRoot = Path.Combine(localFolder, "stores");
        AddressFolder = Path.Combine(_storesRoot, Sanitize($"{Host}_{Port}_{Database}_{_schema}"));
        _source = Sources.GetOrAdd(b.ConnectionString, cs => NpgsqlDataSource.Create(cs));
        _key = $"{b.ConnectionString}|{_schema}";
        b.Pooling = false;
        _unpooled = b.ConnectionString;
    }

    /// <summary>For sessions that must not go back to the pool (LISTEN).</summary>
    private readonly string _unpooled;

    private readonly string _key;

    public string Host { get; }
    public int Port { get; }
    public string Database { get; }
    public string Schema => _schema;

    /// <summary>postgres://host:port/database#schema: no user, no password.</summary>
    public string Identity => _identity ??= $"postgres://{Host}:{Port}/{Database}#{_schema}";

    private string? _identity;

    /// <summary>Where warnings of this store go (the spool); set by the engine to its sink.</summary>
    public Action<string>? Warning { get; set; }

    [GeneratedRegex("^[a-z_][a-z0-9_]{0,62}$")]
    private static partial Regex SchemaName();

    private static string Sanitize(string name) => string.Concat(name.Select(c => char.IsLetterOrDigit(c) || c is '-' or '_' or '.' ? c : '_'));

    // ------------------------------------------------------------------ schema

    /// <summary>
    /// The migrations, in order. They only add (tables, columns, indexes); none drops or rewrites data. Records and
    /// entries are json (not jsonb), which keeps their text as written: key order of parameters included.
    /// </summary>
    private IReadOnlyList<(int Version, string Name, string Sql)> Migrations() =>
    [
        (1, "incidents, timeline, action items, outbox, claims, evidence", $"""
            CREATE TABLE IF NOT EXISTS {_s}.incidents (
                id text PRIMARY KEY,
                data json NOT NULL,
                version bigint NOT NULL DEFAULT 1,
                timeline_last bigint NOT NULL DEFAULT 0,
                updated_at timestamptz NOT NULL DEFAULT now(),
                updated_by text NOT NULL);
            CREATE TABLE IF NOT EXISTS {_s}.id_counters (day text PRIMARY KEY, last integer NOT NULL);
            CREATE TABLE IF NOT EXISTS {_s}.timeline (
                id bigserial PRIMARY KEY,
                incident_id text NOT NULL REFERENCES {_s}.incidents (id),
                seq bigint NOT NULL,
                at timestamptz NOT NULL,
                at_ticks bigint NOT NULL,
                writer text NOT NULL,
                written_at timestamptz NOT NULL DEFAULT now(),
                entry_key text UNIQUE,
                entry json NOT NULL,
                UNIQUE (incident_id, seq));
            CREATE INDEX IF NOT EXISTS timeline_order ON {_s}.timeline (incident_id, at_ticks, seq);
            CREATE TABLE IF NOT EXISTS {_s}.action_items (
                incident_id text PRIMARY KEY REFERENCES {_s}.incidents (id),
                items json NOT NULL,
                version bigint NOT NULL DEFAULT 0);
            CREATE TABLE IF NOT EXISTS {_s}.outbox (
                incident_id text NOT NULL REFERENCES {_s}.incidents (id),
                update_id text NOT NULL,
                entry json NOT NULL,
                pending boolean NOT NULL,
                updated_at timestamptz NOT NULL DEFAULT now(),
                PRIMARY KEY (incident_id, update_id));
            CREATE TABLE IF NOT EXISTS {_s}.claims (incident_id text NOT NULL, name text NOT NULL, PRIMARY KEY (incident_id, name));
            CREATE TABLE IF NOT EXISTS {_s}.evidence (
                incident_id text NOT NULL REFERENCES {_s}.incidents (id),
                name text NOT NULL,
                content text NOT NULL,
                sha256 text NOT NULL,
                bytes bigint NOT NULL,
                captured_at timestamptz NOT NULL,
                captured_ticks bigint NOT NULL,
                PRIMARY KEY (incident_id, name));
            """),
        (2, "alerting state", $"""
            CREATE TABLE IF NOT EXISTS {_s}.alert_state (
                service text PRIMARY KEY,
                state json NOT NULL,
                updated_at timestamptz NOT NULL DEFAULT now(),
                updated_by text NOT NULL);
            """),
    ];

    /// <summary>The schema version recorded in the store, or 0 when it has none yet.</summary>
    public Task<int> GetSchemaVersionAsync(CancellationToken cancellationToken) =>
        RunAsync(async (c, ct) => await ReadVersionAsync(c, ct).ConfigureAwait(false), cancellationToken, checkSchema: false);

    private async Task<int> ReadVersionAsync(NpgsqlConnection c, CancellationToken ct)
    {
        await using var cmd = new NpgsqlCommand($"SELECT to_regclass('{_s}.schema_version') IS NOT NULL", c);
        if (!(bool)(await cmd.ExecuteScalarAsync(ct).ConfigureAwait(false))!) return 0;
        await using var v = new NpgsqlCommand($"SELECT coalesce(max(version), 0) FROM {_s}.schema_version", c);
        return Convert.ToInt32(await v.ExecuteScalarAsync(ct).ConfigureAwait(false));
    }

    /// <summary>What <see cref="InitializeAsync"/> would apply: (version, name) of each missing migration; refuses a newer schema.</summary>
    public async Task<(int Current, IReadOnlyList<(int Version, string Name)> Pending)> PlanAsync(CancellationToken cancellationToken)
    {
        var current = await GetSchemaVersionAsync(cancellationToken).ConfigureAwait(false);
        if (current > SchemaVersion) throw TooNew(current);
        return (current, Migrations().Where(m => m.Version > current).Select(m => (m.Version, m.Name)).ToList());
    }

    /// <summary>
    /// Creates the schema or brings it up to <see cref="SchemaVersion"/>, recording each version applied, in one
    /// transaction under an advisory lock (two initialisers at once apply each migration once). Returns the version before.
    /// </summary>
    public Task<int> InitializeAsync(CancellationToken cancellationToken) => RunAsync(async (c, ct) =>
    {
        await using var tx = await c.BeginTransactionAsync(ct).ConfigureAwait(false);
        await ExecAsync(c, $"SELECT pg_advisory_xact_lock(hashtext('incidentops.schema.' || @s))", ct, ("s", _schema)).ConfigureAwait(false);
        // CREATE SCHEMA IF NOT EXISTS needs CREATE on the database even when the schema is there; a least-privilege
        // owner (README) has only its schema, so create it only when it is missing.
        await using (var exists = Command(c, "SELECT 1 FROM pg_namespace WHERE nspname = @s", ("s", _schema)))
            if (await exists.ExecuteScalarAsync(ct).ConfigureAwait(false) is null)
                await ExecAsync(c, $"CREATE SCHEMA {_s}", ct).ConfigureAwait(false);
        await ExecAsync(c, $"CREATE TABLE IF NOT EXISTS {_s}.schema_version (version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now(), applied_by text NOT NULL)", ct).ConfigureAwait(false);
        var current = await ReadVersionAsync(c, ct).ConfigureAwait(false);
        if (current > SchemaVersion) throw TooNew(current);
        foreach (var m in Migrations().Where(m => m.Version > current))
        {
            await ExecAsync(c, m.Sql, ct).ConfigureAwait(false);
            await ExecAsync(c, $"INSERT INTO {_s}.schema_version (version, name, applied_by) VALUES (@v, @n, @by)", ct, ("v", m.Version), ("n", m.Name), ("by", TimelineEntry.DefaultActor())).ConfigureAwait(false);
        }
        await tx.CommitAsync(ct).ConfigureAwait(false);
        CheckedSchemas[_key] = SchemaVersion;
        return current;
    }, cancellationToken, checkSchema: false);

    private IncidentOpsException TooNew(int found) =>
        new(IncidentErrorIds.StoreSchemaTooNew, IncidentOpsErrorCategory.InvalidOperation,
            $"The incident store {Identity} has schema version {found}, newer than this IncidentOps understands (version {SchemaVersion}). " +
            "Nothing was read or written. Update the IncidentOps module (Update-PSResource IncidentOps) on this machine.") { TargetObject = Identity };

    private async Task EnsureSchemaAsync(NpgsqlConnection c, CancellationToken ct)
    {
        if (CheckedSchemas.TryGetValue(_key, out var known) && known == SchemaVersion) return;
        var version = await ReadVersionAsync(c, ct).ConfigureAwait(false);
        if (version == 0)
            throw new IncidentOpsException(IncidentErrorIds.StoreNotInitialized, IncidentOpsErrorCategory.ObjectNotFound,
                $"The incident store {Identity} has no IncidentOps schema yet. Create it once with Initialize-IncidentStore (a role that may create the schema '{_schema}').") { TargetObject = Identity };
        if (version > SchemaVersion) throw TooNew(version);
        if (version < SchemaVersion)
            throw new IncidentOpsException(IncidentErrorIds.StoreNotInitialized, IncidentOpsErrorCategory.InvalidOperation,
                $"The incident store {Identity} has schema version {version}; this IncidentOps needs {SchemaVersion}. Upgrade it with Initialize-IncidentStore (migrations only add).") { TargetObject = Identity };
        CheckedSchemas[_key] = version;
    }

    // ------------------------------------------------------------------ calls

    /// <summary>
    /// Runs one store call on a pooled connection within <see cref="CallTimeout"/> (and the caller's token): a
    /// server that cannot be reached is StoreUnavailable, a call that runs out of time StoreTimeout, a missing schema
    /// StoreNotInitialized.
    /// <para>
    /// After the server restarted, the sessions still idle in the pool are dead, and the first call that takes one fails
    /// (the server ended it: 57P01/57P02, or the socket was closed). Such a call is run once more on a fresh session when
    /// the failed session provably died before this call began: it was taken from the pool (a call had ended on it
    /// before), and the fresh session's server says it started after that and before this call began (durations on
    /// each side's own clock, so clock skew does not matter). None of this call's statements can then have reached a
    /// live server, so nothing runs twice; a timeline append keeps its one key either way. Any other failure is reported
    /// as before (and a change's entry goes to the spool).
    /// </para>
    /// </summary>
    private async Task<T> RunAsync<T>(Func<NpgsqlConnection, CancellationToken, Task<T>> work, CancellationToken cancellationToken, bool checkSchema = true, bool beforeCall = true)
    {
        var began = System.Diagnostics.Stopwatch.GetTimestamp();
        long? deadSessionLastEnded = null;
        IncidentOpsException? firstFailure = null;
        while (true)
        {
            using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            cts.CancelAfter(CallTimeout);
            var opened = false;
            var broken = false;
            var pid = 0;
            try
            {
                await using var c = await _source.OpenConnectionAsync(cts.Token).ConfigureAwait(false);
                opened = true;
                pid = c.ProcessID;
                try
                {
                    if (deadSessionLastEnded is { } lastEnded && !await DiedBeforeAsync(c, lastEnded, began, cts.Token).ConfigureAwait(false))
                        throw firstFailure!;
                    await ResolveDatabaseAsync(c, cts.Token).ConfigureAwait(false);
                    if (checkSchema) await EnsureSchemaAsync(c, cts.Token).ConfigureAwait(false);
                    if (beforeCall) await BeforeCallAsync(c, cts.Token).ConfigureAwait(false);
                    return await work(c, cts.Token).ConfigureAwait(false);
                }
                catch (Exception) when (Mark(c, ref broken)) { throw; }
                finally
                {
                    // When a call last ended on this session (it goes back to the pool): what tells a session that died
                    // with the server before a later call from one that died during it.
                    if (!broken && c.FullState != System.Data.ConnectionState.Broken) SessionsLastEnded[(_source, pid)] = System.Diagnostics.Stopwatch.GetTimestamp();
                }
            }
            catch (Exception ex) when (ex != firstFailure && Translate(ex, opened, cancellationToken) is { } translated)
            {
                if (deadSessionLastEnded is null && broken && translated.ErrorId == IncidentErrorIds.StoreUnavailable && SessionEnded(ex)
                    && SessionsLastEnded.TryGetValue((_source, pid), out var lastEnded))
                {
                    // A session from the pool that the server ended: the pool's other idle sessions are as dead.
                    foreach (var session in SessionsLastEnded.Keys.Where(k => k.Source == _source)) SessionsLastEnded.TryRemove(session, out _);
                    _source.Clear();
                    deadSessionLastEnded = lastEnded;
                    firstFailure = translated;
                    continue;
                }
                // Idle pooled connections to a server that went away are dead too: drop them, so the first call after the
                // server is back gets a fresh connection instead of failing on a stale one.
                if (translated.ErrorId == IncidentErrorIds.StoreUnavailable)
                {
                    _source.Clear();
                    Unreachable[_key] = DateTime.UtcNow + UnreachableFor; // the active incident is then read where this address last led
                }
                throw translated;
            }
        }

        static bool Mark(NpgsqlConnection c, ref bool broken)
        {
            broken = c.FullState == System.Data.ConnectionState.Broken;
            return false;
        }
    }

    /// <summary>Pool and backend process id -> when a call last ended on that pooled session (Stopwatch timestamp).</summary>
    private static readonly ConcurrentDictionary<(NpgsqlDataSource Source, int Pid), long> SessionsLastEnded = new();

    /// <summary>The server ended the session (shut down, crashed, or closed the socket), as opposed to refusing a statement.</summary>
    private static bool SessionEnded(Exception ex) =>
        ex is PostgresException { SqlState: "57P01" or "57P02" }
        || ex is NpgsqlException { InnerException: IOException or EndOfStreamException or System.Net.Sockets.SocketException };

    /// <summary>
    /// On a fresh session: the server started after the dead session was last used and before this call began (its uptime,
    /// on its clock, lies between the two durations measured here). Then the dead session belonged to the server before
    /// the restart, and nothing of this call reached it.
    /// </summary>
    private static async Task<bool> DiedBeforeAsync(NpgsqlConnection c, long sessionLastEnded, long callBegan, CancellationToken ct)
    {
        await using var cmd = new NpgsqlCommand("SELECT extract(epoch FROM now() - pg_postmaster_start_time())::float8", c);
        var uptime = TimeSpan.FromSeconds(Convert.ToDouble(await cmd.ExecuteScalarAsync(ct).ConfigureAwait(false), System.Globalization.CultureInfo.InvariantCulture));
        return uptime > System.Diagnostics.Stopwatch.GetElapsedTime(callBegan) && uptime < System.Diagnostics.Stopwatch.GetElapsedTime(sessionLastEnded);
    }

    /// <summary>One store call for the alerting state (<see cref="Alerting.PostgresAlertStateStore"/>): pooled, timed, schema checked, translated.</summary>
    internal Task<T> CallAsync<T>(Func<NpgsqlConnection, CancellationToken, Task<T>> work, CancellationToken cancellationToken) => RunAsync(work, cancellationToken);

    /// <summary>
    /// Opens a session of its own (not pooled: whatever it holds, session-level advisory locks included, ends when it
    /// is disposed) with the schema checked, within <see cref="CallTimeout"/>; failures translated as for every call.
    /// </summary>
    internal async Task<NpgsqlConnection> OpenSessionAsync(CancellationToken cancellationToken)
    {
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        cts.CancelAfter(CallTimeout);
        NpgsqlConnection? c = null;
        try
        {
            c = new NpgsqlConnection(_unpooled);
            await c.OpenAsync(cts.Token).ConfigureAwait(false);
            var opened = c;
            c = null;
            try
            {
                await EnsureSchemaAsync(opened, cts.Token).ConfigureAwait(false);
                // What such a session holds (an alerting round's lease) lasts while its holder waits on providers, idle.
                await using var keep = new NpgsqlCommand(KeepIdleSessionsSql(local: false), opened);
                await keep.ExecuteNonQueryAsync(cts.Token).ConfigureAwait(false);
            }
            catch (Exception ex) when (Translate(ex, true, cancellationToken) is { } translated) { await opened.DisposeAsync().ConfigureAwait(false); throw translated; }
            catch { await opened.DisposeAsync().ConfigureAwait(false); throw; }
            return opened;
        }
        catch (Exception ex) when (Translate(ex, false, cancellationToken) is { } translated)
        {
            if (c is not null) await c.DisposeAsync().ConfigureAwait(false);
            if (translated.ErrorId == IncidentErrorIds.StoreUnavailable) _source.Clear();
            throw translated;
        }
    }

    /// <summary>
    /// Turns off the server's idle timeouts (idle_in_transaction_session_timeout, and idle_session_timeout where the server
    /// has it: PostgreSQL 14 and later) for this transaction (<paramref name="local"/>) or session: an administrator's
    /// default for the role would otherwise end a claim or lease while its holder waits on a provider, silently.
    /// </summary>
    private static string KeepIdleSessionsSql(bool local) =>
        $"SELECT set_config(name, '0', {(local ? "true" : "false")}) FROM pg_settings WHERE name IN ('idle_in_transaction_session_timeout', 'idle_session_timeout')";

    /// <summary>The store's translation of a driver failure on a session that is open (null: not a store fault).</summary>
    internal IncidentOpsException? TranslateFault(Exception ex, CancellationToken callerToken) => Translate(ex, true, callerToken);

    /// <summary>The quoted schema name, for SQL text.</summary>
    internal string QuotedSchema => _s;

    private Task RunAsync(Func<NpgsqlConnection, CancellationToken, Task> work, CancellationToken cancellationToken) =>
        RunAsync<bool>(async (c, ct) => { await work(c, ct).ConfigureAwait(false); return true; }, cancellationToken);

    /// <summary>Hook before each call once connected (the spool is written here).</summary>
    private Task BeforeCallAsync(NpgsqlConnection c, CancellationToken ct) => FlushSpoolAsync(c, ct);

    private IncidentOpsException? Translate(Exception ex, bool opened, CancellationToken callerToken)
    {
        if (ex is IncidentOpsException) return null;
        if (ex is OperationCanceledException && callerToken.IsCancellationRequested) return null;
        if (ex is PostgresException pg)
        {
            if (!opened || pg.SqlState is "57P01" or "57P02" or "57P03" or "53300")
                return Unavailable(pg.MessageText, ex);
            if (pg.SqlState is "3F000" or "42P01")
                return new IncidentOpsException(IncidentErrorIds.StoreNotInitialized, IncidentOpsErrorCategory.ObjectNotFound,
                    $"The incident store {Identity} has no IncidentOps schema ({pg.MessageText}). Create it with Initialize-IncidentStore.", ex) { TargetObject = Identity };
            if (pg.SqlState is "42501")
                return new IncidentOpsException(StoreFaults.ReadOnly, IncidentOpsErrorCategory.PermissionDenied,
                    $"The incident store {Identity} refused the change ({pg.MessageText}). Grant the store role the privileges in the README (its own schema only).", ex) { TargetObject = Identity };
            return null;
        }
        if (ex is OperationCanceledException || ex is TimeoutException || ex.InnerException is TimeoutException)
            return opened
                ? new IncidentOpsException(IncidentErrorIds.StoreTimeout, IncidentOpsErrorCategory.OperationTimeout,
                    $"The incident store {Identity} did not answer within {CallTimeout.TotalSeconds:0} s. Check the server's load and locks (Get-PgActivity), then run the command again.", ex) { TargetObject = Identity }
                : Unavailable($"no answer within {CallTimeout.TotalSeconds:0} s", ex);
        if (ex is NpgsqlException or System.Net.Sockets.SocketException or IOException)
            return Unavailable(ex.InnerException is System.Net.Sockets.SocketException se ? se.Message : ex.Message, ex);
        return null;
    }

    private IncidentOpsException Unavailable(string reason, Exception? inner) =>
        new(IncidentErrorIds.StoreUnavailable, IncidentOpsErrorCategory.ConnectionError,
            $"The incident store on {Host}:{Port} (database {Database}, schema {_schema}) cannot be reached: {SecretRedactor.Redact(reason)}. " +
            "Check that the server runs and that this machine may connect to it; changes that already happened are kept in the local spool and written once it is back.", inner)
        { TargetObject = $"{Host}:{Port}" };

    private static async Task<int> ExecAsync(NpgsqlConnection c, string sql, CancellationToken ct, params (string Name, object? Value)[] args)
    {
        await using var cmd = new NpgsqlCommand(sql, c);
        foreach (var (n, v) in args) cmd.Parameters.AddWithValue(n, v ?? DBNull.Value);
        return await cmd.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
    }

    private static NpgsqlCommand Command(NpgsqlConnection c, string sql, params (string Name, object? Value)[] args)
    {
        var cmd = new NpgsqlCommand(sql, c);
        foreach (var (n, v) in args) cmd.Parameters.AddWithValue(n, v ?? DBNull.Value);
        return cmd;
    }

    private static NpgsqlParameter JsonParam(string name, string json) => new(name, NpgsqlTypes.NpgsqlDbType.Json) { Value = json };

    private Incident ReadIncident(string json)
    {
        var incident = JsonSerializer.Deserialize<Incident>(json, Json) ?? throw new JsonException("empty record");
        incident.IncidentStore = Identity;
        return incident;
    }

    private Incident ReadIncident(byte[] utf8)
    {
        var incident = JsonSerializer.Deserialize<Incident>(utf8, Json) ?? throw new JsonException("empty record");
        incident.IncidentStore = Identity;
        return incident;
    }

    // ------------------------------------------------------------------ records

    public Task<Incident> CreateAsync(Func<string, Incident> build, CancellationToken cancellationToken) => RunAsync(async (c, ct) =>
    {
        var day = DateTimeOffset.UtcNow.ToString("yyyyMMdd");
        await using var tx = await c.BeginTransactionAsync(ct).ConfigureAwait(false);
        // The counter row of the day serialises allocations across every client: distinct ids, no gaps on success.
        await using var next = Command(c, $"""
            INSERT INTO {_s}.id_counters AS k (day, last)
            VALUES (@day, coalesce((SELECT max(substr(id, 14)::int) FROM {_s}.incidents WHERE id LIKE 'INC-' || @day || '-%'), 0) + 1)
            ON CONFLICT (day) DO UPDATE SET last = k.last + 1
            RETURNING last
            """, ("day", day));
        var n = Convert.ToInt32(await next.ExecuteScalarAsync(ct).ConfigureAwait(false));
        var incident = build($"INC-{day}-{n:000}");
        incident.IncidentStore = Identity;
        await using var insert = Command(c, $"INSERT INTO {_s}.incidents (id, data, updated_by) VALUES (@id, @data, @by)", ("id", incident.Id), ("by", TimelineEntry.DefaultActor()));
        insert.Parameters.Add(JsonParam("data", JsonSerializer.Serialize(incident, Json)));
        await insert.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
        await tx.CommitAsync(ct).ConfigureAwait(false);
        return incident;
    }, cancellationToken);

    public Task<Incident?> GetAsync(string id, CancellationToken cancellationToken)
    {
        IncidentStores.CheckId(id);
        return RunAsync(async (c, ct) =>
        {
            await using var cmd = Command(c, $"SELECT data::text FROM {_s}.incidents WHERE id = @id", ("id", id));
            return await cmd.ExecuteScalarAsync(ct).ConfigureAwait(false) is string json ? ReadIncident(json) : null;
        }, cancellationToken);
    }

    public Task<IReadOnlyList<Incident>> ListAsync(CancellationToken cancellationToken) => RunAsync<IReadOnlyList<Incident>>(async (c, ct) =>
    {
        // Fetch the texts first (the connection goes back to the pool at once), then deserialise them on every core:
        // with thousands of incidents the JSON, not the query, is what takes the time.
        var texts = new List<byte[]>(); // UTF-8 as sent: no decoding to a string and back for the parser
        await using (var cmd = Command(c, $"SELECT data::text FROM {_s}.incidents ORDER BY id COLLATE \"C\""))
        await using (var r = await cmd.ExecuteReaderAsync(ct).ConfigureAwait(false))
            while (await r.ReadAsync(ct).ConfigureAwait(false)) texts.Add(r.GetFieldValue<byte[]>(0));
        var list = new Incident[texts.Count];
        if (texts.Count < 256) for (var i = 0; i < list.Length; i++) list[i] = ReadIncident(texts[i]);
        else
        {
            try { Parallel.For(0, list.Length, new ParallelOptions { CancellationToken = ct }, i => list[i] = ReadIncident(texts[i])); }
            catch (AggregateException ex) when (ex.InnerExceptions.Count > 0)
            {
                System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(ex.InnerExceptions[0]).Throw();
            }
        }
        return list;
    }, cancellationToken);

    public Task SaveAsync(Incident incident, CancellationToken cancellationToken)
    {
        IncidentStores.CheckId(incident.Id);
        return RunAsync(async (c, ct) =>
        {
            await using var tx = await c.BeginTransactionAsync(ct).ConfigureAwait(false);
            await using var cmd = Command(c, $"""
                INSERT INTO {_s}.incidents (id, data, updated_by) VALUES (@id, @data, @by)
                ON CONFLICT (id) DO UPDATE SET data = excluded.data, version = {_s}.incidents.version + 1, updated_at = now(), updated_by = excluded.updated_by
                """, ("id", incident.Id), ("by", TimelineEntry.DefaultActor()));
            cmd.Parameters.Add(JsonParam("data", JsonSerializer.Serialize(incident, Json)));
            await cmd.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
            // An imported id must never be allocated again.
            if (Regex.Match(incident.Id, @"^INC-(\d{8})-(\d+)$") is { Success: true } m)
                await ExecAsync(c, $"""
                    INSERT INTO {_s}.id_counters AS k (day, last) VALUES (@day, @n)
                    ON CONFLICT (day) DO UPDATE SET last = greatest(k.last, excluded.last)
                    """, ct, ("day", m.Groups[1].Value), ("n", int.Parse(m.Groups[2].Value, System.Globalization.CultureInfo.InvariantCulture))).ConfigureAwait(false);
            await tx.CommitAsync(ct).ConfigureAwait(false);
        }, cancellationToken);
    }

    /// <summary>INSERT ... ON CONFLICT DO NOTHING: a record already there (declared or imported meanwhile) is never replaced.</summary>
    public Task<bool> AddAsync(Incident incident, CancellationToken cancellationToken)
    {
        IncidentStores.CheckId(incident.Id);
        return RunAsync(async (c, ct) =>
        {
            await using var tx = await c.BeginTransactionAsync(ct).ConfigureAwait(false);
            await using var cmd = Command(c, $"INSERT INTO {_s}.incidents (id, data, updated_by) VALUES (@id, @data, @by) ON CONFLICT (id) DO NOTHING",
                ("id", incident.Id), ("by", TimelineEntry.DefaultActor()));
            cmd.Parameters.Add(JsonParam("data", JsonSerializer.Serialize(incident, Json)));
            if (await cmd.ExecuteNonQueryAsync(ct).ConfigureAwait(false) == 0) return false;
            // An imported id must never be allocated again.
            if (Regex.Match(incident.Id, @"^INC-(\d{8})-(\d+)$") is { Success: true } m)
                await ExecAsync(c, $"""
                    INSERT INTO {_s}.id_counters AS k (day, last) VALUES (@day, @n)
                    ON CONFLICT (day) DO UPDATE SET last = greatest(k.last, excluded.last)
                    """, ct, ("day", m.Groups[1].Value), ("n", int.Parse(m.Groups[2].Value, System.Globalization.CultureInfo.InvariantCulture))).ConfigureAwait(false);
            await tx.CommitAsync(ct).ConfigureAwait(false);
            return true;
        }, cancellationToken);
    }

    /// <summary>Loads the record under a row lock (SELECT ... FOR UPDATE), changes it and writes it back with the next row version.</summary>
    public Task<Incident> UpdateAsync(string id, Action<Incident> change, CancellationToken cancellationToken)
    {
        IncidentStores.CheckId(id);
        return RunAsync(async (c, ct) =>
        {
            await using var tx = await c.BeginTransactionAsync(ct).ConfigureAwait(false);
            await using var read = Command(c, $"SELECT data::text FROM {_s}.incidents WHERE id = @id FOR UPDATE", ("id", id));
            var json = await read.ExecuteScalarAsync(ct).ConfigureAwait(false) as string ?? throw FileIncidentStore.NotFound(id);
            var incident = ReadIncident(json);
            change(incident);
            await using var write = Command(c, $"UPDATE {_s}.incidents SET data = @data, version = version + 1, updated_at = now(), updated_by = @by WHERE id = @id",
                ("id", id), ("by", TimelineEntry.DefaultActor()));
            write.Parameters.Add(JsonParam("data", JsonSerializer.Serialize(incident, Json)));
            await write.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
            await tx.CommitAsync(ct).ConfigureAwait(false);
            return incident;
        }, cancellationToken);
    }

    // ------------------------------------------------------------------ timeline

    /// <summary>The NOTIFY channel on which appends to this store are announced ("incident id:sequence").</summary>
    public string NotifyChannel => $"{_schema}.timeline";

    public Task AppendTimelineAsync(string id, TimelineEntry entry, CancellationToken cancellationToken) =>
        AppendTimelineAsync(id, entry, key: null, cancellationToken);

    /// <summary>
    /// One statement: takes the incident's next sequence (its row, so appends to one incident are serialised by the
    /// server), inserts the entry with the writer (user@host) and the time, and announces it. A <paramref name="key"/>
    /// makes the append idempotent (the spool): an entry with that key already stored is not stored again.
    /// </summary>
    private async Task AppendTimelineAsync(string id, TimelineEntry entry, string? key, CancellationToken cancellationToken)
    {
        IncidentStores.CheckId(id);
        entry.IncidentId = id;
        // The entry's key is taken before the first attempt, and the spool keeps the same one: an append whose answer was
        // lost (the connection dropped, or the call ran out of time, after the server had stored it) is not stored twice.
        key ??= Guid.NewGuid().ToString("N");
        try
        {
            entry.Sequence = await RunAsync(async (c, ct) => await InsertEntryAsync(c, id, entry, key, ct).ConfigureAwait(false), cancellationToken).ConfigureAwait(false);
        }
        catch (IncidentOpsException ex) when (ex.ErrorId is IncidentErrorIds.StoreUnavailable or IncidentErrorIds.StoreTimeout && !cancellationToken.IsCancellationRequested)
        {
            // The change already happened: its entry must not be lost. Keep it locally; the next call that reaches the
            // store writes it (once: under its key). A store too busy to answer in time is no different.
            await SpoolAsync(id, entry, key, ex).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// The append of <see cref="InsertEntryAsync"/> that also returns the record, in the same statement (the row it
    /// updates for the sequence): a note needs the record only to warn about a resolved incident. Never spools.
    /// </summary>
    public Task<Incident> AppendTimelineWithRecordAsync(string id, TimelineEntry entry, CancellationToken cancellationToken)
    {
        IncidentStores.CheckId(id);
        entry.IncidentId = id;
        return RunAsync(async (c, ct) =>
        {
            var saved = entry.Sequence;
            entry.Sequence = 0; // the sequence is the server's (the column), never the text's
            var json = JsonSerializer.Serialize(entry, Json);
            entry.Sequence = saved;
            await using var cmd = Command(c, $"""
                WITH head AS (UPDATE {_s}.incidents SET timeline_last = timeline_last + 1 WHERE id = @id RETURNING timeline_last, data),
                     ins AS (INSERT INTO {_s}.timeline (incident_id, seq, at, at_ticks, writer, entry_key, entry)
                             SELECT @id, timeline_last, @at, @ticks, @writer, NULL, @entry FROM head
                             RETURNING seq)
                SELECT ins.seq, head.data::text, pg_notify(@channel, @id || ':' || ins.seq) FROM ins, head
                """, ("id", id), ("at", entry.Timestamp.ToUniversalTime()), ("ticks", entry.Timestamp.UtcTicks), ("writer", TimelineEntry.DefaultActor()),
                ("channel", NotifyChannel));
            cmd.Parameters.Add(JsonParam("entry", json));
            await using var r = await cmd.ExecuteReaderAsync(ct).ConfigureAwait(false);
            if (!await r.ReadAsync(ct).ConfigureAwait(false)) throw FileIncidentStore.NotFound(id);
            var seq = r.GetInt64(0);
            var incident = ReadIncident(r.GetString(1));
            entry.Sequence = seq;
            return incident;
        }, cancellationToken);
    }

    private async Task<long> InsertEntryAsync(NpgsqlConnection c, string id, TimelineEntry entry, string? key, CancellationToken ct)
    {
        if (entry.DeliveryKeys is { Count: > 0 } keys) return await InsertDeliveryEntryAsync(c, id, entry, key, keys, ct).ConfigureAwait(false);
        return await InsertEntryCoreAsync(c, id, entry, key, ct).ConfigureAwait(false);
    }

    /// <summary>
    /// An entry that tells deliveries: in one transaction that holds the incident's row lock (the lock every append of the
    /// incident takes for its sequence), the keys are looked for among the incident's entries, and the entry is inserted only
    /// when none is there (TimelineDeliveryAlreadyTold otherwise). A session killed in between rolls back: nothing is half done,
    /// and the rule holds in the server whatever happens to a writer's claims.
    /// </summary>
    private async Task<long> InsertDeliveryEntryAsync(NpgsqlConnection c, string id, TimelineEntry entry, string? key, IReadOnlyList<string> keys, CancellationToken ct)
    {
        await using var tx = await c.BeginTransactionAsync(ct).ConfigureAwait(false);
        await using (var row = Command(c, $"SELECT 1 FROM {_s}.incidents WHERE id = @id FOR UPDATE", ("id", id)))
            if (await row.ExecuteScalarAsync(ct).ConfigureAwait(false) is null) throw FileIncidentStore.NotFound(id);
        // A statement of its own after the lock: READ COMMITTED gives it a snapshot that has every append committed before.
        var told = new List<string>();
        await using (var look = Command(c, $"""
            SELECT DISTINCT k FROM {_s}.timeline t, json_array_elements_text(t.entry -> 'deliveryKeys') k
             WHERE t.incident_id = @id AND json_typeof(t.entry -> 'deliveryKeys') = 'array' AND k = ANY(@keys)
            """, ("id", id), ("keys", keys.ToArray())))
        await using (var r = await look.ExecuteReaderAsync(ct).ConfigureAwait(false))
            while (await r.ReadAsync(ct).ConfigureAwait(false)) told.Add(r.GetString(0));
        if (told.Count > 0) throw IncidentStores.DeliveryAlreadyTold(id, told);
        var seq = await InsertEntryCoreAsync(c, id, entry, key, ct).ConfigureAwait(false);
        await tx.CommitAsync(ct).ConfigureAwait(false);
        return seq;
    }

    private async Task<long> InsertEntryCoreAsync(NpgsqlConnection c, string id, TimelineEntry entry, string? key, CancellationToken ct)
    {
        var saved = entry.Sequence;
        entry.Sequence = 0;
        var json = JsonSerializer.Serialize(entry, Json);
        entry.Sequence = saved;
        await using var cmd = Command(c, $"""
            WITH head AS (UPDATE {_s}.incidents SET timeline_last = timeline_last + 1 WHERE id = @id RETURNING timeline_last),
                 ins AS (INSERT INTO {_s}.timeline (incident_id, seq, at, at_ticks, writer, entry_key, entry)
                         SELECT @id, timeline_last, @at, @ticks, @writer, @key, @entry FROM head
                         RETURNING id, seq)
            SELECT seq, pg_notify(@channel, @id || ':' || seq) FROM ins
            """, ("id", id), ("at", entry.Timestamp.ToUniversalTime()), ("ticks", entry.Timestamp.UtcTicks), ("writer", TimelineEntry.DefaultActor()),
            ("key", key), ("channel", NotifyChannel));
        cmd.Parameters.Add(JsonParam("entry", json));
        try
        {
            var seq = await cmd.ExecuteScalarAsync(ct).ConfigureAwait(false);
            return seq is long n ? n : throw FileIncidentStore.NotFound(id);
        }
        catch (PostgresException pg) when (pg.SqlState == PostgresErrorCodes.UniqueViolation && key is not null)
        {
            return -1; // already stored by an earlier flush of the spool
        }
    }

    public Task<IReadOnlyList<TimelineEntry>> ReadTimelineAsync(string id, CancellationToken cancellationToken)
    {
        IncidentStores.CheckId(id);
        return RunAsync<IReadOnlyList<TimelineEntry>>(async (c, ct) => await ReadEntriesAsync(c, id, 0, ct).ConfigureAwait(false), cancellationToken);
    }

    private async Task<List<TimelineEntry>> ReadEntriesAsync(NpgsqlConnection c, string id, long afterRow, CancellationToken ct)
    {
        var list = new List<TimelineEntry>();
        await using var cmd = Command(c, afterRow == 0
            ? $"SELECT seq, entry::text, id FROM {_s}.timeline WHERE incident_id = @id ORDER BY at_ticks, seq"
            : $"SELECT seq, entry::text, id FROM {_s}.timeline WHERE incident_id = @id AND id > @after ORDER BY id", ("id", id), ("after", afterRow));
        await using var r = await cmd.ExecuteReaderAsync(ct).ConfigureAwait(false);
        while (await r.ReadAsync(ct).ConfigureAwait(false))
        {
            var e = JsonSerializer.Deserialize<TimelineEntry>(r.GetString(1), Json)!;
            e.Sequence = r.GetInt64(0);
            e.IncidentId = id;
            list.Add(e);
        }
        return list;
    }

    /// <summary>
    /// LISTENs on the store's channel on a connection of its own, reads what is there, then fetches new rows (by the
    /// server's row id) each time a NOTIFY for this incident arrives, and at least every few seconds in case one was missed.
    /// </summary>
    public async IAsyncEnumerable<TimelineEntry> FollowTimelineAsync(string id, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        IncidentStores.CheckId(id);
        await using var c = await RunAsync(async (_, ct) =>
        {
            var listening = new NpgsqlConnection(_unpooled);
            await listening.OpenAsync(ct).ConfigureAwait(false);
            return listening;
        }, cancellationToken).ConfigureAwait(false);
        var signalled = 0;
        c.Notification += (_, e) => { if (e.Payload.StartsWith(id + ":", StringComparison.Ordinal)) Interlocked.Exchange(ref signalled, 1); };
        long lastRow = 0;
        List<(long Row, TimelineEntry Entry)> batch;
        try
        {
            await ExecAsync(c, $"LISTEN \"{NotifyChannel}\"", cancellationToken).ConfigureAwait(false);
            batch = await ReadRowsAsync(c, id, 0, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (Translate(ex, true, cancellationToken) is { } translated) { throw translated; }
        while (true)
        {
            foreach (var (row, entry) in batch)
            {
                lastRow = Math.Max(lastRow, row);
                yield return entry;
            }
            try
            {
                if (Interlocked.Exchange(ref signalled, 0) == 0)
                    await c.WaitAsync(TimeSpan.FromSeconds(5), cancellationToken).ConfigureAwait(false);
                Interlocked.Exchange(ref signalled, 0);
                batch = await ReadRowsAsync(c, id, lastRow, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (Translate(ex, true, cancellationToken) is { } translated) { throw translated; }
        }
    }

    private async Task<List<(long Row, TimelineEntry Entry)>> ReadRowsAsync(NpgsqlConnection c, string id, long afterRow, CancellationToken ct)
    {
        var list = new List<(long, TimelineEntry)>();
        await using var cmd = Command(c, afterRow == 0
            ? $"SELECT seq, entry::text, id FROM {_s}.timeline WHERE incident_id = @id ORDER BY at_ticks, seq"
            : $"SELECT seq, entry::text, id FROM {_s}.timeline WHERE incident_id = @id AND id > @after ORDER BY id", ("id", id), ("after", afterRow));
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(ct);
        cts.CancelAfter(CallTimeout);
        await using var r = await cmd.ExecuteReaderAsync(cts.Token).ConfigureAwait(false);
        while (await r.ReadAsync(cts.Token).ConfigureAwait(false))
        {
            var e = JsonSerializer.Deserialize<TimelineEntry>(r.GetString(1), Json)!;
            e.Sequence = r.GetInt64(0);
            e.IncidentId = id;
            list.Add((r.GetInt64(2), e));
        }
        return list;
    }

    // ------------------------------------------------------------------ action items

    public Task<IReadOnlyList<ActionItem>> ReadActionItemsAsync(string id, CancellationToken cancellationToken)
    {
        IncidentStores.CheckId(id);
        return RunAsync<IReadOnlyList<ActionItem>>(async (c, ct) =>
        {
            await using var cmd = Command(c, $"SELECT items::text FROM {_s}.action_items WHERE incident_id = @id", ("id", id));
            return await cmd.ExecuteScalarAsync(ct).ConfigureAwait(false) is string json ? JsonSerializer.Deserialize<List<ActionItem>>(json, Json) ?? [] : [];
        }, cancellationToken);
    }

    /// <summary>Every incident's action items in one query.</summary>
    public Task<IReadOnlyDictionary<string, IReadOnlyList<ActionItem>>> ReadAllActionItemsAsync(CancellationToken cancellationToken) =>
        RunAsync<IReadOnlyDictionary<string, IReadOnlyList<ActionItem>>>(async (c, ct) =>
        {
            var result = new Dictionary<string, IReadOnlyList<ActionItem>>(StringComparer.OrdinalIgnoreCase);
            await using var cmd = Command(c, $"SELECT incident_id, items::text FROM {_s}.action_items");
            await using var r = await cmd.ExecuteReaderAsync(ct).ConfigureAwait(false);
            while (await r.ReadAsync(ct).ConfigureAwait(false))
                if (JsonSerializer.Deserialize<List<ActionItem>>(r.GetString(1), Json) is { Count: > 0 } items) result[r.GetString(0)] = items;
            return result;
        }, cancellationToken);

    public Task ChangeActionItemsAsync(string id, Action<List<ActionItem>> change, CancellationToken cancellationToken)
    {
        IncidentStores.CheckId(id);
        return RunAsync(async (c, ct) =>
        {
            await using var tx = await c.BeginTransactionAsync(ct).ConfigureAwait(false);
            await using var exists = Command(c, $"SELECT 1 FROM {_s}.incidents WHERE id = @id", ("id", id));
            if (await exists.ExecuteScalarAsync(ct).ConfigureAwait(false) is null) throw FileIncidentStore.NotFound(id);
            await ExecAsync(c, $"INSERT INTO {_s}.action_items (incident_id, items) VALUES (@id, '[]') ON CONFLICT DO NOTHING", ct, ("id", id)).ConfigureAwait(false);
            await using var read = Command(c, $"SELECT items::text FROM {_s}.action_items WHERE incident_id = @id FOR UPDATE", ("id", id));
            var list = JsonSerializer.Deserialize<List<ActionItem>>((string)(await read.ExecuteScalarAsync(ct).ConfigureAwait(false))!, Json) ?? [];
            change(list);
            await using var write = Command(c, $"UPDATE {_s}.action_items SET items = @items, version = version + 1 WHERE incident_id = @id", ("id", id));
            write.Parameters.Add(JsonParam("items", JsonSerializer.Serialize(list, Json)));
            await write.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
            await tx.CommitAsync(ct).ConfigureAwait(false);
        }, cancellationToken);
    }

    // ------------------------------------------------------------------ outbox

    /// <summary>The server's clock (clock_timestamp()), which every teammate's sender shares.</summary>
    public Task<DateTimeOffset> NowAsync(CancellationToken cancellationToken) => RunAsync(async (c, ct) =>
    {
        await using var cmd = Command(c, "SELECT clock_timestamp()");
        var value = await cmd.ExecuteScalarAsync(ct).ConfigureAwait(false);
        return value switch
        {
            DateTime d => new DateTimeOffset(DateTime.SpecifyKind(d, DateTimeKind.Utc)),
            DateTimeOffset o => o.ToUniversalTime(),
            _ => DateTimeOffset.UtcNow,
        };
    }, cancellationToken);

    public Task<IReadOnlyList<IncidentUpdate>> ReadOutboxAsync(string id, CancellationToken cancellationToken)
    {
        IncidentStores.CheckId(id);
        return RunAsync<IReadOnlyList<IncidentUpdate>>(async (c, ct) =>
        {
            var list = new List<IncidentUpdate>();
            await using var cmd = Command(c, $"SELECT entry::text FROM {_s}.outbox WHERE incident_id = @id ORDER BY update_id COLLATE \"C\"", ("id", id));
            await using var r = await cmd.ExecuteReaderAsync(ct).ConfigureAwait(false);
            while (await r.ReadAsync(ct).ConfigureAwait(false))
                if (JsonSerializer.Deserialize<IncidentUpdate>(r.GetString(0), Json) is { } u) list.Add(u);
            return list;
        }, cancellationToken);
    }

    /// <summary>
    /// <see cref="IIncidentStore.ListOutboxWorkAsync"/> in one statement over outbox.entry and timeline.entry (json): an incident
    /// is named when one of its outbox entries is pending (the column), has no json array of deliveries, or has a delivery whose
    /// state is neither Superseded nor Delivered with a timeline entry that tells it. Told, as NotificationService.ToldDeliveries
    /// reads it: an entry of the incident carries the delivery key, or an "update" entry without keys (an older version's) of
    /// that update id names the channel in its target and says "channel: delivered (" in its result. Case is folded for A-Z only
    /// (never more than the C# comparisons fold), and any other spelling of a state counts as work, so the query may name an
    /// incident that needs nothing but never leaves out one that needs work.
    /// </summary>
    public Task<IReadOnlyList<string>> ListOutboxWorkAsync(CancellationToken cancellationToken) => RunAsync<IReadOnlyList<string>>(async (c, ct) =>
    {
        var ids = new List<string>();
        // The planner cannot estimate json_array_elements over the entries and puts the plan's cost far above jit_above_cost:
        // compiling it took ~0.5 s on every call, for a query that runs in milliseconds. JIT is off for this statement only
        // (set and reset in the same round trip; connections are pooled without a reset on close).
        await using var cmd = Command(c, $"SET jit = off; {OutboxWorkSql()}; RESET jit");
        await using var r = await cmd.ExecuteReaderAsync(ct).ConfigureAwait(false);
        while (await r.ReadAsync(ct).ConfigureAwait(false)) ids.Add(r.GetString(0));
        return ids;
    }, cancellationToken);

    /// <summary>A-Z to a-z only: what C#'s ToLowerInvariant and OrdinalIgnoreCase do to ASCII, and nothing else.</summary>
    private static string Fold(string expression) => $"translate({expression}, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz')";

    private string OutboxWorkSql() => $"""
        WITH d AS (
            SELECT o.incident_id, o.entry ->> 'updateId' AS update_id, {Fold("x ->> 'channel'")} AS channel, {Fold("coalesce(x ->> 'state', 'Pending')")} AS state
              FROM {_s}.outbox o
             CROSS JOIN LATERAL json_array_elements(CASE json_typeof(o.entry -> 'deliveries') WHEN 'array' THEN o.entry -> 'deliveries' ELSE '[]'::json END) x
             WHERE NOT o.pending),
        work AS (
        SELECT incident_id FROM {_s}.outbox
         WHERE pending OR json_typeof(entry -> 'deliveries') IS DISTINCT FROM 'array'
        UNION
        SELECT d.incident_id FROM d
         WHERE d.state IS DISTINCT FROM 'superseded'
           AND NOT (d.state = 'delivered' AND d.update_id IS NOT NULL AND d.channel IS NOT NULL AND (
               EXISTS (SELECT 1 FROM {_s}.timeline t
                        CROSS JOIN LATERAL json_array_elements_text(CASE json_typeof(t.entry -> 'deliveryKeys') WHEN 'array' THEN t.entry -> 'deliveryKeys' ELSE '[]'::json END) k
                        WHERE t.incident_id = d.incident_id AND k = 'delivery:' || d.update_id || ':' || d.channel)
               OR EXISTS (SELECT 1 FROM {_s}.timeline t
                        WHERE t.incident_id = d.incident_id AND t.entry ->> 'kind' = 'update'
                          AND coalesce(json_typeof(t.entry -> 'deliveryKeys'), 'null') = 'null'
                          AND t.entry -> 'parameters' ->> 'UpdateId' = d.update_id
                          AND json_typeof(t.entry -> 'result') = 'string'
                          AND d.channel = ANY (string_to_array({Fold("t.entry ->> 'target'")}, ','))
                          AND (starts_with({Fold("t.entry ->> 'result'")}, d.channel || ': delivered (')
                               OR strpos({Fold("t.entry ->> 'result'")}, '; ' || d.channel || ': delivered (') > 0)))))
        SELECT incident_id FROM work ORDER BY incident_id COLLATE "C"
        """;

    public Task<IncidentUpdate?> ReadOutboxEntryAsync(string id, string updateId, CancellationToken cancellationToken)
    {
        IncidentStores.CheckId(id);
        return RunAsync(async (c, ct) =>
        {
            await using var cmd = Command(c, $"SELECT entry::text FROM {_s}.outbox WHERE incident_id = @id AND update_id = @u", ("id", id), ("u", updateId));
            return await cmd.ExecuteScalarAsync(ct).ConfigureAwait(false) is string json ? JsonSerializer.Deserialize<IncidentUpdate>(json, Json) : null;
        }, cancellationToken);
    }

    public Task WriteOutboxEntryAsync(IncidentUpdate update, CancellationToken cancellationToken)
    {
        IncidentStores.CheckId(update.IncidentId);
        return RunAsync(async (c, ct) =>
        {
            await using var cmd = Command(c, $"""
                INSERT INTO {_s}.outbox (incident_id, update_id, entry, pending) VALUES (@id, @u, @entry, @pending)
                ON CONFLICT (incident_id, update_id) DO UPDATE SET entry = excluded.entry, pending = excluded.pending, updated_at = now()
                """, ("id", update.IncidentId), ("u", update.UpdateId), ("pending", update.Pending));
            cmd.Parameters.Add(JsonParam("entry", JsonSerializer.Serialize(update, Json)));
            await cmd.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
        }, cancellationToken);
    }

    /// <summary>Reads the entry under its row lock (SELECT ... FOR UPDATE) and writes the change in the same transaction.</summary>
    public Task<IncidentUpdate?> ChangeOutboxEntryAsync(string id, string updateId, Func<IncidentUpdate?, IncidentUpdate?> change, CancellationToken cancellationToken)
    {
        IncidentStores.CheckId(id);
        return RunAsync(async (c, ct) =>
        {
            await using var tx = await c.BeginTransactionAsync(ct).ConfigureAwait(false);
            IncidentUpdate? stored;
            await using (var read = Command(c, $"SELECT entry::text FROM {_s}.outbox WHERE incident_id = @id AND update_id = @u FOR UPDATE", ("id", id), ("u", updateId)))
                stored = await read.ExecuteScalarAsync(ct).ConfigureAwait(false) is string json ? JsonSerializer.Deserialize<IncidentUpdate>(json, Json) : null;
            var changed = change(stored);
            if (changed is null) { await tx.RollbackAsync(ct).ConfigureAwait(false); return stored; }
            await using var write = Command(c, $"""
                INSERT INTO {_s}.outbox (incident_id, update_id, entry, pending) VALUES (@id, @u, @entry, @pending)
                ON CONFLICT (incident_id, update_id) DO UPDATE SET entry = excluded.entry, pending = excluded.pending, updated_at = now()
                """, ("id", id), ("u", updateId), ("pending", changed.Pending));
            write.Parameters.Add(JsonParam("entry", JsonSerializer.Serialize(changed, Json)));
            await write.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
            await tx.CommitAsync(ct).ConfigureAwait(false);
            return changed;
        }, cancellationToken);
    }

    /// <summary>
    /// Takes the claim row (incident, name) with FOR UPDATE SKIP LOCKED in a transaction on a connection of its own,
    /// retrying until <paramref name="wait"/> ends. The claim is held until disposed; if the holder dies, the server
    /// ends its transaction and the claim is free again.
    /// </summary>
    public async Task<IAsyncDisposable> ClaimOutboxAsync(string id, string name, TimeSpan wait, CancellationToken cancellationToken)
    {
        IncidentStores.CheckId(id);
        var deadline = DateTime.UtcNow + wait;
        await RunAsync(async (c, ct) => await ExecAsync(c, $"INSERT INTO {_s}.claims (incident_id, name) VALUES (@id, @n) ON CONFLICT DO NOTHING", ct, ("id", id), ("n", name)).ConfigureAwait(false),
            cancellationToken).ConfigureAwait(false);
        var delay = 5;
        while (true)
        {
            NpgsqlConnection? c = null;
            try
            {
                using (var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
                {
                    cts.CancelAfter(CallTimeout);
                    c = await _source.OpenConnectionAsync(cts.Token).ConfigureAwait(false);
                    var tx = await c.BeginTransactionAsync(cts.Token).ConfigureAwait(false);
                    await using var cmd = Command(c, $"SELECT 1 FROM {_s}.claims WHERE incident_id = @id AND name = @n FOR UPDATE SKIP LOCKED", ("id", id), ("n", name));
                    if (await cmd.ExecuteScalarAsync(cts.Token).ConfigureAwait(false) is not null)
                    {
                        // The claim is this idle transaction, held across slow provider calls: a server-side idle timeout
                        // must not end it (and hand the channel to a second sender) while the holder still works.
                        await using (var keep = Command(c, KeepIdleSessionsSql(local: true))) await keep.ExecuteNonQueryAsync(cts.Token).ConfigureAwait(false);
                        return new Claim(c, tx);
                    }
                    await tx.RollbackAsync(cts.Token).ConfigureAwait(false);
                }
                await c.DisposeAsync().ConfigureAwait(false);
                c = null;
            }
            catch (Exception ex) when (Translate(ex, c is not null, cancellationToken) is { } translated)
            {
                if (c is not null) await c.DisposeAsync().ConfigureAwait(false);
                throw translated;
            }
            catch
            {
                if (c is not null) await c.DisposeAsync().ConfigureAwait(false);
                throw;
            }
            if (DateTime.UtcNow >= deadline)
                throw new IncidentOpsException(IncidentErrorIds.StoreLockTimeout, IncidentOpsErrorCategory.ResourceBusy,
                    $"Could not claim '{name}' of {id} in {Identity} within {wait.TotalSeconds:0.#} s: another responder holds it. It is released when they finish (or their session ends).") { TargetObject = id };
            await Task.Delay(delay, cancellationToken).ConfigureAwait(false);
            delay = Math.Min(delay * 2, 100);
        }
    }

    private sealed class Claim(NpgsqlConnection connection, NpgsqlTransaction transaction) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            try
            {
                using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(5));
                await transaction.RollbackAsync(cts.Token).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is NpgsqlException or OperationCanceledException or InvalidOperationException) { /* the connection closes below: the claim ends with it */ }
            await transaction.DisposeAsync().ConfigureAwait(false);
            await connection.DisposeAsync().ConfigureAwait(false);
        }
    }

    // ------------------------------------------------------------------ evidence

    public Task<StoredEvidence> PutEvidenceAsync(string id, string name, string content, DateTimeOffset capturedAt, CancellationToken cancellationToken)
    {
        IncidentStores.CheckId(id);
        IncidentStores.CheckId(name);
        var sha = IncidentStores.Sha256(content);
        var bytes = (long)System.Text.Encoding.UTF8.GetByteCount(content);
        return RunAsync(async (c, ct) =>
        {
            await ExecAsync(c, $"""
                INSERT INTO {_s}.evidence (incident_id, name, content, sha256, bytes, captured_at, captured_ticks) VALUES (@id, @n, @content, @sha, @bytes, @at, @ticks)
                ON CONFLICT (incident_id, name) DO UPDATE SET content = excluded.content, sha256 = excluded.sha256, bytes = excluded.bytes,
                    captured_at = excluded.captured_at, captured_ticks = excluded.captured_ticks
                """, ct, ("id", id), ("n", name), ("content", content), ("sha", sha), ("bytes", bytes), ("at", capturedAt.ToUniversalTime()), ("ticks", capturedAt.UtcTicks)).ConfigureAwait(false);
            return new StoredEvidence(id, name, sha, bytes, capturedAt, EvidenceLocation(id, name));
        }, cancellationToken);
    }

    private string EvidenceLocation(string id, string name) => $"{Identity}/{id}/evidence/{name}";

    public Task<IReadOnlyList<StoredEvidence>> ListEvidenceAsync(string id, CancellationToken cancellationToken)
    {
        IncidentStores.CheckId(id);
        return RunAsync<IReadOnlyList<StoredEvidence>>(async (c, ct) =>
        {
            var list = new List<StoredEvidence>();
            await using var cmd = Command(c, $"SELECT name, sha256, bytes, captured_ticks FROM {_s}.evidence WHERE incident_id = @id ORDER BY name COLLATE \"C\"", ("id", id));
            await using var r = await cmd.ExecuteReaderAsync(ct).ConfigureAwait(false);
            while (await r.ReadAsync(ct).ConfigureAwait(false))
                list.Add(new StoredEvidence(id, r.GetString(0), r.GetString(1), r.GetInt64(2), new DateTimeOffset(r.GetInt64(3), TimeSpan.Zero), EvidenceLocation(id, r.GetString(0))));
            return list;
        }, cancellationToken);
    }

    public Task<string?> ReadEvidenceAsync(string id, string name, CancellationToken cancellationToken)
    {
        IncidentStores.CheckId(id);
        return RunAsync(async (c, ct) =>
        {
            await using var cmd = Command(c, $"SELECT content FROM {_s}.evidence WHERE incident_id = @id AND name = @n", ("id", id), ("n", name));
            return await cmd.ExecuteScalarAsync(ct).ConfigureAwait(false) as string;
        }, cancellationToken);
    }

    public Task<IReadOnlyList<EvidenceText>> ReadEvidenceManyAsync(string id, Func<string, bool> include, CancellationToken cancellationToken)
    {
        IncidentStores.CheckId(id);
        return RunAsync<IReadOnlyList<EvidenceText>>(async (c, ct) =>
        {
            // The names first (small), then only the contents asked for: other evidence (logs) may be large.
            var names = new List<string>();
            await using (var list = Command(c, $"SELECT name FROM {_s}.evidence WHERE incident_id = @id", ("id", id)))
            await using (var r = await list.ExecuteReaderAsync(ct).ConfigureAwait(false))
                while (await r.ReadAsync(ct).ConfigureAwait(false))
                    if (include(r.GetString(0))) names.Add(r.GetString(0));
            var texts = new List<EvidenceText>(names.Count);
            if (names.Count == 0) return texts;
            await using var cmd = Command(c, $"SELECT name, content FROM {_s}.evidence WHERE incident_id = @id AND name = ANY(@names) ORDER BY name COLLATE \"C\"",
                ("id", id), ("names", names.ToArray()));
            await using var rows = await cmd.ExecuteReaderAsync(ct).ConfigureAwait(false);
            while (await rows.ReadAsync(ct).ConfigureAwait(false)) texts.Add(new EvidenceText(rows.GetString(0), rows.GetString(1)));
            return texts;
        }, cancellationToken);
    }
}
