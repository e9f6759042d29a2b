namespace IncidentOps.Engine.Postgres;

/// <summary>The error ids of the Postgres area: part of the contract (scripts match FullyQualifiedErrorId), so they are constants, and ErrorIdCoverageTests asserts every one in a test.</summary>
public static class PostgresErrorIds
{
    /// <summary>The service has no postgres connection in the configuration.</summary>
    public const string PgNotConfigured = "PgNotConfigured";

    /// <summary>-ConnectionString (or the configured one) cannot be read as a PostgreSQL connection string or URL.</summary>
    public const string PgConnectionStringInvalid = "PgConnectionStringInvalid";

    /// <summary>PostgreSQL refused or dropped the connection for a reason no other id names.</summary>
    public const string PgConnectionFailed = "PgConnectionFailed";

    /// <summary>Nothing answered at the host and port (refused, unreachable, or no answer in time).</summary>
    public const string PgHostUnreachable = "PgHostUnreachable";

    /// <summary>The server stopped answering in the middle of a reply.</summary>
    public const string PgServerNotResponding = "PgServerNotResponding";

    /// <summary>The server refused the user name or password.</summary>
    public const string PgAuthenticationFailed = "PgAuthenticationFailed";

    /// <summary>The database named in the connection does not exist.</summary>
    public const string PgDatabaseNotFound = "PgDatabaseNotFound";

    /// <summary>The server (or pg_hba.conf) requires TLS, or TLS was required and the server does not offer it.</summary>
    public const string PgTlsRequired = "PgTlsRequired";

    /// <summary>The server has no connection slots left.</summary>
    public const string PgTooManyConnections = "PgTooManyConnections";

    /// <summary>pg_stat_statements is not installed or not loaded (Get-PgSlowQuery needs it).</summary>
    public const string PgStatStatementsMissing = "PgStatStatementsMissing";

    /// <summary>A table named for maintenance does not exist.</summary>
    public const string PgTableNotFound = "PgTableNotFound";

    /// <summary>Backends (Get-PgActivity output) were piped into Stop-IdleConnection, which would terminate every idle session it matches, not the piped ones.</summary>
    public const string PgPipedBackendNotAccepted = "PgPipedBackendNotAccepted";

    /// <summary>-Service and -ConnectionString were both given on the command line: two targets where one is used.</summary>
    public const string PgTargetConflict = "PgTargetConflict";

    /// <summary>-CaCertificate, postgres.caCertificate or sslrootcert names no readable certificate.</summary>
    public const string PgCaCertificateInvalid = "PgCaCertificateInvalid";

    /// <summary>The server's TLS certificate did not verify (sslmode verify-ca/verify-full, or a CA was given): nothing was sent.</summary>
    public const string PgCertificateNotTrusted = "PgCertificateNotTrusted";

    /// <summary>Stop-PgBackend was given a pid that no backend on the server has (the session ended, or the pid is wrong); nothing was stopped and nothing was asked.</summary>
    public const string PgBackendNotFound = "PgBackendNotFound";
}
