using System.Management.Automation;
using IncidentOps.Redis;

namespace IncidentOps.Commands;

/// <summary>Gets Redis INFO sections as typed objects.</summary>
/// <remarks>
/// The redis-cli info memory / info keyspace steps, as objects: numbers are numbers, with the human
/// forms (UsedMemoryHuman, MaxMemoryHuman, UptimeHuman) alongside, and every raw field in Fields.
/// Memory carries UsedMemory, MaxMemory, FragmentationRatio, EvictionPolicy and EvictedKeys, and a
/// warning is written when usage is above 85% of maxmemory. Keyspace returns one object per database
/// (Keys, Expires, AvgTtl). A Redis that cannot be reached is an error (RedisConnectionFailed).
/// </remarks>
/// <example>
/// <code>Get-RedisInfo memory -ConnectionString $env:REDIS_URL</code>
/// <para>Shows memory use, the limit, fragmentation, eviction policy and evicted keys.</para>
/// </example>
/// <example>
/// <code>Get-RedisInfo -Section Keyspace | Where-Object Keys -gt 0</code>
/// <para>Lists the non-empty databases of the Redis named by $env:REDIS_URL.</para>
/// </example>
[Cmdlet(VerbsCommon.Get, "RedisInfo", DefaultParameterSetName = ConnectionSet)]
[OutputType(typeof(RedisServerInfo), typeof(RedisClientsInfo), typeof(RedisMemoryInfo), typeof(RedisPersistenceInfo),
    typeof(RedisStatsInfo), typeof(RedisReplicationInfo), typeof(RedisKeyspaceInfo))]
public sealed class GetRedisInfoCommand : RedisReadCmdlet
{
    /// <summary>Sections to return: Server, Clients, Memory, Persistence, Stats, Replication, Keyspace, or All (the default).</summary>
    [Parameter(Position = 0)]
    public RedisInfoSection[] Section { get; set; } = [RedisInfoSection.All];

    protected override void ProcessRecord()
    {
        foreach (var request in Requests())
            if (TryInvoke(ct => Engine.Redis.GetInfoAsync(request, Section, ct), out var results, request.ToString()))
            {
                WriteObject(results, enumerateCollection: true);
                RecordRead(request.ToString(), "Read INFO", string.Join("; ", results.Where(r => r.Section is RedisInfoSection.Server or RedisInfoSection.Memory or RedisInfoSection.Clients)));
            }
    }
}
