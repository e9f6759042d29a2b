using System.Globalization;
using System.Text;
using IncidentOps.Engine.Config;
using IncidentOps.Postgres;
using Npgsql;

namespace IncidentOps.Engine.Postgres;

/// <summary>
/// PostgreSQL triage: lists backends (pg_stat_activity) and stops them under a safety policy that is
/// enforced here, not in the cmdlets: never this tool's own session, only client backends (never
/// autovacuum, walsenders, background workers), superuser sessions only when asked, and only backends the
/// connecting role may signal. The policy is applied twice: to explain what is spared, and again inside
/// the terminating statement's WHERE clause so a session that changed in between is not hit.
/// </summary>
public sealed class PostgresService
{
    private readonly IOperationSink _sink;

    public PostgresService(ReferenceResolver references, IOperationSink sink, Func<string, string?>? environment = null, IncidentOps.Engine.Tunnels.TunnelRouter? tunnels = null)
    {
        _sink = sink;
        Connections = new PgConnectionFactory(references, environment, tunnels);
    }

    public PgConnectionFactory Connections { get; }

    /// <summary>What a read leaves before the command's deadline: time for the server to answer a cancel, and to report.</summary>
    private static readonly TimeSpan ServerAnswerReserve = TimeSpan.FromSeconds(1) + TimeSpan.FromMilliseconds(PgConnectionFactory.CancellationTimeoutMs + 50);

    /// <summary>
    /// Runs one read on the server within the command's deadline. When the server stops answering (a stalled
    /// network, a hung server, a proxy that stopped forwarding mid-reply), Npgsql's cancellation is used: it sends a
    /// cancel request and, when that gets no answer either, closes the socket; the failure is PgServerNotResponding
    /// instead of a raw "Exception while reading from stream".
    /// </summary>
    private static async Task<T> OnServerAsync<T>(PgConnectionSpec spec, Func<CancellationToken, Task<T>> work, CancellationToken cancellationToken)
    {
        using var answer = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var connected = PgConnectionFactory.TrackOpen();
        var limit = OperationDeadline.Cap(TimeSpan.FromSeconds(Math.Max(1, spec.TimeoutSec) + 5), ServerAnswerReserve);
        answer.CancelAfter(limit);
        var running = work(answer.Token);
        try
        {
            // Npgsql cancels, waits CancellationTimeout for the server to answer, then closes the connection. Should
            // that take longer (the socket read does not end), stop waiting for it: the read ends at CommandTimeout.
            return await running.WaitAsync(limit + TimeSpan.FromMilliseconds(PgConnectionFactory.CancellationTimeoutMs + 50), cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException ex) when (!cancellationToken.IsCancellationRequested)
        {
            _ = running.ContinueWith(t => _ = t.Exception, TaskScheduler.Default);
            throw connected.Value ? NotAnswering(spec, limit, ex) : NoConnection(spec, limit, ex);
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested && IsNoAnswer(ex, answer.IsCancellationRequested))
        {
            if (!connected.Value) throw NoConnection(spec, limit, ex);
            if (Find<PostgresException>(ex) is { SqlState: "57014" })
                throw new IncidentOpsException(DeadlineErrorIds.OperationTimeout, IncidentOpsErrorCategory.OperationTimeout,
                    $"The statement on {spec} did not finish within {limit.TotalSeconds:0.#} s (-TimeoutSec); the server cancelled it. Raise -TimeoutSec if the server is known to be busy.", ex) { TargetObject = spec.ToString() };
            throw NotAnswering(spec, limit, ex);
        }
    }

    private static IncidentOpsException NoConnection(PgConnectionSpec spec, TimeSpan limit, Exception ex) =>
        new(PostgresErrorIds.PgHostUnreachable, IncidentOpsErrorCategory.ConnectionError,
            $"Cannot connect to PostgreSQL at {spec}: the host did not answer within {limit.TotalSeconds:0.#} s. Check host and port, that the server is running, and raise -TimeoutSec if the network is slow.", ex) { TargetObject = spec.ToString() };

    private static IncidentOpsException NotAnswering(PgConnectionSpec spec, TimeSpan limit, Exception ex) =>
        new(PostgresErrorIds.PgServerNotResponding, IncidentOpsErrorCategory.ConnectionError,
            $"PostgreSQL at {spec} stopped answering: no reply within {limit.TotalSeconds:0.#} s, and no answer to the cancel request either, so the connection was given up. Check the server and the network path (a stalled proxy or failover), or raise -TimeoutSec.", ex) { TargetObject = spec.ToString() };

    private static bool IsNoAnswer(Exception ex, bool limitPassed) =>
        (ex is OperationCanceledException && limitPassed)
        || (ex is NpgsqlException and not PostgresException && (Find<IOException>(ex) is not null || Find<TimeoutException>(ex) is not null));

    private static T? Find<T>(Exception? ex) where T : Exception
    {
        for (; ex is not null; ex = ex.InnerException) if (ex is T t) return t;
        return null;
    }

    /// <summary>host:port/database a spec points at (no password), without connecting.</summary>
    public async Task<string> DescribeTargetAsync(PgConnectionSpec spec, CancellationToken cancellationToken)
    {
        var b = await Connections.BuildAsync(spec, cancellationToken).ConfigureAwait(false);
        return $"{b.Host}:{b.Port}/{b.Database}";
    }

    /// <summary>
    /// The cluster a spec reaches its server through (<see cref="IncidentOps.Engine.Tunnels.TunnelSpec.Route"/>: a kubectl
    /// tunnel's pinned context), or null when it connects directly or through another kind of tunnel. Records read through a
    /// tunnel carry it next to Server, and the stop and maintenance cmdlets refuse a piped record whose route differs.
    /// </summary>
    public async Task<string?> DescribeRouteAsync(PgConnectionSpec spec, CancellationToken cancellationToken) =>
        (await Connections.TunnelAsync(spec, cancellationToken).ConfigureAwait(false))?.Route;

    /// <summary>
    /// Where records read with <paramref name="spec"/> came from, which travels with them: the server (host:port/database),
    /// the kubectl context of a tunnel, and the configured service (none for an explicit connection string). A pid or a
    /// table name means something else on another server or cluster.
    /// </summary>
    private async Task<(string Server, string? Route, string? Service)> OriginAsync(PgConnectionSpec spec, CancellationToken cancellationToken) =>
        (await DescribeTargetAsync(spec, cancellationToken).ConfigureAwait(false),
         await DescribeRouteAsync(spec, cancellationToken).ConfigureAwait(false),
         spec.ConnectionString is null ? spec.Service?.FullName : null);

    internal const string ActivitySql = """
        SELECT a.pid, a.datname, a.usename, a.application_name, host(a.client_addr), a.backend_type, a.state,
               a.wait_event_type, a.wait_event, a.backend_start, a.xact_start, a.query_start, a.state_change,
               clock_timestamp() - a.state_change, a.query, pg_blocking_pids(a.pid), a.pid = pg_backend_pid(),
               coalesce(r.rolsuper, false),
               CASE WHEN a.usesysid IS NULL THEN false
                    WHEN coalesce(r.rolsuper, false) THEN me.rolsuper
                    ELSE me.rolsuper OR pg_has_role(a.usesysid, 'MEMBER') OR pg_has_role('pg_signal_backend', 'MEMBER') END
        FROM pg_stat_activity a
        LEFT JOIN pg_roles r ON r.oid = a.usesysid
        CROSS JOIN (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) me
        ORDER BY a.backend_type = 'client backend' DESC, clock_timestamp() - a.state_change DESC NULLS LAST, a.pid
        """;

    /// <summary>Every backend, filtered: client backends first, the longest in their state first (what an engineer acts on), then background processes.</summary>
    public Task<IReadOnlyList<PgActivity>> GetActivityAsync(PgConnectionSpec spec, PgActivityFilter? filter, CancellationToken cancellationToken) =>
        OnServerAsync(spec, ct => GetActivityCoreAsync(spec, filter, ct), cancellationToken);

    private async Task<IReadOnlyList<PgActivity>> GetActivityCoreAsync(PgConnectionSpec spec, PgActivityFilter? filter, CancellationToken cancellationToken)
    {
        await using var conn = await Connections.OpenAsync(spec, cancellationToken).ConfigureAwait(false);
        var all = await ReadActivityAsync(conn, cancellationToken).ConfigureAwait(false);
        _sink.Verbose($"pg_stat_activity on {conn.Host}:{conn.Port}/{conn.Database}: {all.Count} backends.");
        // Where the pids came from travels with them: a pid means nothing on another server.
        var (server, route, service) = await OriginAsync(spec, cancellationToken).ConfigureAwait(false);
        foreach (var a in all) (a.Server, a.Route, a.Service) = (server, route, service);
        var kept = Filter(all, filter);
        if (filter is { IncludeBackground: false } && all.Count(IsBackground) - kept.Count(IsBackground) is > 0 and var hidden)
            _sink.Verbose($"{hidden} background process(es) of the server not listed (checkpointer, autovacuum...): -IncludeBackground lists them.");
        return kept;
    }

    internal static async Task<List<PgActivity>> ReadActivityAsync(NpgsqlConnection conn, CancellationToken cancellationToken)
    {
        await using var cmd = new NpgsqlCommand(ActivitySql, conn);
        await using var reader = await cmd.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        var list = new List<PgActivity>();
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            list.Add(new PgActivity
            {
                Pid = reader.GetInt32(0),
                Database = Str(reader, 1),
                User = Str(reader, 2),
                ApplicationName = Str(reader, 3),
                ClientAddress = Str(reader, 4),
                BackendType = Str(reader, 5),
                State = Str(reader, 6),
                WaitEventType = Str(reader, 7),
                WaitEvent = Str(reader, 8),
                BackendStart = Time(reader, 9),
                TransactionStart = Time(reader, 10),
                QueryStart = Time(reader, 11),
                StateChange = Time(reader, 12),
                Duration = reader.IsDBNull(13) ? null : reader.GetFieldValue<TimeSpan>(13),
                Query = Redacted(Str(reader, 14)),
                BlockedBy = reader.IsDBNull(15) ? [] : reader.GetFieldValue<int[]>(15),
                IsOwnSession = reader.GetBoolean(16),
                IsSuperuser = reader.GetBoolean(17),
                CanSignal = !reader.IsDBNull(18) && reader.GetBoolean(18),
            });
        }
        return list;
    }

