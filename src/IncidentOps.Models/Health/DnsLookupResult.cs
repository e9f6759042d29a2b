namespace IncidentOps.Health;

/// <summary>Record types Resolve-ServiceDns asks for.</summary>
public enum DnsRecordType
{
    A,
    AAAA,
    CNAME,
    NS,
    MX,
    TXT,
}

/// <summary>One name and type looked up: the answers with their TTLs, the response code and how long it took.</summary>
public sealed class DnsLookupResult
{
    public required string Name { get; init; }
    public DnsRecordType Type { get; init; }
    /// <summary>The DNS response code as dig names it: NoError, NXDomain, ServFail, Refused, FormErr, NotImp...</summary>
    public string Status { get; init; } = "NoError";
    public IReadOnlyList<DnsAnswer> Answers { get; init; } = [];
    /// <summary>The server that answered (address:port).</summary>
    public string? Server { get; init; }
    public double ElapsedMs { get; init; }
    public DateTimeOffset Timestamp { get; init; } = DateTimeOffset.UtcNow;
    public override string ToString() => $"{Name} {Type} {Status}: {string.Join(", ", Answers)}";
}

/// <summary>One answer record.</summary>
public sealed class DnsAnswer
{
    public required string Name { get; init; }
    /// <summary>A, AAAA, CNAME, NS, MX, TXT (or another type a resolver returned along the way).</summary>
    public required string Type { get; init; }
    public int Ttl { get; init; }
    /// <summary>The address, target name, or text.</summary>
    public required string Value { get; init; }
    /// <summary>MX preference.</summary>
    public int? Preference { get; init; }
    public override string ToString() => Preference is { } p ? $"{p} {Value} (ttl {Ttl})" : $"{Value} (ttl {Ttl})";
}
