namespace IncidentOps.Engine.Health;

/// <summary>The error ids of the Health area: part of the contract (scripts match FullyQualifiedErrorId), so they are constants, and ErrorIdCoverageTests asserts every one in a test.</summary>
public static class HealthErrorIds
{
    /// <summary>A -Uri (or configured health URL) is not an absolute http(s) URI.</summary>
    public const string HealthUriInvalid = "HealthUriInvalid";

    /// <summary>A -Condition cannot be parsed.</summary>
    public const string HealthConditionInvalid = "HealthConditionInvalid";

    /// <summary>A configured service has no health endpoints.</summary>
    public const string HealthEndpointNotConfigured = "HealthEndpointNotConfigured";

    /// <summary>-UntilHealthy and -UntilUnhealthy were both given.</summary>
    public const string HealthWatchConflictingStop = "HealthWatchConflictingStop";

    /// <summary>Watch-ServiceHealth -Interval is under 10 ms.</summary>
    public const string HealthWatchIntervalTooShort = "HealthWatchIntervalTooShort";

    /// <summary>Watch-ServiceHealth -Duration is zero.</summary>
    public const string HealthWatchDurationNotPositive = "HealthWatchDurationNotPositive";

    /// <summary>Test-ServiceHealth got both -Interval and -IntervalMs.</summary>
    public const string HealthIntervalConflict = "HealthIntervalConflict";

    /// <summary>Get-ServiceCertificate's target is not host, host:port or an https URI.</summary>
    public const string CertificateTargetInvalid = "CertificateTargetInvalid";

    /// <summary>The certificate could not be read (connection or handshake failed).</summary>
    public const string CertificateFetchFailed = "CertificateFetchFailed";

    /// <summary>No DNS server is configured on this machine and -Server was not given.</summary>
    public const string DnsServerNotFound = "DnsServerNotFound";

    /// <summary>-Server is not host, host:port or [ipv6]:port.</summary>
    public const string DnsServerInvalid = "DnsServerInvalid";

    /// <summary>The DNS server did not answer or the query failed.</summary>
    public const string DnsQueryFailed = "DnsQueryFailed";

    /// <summary>-CaCertificate or a health endpoint's caCertificate names no readable certificate.</summary>
    public const string HealthCaCertificateInvalid = "HealthCaCertificateInvalid";

    /// <summary>A name given to Resolve-ServiceDns is not a host name or URI.</summary>
    public const string DnsNameInvalid = "DnsNameInvalid";
}
