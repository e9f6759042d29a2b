using System.Management.Automation;
using IncidentOps.Redis;

namespace IncidentOps.Commands;

/// <summary>Gets the clients connected to Redis.</summary>
/// <remarks>
/// Runs CLIENT LIST and returns one object per connection: id, address, name, database, age, idle
/// time, last command, flags and client library. Useful when connected_clients climbs towards
/// maxclients or a worker holds blocking calls.
/// </remarks>
/// <example>
/// <code>Get-RedisClient -ConnectionString $env:REDIS_URL | Where-Object { $_.Idle -gt [TimeSpan]::FromMinutes(10) }</code>
/// <para>Lists connections idle for more than ten minutes.</para>
/// </example>
[Cmdlet(VerbsCommon.Get, "RedisClient", DefaultParameterSetName = ConnectionSet)]
[OutputType(typeof(RedisClient))]
public sealed class GetRedisClientCommand : RedisReadCmdlet
{
    protected override void ProcessRecord()
    {
        foreach (var request in Requests())
            if (TryInvoke(ct => Engine.Redis.GetClientsAsync(request, ct), out var results, request.ToString()))
            {
                WriteObject(results, enumerateCollection: true);
                RecordRead(request.ToString(), "Read clients", ReadSummary.Count(results.Count, "client"));
            }
    }
}
