using System.Management.Automation;
using IncidentOps.Redis;

namespace IncidentOps.Commands;

/// <summary>
/// Shared connection parameters of the Redis cmdlets: -ConnectionString (StackExchange.Redis form or a
/// redis:// / rediss:// URL), or -Service / a piped service from the configuration, plus -Credential and
/// -TimeoutSec. With none of them, $env:REDIS_URL is used, as in the seeds.
/// </summary>
public abstract class RedisCmdlet : IncidentActionCmdlet
{
    protected const string ConnectionSet = "ConnectionString";
    protected const string ServiceSet = "Service";

    /// <summary>The Redis to use: host:port[,password=...][,ssl=true] (StackExchange.Redis form) or redis://user:password@host:port/db (rediss:// for TLS). Percent-encode special characters of a password in a URL. Defaults to $env:REDIS_URL.</summary>
    [Parameter(ParameterSetName = ConnectionSet)]
    [Alias("Url")]
    public string? ConnectionString { get; set; }

    /// <summary>Configured service(s) whose redis setting to use ("environment/service" or the name alone). Binds from Get-IncidentOpsService output.</summary>
    [Parameter(ParameterSetName = ServiceSet, Mandatory = true, ValueFromPipelineByPropertyName = true)]
    [ArgumentCompleter(typeof(ServiceNameCompleter))]
    public string[] Service { get; set; } = [];

    /// <summary>Environment of the services named by -Service. Binds from Get-IncidentOpsService output.</summary>
    [Parameter(ParameterSetName = ServiceSet, ValueFromPipelineByPropertyName = true)]
    [ArgumentCompleter(typeof(EnvironmentNameCompleter))]
    public string? Environment { get; set; }

    /// <summary>User name (an ACL user, or "default" for Redis's default user) and password. Replaces the user and password of the connection string entirely: with the user name "default" the server is logged in to as the default user (password only, as Redis 5 and older expect too), even when the URL names another user.</summary>
    [Parameter]
    [Credential]
    public PSCredential? Credential { get; set; }

    /// <summary>Deadline in seconds for the whole operation on each server, counted from its start: connecting and every command together. Default 5, StackExchange.Redis's own connect timeout: a healthy Redis answers in milliseconds, so one that has not answered in 5 s is itself the finding.</summary>
    [Parameter]
    [ValidateRange(1.0, 3600.0)]
    public double TimeoutSec { get; set; } = 5;

    /// <summary>The CA certificate to trust for a TLS Redis (rediss://) whose certificate is self-signed or signed by a private CA (a managed Redis's "CA certificate" download): the path of a PEM (or DER) file. Overrides caCertificate under the service's redis: in incidentops.yml. The system's trusted roots are trusted as well.</summary>
    [Parameter]
    [Alias("CaCert")]
    public string? CaCertificate { get; set; }

    /// <summary>Connect over TLS without checking the server's certificate (its issuer, dates and host name), as Test-ServiceHealth -SkipCertificateCheck does for HTTPS. For an emergency only: prefer -CaCertificate, which still refuses a server that is not the one you meant.</summary>
    [Parameter]
    public SwitchParameter SkipCertificateCheck { get; set; }

    /// <summary>-TimeoutSec is one deadline for the whole operation on one target.</summary>
    protected override TimeSpan? OperationTimeout => TimeSpan.FromSeconds(TimeoutSec);

    /// <summary>Its changes name the tunnel they go through (postgres.tunnel / redis.tunnel).</summary>
    protected override bool ReportsTunnel => true;

    /// <summary>One request per target: the connection string, or each resolved service.</summary>
    protected IEnumerable<RedisConnectionRequest> Requests()
    {
        var credential = Credential is null || ReferenceEquals(Credential, PSCredential.Empty) ? null : Credential.GetNetworkCredential();
        if (credential is not null) RegisterSecret(credential.Password);
        var timeout = TimeSpan.FromSeconds(TimeoutSec);
        var ca = string.IsNullOrWhiteSpace(CaCertificate) ? null : GetUnresolvedProviderPathFromPSPath(CaCertificate);
        var skip = SkipCertificateCheck.IsPresent;
        if (ParameterSetName == ServiceSet)
        {
            foreach (var target in ResolveServices(Environment, Service))
                yield return new RedisConnectionRequest { Service = target, Credential = credential, Timeout = timeout, CaCertificate = ca, SkipCertificateCheck = skip };
            yield break;
        }
        yield return new RedisConnectionRequest { ConnectionString = ConnectionString, Credential = credential, Timeout = timeout, CaCertificate = ca, SkipCertificateCheck = skip };
    }
}