    private static string? Str(NpgsqlDataReader r, int i) => r.IsDBNull(i) ? null : r.GetString(i);

    // Query text from pg_stat_activity and pg_stat_statements can carry CREATE/ALTER ROLE ... PASSWORD '...'.
    private static string? Redacted(string? query) => query is null ? null : SecretRedactor.Redact(query);
    private static DateTime? Time(NpgsqlDataReader r, int i) => r.IsDBNull(i) ? null : r.GetFieldValue<DateTime>(i);

    /// <summary>
    /// Applies Get-PgActivity's filters (wildcards for names; -Blocking keeps backends others wait on). Database, role
    /// and application names match case-sensitively, as PostgreSQL compares them: prod and Prod are two databases, and
    /// this list feeds Stop-PgBackend and Stop-IdleConnection, so -Database prod must never take in Prod's sessions.
    /// </summary>
    public static IReadOnlyList<PgActivity> Filter(IReadOnlyList<PgActivity> all, PgActivityFilter? f)
    {
        if (f is null) return all;
        var blockers = all.SelectMany(a => a.BlockedBy).ToHashSet();
        return all.Where(a =>
                (f.State is not { Length: > 0 } || f.State.Any(s => string.Equals(s, a.State, StringComparison.OrdinalIgnoreCase)))
                && (f.MinDuration is null || (a.Duration ?? TimeSpan.Zero) >= f.MinDuration)
                && Like(f.Database, a.Database) && Like(f.User, a.User) && Like(f.ApplicationName, a.ApplicationName)
                && (!f.BlockedOnly || a.BlockedBy.Length > 0)
                && (!f.Blocking || blockers.Contains(a.Pid))
                && (f.IncludeBackground || !IsBackground(a) || blockers.Contains(a.Pid)))
            .ToList();
    }

