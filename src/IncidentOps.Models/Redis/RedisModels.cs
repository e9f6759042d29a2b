using System.Globalization;
using System.Net;
using IncidentOps.Config;

namespace IncidentOps.Redis;

/// <summary>INFO sections Get-RedisInfo returns as typed objects.</summary>
public enum RedisInfoSection { All, Server, Clients, Memory, Persistence, Stats, Replication, Keyspace }

/// <summary>
/// Which Redis to talk to: a connection string (StackExchange.Redis form, or a redis:// / rediss:// URL),
/// or a configured service's redis value; optionally a credential that overrides the one in the string.
/// ToString() never shows the password.
/// </summary>
public sealed class RedisConnectionRequest
{
    /// <summary>host:port[,option=value...] or redis://user:password@host:port/db (rediss:// for TLS).</summary>
    public string? ConnectionString { get; init; }

    /// <summary>A configured service whose redis value is used when ConnectionString is not given.</summary>
    public ServiceTarget? Service { get; init; }

    /// <summary>User name and password; override what the connection string carries.</summary>
    public NetworkCredential? Credential { get; init; }

    /// <summary>Connect and command timeout.</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>The CA certificate(s) to trust for a TLS Redis (path of a PEM or DER file); overrides the service's redis.caCertificate.</summary>
    public string? CaCertificate { get; init; }

    /// <summary>Connect over TLS without checking the server's certificate (a private CA nobody gave you, in an emergency).</summary>
    public bool SkipCertificateCheck { get; init; }

    public override string ToString() => Service is not null && ConnectionString is null
        ? $"redis of {Service.FullName}"
        : SecretRedactor.Redact(ConnectionString ?? "(none)");
}

/// <summary>Result of Test-RedisConnection for one endpoint: an unreachable Redis is data, not an error.</summary>
public sealed class RedisConnectionTest
{
    /// <summary>host:port tested.</summary>
    public required string Endpoint { get; init; }
    /// <summary>environment/service when the endpoint came from the configuration.</summary>
    public string? Service { get; init; }
    public bool Reachable { get; init; }
    public bool Tls { get; init; }
    /// <summary>PINGs sent and answered.</summary>
    public int Count { get; init; }
    public int Answered { get; init; }
    public double? LatencyMinMs { get; init; }
    public double? LatencyP50Ms { get; init; }
    public double? LatencyMaxMs { get; init; }
    /// <summary>master, slave/replica, sentinel...</summary>
    public string? Role { get; init; }
    public string? Version { get; init; }
    /// <summary>Why the endpoint is unreachable (refused, timed out, authentication failed...); on a reachable endpoint, what is wrong all the same (the password given was refused by a server that needs none).</summary>
    public string? Reason { get; init; }
    /// <summary>The client library's own text for the failure, when Reason puts it in plain words ("TLS expected by server", "not a Redis server"); also written with -Verbose.</summary>
    public string? Detail { get; init; }
    public DateTimeOffset TestedAt { get; init; } = DateTimeOffset.UtcNow;

    public override string ToString() => Reachable
        ? $"{Endpoint} reachable ({Role} {Version}, p50 {LatencyP50Ms:0.###} ms)"
        : $"{Endpoint} unreachable: {Reason}";
}

/// <summary>Common shape of every INFO section object: the endpoint, the section and every field as text.</summary>
public abstract class RedisInfo
{
    public required string Endpoint { get; init; }
    public abstract RedisInfoSection Section { get; }
    /// <summary>Every field of the section as Redis sent it (name → text), including those without a typed property.</summary>
    public IReadOnlyDictionary<string, string> Fields { get; init; } = new Dictionary<string, string>();

    /// <summary>Formats a byte count the way redis-cli's *_human fields do (1.50M, 2.00G).</summary>
    public static string FormatBytes(long bytes)
    {
        string[] units = ["B", "K", "M", "G", "T", "P"];
        double value = bytes;
        var unit = 0;
        while (Math.Abs(value) >= 1024 && unit < units.Length - 1) { value /= 1024; unit++; }
        return unit == 0 ? $"{bytes}B" : value.ToString("0.00", CultureInfo.InvariantCulture) + units[unit];
    }
}

