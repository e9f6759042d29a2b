using IncidentOps.Engine.Config;
using System.Management.Automation;
using IncidentOps.Postgres;

namespace IncidentOps.Commands;

/// <summary>
/// Base of the Pg* cmdlets: how to name the database (-ConnectionString, -Service from the configuration
/// or the pipeline, or the libpq environment), -Credential and -TimeoutSec.
/// </summary>
public abstract class PgCmdlet : IncidentActionCmdlet
{
    /// <summary>Npgsql connection string (Host=...;Database=...) or postgres:// URL (alias -Url, as on the Redis cmdlets). When omitted, -Service or the libpq environment (PGHOST, PGPORT, PGDATABASE, PGUSER, PGPASSWORD, ~/.pgpass, PGSSLMODE) is used.</summary>
    [Parameter]
    [Alias("Url")]
    public string? ConnectionString { get; set; }

    /// <summary>The -Service values of this record (none when -Service is not given). The read cmdlets take several; the ones that change state take one.</summary>
    protected abstract string[] ServiceNames { get; }

    /// <summary>The service this record's connection is resolved from: -Service of a cmdlet that changes state, or each service of a read cmdlet in turn.</summary>
    protected abstract string? CurrentService { get; }

    /// <summary>Environment of -Service. Binds from Get-IncidentOpsService output.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    [ArgumentCompleter(typeof(EnvironmentNameCompleter))]
    public string? Environment { get; set; }

    /// <summary>User name and password to connect with; overrides those of the connection string or environment. The password is never shown.</summary>
    [Parameter]
    [Credential]
    public PSCredential? Credential { get; set; }

    /// <summary>Deadline in seconds for the whole operation on the server, counted from its start: connecting and every statement together (also the statement_timeout). Past it the command stops with OperationTimeout. Default 30, Npgsql's own command timeout: a server under incident load can take seconds to accept a connection and to read pg_stat_activity, and a statement that needs longer is better cancelled than left running. Whole seconds are passed to the server (rounded up).</summary>
    [Parameter]
    [ValidateRange(1.0, 3600.0)]
    public double TimeoutSec { get; set; } = 30;

    /// <summary>The CA certificate that signed the server's certificate, for a PostgreSQL with a private CA or a managed database's CA download (the ca-certificate.crt of DigitalOcean, the RDS bundle): the path of a PEM (or DER) file. The connection is then verified as sslmode=verify-full (verify-ca when the connection string asks for it): a server whose certificate that CA did not sign, or that does not name the host, is refused with PgCertificateNotTrusted before anything is sent. Overrides postgres.caCertificate in incidentops.yml and sslrootcert in the URL.</summary>
    [Parameter]
    [Alias("CaCert", "SslRootCert")]
    [ValidateNotNullOrEmpty]
    public string? CaCertificate { get; set; }

    /// <summary>-TimeoutSec is one deadline for the whole operation on one target.</summary>
    protected override TimeSpan? OperationTimeout => TimeSpan.FromSeconds(TimeoutSec);

    /// <summary>Its changes name the tunnel they go through (postgres.tunnel / redis.tunnel).</summary>
    protected override bool ReportsTunnel => true;

    protected override void BeginProcessing()
    {
        // -ConnectionString wins over -Service (the connection string is used, the service ignored): typed together, the
        // command would act on another server than the service the user named, without a word.
        if (!string.IsNullOrWhiteSpace(ConnectionString) && MyInvocation.BoundParameters.ContainsKey("Service") && ServiceNames.FirstOrDefault(n => !string.IsNullOrWhiteSpace(n)) is { } named)
            ThrowInputError(IncidentOps.Engine.Postgres.PostgresErrorIds.PgTargetConflict,
                $"-Service '{string.Join(",", ServiceNames)}' and -ConnectionString name different targets, and only one is used. Pass -Service to use the configured connection (and its tunnel), or -ConnectionString alone.", named);
        base.BeginProcessing();
    }

    private PgConnectionSpec? _spec;
    private string? _specKey;

