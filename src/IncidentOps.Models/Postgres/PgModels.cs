namespace IncidentOps.Postgres;

/// <summary>One PostgreSQL backend, as pg_stat_activity reports it.</summary>
public sealed class PgActivity
{
    /// <summary>Backend process id; binds to Stop-PgBackend -Pid.</summary>
    public int Pid { get; init; }
    /// <summary>The configured service (environment/service) the list was read from, when -Service named it; binds to Stop-PgBackend -Service.</summary>
    public string? Service { get; set; }
    /// <summary>host:port/database the list was read from (no user or password). Stop-PgBackend refuses to act on a pid unless it is connected to this same server.</summary>
    public string? Server { get; set; }
    /// <summary>The cluster the list was read through, when the service's postgres.tunnel is a kubectl port-forward: its pinned context ("kubectl context 'blue' (namespace 'db')"); null otherwise. Stop-PgBackend refuses a pid read through another context.</summary>
    public string? Route { get; set; }
    public string? Database { get; init; }
    public string? User { get; init; }
    public string? ApplicationName { get; init; }
    public string? ClientAddress { get; init; }
    public string? BackendType { get; init; }
    public string? State { get; init; }
    public string? WaitEventType { get; init; }
    public string? WaitEvent { get; init; }
    public DateTime? BackendStart { get; init; }
    public DateTime? TransactionStart { get; init; }
    public DateTime? QueryStart { get; init; }
    public DateTime? StateChange { get; init; }
    /// <summary>How long the backend has been in its current state.</summary>
    public TimeSpan? Duration { get; init; }
    public string? Query { get; init; }
    /// <summary>Pids that block this backend (pg_blocking_pids).</summary>
    public int[] BlockedBy { get; init; } = [];
    /// <summary>True for the session IncidentOps itself used to read the list.</summary>
    public bool IsOwnSession { get; init; }
    /// <summary>True when the session's role is a superuser.</summary>
    public bool IsSuperuser { get; init; }
    /// <summary>True when the connecting role may signal (cancel/terminate) this backend.</summary>
    public bool CanSignal { get; init; }

    public override string ToString() => $"{Pid} {User}@{Database} {State}";
}

/// <summary>How Stop-PgBackend stops a backend.</summary>
public enum PgStopMode
{
    /// <summary>pg_cancel_backend: cancel the running query, keep the session.</summary>
    Cancel,
    /// <summary>pg_terminate_backend: end the session.</summary>
    Terminate,
}

/// <summary>The outcome of stopping one backend.</summary>
public sealed class PgTerminationResult
{
    public int Pid { get; init; }
    /// <summary>Cancel, Terminate, Cancel+Terminate (escalated), or None when spared.</summary>
    public string Action { get; init; } = "None";
    public bool Succeeded { get; init; }
    public string? Reason { get; init; }
    public string? Query { get; init; }
    public string? User { get; init; }
    public string? Database { get; init; }
    public string? State { get; init; }

    public override string ToString() => $"{Pid} {Action} {(Succeeded ? "succeeded" : "failed")}: {Reason}";
}

/// <summary>A session a stop cmdlet left alone, and why.</summary>
public sealed class PgSparedSession
{
    public int Pid { get; init; }
    public string? User { get; init; }
    public string? BackendType { get; init; }
    public string Reason { get; init; } = "";
    public override string ToString() => $"{Pid}: {Reason}";
}

/// <summary>Filters shared by Get-PgActivity and Stop-IdleConnection.</summary>
public sealed class PgActivityFilter
{
    public string[]? State { get; init; }
    public TimeSpan? MinDuration { get; init; }
    public string[]? Database { get; init; }
    public string[]? User { get; init; }
    public string[]? ApplicationName { get; init; }
    public bool BlockedOnly { get; init; }
    public bool Blocking { get; init; }
    /// <summary>
    /// Keep the server's background processes (checkpointer, walwriter, autovacuum, walsender...) too. False: client
    /// backends only, plus a background process that blocks a client backend (an autovacuum worker holding a lock).
    /// </summary>
    public bool IncludeBackground { get; init; } = true;
}

