using System.Management.Automation;
using IncidentOps.Redis;

namespace IncidentOps.Commands;

/// <summary>Gets the Redis slow log.</summary>
/// <remarks>
/// Runs SLOWLOG GET and returns one object per entry, newest first: id, time (UTC), duration and the
/// command with its arguments as Redis logged them. Commands slower than the server's
/// slowlog-log-slower-than setting are logged.
/// </remarks>
/// <example>
/// <code>Get-RedisSlowLog -ConnectionString $env:REDIS_URL -Count 20 | Where-Object DurationMs -gt 100</code>
/// <para>Shows the recent commands that took longer than 100 ms.</para>
/// </example>
[Cmdlet(VerbsCommon.Get, "RedisSlowLog", DefaultParameterSetName = ConnectionSet)]
[OutputType(typeof(RedisSlowLogEntry))]
public sealed class GetRedisSlowLogCommand : RedisReadCmdlet
{
    /// <summary>Number of entries to return (newest first). Default 10. -Top works too, as on Get-PgSlowQuery.</summary>
    [Parameter(Position = 0)]
    [Alias("Top")]
    [ValidateRange(1, 10000)]
    public int Count { get; set; } = 10;

    protected override void ProcessRecord()
    {
        foreach (var request in Requests())
            if (TryInvoke(ct => Engine.Redis.GetSlowLogAsync(request, Count, ct), out var results, request.ToString()))
            {
                WriteObject(results, enumerateCollection: true);
                RecordRead(request.ToString(), "Read slow log", ReadSummary.Count(results.Count, "slow log entry", "slow log entries"));
            }
    }
}
