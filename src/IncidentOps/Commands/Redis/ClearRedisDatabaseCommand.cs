using System.Management.Automation;
using IncidentOps.Redis;
using IncidentOps.Incidents;
using IncidentOps.Engine;
using IncidentOps.Engine.Redis;

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
/// that node's slots) are refused before the prompt, and under -WhatIf too. A flush that was sent but got no answer (no
/// answer within -TimeoutSec, or the connection was lost) is RedisFlushUnconfirmed (category ResourceBusy), not a failure:
/// it may still complete on the server, so check the key count (Get-RedisInfo Keyspace, or redis-cli DBSIZE) before running
/// it again; the timeline entry says the same (outcome Unconfirmed). Ctrl+C after the flush was sent is recorded the same
/// way, and a warning on the console says how to check; Ctrl+C before it was sent, or a server that cannot be reached, is a
/// plain failure (nothing was flushed). A flush the server answered OK is a success even when the keys left could not be
/// counted afterwards (KeysAfter is then empty, with a warning).
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
            var action = plan.AllDatabases ? "Flush all databases" : "Flush database";
            if (!ShouldChange(target, action, $"{plan.Command} ({plan.Describe()})")) continue;
            if (Flush(request, plan, target, action) is { } result) WriteObject(result);
        }
    }

    /// <summary>
    /// Runs the confirmed flush and records its outcome. Once FLUSHDB/FLUSHALL was handed to the server it may run there
    /// whatever becomes of its answer: a timeout, a lost connection, the deadline or Ctrl+C after that point leave it
    /// unconfirmed (never failed); a stop before it is a plain failure (nothing was flushed); an OK answer is a success
    /// even when counting the keys left afterwards did not finish.
    /// </summary>
    private RedisFlushResult? Flush(RedisConnectionRequest request, RedisService.FlushPlan plan, string target, string action)
    {
        var attempt = new RedisService.FlushAttempt();
        try
        {
            var result = Invoke(ct => Engine.Redis.FlushAsync(plan, request, ct, attempt));
            RecordChange(target, action, TimelineOutcome.Succeeded, RedisService.SentFlush.Summary(result));
            return result;
        }
        catch (IncidentOpsException ex)
        {
            // The command's deadline can end the wait before the engine's own, shorter limit does: what was done by then decides.
            if (ex.ErrorId == DeadlineErrorIds.OperationTimeout && Stopped(attempt, "the command's deadline (-TimeoutSec) passed") is { } known)
            {
                if (known.Outcome == TimelineOutcome.Succeeded)
                {
                    RecordChange(target, action, known.Outcome, known.Text);
                    WriteWarning(known.Text);
                    return attempt.Sent?.Done();
                }
                if (known.Outcome == TimelineOutcome.Unconfirmed && attempt.Sent is { } sent) ex = sent.Unconfirmed("the command's deadline (-TimeoutSec) passed before its answer came", ex);
            }
            RecordChange(target, action, ex.ErrorId == RedisErrorIds.RedisFlushUnconfirmed ? TimelineOutcome.Unconfirmed : TimelineOutcome.Failed, ex.Message);
            WriteError(ToErrorRecord(ex, target));
            return null;
        }
        catch (PipelineStoppedException) when (Token.IsCancellationRequested)
        {
            var (outcome, text) = Stopped(attempt, "Ctrl+C ended the wait") ?? (TimelineOutcome.Failed, $"Stopped by the user (Ctrl+C) before {plan.Command} was sent: nothing was flushed.");
            RecordChange(target, action, outcome, text);
            // The pipeline is stopped and takes no more records; the host still shows a line, and what may have happened must be said.
            if (outcome != TimelineOutcome.Failed) TellHost(text);
            throw;
        }
        catch (Exception ex) when (ex is not IncidentOpsException)
        {
            // Writing to the pipeline threw (Select-Object -First, -WarningAction Stop): the engine call was cancelled.
            var (outcome, text) = Stopped(attempt, $"the command was stopped ({ex.Message})") ?? (TimelineOutcome.Failed, $"Stopped before {plan.Command} was sent ({ex.Message}): nothing was flushed.");
            RecordChange(target, action, outcome, text, quiet: true);
            throw;
        }
    }

    /// <summary>
    /// The outcome of a flush whose wait ended early (<paramref name="why"/>), from what the engine had done by then: answered
    /// (done), sent (unconfirmed), or null when the command was never sent.
    /// </summary>
    private static (TimelineOutcome Outcome, string Text)? Stopped(RedisService.FlushAttempt attempt, string why)
    {
        // Abandon: a flush not sent by now is never sent (the engine checks before sending), so "nothing was flushed" holds.
        if (attempt.Abandon() is not { } sent) return null;
        if (attempt.Answered)
            return (TimelineOutcome.Succeeded, $"{sent.Command} on {sent.Endpoint} was done (the server answered OK; {sent.KeysBefore} keys before), but {why} before the keys left were counted.");
        return (TimelineOutcome.Unconfirmed, sent.Unconfirmed($"{why} before its answer came", null).Message);
    }

    private void TellHost(string text)
    {
        try { Host?.UI?.WriteWarningLine(text); }
        catch (Exception ex) when (ex is PSInvalidOperationException or PipelineStoppedException or NotImplementedException or System.Management.Automation.Host.HostException) { /* the timeline entry still says it */ }
    }
}
