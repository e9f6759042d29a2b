namespace IncidentOps.Engine.Redis;

/// <summary>The error ids of the Redis area: part of the contract (scripts match FullyQualifiedErrorId), so they are constants, and ErrorIdCoverageTests asserts every one in a test.</summary>
public static class RedisErrorIds
{
    /// <summary>The service has no redis setting in the configuration.</summary>
    public const string RedisNotConfigured = "RedisNotConfigured";

    /// <summary>No Redis was named (no -ConnectionString, -Service or $env:REDIS_URL).</summary>
    public const string RedisTargetMissing = "RedisTargetMissing";

    /// <summary>The connection string or redis:// URL cannot be read.</summary>
    public const string RedisConnectionStringInvalid = "RedisConnectionStringInvalid";

    /// <summary>The server could not be reached or refused the connection.</summary>
    public const string RedisConnectionFailed = "RedisConnectionFailed";

    /// <summary>The server refused the credentials.</summary>
    public const string RedisAuthenticationFailed = "RedisAuthenticationFailed";

    /// <summary>One command got no answer within its limit.</summary>
    public const string RedisTimeout = "RedisTimeout";

    /// <summary>The server answered a command with an error.</summary>
    public const string RedisCommandFailed = "RedisCommandFailed";

    /// <summary>Test-RedisConnection -Count is below one.</summary>
    public const string RedisCountInvalid = "RedisCountInvalid";

    /// <summary>A flush was sent to a replica (flush the primary).</summary>
    public const string RedisIsReplica = "RedisIsReplica";

    /// <summary>A connection string names several endpoints where one is needed.</summary>
    public const string RedisEndpointAmbiguous = "RedisEndpointAmbiguous";

    /// <summary>Clear-RedisDatabase got both -Database and -AllDatabases.</summary>
    public const string RedisFlushScopeConflict = "RedisFlushScopeConflict";

    /// <summary>A flush was sent to one master of a Redis Cluster with several: it would empty only that node's slots.</summary>
    public const string RedisClusterFlushPartial = "RedisClusterFlushPartial";

    /// <summary>
    /// A flush was sent but did not answer within -TimeoutSec: it may still complete on the server (a large keyspace takes
    /// a while), so it is reported neither as done nor as failed. Check the key count before acting again.
    /// </summary>
    public const string RedisFlushUnconfirmed = "RedisFlushUnconfirmed";

    /// <summary>-CaCertificate or redis.caCertificate names no readable certificate.</summary>
    public const string RedisCaCertificateInvalid = "RedisCaCertificateInvalid";
}
