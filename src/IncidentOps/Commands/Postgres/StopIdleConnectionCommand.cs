using System.Management.Automation;
using IncidentOps.Postgres;

namespace IncidentOps.Commands;

/// <summary>Terminates idle PostgreSQL sessions in one statement, under a safety policy.</summary>
/// <remarks>
/// Replaces the seed's "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE state = 'idle' AND
/// state_change &lt; now() - interval '10 minutes'". Also available as Stop-IdleConnections. Sessions in
/// -State (idle by default; 'idle in transaction' and 'idle in transaction (aborted)' can be added) for at
/// least -IdleFor (10 minutes by default) and matching -Database, -User and -ApplicationName are matched;
/// the safety policy spares IncidentOps' own session, non-client backends and (unless -IncludeSuperuser)
/// superuser sessions; the rest are terminated in one round trip, with the policy repeated in the
/// statement's WHERE clause. The report names the server and what was searched (Server, Searched) and says how many
/// matched, were terminated and were spared, and why (Result). When nothing is to be terminated, -WhatIf prints one
/// "What if:" line that says where it looked, for what, and that nothing matched (or that every match is spared), and
/// writes no report.
/// ConfirmImpact is High: -WhatIf prints the exact pids, each session as listed (user, database, application, client,
/// start, state) and the SQL, -Force skips the prompt. Each pid in the statement is
/// pinned to the session that was listed (its backend_start), so a session that ends while the prompt is open leaves
/// its pid to a newer session that is never terminated in its place. The statement repeats the state and idle-since
/// conditions, and with -ApplicationName each session's application_name as listed: a session that ran a query or
/// changed its application in between is spared. -Database, -User and -ApplicationName match case-sensitively, as
/// PostgreSQL compares names (-Database prod never matches Prod); wildcards stay, in the name's own case. Backends piped from Get-PgActivity are refused
/// (PgPipedBackendNotAccepted): pipe them to Stop-PgBackend.
/// </remarks>
/// <example>
/// <code>Stop-IdleConnections -ConnectionString $cs -Force</code>
/// <para>Terminates sessions idle for more than ten minutes, as the seed's SQL does, but never superuser or system backends.</para>
/// </example>
/// <example>
/// <code>Stop-IdleConnection -State idle,'idle in transaction' -IdleFor 2m -ApplicationName 'worker*' -WhatIf</code>
/// <para>Shows which worker sessions idle (or idle in a transaction) for two minutes would be terminated, and the SQL.</para>
/// </example>
[Cmdlet(VerbsLifecycle.Stop, "IdleConnection", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.High)]
[Alias("Stop-IdleConnections")]
[OutputType(typeof(PgIdleConnectionReport))]
public sealed class StopIdleConnectionCommand : PgChangeCmdlet, IForceSwitch
{
    /// <summary>Minimum time in the idle state (90s, 10m, 1h or hh:mm:ss). Default 10 minutes. A duration: 90s, 5m, 1h, 2d, hh:mm:ss, a [timespan], or a number of seconds.</summary>
    [Parameter]
    [DurationTransformation]
    public TimeSpan IdleFor { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>Idle states to terminate: idle (default), 'idle in transaction', 'idle in transaction (aborted)'.</summary>
    [Parameter]
    [ValidateSet("idle", "idle in transaction", "idle in transaction (aborted)")]
    public string[] State { get; set; } = ["idle"];

    /// <summary>Only sessions connected to these databases (wildcards allowed). Case-sensitive, as PostgreSQL names are: prod does not match Prod.</summary>
    [Parameter]
    [SupportsWildcards]
    public string[]? Database { get; set; }

    /// <summary>Only sessions of these roles (wildcards allowed). Case-sensitive, as PostgreSQL role names are.</summary>
    [Parameter]
    [SupportsWildcards]
    public string[]? User { get; set; }

    /// <summary>Only sessions whose application_name matches (wildcards allowed; case-sensitive). The statement also requires the application each session was listed with.</summary>
    [Parameter]
    [SupportsWildcards]
    public string[]? ApplicationName { get; set; }

    /// <summary>Also terminate sessions owned by a superuser (spared by default).</summary>
    [Parameter]
    public SwitchParameter IncludeSuperuser { get; set; }

    /// <summary>Terminate without asking for confirmation (for scripts). -WhatIf still only shows what would happen.</summary>
    [Parameter]
    public SwitchParameter Force { get; set; }

    /// <summary>A piped object. Services (Get-IncidentOpsService) bind by name; backends (Get-PgActivity) are refused with PgPipedBackendNotAccepted, since this command terminates every idle session its own filters match, not the piped ones: pipe backends to Stop-PgBackend.</summary>
    [Parameter(ValueFromPipeline = true, DontShow = true)]
    public PSObject? InputObject { get; set; }

    protected override void ProcessRecord() => Run();

    private void Run()
    {
        // Get-PgActivity -User bob | Stop-IdleConnections would bind only the backend's Service and then terminate every
        // idle session of that server (once per piped backend): far more than the list the user looked at.
        if (InputObject is { BaseObject: not (string or ValueType) } && PipelineOrigin.Property(InputObject, "Pid") is not null)
        {
            WriteInputError(IncidentOps.Engine.Postgres.PostgresErrorIds.PgPipedBackendNotAccepted,
                $"Stop-IdleConnection was given backend {InputObject} through the pipeline, but it does not stop piped backends: it would terminate every idle session its own filters (-State, -IdleFor, -Database, -User, -ApplicationName) match on that server. Nothing was terminated. To stop exactly the listed sessions, pipe them to Stop-PgBackend; to stop idle sessions by filter, run Stop-IdleConnection without piped input.",
                InputObject.ToString());
            return;
        }
        if (!TryResolveSpec(out var spec)) return;
        if (!TryDescribeTarget(spec, out var target)) return;
        var filter = new PgActivityFilter { State = State, Database = Database, User = User, ApplicationName = ApplicationName };
        if (!TryInvoke(ct => Engine.Postgres.PlanIdleTerminationAsync(spec, filter, IdleFor, IncludeSuperuser.IsPresent, ct), out var plan, target)) return;
        foreach (var s in plan.SparedSessions) WriteVerbose($"Sparing {s.Pid} ({s.User}): {s.Reason}");
        if (plan.Pids.Length == 0)
        {
            // Nothing to terminate. -WhatIf says so in its own words ("What if: ... nothing would be terminated") rather
            // than writing a report of zeros that reads like a result; without -WhatIf the report names what was searched.
            if (IsWhatIf)
            {
                ShouldProcess(NothingToTerminate(plan, target), null, null);
                return;
            }
            WriteVerbose(NothingToTerminate(plan, target));
            WriteObject(plan);
            return;
        }
        // The prompt and -WhatIf name each session as listed (user, database, application...), not only its pid.
        var detail = $"pids {string.Join(",", plan.Pids)} ({string.Join("; ", plan.Sessions)}): {plan.Sql}";
        if (TryChange($"{plan.Pids.Length} idle sessions on {target}", "Terminate", detail,
                ct => Engine.Postgres.ExecuteIdleTerminationAsync(spec, plan, ct),
                r => $"matched {r.Matched}, terminated {r.Terminated} ({string.Join(",", r.TerminatedPids)}), spared {r.Spared}", out var result))
            WriteObject(result);
    }

    /// <summary>The sentence -WhatIf and -Verbose give when no session is to be terminated: where, what was searched, and why nothing.</summary>
    private static string NothingToTerminate(PgIdleConnectionReport plan, string target) => plan.Matched == 0
        ? $"No session on {target} matched ({plan.Searched}); nothing would be terminated."
        : $"{plan.Matched} {(plan.Matched == 1 ? "session" : "sessions")} on {target} matched ({plan.Searched}), and the safety policy spares all of them ({string.Join("; ", plan.SparedSessions.Select(s => s.ToString()))}); nothing would be terminated.";
}