    /// <summary>A backend that is not a client's session: the server's own processes, parallel workers, walsenders.</summary>
    public static bool IsBackground(PgActivity a) => a.BackendType is not null && !string.Equals(a.BackendType, "client backend", StringComparison.Ordinal);

    private static bool Like(string[]? patterns, string? value) =>
        patterns is not { Length: > 0 } || patterns.Any(p => Wildcard.IsMatch(value ?? "", p, caseSensitive: true));

    /// <summary>The safety policy: why a backend must be spared, or null when it may be stopped.</summary>
    public static string? SpareReason(PgActivity a, bool includeSuperuser)
    {
        if (a.IsOwnSession) return "this is IncidentOps' own session";
        if (a.BackendType is not null && !string.Equals(a.BackendType, "client backend", StringComparison.Ordinal))
            return $"backend type '{a.BackendType}' is not a client backend (autovacuum, walsenders and background workers are never stopped)";
        if (a.IsSuperuser && !includeSuperuser) return $"owned by superuser '{a.User}'; pass -IncludeSuperuser to stop it";
        if (!a.CanSignal || a.BackendType is null) return $"the connecting role may not signal sessions of '{a.User}' (needs the same role, pg_signal_backend or superuser)";
        return null;
    }

    /// <summary>The single statement that signals the pids, with the policy repeated in its WHERE clause.</summary>
    public static string SignalSql(string function, IReadOnlyCollection<int> pids, bool includeSuperuser, string[]? states = null, TimeSpan? idleFor = null) =>
        SignalSql(function, pids.Select(p => (p, (DateTime?)null)).ToList(), includeSuperuser, states, idleFor);

    /// <summary>
    /// The single statement that signals the sessions, with the policy repeated in its WHERE clause. A pid with its
    /// backend_start names one session: the operating system reuses pids, so a session that ended since it was listed
    /// leaves its pid to a newer one, and the statement must not reach that one. The pin is (pid, backend_start).
    /// </summary>
    /// <param name="applications">When given, each pid is also pinned to the application_name it had when listed: a
    /// session selected by -ApplicationName whose application changed since is no longer the one the filter chose.</param>
    public static string SignalSql(string function, IReadOnlyList<(int Pid, DateTime? BackendStart)> sessions, bool includeSuperuser, string[]? states = null, TimeSpan? idleFor = null,
        IReadOnlyList<(int Pid, string? ApplicationName)>? applications = null)
    {
        var sb = new StringBuilder();
        sb.Append("SELECT a.pid, ").Append(function).Append("(a.pid) FROM pg_stat_activity a LEFT JOIN pg_roles r ON r.oid = a.usesysid WHERE a.pid = ANY(ARRAY[")
          .Append(string.Join(",", sessions.Select(p => p.Pid.ToString(CultureInfo.InvariantCulture))))
          .Append("]::int[]) AND a.pid <> pg_backend_pid() AND a.backend_type = 'client backend'");
        var pinned = sessions.Where(p => p.BackendStart is not null).ToList();
        if (pinned.Count > 0)
            sb.Append(" AND (a.pid, a.backend_start) IN (")
              .Append(string.Join(", ", pinned.Select(p => $"({p.Pid.ToString(CultureInfo.InvariantCulture)}, {TimestampLiteral(p.BackendStart!.Value)})")))
              .Append(')');
        if (applications is { Count: > 0 })
            sb.Append(" AND (a.pid, a.application_name) IN (")
              .Append(string.Join(", ", applications.Select(p => $"({p.Pid.ToString(CultureInfo.InvariantCulture)}, {TextLiteral(p.ApplicationName ?? "")})")))
              .Append(')');
        if (!includeSuperuser) sb.Append(" AND NOT coalesce(r.rolsuper, false)");
        if (states is { Length: > 0 })
            sb.Append(" AND a.state IN (").Append(string.Join(", ", states.Select(s => "'" + s.Replace("'", "''", StringComparison.Ordinal) + "'"))).Append(')');
        if (idleFor is { } idle)
            // Milliseconds, rounded up: whole seconds would cut -IdleFor 1.5s to 1 s, or 500ms to nothing, in the statement.
            sb.Append(" AND a.state_change < clock_timestamp() - interval '").Append(((long)Math.Ceiling(idle.TotalMilliseconds)).ToString(CultureInfo.InvariantCulture)).Append(" milliseconds'");
        return sb.ToString();
    }

    /// <summary>
    /// A text literal. E'' with backslashes doubled reads the same whatever standard_conforming_strings is: a plain ''
    /// literal with a backslash in it (an application name can hold one) means another string when the setting is off.
    /// </summary>
    internal static string TextLiteral(string value) =>
        "E'" + value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("'", "''", StringComparison.Ordinal) + "'";

    /// <summary>
    /// True when two host:port/database targets name the same database: the host and port compare case-insensitively
    /// (DNS names), the database exactly, as PostgreSQL compares it (Prod and prod are two databases).
    /// </summary>
    public static bool SameTarget(string? a, string? b)
    {
        if (a is null || b is null) return a is null && b is null;
        var (hostA, dbA) = SplitTarget(a);
        var (hostB, dbB) = SplitTarget(b);
        return string.Equals(hostA, hostB, StringComparison.OrdinalIgnoreCase) && string.Equals(dbA, dbB, StringComparison.Ordinal);
    }

    private static (string HostPort, string Database) SplitTarget(string target)
    {
        // host:port/database; the host may be a socket directory (/var/run/postgresql:5432/app) or an IPv6 address.
        var m = System.Text.RegularExpressions.Regex.Match(target, @":\d+/");
        return m.Success ? (target[..(m.Index + m.Length - 1)], target[(m.Index + m.Length)..]) : (target, "");
    }

    /// <summary>A timestamptz literal with PostgreSQL's microsecond precision (a DateTime without a kind is read as UTC, as Npgsql returns it).</summary>
    internal static string TimestampLiteral(DateTime value)
    {
        var utc = value.Kind == DateTimeKind.Local ? value.ToUniversalTime() : DateTime.SpecifyKind(value, DateTimeKind.Utc);
        return "'" + utc.ToString("yyyy-MM-dd HH:mm:ss.ffffff", CultureInfo.InvariantCulture) + "+00'::timestamptz";
    }

