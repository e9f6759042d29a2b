using System.Net.Sockets;
using IncidentOps.Engine.Config;
using IncidentOps.Postgres;
using Npgsql;

namespace IncidentOps.Engine.Postgres;

/// <summary>
/// Turns a <see cref="PgConnectionSpec"/> into an open NpgsqlConnection: -ConnectionString (Npgsql form or
/// postgres:// URL), a service's configured database, or the libpq environment (PGHOST, PGPORT, PGDATABASE,
/// PGUSER, PGPASSWORD, PGSSLMODE, ~/.pgpass), which Npgsql reads only in part. Every session gets
/// application_name IncidentOps, a statement_timeout and a connect timeout. Failures become distinct
/// error ids naming host, port and database, never the password.
/// </summary>
public sealed class PgConnectionFactory(ReferenceResolver references, Func<string, string?>? environment = null, IncidentOps.Engine.Tunnels.TunnelRouter? tunnels = null)
{
    public const string ApplicationName = "IncidentOps";

    /// <summary>How long Npgsql waits for the server to answer a cancel request before it closes the connection.</summary>
    public const int CancellationTimeoutMs = 250;

    /// <summary>What connecting leaves before the command's deadline, so a host that does not answer is PgHostUnreachable.</summary>
    private static readonly TimeSpan ConnectReserve = OperationDeadline.Margin + TimeSpan.FromMilliseconds(CancellationTimeoutMs + 150);
    private readonly Func<string, string?> _env = environment ?? System.Environment.GetEnvironmentVariable;

    /// <summary>Builds the Npgsql connection string for a spec (resolving config references).</summary>
    public async Task<NpgsqlConnectionStringBuilder> BuildAsync(PgConnectionSpec spec, CancellationToken cancellationToken) =>
        (await BuildWithTrustAsync(spec, cancellationToken).ConfigureAwait(false)).Builder;

    /// <summary>What signed a PostgreSQL server's certificate, for PgCaCertificateInvalid.</summary>
    private const string CaSigned = "the PostgreSQL server's certificate (for a managed database, the provider's CA download: DigitalOcean's ca-certificate.crt, the RDS global bundle)";

