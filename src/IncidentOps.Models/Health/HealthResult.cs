namespace IncidentOps.Health;

/// <summary>Why a probe was unhealthy, as a value a script can switch on.</summary>
public enum HealthFailureKind
{
    None,
    Timeout,
    ConnectionRefused,
    ConnectionFailed,
    DnsFailure,
    TlsFailure,
    UnexpectedStatus,
    ConditionFailed,
    ProtocolError,
}

/// <summary>
/// One health probe's outcome (or, with -Count, the aggregate of N probes of one target). An unhealthy
/// target is data, not an error: Healthy is false and Reason says why in words.
/// </summary>
public sealed class HealthResult
{
    public required string Uri { get; init; }
    /// <summary>environment/service when the target came from the configuration.</summary>
    public string? Service { get; init; }
    public bool Healthy { get; init; }
    public int? StatusCode { get; init; }
    public string? Reason { get; init; }
    public HealthFailureKind FailureKind { get; init; }
    public string? Method { get; init; }

    /// <summary>Name resolution time (0 for IP literals and reused connections).</summary>
    public double DnsMs { get; init; }
    /// <summary>TCP connect time.</summary>
    public double ConnectMs { get; init; }
    /// <summary>TLS handshake time (0 for plain HTTP).</summary>
    public double TlsMs { get; init; }
    /// <summary>From the request being sent (connection ready) to the response headers: the server's wait.</summary>
    public double TimeToFirstByteMs { get; init; }
    /// <summary>Everything, body included, summed over redirects.</summary>
    public double TotalMs { get; init; }
    public int RedirectCount { get; init; }
    /// <summary>The final URI after redirects.</summary>
    public string? FinalUri { get; init; }
    public string? RemoteAddress { get; init; }
    public string? HttpVersion { get; init; }
    public string? ContentType { get; init; }
    public IReadOnlyDictionary<string, string> Headers { get; init; } = new Dictionary<string, string>();
    /// <summary>The parsed JSON body (hashtables and arrays) when the body is JSON; otherwise null.</summary>
    public object? Body { get; init; }
    /// <summary>The body text (first 64 KiB).</summary>
    public string? BodyText { get; init; }
    /// <summary>Component statuses found in a JSON body (services/components/checks/details maps), as seed 000's /health/services lists them.</summary>
    public IReadOnlyList<HealthComponent> Components { get; init; } = [];
    public CertificateFacts? Certificate { get; init; }
    /// <summary>Each condition with its outcome.</summary>
    public IReadOnlyList<ConditionResult> Conditions { get; init; } = [];

    /// <summary>With -Count: number of probes, successes, ratio and latency spread; every failure reason.</summary>
    public int Samples { get; init; } = 1;
    public int Successes { get; init; }
    public double SuccessRatio => Samples == 0 ? 0 : (double)Successes / Samples;
    public double MinMs { get; init; }
    public double P50Ms { get; init; }
    public double P95Ms { get; init; }
    public double MaxMs { get; init; }
    public IReadOnlyList<string> Failures { get; init; } = [];

    public DateTimeOffset Timestamp { get; init; } = DateTimeOffset.UtcNow;
    /// <summary>The underlying exception message when the request itself failed; Reason says it in plain words ("connection refused", "no TLS (try http://)"), and -Verbose writes both.</summary>
    public string? Error { get; init; }

    public override string ToString() => $"{Uri} {(Healthy ? "healthy" : "unhealthy: " + Reason)}";
}

/// <summary>A component status from a JSON health body.</summary>
public sealed class HealthComponent
{
    public required string Name { get; init; }
    public string? Status { get; init; }
    public bool Healthy { get; init; }
    /// <summary>What the component said about itself beside its status (error, message, output, reason or description), credentials masked: why "down" is down.</summary>
    public string? Detail { get; init; }
    public override string ToString() => Detail is null ? $"{Name}: {Status}" : $"{Name}: {Status} ({Detail})";
}

/// <summary>A Gatus-style condition and whether it held.</summary>
public sealed class ConditionResult
{
    public required string Condition { get; init; }
    public bool Success { get; init; }
    /// <summary>The value the placeholder resolved to.</summary>
    public string? Actual { get; init; }
    public override string ToString() => $"{(Success ? "ok" : "FAILED")} {Condition} (actual: {Actual})";
}

/// <summary>What a TLS endpoint presented.</summary>
public sealed class CertificateFacts
{
    /// <summary>The host (SNI name) and port asked, when fetched by Get-ServiceCertificate.</summary>
    public string? Host { get; init; }
    public int? Port { get; init; }
    public required string Subject { get; init; }
    public required string Issuer { get; init; }
    public string[] SubjectAlternativeNames { get; init; } = [];
    public DateTimeOffset NotBefore { get; init; }
    /// <summary>The leaf certificate's expiry.</summary>
    public DateTimeOffset NotAfter { get; init; }
    public double DaysRemaining { get; init; }
    public string? Thumbprint { get; init; }
    /// <summary>The earliest expiry anywhere in the chain (an intermediate can expire before the leaf).</summary>
    public DateTimeOffset ChainNotAfter { get; init; }
    public double ChainDaysRemaining { get; init; }
    /// <summary>Subject of the chain certificate that expires first.</summary>
    public string? ChainExpiresFirst { get; init; }
    public IReadOnlyList<ChainCertificate> Chain { get; init; } = [];
    /// <summary>Validation errors (SslPolicyErrors and chain status), empty when the chain is trusted.</summary>
    public string[] ValidationErrors { get; init; } = [];
    public bool HostnameMatches { get; init; }
    public string? Protocol { get; init; }
    public override string ToString() => $"{Subject} (expires {NotAfter:yyyy-MM-dd}, {DaysRemaining:F1} days)";
}

/// <summary>One certificate of a presented chain.</summary>
public sealed class ChainCertificate
{
    public required string Subject { get; init; }
    public required string Issuer { get; init; }
    public DateTimeOffset NotAfter { get; init; }
    public string? Thumbprint { get; init; }
    public override string ToString() => $"{Subject} (expires {NotAfter:yyyy-MM-dd})";
}

/// <summary>What ends a watch besides its duration.</summary>
public enum WatchUntil
{
    None,
    Healthy,
    Unhealthy,
}

/// <summary>The end of Watch-ServiceHealth: how many samples, how many failed, and the longest outage.</summary>
public sealed class HealthWatchSummary
{
    /// <summary>The targets watched.</summary>
    public string[] Uri { get; init; } = [];
    public int Rounds { get; init; }
    public int Samples { get; init; }
    public int Failures { get; init; }
    public double SuccessRatio => Samples == 0 ? 0 : (double)(Samples - Failures) / Samples;
    public DateTimeOffset? FirstFailure { get; init; }
    public DateTimeOffset? LastFailure { get; init; }
    /// <summary>Longest run of rounds with any unhealthy target, from its first failed round to the next healthy one (or the end).</summary>
    public TimeSpan LongestOutage { get; init; }
    /// <summary>Whether every target was healthy in the last round.</summary>
    public bool Healthy { get; init; }
    /// <summary>Why the watch ended: Duration, UntilHealthy, UntilUnhealthy.</summary>
    public string? StopReason { get; init; }
    public DateTimeOffset Started { get; init; }
    public TimeSpan Elapsed { get; init; }
    public override string ToString() => $"{Samples} samples, {Failures} failed, longest outage {LongestOutage}, ended by {StopReason}";
}
