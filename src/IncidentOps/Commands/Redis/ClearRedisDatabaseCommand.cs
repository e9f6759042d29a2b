using IncidentOps.Engine.Redis;
using System.Management.Automation;
using IncidentOps.Redis;

namespace IncidentOps.Commands;

/// <summary>Removes every key of a Redis database (FLUSHDB), after confirmation.</summary>
/// <remarks>
/// The "FLUSHDB if corrupted" step of the runbooks, guarded. It first counts the keys that would go
/// (DBSIZE), then asks for confirmation (ConfirmImpact High) showing the exact command, the endpoint,
/// the database and the key count; -WhatIf shows the same and changes nothing. -Async sends FLUSHDB
/// ASYNC. FLUSHALL (every database) is sent only with an explicit -AllDatabases. The result carries the
/// key count before and after. When an incident is active (or -Incident is given) the flush, its
/// outcome and the command are recorded on the incident's timeline. -Force skips the prompt for scripts. A replica
/// (RedisIsReplica) and one master of a Redis Cluster with several (RedisClusterFlushPartial: the flush would empty only
/// that node's slots) are refused before the prompt, and under -WhatIf too. A flush that was sent but did not answer within
/// -TimeoutSec is RedisFlushUnconfirmed (category ResourceBusy), not a failure: it may still complete on the server, so
/// check the key count (Get-RedisInfo Keyspace) before running it again; the timeline entry says the same (outcome Info).
/// </remarks>
/// <example>
/// <code>Clear-RedisDatabase -ConnectionString $env:REDIS_URL -Database 2 -WhatIf</code>
/// <para>Shows how many keys FLUSHDB would remove from database 2, without removing anything.</para>
/// </example>
/// <example>
/// <code>Clear-RedisDatabase -Service production/portfolio -Database 0 -Async -Force</code>
/// <para>Flushes database 0 of the service's Redis in the background, without a prompt, and records it on the active incident.</para>
/// </example>
[Cmdlet(VerbsCommon.Clear, "RedisDatabase", DefaultParameterSetName = ConnectionSet, SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.High)]
[OutputType(typeof(RedisFlushResult))]
public sealed class ClearRedisDatabaseCommand : RedisCmdlet, IForceSwitch
{
    /// <summary>Database number to flush. Defaults to the connection string's database, else 0.</summary>
    [Parameter(Position = 0)]
    [ValidateRange(0, 100000)]
    public int? Database { get; set; }

    /// <summary>Flush in the background on the server (FLUSHDB ASYNC / FLUSHALL ASYNC).</summary>
    [Parameter]
    public SwitchParameter Async { get; set; }

    /// <summary>Flush every database (FLUSHALL). Never implied: it must be given explicitly.</summary>
    [Parameter]
    public SwitchParameter AllDatabases { get; set; }

    /// <summary>Skip the confirmation prompt (for scripts). -WhatIf still wins.</summary>
    [Parameter]
    public SwitchParameter Force { get; set; }

    protected override void BeginProcessing()
    {
        if (AllDatabases && Database is not null)
            ThrowInputError(RedisErrorIds.RedisFlushScopeConflict, $"-Database {Database} and -AllDatabases contradict each other. Pass -Database N to flush one database, or -AllDatabases alone for FLUSHALL.", Database);
        base.BeginProcessing();
    }

    protected override void ProcessRecord()
    {
        foreach (var request in Requests())
        {
            StartTargetDeadline();
            if (!TryInvoke(ct => Engine.Redis.PlanFlushAsync(request, Database, AllDatabases, Async, ct), out var plan, request.ToString())) continue;
            var target = plan.AllDatabases ? $"Redis {plan.Endpoint} (all databases)" : $"Redis {plan.Endpoint} db {plan.Database}";
            var detail = $"{plan.Command} ({plan.Describe()})";
            if (TryChange(target, plan.AllDatabases ? "Flush all databases" : "Flush database", detail,
                    ct => Engine.Redis.FlushAsync(plan, request, ct),
                    r => $"{r.Command}: {r.KeysBefore} keys before, {r.KeysAfter} after", out var result,
                    outcomeOfError: ex => ex.ErrorId == RedisErrorIds.RedisFlushUnconfirmed ? IncidentOps.Incidents.TimelineOutcome.Info : IncidentOps.Incidents.TimelineOutcome.Failed))
                WriteObject(result);
        }
    }
}
