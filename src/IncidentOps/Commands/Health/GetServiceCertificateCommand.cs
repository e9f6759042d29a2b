using System.Management.Automation;
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
/// </remarks>
/// <example>
/// <code>Get-ServiceCertificate ai-affiliate-empire.fly.dev | Format-List Subject, Issuer, NotAfter, DaysRemaining, ChainNotAfter, ValidationErrors</code>
/// <para>When does the certificate expire, and does anything in its chain expire sooner?</para>
/// </example>
/// <example>
/// <code>Get-IncidentOpsService | ForEach-Object Health | ForEach-Object Url | Get-ServiceCertificate | Where-Object { $_.ChainDaysRemaining -lt 14 }</code>
/// <para>Every configured endpoint whose chain expires within two weeks.</para>
/// </example>
[Cmdlet(VerbsCommon.Get, "ServiceCertificate")]
[OutputType(typeof(CertificateFacts))]
public sealed class GetServiceCertificateCommand : IncidentReadCmdlet
{
    /// <summary>Endpoints: host, host:port (443 by default) or an https:// URI. Binds from the Uri property of piped objects.</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [Alias("Uri", "ComputerName")]
    [ValidateNotNullOrEmpty]
    public string[] Target { get; set; } = [];

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
        foreach (var raw in Target)
        {
            (string Host, int Port) target;
            try { target = CertificateService.ParseTarget(raw); }
            catch (IncidentOpsException ex) { WriteError(ToErrorRecord(ex, raw)); continue; }
            if (TryInvoke(ct => Engine.Certificates.GetAsync(target.Host, target.Port, ServerName, TimeSpan.FromSeconds(TimeoutSec), ct, _trust), out var facts, raw))
            {
                WriteObject(facts);
                RecordRead(raw, "Read certificate", facts.ToString());
            }
        }
    }
}