/// <summary>What Stop-IdleConnection matched, terminated and spared.</summary>
public sealed class PgIdleConnectionReport
{
    /// <summary>host:port/database that was searched (no user or password).</summary>
    public string? Server { get; set; }
    /// <summary>What was searched for, in words: states, idle time, database/user/application filters and whether superusers were included ("state idle for 10m or more, database app; superusers spared").</summary>
    public string Searched { get; init; } = "";
    /// <summary>The outcome in words: nothing matched, all spared, or how many were terminated.</summary>
    public string Result => Matched == 0
        ? "nothing matched; no session was terminated"
        : Pids.Length == 0
            ? $"{Matched} matched, all spared by the safety policy (see SparedSessions); no session was terminated"
            : $"{Matched} matched, {Terminated} of {Pids.Length} terminated, {Spared} spared";
    /// <summary>Sessions that matched the filters (state, idle time, database, user, application).</summary>
    public int Matched { get; init; }
    public int Terminated { get; set; }
    public int Spared => SparedSessions.Length;
    /// <summary>Pids the safety policy allowed and that were (or, under -WhatIf, would be) terminated.</summary>
    public int[] Pids { get; init; } = [];
    public int[] TerminatedPids { get; set; } = [];
    public PgSparedSession[] SparedSessions { get; init; } = [];
    /// <summary>The single statement that terminates the sessions.</summary>
    public string Sql { get; init; } = "";
    /// <summary>Each session in Pids as it was listed: pid, user, database, application, client, start and state (what -WhatIf and the prompt name).</summary>
    public string[] Sessions { get; init; } = [];
    public bool WhatIf { get; set; }

    public override string ToString() => Matched == 0
        ? $"nothing matched on {Server} ({Searched})"
        : $"matched {Matched}, terminated {Terminated}, spared {Spared}";
}

/// <summary>How to reach a PostgreSQL server: a connection string/URL, a service's configured database, or the libpq environment.</summary>
public sealed class PgConnectionSpec
{
    /// <summary>An Npgsql connection string or a postgres:// URL.</summary>
    public string? ConnectionString { get; init; }
    /// <summary>A configured service whose postgres connection to use.</summary>
    public IncidentOps.Config.ServiceTarget? Service { get; init; }
    public string? UserName { get; init; }
    /// <summary>Password from -Credential; never printed.</summary>
    public string? Password { get; init; }
    public int TimeoutSec { get; init; } = 30;
    /// <summary>-CaCertificate: the CA (path of a PEM or DER file) that signed the server's certificate; the connection is then verified (verify-full unless the connection says verify-ca). Overrides postgres.caCertificate and sslrootcert.</summary>
    public string? CaCertificate { get; init; }

    public override string ToString() => Service?.FullName ?? (ConnectionString is null ? "libpq environment" : SecretRedactor.Redact(ConnectionString));
}

/// <summary>A count of client sessions sharing one value (a state, database, user, application or client address).</summary>
public sealed class PgConnectionGroup
{
    public string Name { get; init; } = "";
    public int Count { get; init; }
    public override string ToString() => $"{Name}: {Count}";
}

/// <summary>Client connections against max_connections, broken down the ways an on-call engineer asks.</summary>
public sealed class PgConnectionSummary
{
    /// <summary>The configured service (environment/service) the summary was read for, when -Service named it; null for -ConnectionString or the libpq environment.</summary>
    public string? Service { get; init; }
    /// <summary>host:port/database the summary was read from.</summary>
    public string Server { get; init; } = "";
    /// <summary>Client backends (the sessions that count against max_connections).</summary>
    public int Total { get; init; }
    /// <summary>Every backend, system processes included.</summary>
    public int AllBackends { get; init; }
    public int MaxConnections { get; init; }
    /// <summary>superuser_reserved_connections: slots only superusers may take.</summary>
    public int ReservedConnections { get; init; }
    /// <summary>Connections ordinary roles can still open: max_connections - reserved - total.</summary>
    public int Headroom { get; init; }
    public double UsedPercent { get; init; }
    public PgConnectionGroup[] ByState { get; init; } = [];
    public PgConnectionGroup[] ByDatabase { get; init; } = [];
    public PgConnectionGroup[] ByUser { get; init; } = [];
    public PgConnectionGroup[] ByApplication { get; init; } = [];
    public PgConnectionGroup[] ByClientAddress { get; init; } = [];