/// <summary>INFO server.</summary>
public sealed class RedisServerInfo : RedisInfo
{
    public override RedisInfoSection Section => RedisInfoSection.Server;
    public string? Version { get; init; }
    public string? Mode { get; init; }
    public string? OS { get; init; }
    public long? ProcessId { get; init; }
    public int? TcpPort { get; init; }
    public long? UptimeSeconds { get; init; }
    public TimeSpan? Uptime => UptimeSeconds is { } s ? TimeSpan.FromSeconds(s) : null;
    /// <summary>Uptime as "3d 04:05:06".</summary>
    public string? UptimeHuman => Uptime is { } u ? $"{(int)u.TotalDays}d {u.Hours:00}:{u.Minutes:00}:{u.Seconds:00}" : null;
    public string? ConfigFile { get; init; }
    public override string ToString() => $"{Endpoint} redis {Version} ({Mode}), up {UptimeHuman}";
}

/// <summary>INFO clients.</summary>
public sealed class RedisClientsInfo : RedisInfo
{
    public override RedisInfoSection Section => RedisInfoSection.Clients;
    public long? ConnectedClients { get; init; }
    public long? BlockedClients { get; init; }
    public long? MaxClients { get; init; }
    public long? TrackingClients { get; init; }
    public long? ClientRecentMaxInputBuffer { get; init; }
    public long? ClientRecentMaxOutputBuffer { get; init; }
    public override string ToString() => $"{Endpoint} {ConnectedClients} connected, {BlockedClients} blocked";
}

/// <summary>INFO memory, with the figures an incident needs and their human forms.</summary>
public sealed class RedisMemoryInfo : RedisInfo
{
    public override RedisInfoSection Section => RedisInfoSection.Memory;
    public long? UsedMemory { get; init; }
    public string? UsedMemoryHuman { get; init; }
    public long? UsedMemoryRss { get; init; }
    public string? UsedMemoryRssHuman { get; init; }
    public long? UsedMemoryPeak { get; init; }
    public string? UsedMemoryPeakHuman { get; init; }
    /// <summary>0 means no limit.</summary>
    public long? MaxMemory { get; init; }
    public string? MaxMemoryHuman { get; init; }
    public string? EvictionPolicy { get; init; }
    public double? FragmentationRatio { get; init; }
    /// <summary>From INFO stats (evicted_keys), carried here because it answers the memory question.</summary>
    public long? EvictedKeys { get; init; }
    /// <summary>UsedMemory / MaxMemory in percent; null when no maxmemory is set.</summary>
    public double? UsedPercentOfMax => MaxMemory is > 0 && UsedMemory is { } u ? Math.Round(100.0 * u / MaxMemory.Value, 1) : null;
    public override string ToString() => $"{Endpoint} used {UsedMemoryHuman} of {(MaxMemory is > 0 ? MaxMemoryHuman : "unlimited")} ({EvictionPolicy})";
}

/// <summary>INFO persistence.</summary>
public sealed class RedisPersistenceInfo : RedisInfo
{
    public override RedisInfoSection Section => RedisInfoSection.Persistence;
    public bool? Loading { get; init; }
    public long? ChangesSinceLastSave { get; init; }
    public bool? BgSaveInProgress { get; init; }
    public DateTimeOffset? LastSaveTime { get; init; }
    public string? LastBgSaveStatus { get; init; }
    public bool? AofEnabled { get; init; }
    public bool? AofRewriteInProgress { get; init; }
    public string? LastAofWriteStatus { get; init; }
    public override string ToString() => $"{Endpoint} last save {LastSaveTime:u} ({LastBgSaveStatus}), aof {(AofEnabled == true ? "on" : "off")}";
}

/// <summary>INFO stats.</summary>
public sealed class RedisStatsInfo : RedisInfo
{
    public override RedisInfoSection Section => RedisInfoSection.Stats;
    public long? TotalConnectionsReceived { get; init; }
    public long? TotalCommandsProcessed { get; init; }
    public double? InstantaneousOpsPerSec { get; init; }
    public long? RejectedConnections { get; init; }
    public long? ExpiredKeys { get; init; }
    public long? EvictedKeys { get; init; }
    public long? KeyspaceHits { get; init; }
    public long? KeyspaceMisses { get; init; }
    /// <summary>Hits / (hits + misses) in percent; null before any lookup.</summary>
    public double? HitRatePercent => KeyspaceHits is { } h && KeyspaceMisses is { } m && h + m > 0 ? Math.Round(100.0 * h / (h + m), 1) : null;
    public override string ToString() => $"{Endpoint} {InstantaneousOpsPerSec} ops/s, hit rate {HitRatePercent}%, evicted {EvictedKeys}";
}

