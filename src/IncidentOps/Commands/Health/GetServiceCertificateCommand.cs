using System.Management.Automation;
using IncidentOps.Config;
using IncidentOps.Engine;
using IncidentOps.Engine.Health;
using IncidentOps.Health;

namespace IncidentOps.Commands;

/// <summary>Gets the TLS certificate chain a host:port presents: expiry, issuer, SANs, validation errors and hostname match.</summary>
/// <remarks>
/// Replaces the seeds' `curl -vI https://... 2>&amp;1 | grep -i certificate` and `openssl s_client` steps. It connects,
/// completes a TLS handshake with SNI (the host, or -ServerName) and returns the facts whether or not the chain is
/// trusted: subject, issuer, SANs, leaf NotAfter and DaysRemaining, the earliest expiry anywhere in the chain
/// (ChainNotAfter, ChainExpiresFirst: an intermediate can expire before the leaf), every chain certificate,
/// validation errors, whether the certificate names the host, and the negotiated protocol.
/// An endpoint that cannot be reached or does not speak TLS is a CertificateFetchFailed error.
///
/// A configured service (-Service, or piped from Get-IncidentOpsService) is read at its https:// health endpoints, each
/// host and port once, with the caCertificate its health entry names; never at its app name, unit or ssh host, which are
/// no TLS endpoints. A service without an https:// health endpoint is a HealthEndpointNotConfigured error that says to pass
/// the host instead.
/// </remarks>
/// <example>
/// <code>Get-ServiceCertificate ai-affiliate-empire.fly.dev | Format-List Subject, Issuer, NotAfter, DaysRemaining, ChainNotAfter, ValidationErrors</code>
/// <para>When does the certificate expire, and does anything in its chain expire sooner?</para>
/// </example>
/// <example>
/// <code>Get-IncidentOpsService production/portfolio | Get-ServiceCertificate</code>
/// <para>The certificates of the service's https:// health endpoints (seed 002's SSL check).</para>
/// </example>
/// <example>
/// <code>Get-IncidentOpsService | ForEach-Object Health | ForEach-Object Url | Get-ServiceCertificate | Where-Object { $_.ChainDaysRemaining -lt 14 }</code>
/// <para>Every configured endpoint whose chain expires within two weeks.</para>
/// </example>
[Cmdlet(VerbsCommon.Get, "ServiceCertificate", DefaultParameterSetName = ServiceSet)]
[OutputType(typeof(CertificateFacts))]
public sealed class GetServiceCertificateCommand : IncidentReadCmdlet
{
    private const string TargetSet = "Target";
    private const string ServiceSet = "Service";
    private const string InputObjectSet = "InputObject";

    /// <summary>Endpoints: host, host:port (443 by default) or an https:// URI. Binds from the Uri property of piped objects.</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true, ParameterSetName = TargetSet)]
    [Alias("Uri", "ComputerName")]
    [ValidateNotNullOrEmpty]
    public string[] Target { get; set; } = [];

    /// <summary>Service targets from Get-IncidentOpsService: the certificates of each one's https:// health endpoints are read.</summary>
    [Parameter(Mandatory = true, ValueFromPipeline = true, ParameterSetName = InputObjectSet)]
    public ServiceTarget[] InputObject { get; set; } = [];

    /// <summary>Configured services ("environment/service", or the name alone when unambiguous; wildcards allowed) whose https:// health endpoints' certificates are read.</summary>
    [Parameter(Mandatory = true, ParameterSetName = ServiceSet)]
    [SupportsWildcards]
    [ArgumentCompleter(typeof(ServiceNameCompleter))]
    public string[] Service { get; set; } = [];

    /// <summary>Environment the -Service names are looked up in.</summary>
    [Parameter(ParameterSetName = ServiceSet)]
    [ArgumentCompleter(typeof(EnvironmentNameCompleter))]
    public string? Environment { get; set; }

    /// <summary>Server name sent in SNI and checked against the certificate, when it differs from the host connected to (e.g. connecting by IP).</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? ServerName { get; set; }

    /// <summary>Deadline in seconds for the connection and handshake together. Default 10, as for a health probe: a TLS handshake that takes longer is a finding of its own. Fractions are allowed (0.5).</summary>
    [Parameter]
    [ValidateRange(0.001, 600)]
    public double TimeoutSec { get; set; } = 10;

    /// <summary>The CA certificate (a PEM or DER file) to judge the chain against, for an endpoint signed by a private CA: ValidationErrors is then empty when that CA signed the certificate and the host name matches. The system's trusted roots stay trusted too.</summary>
    [Parameter]
    [Alias("CaCert")]
    [ValidateNotNullOrEmpty]
    public string? CaCertificate { get; set; }

    private TlsTrust? _trust;

    protected override void BeginProcessing()
    {
        if (!string.IsNullOrWhiteSpace(CaCertificate))
        {
            try { _trust = HealthService.TrustFromFile(GetUnresolvedProviderPathFromPSPath(CaCertificate)); }
            catch (IncidentOpsException ex) { ThrowTerminatingError(ToErrorRecord(ex, CaCertificate)); }
        }
        base.BeginProcessing();
    }

    /// <summary>-TimeoutSec is one deadline for the whole operation on one target.</summary>
    protected override TimeSpan? OperationTimeout => TimeSpan.FromSeconds(TimeoutSec);

    protected override void ProcessRecord()
    {
        if (ServicesOfParameterSet(InputObject, Environment, Service) is { } services)
        {
            foreach (var service in services) ReadService(service);
            return;
        }
        foreach (var raw in Target)
        {
            (string Host, int Port) target;
            try { target = CertificateService.ParseTarget(raw); }
            catch (IncidentOpsException ex) { WriteError(ToErrorRecord(ex, raw)); continue; }
            Read(target.Host, target.Port, raw, _trust);
        }
    }

    /// <summary>A service's certificates are those of its https:// health endpoints: its app, unit or ssh host is no TLS endpoint.</summary>
    private void ReadService(ServiceTarget service)
    {
        var endpoints = CertificateService.ServiceEndpoints(service);
        if (endpoints.Count == 0)
        {
            WriteInputError(HealthErrorIds.HealthEndpointNotConfigured,
                $"The service '{service.FullName}' has no https:// health endpoint, so there is no certificate of it to read (its app, unit or host is no TLS endpoint). Pass the host instead (Get-ServiceCertificate api.example.com), or add 'health: [https://.../health]' under the service.",
                service.FullName, IncidentOpsErrorCategory.ObjectNotFound);
            return;
        }
        foreach (var (url, host, port, ca) in endpoints)
        {
            var trust = _trust;
            // -CaCertificate wins; else the CA the health entry names, as Test-ServiceHealth uses for the same endpoint.
            if (trust is null && ca is not null && !TryInvoke(ct => Engine.Health.TrustForAsync(ca, service.FullName, url, ct), out trust, service.FullName)) continue;
            Read(host, port, $"{host}:{port}", trust);
        }
    }

    private void Read(string host, int port, string target, TlsTrust? trust)
    {
        if (TryInvoke(ct => Engine.Certificates.GetAsync(host, port, ServerName, TimeSpan.FromSeconds(TimeoutSec), ct, trust), out var facts, target))
        {
            WriteObject(facts);
            RecordRead(target, "Read certificate", facts.ToString());
        }
    }
}
