using System.Management.Automation;
using System.Net;
using IncidentOps.Config;
using IncidentOps.Engine;
using IncidentOps.Engine.Health;
using IncidentOps.Health;

namespace IncidentOps.Commands;

/// <summary>Looks up A, AAAA, CNAME, NS, MX and TXT records with their TTLs and the time the lookup took.</summary>
/// <remarks>
/// Replaces the seeds' `dig`/`nslookup` steps. Each name and type gives one DnsLookupResult: the response
/// code (NoError, NXDomain, ...), every answer with its TTL (an MX answer with its preference), the server
/// that answered and the elapsed time. A name that does not exist is a result with Status NXDomain, not an
/// error; a server that does not answer within -TimeoutSec is a DnsQueryFailed error.
///
/// Names may be given as URIs (the host is taken), so health results pipe in by their Uri property. The
/// system resolver is used unless -Server names one (host, host:port or [ipv6]:port). The name is not
/// Resolve-DnsName, which is a built-in on Windows.
///
/// A configured service (-Service, or piped from Get-IncidentOpsService) is looked up by the host names of its health
/// endpoints and baseUrl, each once; never by its app name, unit or ssh host. A service that names no URL with a host
/// name is a HealthEndpointNotConfigured error that says to pass the name instead.
/// </remarks>
/// <example>
/// <code>Resolve-ServiceDns ai-affiliate-empire.fly.dev -Type A, AAAA, CNAME</code>
/// <para>What the name resolves to right now, with TTLs: how long a DNS change takes to reach clients.</para>
/// </example>
/// <example>
/// <code>Resolve-ServiceDns frankpalmisano.com -Type MX, TXT -Server 1.1.1.1</code>
/// <para>Asks a public resolver directly, bypassing a possibly stale local cache.</para>
/// </example>
/// <example>
/// <code>Get-IncidentOpsService production/api | Resolve-ServiceDns -Server 1.1.1.1</code>
/// <para>Looks up the hosts the service is reached at (seed 000's `dig ai-affiliate-empire.fly.dev`).</para>
/// </example>
/// <example>
/// <code>Test-ServiceHealth https://www.akaind.ca/health | Where-Object FailureKind -eq DnsFailure | Resolve-ServiceDns</code>
/// <para>Looks up the hosts whose health probe failed on DNS.</para>
/// </example>
[Cmdlet(VerbsDiagnostic.Resolve, "ServiceDns", DefaultParameterSetName = ServiceSet)]
[OutputType(typeof(DnsLookupResult))]
public sealed class ResolveServiceDnsCommand : IncidentReadCmdlet
{
    private const string NameSet = "Name";
    private const string ServiceSet = "Service";
    private const string InputObjectSet = "InputObject";

    /// <summary>Host names to look up; URIs are accepted and their host is used. Binds from the Uri property of piped objects.</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true, ParameterSetName = NameSet)]
    [Alias("Uri", "HostName")]
    [ValidateNotNullOrEmpty]
    public string[] Name { get; set; } = [];

    /// <summary>Service targets from Get-IncidentOpsService: the host names of each one's health endpoints and baseUrl are looked up.</summary>
    [Parameter(Mandatory = true, ValueFromPipeline = true, ParameterSetName = InputObjectSet)]
    public ServiceTarget[] InputObject { get; set; } = [];

    /// <summary>Configured services ("environment/service", or the name alone when unambiguous; wildcards allowed) whose health endpoints' and baseUrl's host names are looked up.</summary>
    [Parameter(Mandatory = true, ParameterSetName = ServiceSet)]
    [SupportsWildcards]
    [ArgumentCompleter(typeof(ServiceNameCompleter))]
    public string[] Service { get; set; } = [];

    /// <summary>Environment the -Service names are looked up in.</summary>
    [Parameter(ParameterSetName = ServiceSet)]
    [ArgumentCompleter(typeof(EnvironmentNameCompleter))]
    public string? Environment { get; set; }

    /// <summary>Record types to ask for (default A and AAAA): A, AAAA, CNAME, NS, MX, TXT.</summary>
    [Parameter(Position = 1, ParameterSetName = NameSet)]
    [Parameter(ParameterSetName = ServiceSet)]
    [Parameter(ParameterSetName = InputObjectSet)]
    public DnsRecordType[] Type { get; set; } = [DnsRecordType.A, DnsRecordType.AAAA];

    /// <summary>DNS server to ask instead of the system resolver: host, host:port or [ipv6]:port.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? Server { get; set; }

    /// <summary>Deadline in seconds for the lookups of each name, all record types together. Default 5, the stub resolver's own timeout (resolv.conf timeout:5): a resolver that has not answered by then has failed for every client too. Fractions are allowed (0.5).</summary>
    [Parameter]
    [ValidateRange(0.001, 600)]
    public double TimeoutSec { get; set; } = 5;

    /// <summary>-TimeoutSec is one deadline for the whole operation on one target.</summary>
    protected override TimeSpan? OperationTimeout => TimeSpan.FromSeconds(TimeoutSec);

    private IPEndPoint? _server;

    protected override void BeginProcessing()
    {
        if (Server is not null) _server = InvokeOrTerminate(ct => DnsService.ParseServerAsync(Server, ct), Server);
        base.BeginProcessing();
    }

    protected override void ProcessRecord()
    {
        if (ServicesOfParameterSet(InputObject, Environment, Service) is { } services)
        {
            foreach (var service in services) LookUpService(service);
            return;
        }
        LookUp(Name);
    }

    /// <summary>A service is looked up by the hosts it is reached at: its app, unit or ssh host is no DNS name of it.</summary>
    private void LookUpService(ServiceTarget service)
    {
        var hosts = DnsService.ServiceHosts(service);
        if (hosts.Count == 0)
        {
            WriteInputError(HealthErrorIds.HealthEndpointNotConfigured,
                $"The service '{service.FullName}' names no host to look up: none of its health endpoints or its baseUrl has a host name. Pass the name instead (Resolve-ServiceDns api.example.com), or add 'health: [https://.../health]' under the service.",
                service.FullName, IncidentOpsErrorCategory.ObjectNotFound);
            return;
        }
        LookUp(hosts);
    }

    private void LookUp(IEnumerable<string> names)
    {
        foreach (var raw in names)
        {
            var name = Uri.TryCreate(raw, UriKind.Absolute, out var uri) && !string.IsNullOrEmpty(uri.Host) ? uri.IdnHost : raw.Trim().TrimEnd('.');
            if (Uri.CheckHostName(name) == UriHostNameType.Unknown)
            {
                WriteInputError(HealthErrorIds.DnsNameInvalid, $"'{raw}' is not a host name or URI. Pass a name such as api.example.com.", raw);
                continue;
            }
            StartTargetDeadline();
            foreach (var type in Type)
            {
                // A server that did not answer one type will not answer the next within the same deadline.
                if (TargetDeadlinePassed || !TryInvoke(ct => Engine.Dns.LookupAsync(name, type, _server, TimeSpan.FromSeconds(TimeoutSec), ct), out var result, name)) break;
                WriteObject(result);
                RecordRead(name, $"Resolve {type}", result.ToString());
            }
        }
    }
}