/// <summary>INFO replication.</summary>
public sealed class RedisReplicationInfo : RedisInfo
{
    public override RedisInfoSection Section => RedisInfoSection.Replication;
    public string? Role { get; init; }
    public long? ConnectedReplicas { get; init; }
    /// <summary>ip:port,state=...,offset=...,lag=... of each replica (on a master).</summary>
    public string[] Replicas { get; init; } = [];
    public string? MasterHost { get; init; }
    public int? MasterPort { get; init; }
    public string? MasterLinkStatus { get; init; }
    public long? MasterLastIoSecondsAgo { get; init; }
    public long? MasterReplOffset { get; init; }
    public override string ToString() => Role == "master" ? $"{Endpoint} master with {ConnectedReplicas} replicas" : $"{Endpoint} {Role} of {MasterHost}:{MasterPort} ({MasterLinkStatus})";
}

/// <summary>One database of INFO keyspace (db0:keys=1,expires=0,avg_ttl=0).</summary>
public sealed class RedisKeyspaceInfo : RedisInfo
{
    public override RedisInfoSection Section => RedisInfoSection.Keyspace;
    public int Database { get; init; }
    public long Keys { get; init; }
    public long Expires { get; init; }
    /// <summary>Average TTL of the keys with an expiry, in milliseconds (as Redis reports it).</summary>
    public long AvgTtlMs { get; init; }
    public TimeSpan AvgTtl => TimeSpan.FromMilliseconds(AvgTtlMs);
    /// <summary>True on the one row Get-RedisInfo writes for a server with no keys at all (INFO keyspace lists no database): Keys is 0 in every database.</summary>
    public bool Empty { get; init; }
    public override string ToString() => Empty ? $"{Endpoint}: keyspace empty (no keys in any database)" : $"{Endpoint} db{Database}: {Keys} keys, {Expires} expiring";
}

/// <summary>One SLOWLOG entry.</summary>
public sealed class RedisSlowLogEntry
{
    public required string Endpoint { get; init; }
    public long Id { get; init; }
    public DateTimeOffset Time { get; init; }
    public TimeSpan Duration { get; init; }
    public double DurationMs => Duration.TotalMilliseconds;
    /// <summary>The command and its arguments as Redis logged them (Redis truncates long ones).</summary>
    public string[] Arguments { get; init; } = [];
    public string Command => Arguments.Length == 0 ? "" : string.Join(' ', Arguments);
    public override string ToString() => $"{Time:u} {DurationMs:0.###} ms {Command}";
}

/// <summary>One connection from CLIENT LIST.</summary>
public sealed class RedisClient
{
    public required string Endpoint { get; init; }
    public long Id { get; init; }
    public string? Address { get; init; }
    public string? Name { get; init; }
    public int Database { get; init; }
    public TimeSpan Age { get; init; }
    public TimeSpan Idle { get; init; }
    public string? LastCommand { get; init; }
    public string? Flags { get; init; }
    public string? LibraryName { get; init; }
    public override string ToString() => $"{Id} {Address} {Name} db{Database} idle {Idle}";
}

/// <summary>Outcome of Clear-RedisDatabase: which database was flushed and the key counts around it.</summary>
public sealed class RedisFlushResult
{
    public required string Endpoint { get; init; }
    /// <summary>The database flushed; null with AllDatabases.</summary>
    public int? Database { get; init; }
    public bool AllDatabases { get; init; }
    public bool Async { get; init; }
    /// <summary>The command sent (FLUSHDB, FLUSHDB ASYNC, FLUSHALL...).</summary>
    public required string Command { get; init; }
    public long KeysBefore { get; init; }
    /// <summary>Keys left after the flush; null when the flush was answered OK but the keys left could not be counted.</summary>
    public long? KeysAfter { get; init; }
    /// <summary>KeysBefore less KeysAfter; null when KeysAfter is not known.</summary>
    public long? KeysRemoved => KeysAfter is { } after ? Math.Max(0, KeysBefore - after) : null;
    public override string ToString() => $"{Command} on {Endpoint}{(AllDatabases ? "" : $" db{Database}")}: {KeysBefore} -> {KeysAfter?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "(not counted)"} keys";
}