    /// <summary>
    /// The connection string and the CA its certificate is checked against. The CA comes from -CaCertificate, else
    /// postgres.caCertificate of the service, else sslrootcert (URL), Root Certificate (Npgsql form) or PGSSLROOTCERT.
    /// A CA given by -CaCertificate or postgres.caCertificate means "verify": sslmode becomes verify-full unless the
    /// connection says verify-ca. sslrootcert keeps libpq's meaning: with sslmode=require it verifies as verify-ca,
    /// with prefer or allow it is not used; sslrootcert=system is the system's roots with verify-full.
    /// </summary>
    internal async Task<(NpgsqlConnectionStringBuilder Builder, TlsTrust? Trust)> BuildWithTrustAsync(PgConnectionSpec spec, CancellationToken cancellationToken)
    {
        NpgsqlConnectionStringBuilder b;
        if (!string.IsNullOrWhiteSpace(spec.ConnectionString))
            b = Parse(spec.ConnectionString!, "-ConnectionString");
        else if (spec.Service is not null)
        {
            var value = spec.Service.Postgres?.ConnectionString ?? throw new IncidentOpsException(PostgresErrorIds.PgNotConfigured, IncidentOpsErrorCategory.ObjectNotFound,
                $"The service '{spec.Service.FullName}' has no postgres.connectionString in the configuration. Add one, or pass -ConnectionString.") { TargetObject = spec.Service.FullName };
            var resolved = await references.ResolveAsync(value, cancellationToken).ConfigureAwait(false);
            b = Parse(resolved, $"the postgres connection of {spec.Service.FullName}");
        }
        else b = FromEnvironment();

        if (!string.IsNullOrEmpty(spec.UserName)) b.Username = spec.UserName;
        if (!string.IsNullOrEmpty(spec.Password)) b.Password = spec.Password;
        if (string.IsNullOrEmpty(b.Host)) b.Host = "localhost";
        if (string.IsNullOrEmpty(b.Username)) b.Username = _env("PGUSER") ?? _env("USER") ?? "postgres";
        if (string.IsNullOrEmpty(b.Database)) b.Database = b.Username;
        if (string.IsNullOrEmpty(b.Password))
        {
            var pgpass = _env("PGPASSWORD");
            if (!string.IsNullOrEmpty(pgpass)) b.Password = pgpass;
            else if (string.IsNullOrEmpty(b.Passfile))
            {
                var passfile = _env("PGPASSFILE") ?? Path.Combine(System.Environment.GetFolderPath(System.Environment.SpecialFolder.UserProfile), ".pgpass");
                if (File.Exists(passfile)) b.Passfile = passfile;
            }
        }
        SecretRedactor.Register(b.Password);
        var trust = await TrustAsync(spec, b, cancellationToken).ConfigureAwait(false);
        // postgres.tunnel: the host:port above is the far end; OpenAsync connects through the tunnel's loopback port.
        if (string.IsNullOrWhiteSpace(spec.ConnectionString)) tunnels?.Resolve(spec.Service?.Postgres?.Tunnel, spec.Service, b.Host!, b.Port);

        var timeout = Math.Max(1, spec.TimeoutSec);
        b.ApplicationName = ApplicationName;
        // Connecting ends before the command's deadline (whole seconds: Npgsql's unit), so a host that does not
        // answer is PgHostUnreachable; a statement gets the whole timeout, and the deadline cuts it (OperationTimeout).
        b.Timeout = Math.Max(1, (int)Math.Min(OperationDeadline.Cap(TimeSpan.FromSeconds(timeout), ConnectReserve).TotalSeconds, 1024));
        b.CommandTimeout = timeout;
        b.Options = $"-c statement_timeout={timeout * 1000}";
        // A pooled connection that a stop cmdlet terminated would surface on the next cmdlet; incident work opens few sessions.
        b.Pooling = false;
        // After a cancel (the deadline, Ctrl+C), wait this long for the server to answer it, then close the socket.
        b.CancellationTimeout = CancellationTimeoutMs;
        return (b, trust);
    }

    private async Task<TlsTrust?> TrustAsync(PgConnectionSpec spec, NpgsqlConnectionStringBuilder b, CancellationToken cancellationToken)
    {
        // The module checks the certificate itself (the same TlsTrust as Redis and health probes): Npgsql never reads the file.
        var inString = b.RootCertificate;
        b.RootCertificate = null;
        TlsTrust? trust;
        bool explicitCa;
        if (!string.IsNullOrWhiteSpace(spec.CaCertificate))
        {
            trust = TlsTrust.FromCa(spec.CaCertificate, $"-CaCertificate {spec.CaCertificate}", PostgresErrorIds.PgCaCertificateInvalid, CaSigned);
            explicitCa = true;
        }
        else if (string.IsNullOrWhiteSpace(spec.ConnectionString) && spec.Service is { Postgres.CaCertificate: { } ca } service)
        {
            trust = await TlsTrust.FromConfigAsync(references, ca, service.Location?.File, $"postgres.caCertificate of {service.FullName}", PostgresErrorIds.PgCaCertificateInvalid, CaSigned, cancellationToken).ConfigureAwait(false);
            explicitCa = true;
        }
        else if (!string.IsNullOrWhiteSpace(inString) && !inString.Equals("system", StringComparison.Ordinal))
        {
            var path = inString.StartsWith("~/", StringComparison.Ordinal) ? Path.Combine(System.Environment.GetFolderPath(System.Environment.SpecialFolder.UserProfile), inString[2..]) : inString;
            trust = TlsTrust.FromCa(Path.GetFullPath(path), $"sslrootcert {path}", PostgresErrorIds.PgCaCertificateInvalid, CaSigned);
            explicitCa = false;
        }
        else return null;
        if (explicitCa)
        {
            if (b.SslMode != SslMode.VerifyCA) b.SslMode = SslMode.VerifyFull;
            return trust;
        }
        // libpq: a root certificate turns require into verify-ca; prefer and allow never verify.
        if (b.SslMode == SslMode.Require) b.SslMode = SslMode.VerifyCA;
        return b.SslMode is SslMode.VerifyCA or SslMode.VerifyFull ? trust : null;
    }