    public override string ToString() => $"{Server}: {Total}/{MaxConnections} ({UsedPercent:0.#}%), headroom {Headroom}";
}

/// <summary>How Get-PgSlowQuery ranks pg_stat_statements.</summary>
public enum PgSlowQuerySort { MeanTime, TotalTime, Calls }

/// <summary>One normalised statement from pg_stat_statements.</summary>
public sealed class PgSlowQuery
{
    /// <summary>The configured service (environment/service) the statement was read from, when -Service named it; null for -ConnectionString or the libpq environment.</summary>
    public string? Service { get; init; }
    /// <summary>host:port/database the statement was read from (no user or password).</summary>
    public string? Server { get; init; }
    public long QueryId { get; init; }
    public string? Database { get; init; }
    public string? User { get; init; }
    public long Calls { get; init; }
    /// <summary>Total execution time in milliseconds (total_exec_time; total_time before PostgreSQL 13).</summary>
    public double TotalMs { get; init; }
    /// <summary>Mean execution time in milliseconds (mean_exec_time; mean_time before PostgreSQL 13).</summary>
    public double MeanMs { get; init; }
    public long Rows { get; init; }
    /// <summary>Share of the total execution time of all statements shown.</summary>
    public double PercentOfTotal { get; init; }
    public string? Query { get; init; }
    public override string ToString() => $"{MeanMs:0.##} ms x {Calls}: {Query}";
}

/// <summary>The maintenance Invoke-PgMaintenance runs.</summary>
public enum PgMaintenanceOperation { VacuumAnalyze, Vacuum, Analyze }

/// <summary>One maintenance statement and how it went.</summary>
public sealed class PgMaintenanceResult
{
    /// <summary>The table, or "(database)" for the whole database.</summary>
    public string Table { get; init; } = "";
    public PgMaintenanceOperation Operation { get; init; }
    public string Sql { get; init; } = "";
    public TimeSpan Duration { get; init; }
    public override string ToString() => $"{Sql} ({Duration.TotalSeconds:0.0}s)";
}

/// <summary>One index with PgHero-style health flags.</summary>
public sealed class PgIndex
{
    /// <summary>The configured service (environment/service) the list was read from, when -Service named it; binds to Invoke-PgMaintenance -Service.</summary>
    public string? Service { get; set; }
    /// <summary>host:port/database the list was read from (no user or password). Invoke-PgMaintenance refuses a piped index unless it is connected to this same server.</summary>
    public string? Server { get; set; }
    /// <summary>The cluster the list was read through, when the service's postgres.tunnel is a kubectl port-forward: its pinned context; null otherwise. Invoke-PgMaintenance refuses an index read through another context.</summary>
    public string? Route { get; set; }
    public string Schema { get; init; } = "";
    public string Table { get; init; } = "";
    public string Name { get; init; } = "";
    public long SizeBytes { get; init; }
    public long Scans { get; init; }
    public bool IsUnique { get; init; }
    public bool IsPrimary { get; init; }
    /// <summary>Never scanned since statistics were reset, and not backing a unique or primary key constraint.</summary>
    public bool Unused { get; init; }
    /// <summary>Left invalid by a failed CREATE INDEX CONCURRENTLY: maintained on writes, never used.</summary>
    public bool Invalid { get; init; }
    /// <summary>Another index on the same table has the same columns, operator classes, expressions and predicate.</summary>
    public bool Duplicate { get; init; }
    public string? Definition { get; init; }
    public override string ToString() => $"{Schema}.{Name}";
}