    /// <summary>True when two backend_start values name the same instant at PostgreSQL's precision (microseconds).</summary>
    internal static bool SameStart(DateTime? a, DateTime? b)
    {
        if (a is null || b is null) return a is null && b is null;
        static long Micros(DateTime d) => (d.Kind == DateTimeKind.Local ? d.ToUniversalTime() : d).Ticks / 10;
        return Micros(a.Value) == Micros(b.Value);
    }

    // ---------------------------------------------------------------- Get-PgConnectionSummary

    /// <summary>Client connections against max_connections and headroom, grouped by state, database, user, application and client address.</summary>
    public Task<PgConnectionSummary> GetConnectionSummaryAsync(PgConnectionSpec spec, CancellationToken cancellationToken) =>
        OnServerAsync(spec, ct => GetConnectionSummaryCoreAsync(spec, ct), cancellationToken);

    private async Task<PgConnectionSummary> GetConnectionSummaryCoreAsync(PgConnectionSpec spec, CancellationToken cancellationToken)
    {
        await using var conn = await Connections.OpenAsync(spec, cancellationToken).ConfigureAwait(false);
        int max, reserved;
        await using (var cmd = new NpgsqlCommand("SELECT current_setting('max_connections')::int, current_setting('superuser_reserved_connections')::int", conn))
        await using (var reader = await cmd.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false))
        {
            await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
            max = reader.GetInt32(0);
            reserved = reader.GetInt32(1);
        }
        var all = await ReadActivityAsync(conn, cancellationToken).ConfigureAwait(false);
        var clients = all.Where(a => a.BackendType is null or "client backend").ToList();
        static PgConnectionGroup[] By(IEnumerable<PgActivity> list, Func<PgActivity, string?> key) =>
            list.GroupBy(a => key(a) ?? "(unknown)").Select(g => new PgConnectionGroup { Name = g.Key, Count = g.Count() })
                .OrderByDescending(g => g.Count).ThenBy(g => g.Name, StringComparer.Ordinal).ToArray();
        return new PgConnectionSummary
        {
            // The configured server, also when the connection goes through a tunnel's loopback port.
            Server = await DescribeTargetAsync(spec, cancellationToken).ConfigureAwait(false),
            Service = spec.ConnectionString is null ? spec.Service?.FullName : null,
            Total = clients.Count,
            AllBackends = all.Count,
            MaxConnections = max,
            ReservedConnections = reserved,
            Headroom = Math.Max(0, max - reserved - clients.Count),
            UsedPercent = max == 0 ? 0 : Math.Round(100.0 * clients.Count / max, 1),
            ByState = By(clients, a => a.State),
            ByDatabase = By(clients, a => a.Database),
            ByUser = By(clients, a => a.User),
            ByApplication = By(clients, a => string.IsNullOrEmpty(a.ApplicationName) ? "(none)" : a.ApplicationName),
            ByClientAddress = By(clients, a => a.ClientAddress ?? "(local socket)"),
        };
    }

    // ---------------------------------------------------------------- Get-PgSlowQuery

    /// <summary>
    /// Top statements of the connected database from pg_stat_statements. Column names are read from the
    /// catalog, so PostgreSQL 12 (total_time, mean_time) and 13+ (total_exec_time, mean_exec_time) both work.
    /// </summary>
    public Task<IReadOnlyList<PgSlowQuery>> GetSlowQueriesAsync(PgConnectionSpec spec, PgSlowQuerySort sort, int top, CancellationToken cancellationToken) =>
        OnServerAsync(spec, ct => GetSlowQueriesCoreAsync(spec, sort, top, ct), cancellationToken);

    private async Task<IReadOnlyList<PgSlowQuery>> GetSlowQueriesCoreAsync(PgConnectionSpec spec, PgSlowQuerySort sort, int top, CancellationToken cancellationToken)
    {
        await using var conn = await Connections.OpenAsync(spec, cancellationToken).ConfigureAwait(false);
        var columns = new HashSet<string>(StringComparer.Ordinal);
        await using (var cmd = new NpgsqlCommand("""
            SELECT a.attname FROM pg_extension e JOIN pg_depend d ON d.refobjid = e.oid AND d.deptype = 'e'
            JOIN pg_class c ON c.oid = d.objid AND c.relname = 'pg_stat_statements' JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0
            WHERE e.extname = 'pg_stat_statements'
            """, conn))
        await using (var reader = await cmd.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false))
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false)) columns.Add(reader.GetString(0));
        if (columns.Count == 0)
            throw new IncidentOpsException(PostgresErrorIds.PgStatStatementsMissing, IncidentOpsErrorCategory.NotEnabled,
                $"pg_stat_statements is not installed in database '{conn.Database}' on {conn.Host}:{conn.Port}. Enable it: add pg_stat_statements to shared_preload_libraries in postgresql.conf, restart PostgreSQL, then run CREATE EXTENSION pg_stat_statements; in this database (managed services: enable the extension in the provider's console).")
            { TargetObject = $"{conn.Host}:{conn.Port}/{conn.Database}" };
        var total = columns.Contains("total_exec_time") ? "total_exec_time" : "total_time";
        var mean = columns.Contains("mean_exec_time") ? "mean_exec_time" : "mean_time";
        var order = sort switch { PgSlowQuerySort.TotalTime => total, PgSlowQuerySort.Calls => "calls", _ => mean };
        var sql = $"""
            SELECT s.queryid, d.datname, r.rolname, s.calls, s.{total}, s.{mean}, s.rows, s.query,
                   100.0 * s.{total} / nullif(sum(s.{total}) OVER (), 0)
            FROM pg_stat_statements s
            LEFT JOIN pg_database d ON d.oid = s.dbid LEFT JOIN pg_roles r ON r.oid = s.userid
            WHERE s.dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
            ORDER BY s.{order} DESC NULLS LAST LIMIT @top
            """;
        var list = new List<PgSlowQuery>();
        // Where the statements came from travels with them: Get-PgSlowQuery -Service a,b returns both servers' rows.
        var (server, _, service) = await OriginAsync(spec, cancellationToken).ConfigureAwait(false);
        try
        {
            await using var cmd = new NpgsqlCommand(sql, conn);
            cmd.Parameters.AddWithValue("top", Math.Max(1, top));
            await using var reader = await cmd.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                list.Add(new PgSlowQuery
                {
                    Service = service, Server = server,
                    QueryId = reader.IsDBNull(0) ? 0 : reader.GetInt64(0),
                    Database = Str(reader, 1), User = Str(reader, 2), Calls = reader.GetInt64(3),
                    TotalMs = reader.GetDouble(4), MeanMs = reader.GetDouble(5), Rows = reader.GetInt64(6), Query = Redacted(Str(reader, 7)),
                    PercentOfTotal = reader.IsDBNull(8) ? 0 : Math.Round(Convert.ToDouble(reader.GetValue(8), CultureInfo.InvariantCulture), 2),
                });
        }
        catch (PostgresException ex) when (ex.SqlState == "55000")
        {
            throw new IncidentOpsException(PostgresErrorIds.PgStatStatementsMissing, IncidentOpsErrorCategory.NotEnabled,
                $"pg_stat_statements is installed but not loaded on {conn.Host}:{conn.Port} ({ex.MessageText}). Add pg_stat_statements to shared_preload_libraries in postgresql.conf and restart PostgreSQL.", ex);
        }
        return list;
    }

    // ---------------------------------------------------------------- Invoke-PgMaintenance

    /// <summary>The statement for one maintenance run; table names are quoted as identifiers (schema.table allowed).</summary>
    public static string MaintenanceSql(PgMaintenanceOperation operation, string? table)
    {
        var verb = operation switch { PgMaintenanceOperation.Vacuum => "VACUUM", PgMaintenanceOperation.Analyze => "ANALYZE", _ => "VACUUM (ANALYZE)" };
        if (string.IsNullOrEmpty(table)) return verb;
        var quoted = string.Join(".", table.Split('.').Select(p => "\"" + p.Replace("\"", "\"\"", StringComparison.Ordinal) + "\""));
        return $"{verb} {quoted}";
    }

    /// <summary>Runs VACUUM/ANALYZE outside a transaction (autocommit), reporting progress.</summary>
    public async Task<PgMaintenanceResult> RunMaintenanceAsync(PgConnectionSpec spec, PgMaintenanceOperation operation, string? table, CancellationToken cancellationToken)
    {
        var sql = MaintenanceSql(operation, table);
        await using var conn = await Connections.OpenAsync(spec, cancellationToken).ConfigureAwait(false);
        _sink.Progress(new OperationProgress(4, "PostgreSQL maintenance", sql));
        var sw = System.Diagnostics.Stopwatch.StartNew();
        try
        {
            await using var cmd = new NpgsqlCommand(sql, conn) { CommandTimeout = 0 };
            await cmd.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (PostgresException ex) when (ex.SqlState is "42P01" or "3F000")
        {
            throw new IncidentOpsException(PostgresErrorIds.PgTableNotFound, IncidentOpsErrorCategory.ObjectNotFound,
                $"The table '{table}' does not exist in database '{conn.Database}' on {conn.Host}:{conn.Port} ({ex.MessageText}). Use schema.table, as \\dt lists it.", ex) { TargetObject = table };
        }
        finally
        {
            _sink.Progress(new OperationProgress(4, "PostgreSQL maintenance", sql, Completed: true));
        }
        return new PgMaintenanceResult { Table = table ?? "(database)", Operation = operation, Sql = sql, Duration = sw.Elapsed };
    }

    // ---------------------------------------------------------------- Get-PgIndex

    /// <summary>User indexes with size, scans and the unused/invalid/duplicate flags, largest first.</summary>
    public Task<IReadOnlyList<PgIndex>> GetIndexesAsync(PgConnectionSpec spec, CancellationToken cancellationToken) =>
        OnServerAsync(spec, ct => GetIndexesCoreAsync(spec, ct), cancellationToken);

    private async Task<IReadOnlyList<PgIndex>> GetIndexesCoreAsync(PgConnectionSpec spec, CancellationToken cancellationToken)
    {
        const string sql = """
            SELECT n.nspname, t.relname, i.relname, pg_relation_size(i.oid), coalesce(s.idx_scan, 0), x.indisunique, x.indisprimary, x.indisvalid,
                   pg_get_indexdef(i.oid),
                   EXISTS (SELECT 1 FROM pg_index y WHERE y.indrelid = x.indrelid AND y.indexrelid <> x.indexrelid
                           AND y.indkey::text = x.indkey::text AND y.indclass::text = x.indclass::text
                           AND coalesce(pg_get_expr(y.indexprs, y.indrelid), '') = coalesce(pg_get_expr(x.indexprs, x.indrelid), '')
                           AND coalesce(pg_get_expr(y.indpred, y.indrelid), '') = coalesce(pg_get_expr(x.indpred, x.indrelid), ''))
            FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class t ON t.oid = x.indrelid
            JOIN pg_namespace n ON n.oid = t.relnamespace LEFT JOIN pg_stat_user_indexes s ON s.indexrelid = x.indexrelid
            WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%'
            ORDER BY pg_relation_size(i.oid) DESC, n.nspname, i.relname
            """;
        await using var conn = await Connections.OpenAsync(spec, cancellationToken).ConfigureAwait(false);
        // Where the indexes came from travels with them, as with PgActivity: a table name means another table on another server.
        var (server, route, service) = await OriginAsync(spec, cancellationToken).ConfigureAwait(false);
        await using var cmd = new NpgsqlCommand(sql, conn);
        await using var reader = await cmd.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        var list = new List<PgIndex>();
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            var unique = reader.GetBoolean(5);
            var scans = reader.GetInt64(4);
            list.Add(new PgIndex
            {
                Service = service, Server = server, Route = route,
                Schema = reader.GetString(0), Table = reader.GetString(1), Name = reader.GetString(2), SizeBytes = reader.GetInt64(3), Scans = scans,
                IsUnique = unique, IsPrimary = reader.GetBoolean(6), Invalid = !reader.GetBoolean(7), Definition = Str(reader, 8),
                Duplicate = reader.GetBoolean(9), Unused = scans == 0 && !unique,
            });
        }
        return list;
    }

    // ---------------------------------------------------------------- Stop-IdleConnection

    /// <summary>Lists what Stop-IdleConnection would terminate and what it spares (read-only).</summary>
    public Task<PgIdleConnectionReport> PlanIdleTerminationAsync(PgConnectionSpec spec, PgActivityFilter filter, TimeSpan idleFor, bool includeSuperuser, CancellationToken cancellationToken) =>
        OnServerAsync(spec, ct => PlanIdleTerminationCoreAsync(spec, filter, idleFor, includeSuperuser, ct), cancellationToken);

    private async Task<PgIdleConnectionReport> PlanIdleTerminationCoreAsync(PgConnectionSpec spec, PgActivityFilter filter, TimeSpan idleFor, bool includeSuperuser, CancellationToken cancellationToken)
    {
        // pg_stat_activity's states are lower case; -State IDLE (ValidateSet accepts any case) must mean the same in the
        // statement as in the list, or the plan lists sessions the statement then never matches.
        var states = (filter.State is { Length: > 0 } ? filter.State : ["idle"]).Select(s => s.ToLowerInvariant()).Distinct(StringComparer.Ordinal).ToArray();
        var f = new PgActivityFilter
        {
            State = states, MinDuration = idleFor > (filter.MinDuration ?? TimeSpan.Zero) ? idleFor : filter.MinDuration,
            Database = filter.Database, User = filter.User, ApplicationName = filter.ApplicationName, BlockedOnly = filter.BlockedOnly, Blocking = filter.Blocking,
        };
        var matched = await GetActivityAsync(spec, f, cancellationToken).ConfigureAwait(false);
        var spared = new List<PgSparedSession>();
        var sessions = new List<(int Pid, DateTime? BackendStart)>();
        var applications = new List<(int Pid, string? ApplicationName)>();
        var described = new List<string>();
        foreach (var a in matched)
        {
            var reason = SpareReason(a, includeSuperuser);
            if (reason is null)
            {
                sessions.Add((a.Pid, a.BackendStart));
                described.Add(DescribeSession(a));
                applications.Add((a.Pid, a.ApplicationName));
            }
            else spared.Add(new PgSparedSession { Pid = a.Pid, User = a.User, BackendType = a.BackendType, Reason = reason });
        }
        return new PgIdleConnectionReport
        {
            Server = await DescribeTargetAsync(spec, cancellationToken).ConfigureAwait(false),
            Searched = DescribeIdleSearch(states, f.MinDuration ?? idleFor, filter, includeSuperuser),
            Matched = matched.Count,
            Pids = sessions.Select(x => x.Pid).ToArray(),
            Sessions = described.ToArray(),
            SparedSessions = spared.ToArray(),
            // Each pid is pinned to the session listed (its backend_start): between the list and the statement (a
            // confirmation prompt can take minutes) a session can end and its pid go to a new one.
            // With -ApplicationName, each pid is also pinned to the application it was chosen by: a session that set another
            // application_name in between (a pooler handing the connection to another client) is spared.
            Sql = sessions.Count == 0 ? "" : SignalSql("pg_terminate_backend", sessions, includeSuperuser, states, f.MinDuration,
                filter.ApplicationName is { Length: > 0 } ? applications : null),
        };
    }

    /// <summary>
    /// What Stop-IdleConnection searched for, in words (the report's Searched, and what -WhatIf says when nothing
    /// matched): "state idle for 10m or more, database app, user bob; superusers spared".
    /// </summary>
    public static string DescribeIdleSearch(IReadOnlyCollection<string> states, TimeSpan idleFor, PgActivityFilter filter, bool includeSuperuser)
    {
        static string Names(string[] values) => string.Join(" or ", values.Select(v => v.Contains(' ', StringComparison.Ordinal) || v.Contains('*', StringComparison.Ordinal) ? $"'{v}'" : v));
        var sb = new StringBuilder();
        sb.Append("state ").Append(Names(states.ToArray())).Append(" for ").Append(Duration.Format(idleFor)).Append(" or more");
        if (filter.Database is { Length: > 0 } db) sb.Append(", database ").Append(Names(db));
        if (filter.User is { Length: > 0 } user) sb.Append(", user ").Append(Names(user));
        if (filter.ApplicationName is { Length: > 0 } app) sb.Append(", application ").Append(Names(app.Select(SecretRedactor.Redact).ToArray()));
        sb.Append(includeSuperuser ? "; superusers included" : "; superusers spared");
        return sb.ToString();
    }

    /// <summary>Runs the plan's single statement, then waits (bounded) until the terminated backends are gone.</summary>
    public async Task<PgIdleConnectionReport> ExecuteIdleTerminationAsync(PgConnectionSpec spec, PgIdleConnectionReport plan, CancellationToken cancellationToken)
    {
        if (plan.Pids.Length == 0) return plan;
        await using var conn = await Connections.OpenAsync(spec, cancellationToken).ConfigureAwait(false);
        var terminated = new List<int>();
        // A session that starts after this instant is not one the statement terminated, even if it got the same pid.
        var signalledAt = await ServerClockAsync(conn, cancellationToken).ConfigureAwait(false);
        await using (var cmd = new NpgsqlCommand(plan.Sql, conn))
        await using (var reader = await cmd.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false))
        {
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                if (reader.GetBoolean(1)) terminated.Add(reader.GetInt32(0));
        }
        _sink.Verbose($"Terminated {terminated.Count} of {plan.Pids.Length} sessions in one statement.");
        var remaining = await WaitGoneAsync(conn, terminated, (_, start) => start is null || start <= signalledAt, TimeSpan.FromSeconds(spec.TimeoutSec), cancellationToken).ConfigureAwait(false);
        if (remaining.Count > 0) _sink.Warning($"Backends still present after terminate: {string.Join(", ", remaining)}.");
        plan.TerminatedPids = terminated.Except(remaining).ToArray();
        plan.Terminated = plan.TerminatedPids.Length;
        return plan;
    }

    private static async Task<DateTime> ServerClockAsync(NpgsqlConnection conn, CancellationToken cancellationToken)
    {
        await using var cmd = new NpgsqlCommand("SELECT clock_timestamp()", conn);
        return (DateTime)(await cmd.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!;
    }

    /// <summary>
    /// Waits until none of <paramref name="pids"/> is still the session that was signalled; <paramref name="same"/>
    /// tells from (pid, backend_start) whether a backend with that pid is still that session or a newer one.
    /// </summary>
    private static async Task<List<int>> WaitGoneAsync(NpgsqlConnection conn, IReadOnlyCollection<int> pids, Func<int, DateTime?, bool> same, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var remaining = pids.ToList();
        var deadline = DateTime.UtcNow + timeout;
        var delay = 10;
        while (remaining.Count > 0)
        {
            await using (var cmd = new NpgsqlCommand("SELECT pid, backend_start FROM pg_stat_activity WHERE pid = ANY(@p)", conn))
            {
                cmd.Parameters.AddWithValue("p", remaining.ToArray());
                remaining.Clear();
                await using var reader = await cmd.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
                while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                {
                    var pid = reader.GetInt32(0);
                    if (same(pid, reader.IsDBNull(1) ? null : reader.GetFieldValue<DateTime>(1))) remaining.Add(pid);
                }
            }
            if (remaining.Count == 0 || DateTime.UtcNow > deadline) break;
            await Task.Delay(delay, cancellationToken).ConfigureAwait(false);
            delay = Math.Min(delay * 2, 200);
        }
        return remaining;
    }

    // ---------------------------------------------------------------- Stop-PgBackend

    /// <summary>
    /// The session that holds <paramref name="pid"/> now (read-only), or null when no backend has it. Stop-PgBackend reads
    /// a typed pid before it asks, so the prompt names the session it would stop and the statement is pinned to that
    /// session (pid and backend_start): a pid reused while the prompt is open names another session, which is spared.
    /// </summary>
    public Task<PgActivity?> ReadBackendAsync(PgConnectionSpec spec, int pid, CancellationToken cancellationToken) =>
        OnServerAsync(spec, async ct =>
        {
            await using var conn = await Connections.OpenAsync(spec, ct).ConfigureAwait(false);
            var found = (await ReadActivityAsync(conn, ct).ConfigureAwait(false)).FirstOrDefault(a => a.Pid == pid);
            if (found is not null) (found.Server, found.Route, found.Service) = await OriginAsync(spec, ct).ConfigureAwait(false);
            return found;
        }, cancellationToken);

    /// <summary>
    /// One line that names a session for a prompt, -WhatIf and the timeline: pid, user, database, application, client,
    /// backend_start and state. Never the query (it can hold a password); the application name is redacted like any text.
    /// </summary>
    public static string DescribeSession(PgActivity a)
    {
        var app = string.IsNullOrEmpty(a.ApplicationName) ? "(none)" : $"'{SecretRedactor.Redact(a.ApplicationName)}'";
        var type = a.BackendType is null or "client backend" ? "" : $", {a.BackendType}";
        return $"backend {a.Pid.ToString(CultureInfo.InvariantCulture)} (user {a.User ?? "(none)"}, database {a.Database ?? "(none)"}, application {app}, client {a.ClientAddress ?? "local socket"}, started {Utc(a.BackendStart)}, {a.State ?? "no state"}{type})";
    }

    /// <summary>The statement Stop-PgBackend sends for one pid (what -WhatIf shows).</summary>
    /// <param name="queryStart">For a cancel: the query_start of the query to cancel. A cancel stops whatever query runs at
    /// that moment, so it is pinned to the query that was listed, not a later one of the same session.</param>
    public static string StopSql(int pid, PgStopMode mode, bool includeSuperuser, DateTime? backendStart = null, DateTime? queryStart = null)
    {
        var sql = SignalSql(mode == PgStopMode.Cancel ? "pg_cancel_backend" : "pg_terminate_backend", [(pid, backendStart)], includeSuperuser);
        return mode == PgStopMode.Cancel && queryStart is { } q ? sql + " AND a.state = 'active' AND a.query_start = " + TimestampLiteral(q) : sql;
    }

    /// <summary>
    /// The terminate -EscalateAfter sends when a cancel did not take: pinned to the session (backend_start) and to the query
    /// that ignored the cancel (still active, the same query_start). Between the last check and this statement the query can
    /// finish and the session start another one (a pooled connection serving the next request), which is not the one that
    /// ignored the cancel: that session is left running.
    /// </summary>
    public static string EscalationSql(int pid, bool includeSuperuser, DateTime? backendStart, DateTime? queryStart)
    {
        var sql = SignalSql("pg_terminate_backend", [(pid, backendStart)], includeSuperuser);
        return queryStart is { } q ? sql + " AND a.state = 'active' AND a.query_start = " + TimestampLiteral(q) : sql;
    }

    /// <summary>
    /// Cancels or terminates one backend under the safety policy and waits until it has stopped: for
    /// Terminate until the backend is gone; for Cancel until it no longer runs the query. With
    /// <paramref name="escalateAfter"/>, a cancel that did not take within that time becomes a terminate.
    /// </summary>
    /// <param name="backendStart">The backend_start of the session the caller listed (a piped PgActivity): the pid is
    /// stopped only while it still names that session. Without it, the session found under the pid now is pinned.</param>
    /// <param name="queryStart">The query_start of the query the caller listed (a piped PgActivity): -Mode Cancel cancels
    /// only that query, never one the session started since.</param>
    public async Task<PgTerminationResult> StopBackendAsync(PgConnectionSpec spec, int pid, PgStopMode mode, TimeSpan? escalateAfter, bool includeSuperuser, CancellationToken cancellationToken, DateTime? backendStart = null, DateTime? queryStart = null)
    {
        await using var conn = await Connections.OpenAsync(spec, cancellationToken).ConfigureAwait(false);
        var before = (await ReadActivityAsync(conn, cancellationToken).ConfigureAwait(false)).FirstOrDefault(a => a.Pid == pid);
        if (before is null)
            return new PgTerminationResult { Pid = pid, Action = "None", Succeeded = false, Reason = $"no backend with pid {pid} on {conn.Host}:{conn.Port}" };
        PgTerminationResult Result(string action, bool ok, string reason) => new()
        {
            Pid = pid, Action = action, Succeeded = ok, Reason = reason, Query = before.Query, User = before.User, Database = before.Database, State = before.State,
        };
        if (backendStart is not null && !SameStart(backendStart, before.BackendStart))
            return Result("None", false,
                $"pid {pid} now belongs to another session (started {Utc(before.BackendStart)}; the one listed started {Utc(backendStart)}): the listed session has ended and its pid was reused, or it was listed on another host of a multi-host connection string. Nothing was stopped; list the sessions again.");
        var spare = SpareReason(before, includeSuperuser);
        if (spare is not null) return Result("None", false, "spared: " + spare);
        if (mode == PgStopMode.Cancel && queryStart is not null && (before.State != "active" || !SameStart(queryStart, before.QueryStart)))
            return Result("None", false, before.State == "active"
                ? $"the listed query (started {Utc(queryStart)}) has finished and the session runs another one (started {Utc(before.QueryStart)}), which was not cancelled. List the sessions again."
                : $"the listed query (started {Utc(queryStart)}) has finished (the session is {before.State ?? "in an unknown state"}); nothing was cancelled.");
        // A cancel is pinned to the query running now (the listed one, when piped): a query started in between is not hit.
        var query = mode == PgStopMode.Cancel && before.State == "active" ? before.QueryStart : null;
        // Every signal below names this session (pid and backend_start), so a pid reused in between is never hit.
        var start = before.BackendStart;
        bool Same(int _, DateTime? s) => SameStart(s, start);

        var timeout = TimeSpan.FromSeconds(spec.TimeoutSec);
        if (mode == PgStopMode.Cancel)
        {
            if (!await SignalAsync(conn, StopSql(pid, PgStopMode.Cancel, includeSuperuser, start, query), cancellationToken).ConfigureAwait(false))
                return Result("Cancel", false, "pg_cancel_backend returned false (the backend ended or could not be signalled)");
            var wait = escalateAfter ?? timeout;
            if (await WaitCancelledAsync(conn, before, wait, cancellationToken).ConfigureAwait(false))
                return Result("Cancel", true, "query cancelled");
            if (escalateAfter is null) return Result("Cancel", false, $"the query was still running {wait.TotalSeconds:0.#}s after pg_cancel_backend; use -EscalateAfter or -Mode Terminate");
            _sink.Verbose($"Backend {pid} still running after {escalateAfter.Value.TotalSeconds:0.#}s; escalating to terminate.");
            if (!await SignalAsync(conn, EscalationSql(pid, includeSuperuser, start, query), cancellationToken).ConfigureAwait(false))
                return await WaitCancelledAsync(conn, before, TimeSpan.Zero, cancellationToken).ConfigureAwait(false)
                    ? Result("Cancel", true, $"the query ended after {escalateAfter.Value.TotalSeconds:0.#}s, just before the terminate; the session was left running")
                    : Result("Cancel+Terminate", false, "pg_terminate_backend returned false");
            var leftEsc = await WaitGoneAsync(conn, [pid], Same, timeout, cancellationToken).ConfigureAwait(false);
            return leftEsc.Count == 0 ? Result("Cancel+Terminate", true, $"not cancelled within {escalateAfter.Value.TotalSeconds:0.#}s; terminated")
                                      : Result("Cancel+Terminate", false, "terminated but the backend was still present at the timeout");
        }
        if (!await SignalAsync(conn, StopSql(pid, PgStopMode.Terminate, includeSuperuser, start), cancellationToken).ConfigureAwait(false))
            return Result("Terminate", false, "pg_terminate_backend returned false (the backend ended or could not be signalled)");
        var left = await WaitGoneAsync(conn, [pid], Same, timeout, cancellationToken).ConfigureAwait(false);
        return left.Count == 0 ? Result("Terminate", true, "terminated") : Result("Terminate", false, $"still present {timeout.TotalSeconds:0}s after pg_terminate_backend");
    }

    private static string Utc(DateTime? t) => t is { } v ? (v.Kind == DateTimeKind.Local ? v.ToUniversalTime() : v).ToString("yyyy-MM-dd HH:mm:ss.ffffff", CultureInfo.InvariantCulture) + " UTC" : "(unknown)";

    private static async Task<bool> SignalAsync(NpgsqlConnection conn, string sql, CancellationToken cancellationToken)
    {
        await using var cmd = new NpgsqlCommand(sql, conn);
        await using var reader = await cmd.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        return await reader.ReadAsync(cancellationToken).ConfigureAwait(false) && reader.GetBoolean(1);
    }

    /// <summary>True once the backend left the query it was running (gone, no longer active, or a new query).</summary>
    private static async Task<bool> WaitCancelledAsync(NpgsqlConnection conn, PgActivity before, TimeSpan wait, CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow + wait;
        var delay = 10;
        while (true)
        {
            await using (var cmd = new NpgsqlCommand("SELECT state, query_start FROM pg_stat_activity WHERE pid = @p AND backend_start IS NOT DISTINCT FROM @s", conn))
            {
                cmd.Parameters.AddWithValue("p", before.Pid);
                cmd.Parameters.Add(new NpgsqlParameter("s", NpgsqlTypes.NpgsqlDbType.TimestampTz) { Value = (object?)before.BackendStart ?? DBNull.Value });
                await using var reader = await cmd.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
                if (!await reader.ReadAsync(cancellationToken).ConfigureAwait(false)) return true;
                var state = reader.IsDBNull(0) ? null : reader.GetString(0);
                var start = reader.IsDBNull(1) ? (DateTime?)null : reader.GetFieldValue<DateTime>(1);
                if (state != "active" || start != before.QueryStart) return true;
            }
            if (DateTime.UtcNow > deadline) return false;
            await Task.Delay(delay, cancellationToken).ConfigureAwait(false);
            delay = Math.Min(delay * 2, 200);
        }
    }
}
