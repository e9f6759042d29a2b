using IncidentOps.Engine.Health;

namespace IncidentOps.Engine;

public sealed partial class IncidentOpsEngine
{
    /// <summary>HTTP health probes with phase timings, conditions and certificate facts.</summary>
    public HealthService Health => _health ??= new HealthService(Sink, References);
    private HealthService? _health;

    /// <summary>DNS lookups with TTLs and timing.</summary>
    public DnsService Dns => _dns ??= new DnsService(Sink);
    private DnsService? _dns;

    /// <summary>TLS certificate chains of host:port endpoints.</summary>
    public CertificateService Certificates => _certificates ??= new CertificateService(Sink);
    private CertificateService? _certificates;
}