    /// <summary>The connection this record uses (re-resolved when -Service changes between pipeline records).</summary>
    protected PgConnectionSpec Spec
    {
        get
        {
            var service = CurrentService;
            var key = $"{Environment}/{service}";
            if (_spec is not null && key == _specKey) return _spec;
            IncidentOps.Config.ServiceTarget? target = null;
            if (string.IsNullOrEmpty(ConnectionString) && !string.IsNullOrEmpty(service))
            {
                var found = ResolveServices(Environment, [service!]);
                if (found.Count != 1)
                    throw new IncidentOpsException(ConfigErrorIds.ServiceNotFound, IncidentOpsErrorCategory.ObjectNotFound,
                        $"-Service '{service}' must name exactly one configured service (found {found.Count}). Use environment/service.") { TargetObject = service };
                target = found[0];
            }
            _specKey = key;
            return _spec = BuildSpec(target);
        }
    }

    /// <summary>The connection to <paramref name="target"/> (null: -ConnectionString or the libpq environment), with -Credential and -TimeoutSec.</summary>
    protected PgConnectionSpec BuildSpec(IncidentOps.Config.ServiceTarget? target)
    {
        string? user = null, password = null;
        if (Credential is not null)
        {
            var nc = Credential.GetNetworkCredential();
            user = Credential.UserName;
            password = nc.Password;
            RegisterSecret(password);
        }
        return new PgConnectionSpec { ConnectionString = ConnectionString, Service = target, UserName = user, Password = password, TimeoutSec = (int)Math.Ceiling(TimeoutSec),
            CaCertificate = string.IsNullOrWhiteSpace(CaCertificate) ? null : GetUnresolvedProviderPathFromPSPath(CaCertificate) };
    }

    /// <summary>
    /// The connection of this record, or false after a non-terminating error: one unreachable or unknown target must
    /// not stop the others of a pipeline (Get-IncidentOpsService | Get-PgConnectionSummary -ErrorAction SilentlyContinue).
    /// </summary>
    protected bool TryResolveSpec(out PgConnectionSpec spec)
    {
        try
        {
            spec = Spec;
            return true;
        }
        catch (IncidentOpsException ex)
        {
            _spec = null;
            _specKey = null;
            WriteError(ToErrorRecord(ex, CurrentService));
            spec = null!;
            return false;
        }
    }

    /// <summary>host:port/database of the connection, for confirmation prompts and the timeline (no password); false after a non-terminating error.</summary>
    protected bool TryDescribeTarget(PgConnectionSpec spec, out string target) =>
        TryInvoke(ct => Engine.Postgres.DescribeTargetAsync(spec, ct), out target, spec.ToString());

    /// <summary>The Route (a kubectl tunnel's pinned context) a piped record was read through, or null when it carries none (read directly, or an older object).</summary>
    protected static string? PipedRoute(PSObject? input) =>
        input is null || input.BaseObject is string or ValueType ? null
        : PipelineOrigin.Property(input, "Route") is { } v && (v is PSObject p ? p.BaseObject : v)?.ToString() is { Length: > 0 } route ? route.Trim() : null;

    /// <summary>
    /// Refuses (PipelineTargetMismatch, true) a piped record read through another cluster than the one this command
    /// connects through: host:port/database names the far end of a kubectl tunnel, the same in every cluster that has the
    /// service, so after 'kubectl config use-context green' a record read in blue names another server's object. A record
    /// without a Route (read directly, or an older object) is left to the Server comparison. <paramref name="route"/> is
    /// null when this command connects directly or <paramref name="piped"/> is null.
    /// </summary>
    protected bool RefuseOtherRoute(PSObject input, string piped, string? route, PgConnectionSpec spec, string what, string reread, string notDone)
    {
        if (string.Equals(piped, route, StringComparison.Ordinal)) return false;
        var service = spec.Service?.FullName;
        WriteInputError(PipelineOrigin.MismatchErrorId,
            $"{what} was read through {piped}, but this command connects {(route is null ? "without that tunnel (directly)" : $"through {route}")}. "
            + $"Both name the same server, yet another cluster's database behind the same service is another server, so {notDone}. "
            + $"Read it again in the current context ({reread}{(service is null ? "" : $" -Service {service}")}) and pipe that, or name the cluster in the service's tunnel configuration (postgres.tunnel: {{ kubectl: ..., context: <name> }}) so every command uses the same one.",
            input.ToString());
        return true;
    }
}
