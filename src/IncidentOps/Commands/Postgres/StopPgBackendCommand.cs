using System.Management.Automation;
using System.Runtime.CompilerServices;
using IncidentOps.Engine.Postgres;
using IncidentOps.Postgres;

namespace IncidentOps.Commands;

/// <summary>Cancels or terminates PostgreSQL backends by pid, under a safety policy, and waits until they have stopped.</summary>
/// <remarks>
/// Replaces the seed's "SELECT pg_terminate_backend(pid) ..." for long-running queries. Pids bind from
/// Get-PgActivity output. -Mode Cancel (pg_cancel_backend) stops the query and keeps the session; -Mode
/// Terminate (pg_terminate_backend, the default) ends the session and waits until the backend is gone.
/// With -Mode Cancel -EscalateAfter 10s a query still running after ten seconds is terminated. The policy
/// is enforced in the engine: IncidentOps' own session, non-client backends (autovacuum, walsenders,
/// background workers) and, unless -IncludeSuperuser, superuser sessions are never stopped. Each result
/// carries Pid, Action, Succeeded, Reason and the query the backend was running. ConfirmImpact is High:
/// -WhatIf prints the exact SQL, -Force skips the prompt. With an active incident, each stop is written
/// to its timeline.
/// </remarks>
/// <example>
/// <code>Get-PgActivity -State active -MinDuration 5m | Stop-PgBackend -Mode Cancel -EscalateAfter 10s -Force</code>
/// <para>Cancels queries running for more than five minutes; terminates those that ignore the cancel for ten seconds.</para>
/// </example>
/// <example>
/// <code>Stop-PgBackend -Pid 4242 -WhatIf</code>
/// <para>Shows the statement that would terminate backend 4242, and changes nothing.</para>
/// </example>
[Cmdlet(VerbsLifecycle.Stop, "PgBackend", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.High)]
[OutputType(typeof(PgTerminationResult))]
public sealed class StopPgBackendCommand : PgCmdlet
{
    /// <summary>Process id of the backend to stop. Binds from Get-PgActivity output.</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    public int[] Pid { get; set; } = [];

    /// <summary>Cancel (stop the query, keep the session) or Terminate (end the session). Default Terminate.</summary>
    [Parameter]
    public PgStopMode Mode { get; set; } = PgStopMode.Terminate;

    /// <summary>With -Mode Cancel: terminate the backend when its query is still running this long after the cancel (10s, 1m). A duration: 90s, 5m, 1h, 2d, hh:mm:ss, a [timespan], or a number of seconds.</summary>
    [Parameter]
    [DurationTransformation]
    public TimeSpan? EscalateAfter { get; set; }

    /// <summary>Also stop sessions owned by a superuser (spared by default).</summary>
    [Parameter]
    public SwitchParameter IncludeSuperuser { get; set; }

    /// <summary>Stop without asking for confirmation (for scripts). -WhatIf still only shows what would happen.</summary>
    [Parameter]
    public SwitchParameter Force { get; set; }

    private string? _target;

    protected override void ProcessRecord() => Run();

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void Run()
    {
        var spec = Spec;
        _target ??= DescribeTarget();
        foreach (var pid in Pid)
        {
            var sql = PostgresService.StopSql(pid, Mode, IncludeSuperuser.IsPresent);
            if (Mode == PgStopMode.Cancel && EscalateAfter is not null)
                sql += $"; after {EscalateAfter.Value.TotalSeconds:0.#}s if still running: {PostgresService.StopSql(pid, PgStopMode.Terminate, IncludeSuperuser.IsPresent)}";
            var p = pid;
            if (TryChange($"backend {pid} on {_target}", Mode.ToString(), sql,
                    ct => Engine.Postgres.StopBackendAsync(spec, p, Mode, EscalateAfter, IncludeSuperuser.IsPresent, ct),
                    r => $"{r.Action}: {(r.Succeeded ? "succeeded" : "failed")} ({r.Reason})", out var result, r => r.Succeeded))
                WriteObject(result);
        }
    }
}