    /// <summary>The pinned tunnel a spec connects through (noted like <see cref="BuildAsync"/> notes it), or null when it connects directly.</summary>
    public async Task<IncidentOps.Engine.Tunnels.TunnelSpec?> TunnelAsync(PgConnectionSpec spec, CancellationToken cancellationToken)
    {
        var b = await BuildAsync(spec, cancellationToken).ConfigureAwait(false);
        return tunnels is not null && string.IsNullOrWhiteSpace(spec.ConnectionString)
            ? tunnels.Resolve(spec.Service?.Postgres?.Tunnel, spec.Service, b.Host!, b.Port)
            : null;
    }

    private static readonly AsyncLocal<System.Runtime.CompilerServices.StrongBox<bool>?> OpenTracker = new();

    /// <summary>Starts tracking, for the current flow, whether a connection got open (so a timeout can say which phase stalled).</summary>
    internal static System.Runtime.CompilerServices.StrongBox<bool> TrackOpen() => OpenTracker.Value = new System.Runtime.CompilerServices.StrongBox<bool>();

    /// <summary>Opens a connection; connection failures become PgAuthenticationFailed, PgHostUnreachable, PgDatabaseNotFound, PgTlsRequired or PgConnectionFailed.</summary>
    public async Task<NpgsqlConnection> OpenAsync(PgConnectionSpec spec, CancellationToken cancellationToken)
    {
        var (b, trust) = await BuildWithTrustAsync(spec, cancellationToken).ConfigureAwait(false);
        // Through a tunnel the certificate still has to name the configured host, not the loopback end.
        var certificateHost = b.Host!;
        if (tunnels is not null && string.IsNullOrWhiteSpace(spec.ConnectionString)
            && tunnels.Resolve(spec.Service?.Postgres?.Tunnel, spec.Service, b.Host!, b.Port) is { } tunnel)
            (b.Host, b.Port) = await tunnels.RouteAsync(tunnel, TimeSpan.FromSeconds(b.CommandTimeout), cancellationToken).ConfigureAwait(false);
        string? rejected = null;
        var mode = b.SslMode;
        // verify-ca and verify-full are checked here, by the same TlsTrust as every other TLS client of the module (and so
        // with the reason in words); Npgsql is told to require TLS, and refuses a validation callback beside its own checks.
        if (mode is SslMode.VerifyCA or SslMode.VerifyFull) b.SslMode = SslMode.Require;
        var conn = new NpgsqlConnection(b.ConnectionString);
        b.SslMode = mode;
        if (mode is SslMode.VerifyCA or SslMode.VerifyFull)
            conn.SslClientAuthenticationOptionsCallback = options =>
            {
                options.TargetHost = certificateHost;
                options.RemoteCertificateValidationCallback = (_, certificate, chain, errors) =>
                {
                    // verify-ca checks the chain only; verify-full the host name too (libpq's modes).
                    if (mode == SslMode.VerifyCA) errors &= ~System.Net.Security.SslPolicyErrors.RemoteCertificateNameMismatch;
                    if (TlsTrust.Check(trust, certificate, chain, errors, out var why)) return true;
                    rejected = why;
                    return false;
                };
            };
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(OperationDeadline.Cap(TimeSpan.FromSeconds(b.Timeout + 2), ConnectReserve));
            await conn.OpenAsync(timeout.Token).ConfigureAwait(false);
            if (OpenTracker.Value is { } opened) opened.Value = true;
            return conn;
        }
        catch (Exception ex) when (ex is NpgsqlException or TimeoutException or SocketException || (ex is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            await conn.DisposeAsync().ConfigureAwait(false);
            if (rejected is not null) throw NotTrusted(b, rejected, trust, mode, ex);
            throw MapConnectError(ex, b);
        }
        catch
        {
            await conn.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    private static IncidentOpsException NotTrusted(NpgsqlConnectionStringBuilder b, string why, TlsTrust? trust, SslMode mode, Exception inner)
    {
        var how = trust is null
            ? "Pass the CA that signed it with -CaCertificate ca.pem, set caCertificate: under the service's postgres: in incidentops.yml, or add sslrootcert=ca.pem to the URL."
            : $"Check that {trust.Source} is the CA that signed this server's certificate (for a managed database, download its CA again), and that the host name is one the certificate names (verify-ca skips that check).";
        return new IncidentOpsException(PostgresErrorIds.PgCertificateNotTrusted, IncidentOpsErrorCategory.SecurityError,
            $"Cannot connect to PostgreSQL at {b.Host}:{b.Port} (database '{b.Database}', user '{b.Username}'): its TLS certificate is not trusted ({why}; sslmode {(mode == SslMode.VerifyCA ? "verify-ca" : "verify-full")}), so nothing was sent to it. {how}", inner)
        { TargetObject = $"{b.Host}:{b.Port}/{b.Database}" };
    }

    /// <summary>Where a connection goes, for messages: host:port, database, user (never the password).</summary>
    public static string Describe(NpgsqlConnectionStringBuilder b) => $"{b.Host}:{b.Port}, database '{b.Database}', user '{b.Username}'";

    internal static IncidentOpsException MapConnectError(Exception ex, NpgsqlConnectionStringBuilder b)
    {
        var where = $"PostgreSQL at {b.Host}:{b.Port} (database '{b.Database}', user '{b.Username}')";
        var target = $"{b.Host}:{b.Port}/{b.Database}";
        if (ex is PostgresException pg)
        {
            var text = pg.MessageText ?? "";
            if (pg.SqlState == "3D000")
                return new IncidentOpsException(PostgresErrorIds.PgDatabaseNotFound, IncidentOpsErrorCategory.ObjectNotFound,
                    $"Cannot connect to {where}: the database '{b.Database}' does not exist. Check the database name (\\l in psql lists them).", ex) { TargetObject = target };
            if (pg.SqlState == "28000" && (text.Contains("no encryption", StringComparison.OrdinalIgnoreCase) || text.Contains("SSL off", StringComparison.OrdinalIgnoreCase)))
                return new IncidentOpsException(PostgresErrorIds.PgTlsRequired, IncidentOpsErrorCategory.SecurityError,
                    $"Cannot connect to {where}: the server only accepts TLS connections from this host ({text}). Add 'SSL Mode=Require' (or sslmode=require in the URL, PGSSLMODE=require).", ex) { TargetObject = target };
            if (pg.SqlState is "28P01" or "28000")
                return new IncidentOpsException(PostgresErrorIds.PgAuthenticationFailed, IncidentOpsErrorCategory.AuthenticationError,
                    $"Cannot connect to {where}: authentication failed ({text}). Check the user name and password (-Credential, PGPASSWORD, ~/.pgpass).", ex) { TargetObject = target };
            if (pg.SqlState == "53300")
            {
                const string advice = "Connect as a superuser or a role with reserved slots (superuser_reserved_connections, or reserved_connections with pg_use_reserved_connections on PostgreSQL 16+): pass -Credential, or a connection string with that user. Or open the platform's console (fly postgres connect, doctl databases connection, kubectl exec into the database pod) and run the same queries there.";
                return new IncidentOpsException(PostgresErrorIds.PgTooManyConnections, IncidentOpsErrorCategory.ResourceBusy,
                    $"Cannot connect to {where}: every connection slot is taken ({pg.SqlState} {text}). {advice}", ex)
                { TargetObject = target, RecommendedAction = advice };
            }
            return new IncidentOpsException(PostgresErrorIds.PgConnectionFailed, IncidentOpsErrorCategory.ConnectionError,
                $"Cannot connect to {where}: {pg.SqlState} {text}", ex) { TargetObject = target };
        }
        if (ex.Message.Contains("SSL", StringComparison.OrdinalIgnoreCase) || ex.InnerException is System.Security.Authentication.AuthenticationException)
            return new IncidentOpsException(PostgresErrorIds.PgTlsRequired, IncidentOpsErrorCategory.SecurityError,
                $"Cannot connect to {where}: TLS negotiation failed ({ex.Message}). Check the SSL mode (SSL Mode / sslmode / PGSSLMODE) against what the server offers.", ex) { TargetObject = target };
        var socket = ex as SocketException ?? ex.InnerException as SocketException ?? ex.InnerException?.InnerException as SocketException;
        // A refused port answered at once: nothing listens there. "Did not answer" and "raise -TimeoutSec" would send the
        // responder after the network instead of the stopped server or the wrong port.
        if (socket?.SocketErrorCode == SocketError.ConnectionRefused)
            return new IncidentOpsException(PostgresErrorIds.PgHostUnreachable, IncidentOpsErrorCategory.ConnectionError,
                $"Cannot connect to {where}: connection refused, nothing listens on that port. Check that PostgreSQL is running (systemctl status postgresql, the platform's database status) and the port (default 5432).", ex) { TargetObject = target };
        if (socket is not null || ex is TimeoutException || ex is OperationCanceledException || ex.InnerException is TimeoutException)
            return new IncidentOpsException(PostgresErrorIds.PgHostUnreachable, IncidentOpsErrorCategory.ConnectionError,
                $"Cannot connect to {where}: the host did not answer ({socket?.SocketErrorCode.ToString() ?? "timed out"}). Check host and port, that the server is running, and raise -TimeoutSec if the network is slow.", ex) { TargetObject = target };
        return new IncidentOpsException(PostgresErrorIds.PgConnectionFailed, IncidentOpsErrorCategory.ConnectionError,
            $"Cannot connect to {where}: {ex.Message}", ex) { TargetObject = target };
    }

    /// <summary>Parses an Npgsql connection string or a postgres:// / postgresql:// URL.</summary>
    public static NpgsqlConnectionStringBuilder Parse(string value, string source)
    {
        value = value.Trim();
        if (value.StartsWith("postgres://", StringComparison.OrdinalIgnoreCase) || value.StartsWith("postgresql://", StringComparison.OrdinalIgnoreCase))
            return ParseUrl(value, source);
        try { return new NpgsqlConnectionStringBuilder(value); }
        catch (ArgumentException ex)
        {
            throw new IncidentOpsException(PostgresErrorIds.PgConnectionStringInvalid, IncidentOpsErrorCategory.InvalidArgument,
                $"{source} is not a valid connection string ({ex.Message}). Use 'Host=...;Port=5432;Database=...;Username=...' or postgres://user@host:5432/db.", ex);
        }
    }

    private static NpgsqlConnectionStringBuilder ParseUrl(string url, string source)
    {
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri))
            throw new IncidentOpsException(PostgresErrorIds.PgConnectionStringInvalid, IncidentOpsErrorCategory.InvalidArgument,
                $"{source} is not a valid postgres:// URL. Use postgres://user:password@host:5432/database?sslmode=require.");
        var b = new NpgsqlConnectionStringBuilder();
        if (!string.IsNullOrEmpty(uri.Host)) b.Host = uri.Host.Trim('[', ']');
        if (uri.Port > 0) b.Port = uri.Port;
        var db = Uri.UnescapeDataString(uri.AbsolutePath.TrimStart('/'));
        if (db.Length > 0) b.Database = db;
        if (!string.IsNullOrEmpty(uri.UserInfo))
        {
            var parts = uri.UserInfo.Split(':', 2);
            b.Username = Uri.UnescapeDataString(parts[0]);
            if (parts.Length == 2)
            {
                b.Password = Uri.UnescapeDataString(parts[1]);
                SecretRedactor.Register(b.Password);
                SecretRedactor.Register(parts[1]);
            }
        }
        var sslmodeGiven = false;
        foreach (var pair in uri.Query.TrimStart('?').Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            var kv = pair.Split('=', 2);
            var key = Uri.UnescapeDataString(kv[0]).ToLowerInvariant();
            var val = kv.Length == 2 ? Uri.UnescapeDataString(kv[1]) : "";
            switch (key)
            {
                case "sslmode": b.SslMode = ParseSslMode(val); sslmodeGiven = true; break;
                // libpq's TLS file parameters, as psql users paste them: the CA (checked by TlsTrust), the client certificate and key.
                case "sslrootcert": b.RootCertificate = val; break;
                case "sslcert": b.SslCertificate = val; break;
                case "sslkey": b.SslKey = val; break;
                case "sslpassword": b.SslPassword = val; SecretRedactor.Register(val); break;
                case "application_name": break;
                case "connect_timeout": if (int.TryParse(val, out var t)) b.Timeout = t; break;
                case "host": b.Host = val; break;
                case "port":
                    if (!int.TryParse(val, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var p) || p is < 1 or > 65535)
                        throw new IncidentOpsException(PostgresErrorIds.PgConnectionStringInvalid, IncidentOpsErrorCategory.InvalidArgument,
                            $"{source} has port={val} in its query, which is not a port from 1 to 65535.");
                    b.Port = p;
                    break;
                case "user": b.Username = val; break;
                case "password": b.Password = val; SecretRedactor.Register(val); break;
                case "dbname": b.Database = val; break;
            }
        }
        // libpq 16: sslrootcert=system trusts the system's roots and defaults to verify-full; a weaker sslmode is refused.
        if (b.RootCertificate == "system")
        {
            if (sslmodeGiven && b.SslMode != SslMode.VerifyFull)
                throw new IncidentOpsException(PostgresErrorIds.PgConnectionStringInvalid, IncidentOpsErrorCategory.InvalidArgument,
                    $"{source} has sslrootcert=system with sslmode={b.SslMode.ToString().ToLowerInvariant()}: the system's roots are only used with sslmode=verify-full (as in libpq). Use sslmode=verify-full, or sslrootcert=<ca.pem>.");
            b.SslMode = SslMode.VerifyFull;
            b.RootCertificate = null;
        }
        return b;
    }

