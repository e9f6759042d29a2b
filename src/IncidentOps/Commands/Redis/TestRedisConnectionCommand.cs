using System.Management.Automation;
using IncidentOps.Redis;

namespace IncidentOps.Commands;

/// <summary>Tests that Redis answers PING, and measures the round trip.</summary>
/// <remarks>
/// The redis-cli ping step of the runbooks. For each endpoint it connects (within -TimeoutSec), sends
/// -Count PINGs and returns whether it is reachable, the minimum, median (p50) and maximum latency in
/// milliseconds, the server's role and version, and the reason when it cannot be reached (refused,
/// timed out, authentication failed). An unreachable Redis is a result, not an error. With -Quiet it
/// returns only $true when every endpoint answered. No admin commands are sent. The table shows
/// Reachable, Endpoint, the median latency, Role and the Reason, which gets the rest of the line;
/// Format-List * shows every property (minimum and maximum latency, TLS, version, when it was tested).
/// </remarks>
/// <example>
/// <code>Test-RedisConnection -ConnectionString $env:REDIS_URL -Count 10</code>
/// <para>Pings the Redis of the seeds ten times and shows reachability, median latency, role and, when it cannot be reached, why.</para>
/// </example>
/// <example>
/// <code>if (-not (Test-RedisConnection -Service production/portfolio -Quiet)) { Write-Warning 'Redis is down' }</code>
/// <para>Checks the configured service's Redis in a script.</para>
/// </example>
/// <example>
/// <code>Get-IncidentOpsService -Environment production | Where-Object Redis | Test-RedisConnection</code>
/// <para>Tests every production service that has a Redis.</para>
/// </example>
[Cmdlet(VerbsDiagnostic.Test, "RedisConnection", DefaultParameterSetName = ConnectionSet)]
[OutputType(typeof(RedisConnectionTest), typeof(bool))]
public sealed class TestRedisConnectionCommand : RedisReadCmdlet
{
    /// <summary>Number of PINGs to send to each endpoint (latency statistics are over these). Default 4.</summary>
    [Parameter]
    [ValidateRange(1, 1000)]
    public int Count { get; set; } = 4;

    /// <summary>Return only $true when every endpoint answered, otherwise $false.</summary>
    [Parameter]
    public SwitchParameter Quiet { get; set; }

    protected override void ProcessRecord()
    {
        foreach (var request in Requests())
        {
            if (!TryInvoke(ct => Engine.Redis.TestAsync(request, Count, ct), out var results, request.ToString())) continue;
            RecordRead(request.ToString(), "Test connection", string.Join("; ", results));
            if (Quiet) WriteObject(results.Count > 0 && results.All(r => r.Reachable));
            else WriteObject(results, enumerateCollection: true);
        }
    }
}