    private NpgsqlConnectionStringBuilder FromEnvironment()
    {
        var b = new NpgsqlConnectionStringBuilder();
        var host = _env("PGHOST");
        if (!string.IsNullOrEmpty(host)) b.Host = host;
        // libpq refuses a PGPORT that is not a port; ignoring it would connect to 5432, another server.
        if (_env("PGPORT") is { Length: > 0 } pgport)
        {
            if (!int.TryParse(pgport, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var port) || port is < 1 or > 65535)
                throw new IncidentOpsException(PostgresErrorIds.PgConnectionStringInvalid, IncidentOpsErrorCategory.InvalidArgument,
                    $"The environment variable PGPORT is '{pgport}', not a port from 1 to 65535. Fix PGPORT, or pass -ConnectionString or -Service.") { TargetObject = pgport };
            b.Port = port;
        }
        var db = _env("PGDATABASE");
        if (!string.IsNullOrEmpty(db)) b.Database = db;
        var user = _env("PGUSER");
        if (!string.IsNullOrEmpty(user)) b.Username = user;
        var ssl = _env("PGSSLMODE");
        if (!string.IsNullOrEmpty(ssl)) b.SslMode = ParseSslMode(ssl);
        var passfile = _env("PGPASSFILE");
        if (!string.IsNullOrEmpty(passfile)) b.Passfile = passfile;
        if (_env("PGSSLROOTCERT") is { Length: > 0 } root)
        {
            if (root == "system") b.SslMode = SslMode.VerifyFull;
            else b.RootCertificate = root;
        }
        return b;
    }

    private static SslMode ParseSslMode(string value) => value.ToLowerInvariant() switch
    {
        "disable" => SslMode.Disable,
        "allow" => SslMode.Allow,
        "prefer" => SslMode.Prefer,
        "require" => SslMode.Require,
        "verify-ca" => SslMode.VerifyCA,
        "verify-full" => SslMode.VerifyFull,
        _ => throw new IncidentOpsException(PostgresErrorIds.PgConnectionStringInvalid, IncidentOpsErrorCategory.InvalidArgument,
            $"sslmode '{value}' is not one of disable, allow, prefer, require, verify-ca, verify-full."),
    };
}
