using System.Management.Automation;
using IncidentOps.Postgres;

namespace IncidentOps.Commands;

/// <summary>Lists PostgreSQL backends (pg_stat_activity), one object per backend.</summary>
/// <remarks>
/// Replaces the seed's "SELECT count(*) FROM pg_stat_activity" and "list active queries" SQL. Each
/// PgActivity carries the pid, database, user, application, client address, backend type, state, wait
/// event, timestamps, Duration (time in the current state), the query, BlockedBy (pg_blocking_pids) and
/// IsOwnSession. Filters narrow the list: -State, -MinDuration, -Database, -User, -ApplicationName
/// (wildcards; names match case-sensitively, as PostgreSQL compares them: -Database prod never lists Prod's
/// sessions, which matters when the list is piped to Stop-PgBackend), -BlockedOnly and -Blocking. Client sessions are
/// listed, the longest in their state first; the server's background processes (checkpointer, autovacuum, walsenders...)
/// only with -IncludeBackground, or when one blocks a client session. The objects pipe into Stop-PgBackend by Pid. Every session
/// IncidentOps opens sets application_name IncidentOps, a statement_timeout and a connect timeout.
/// </remarks>
/// <example>
/// <code>Get-PgActivity -State active -MinDuration 5m</code>
/// <para>Queries running for more than five minutes.</para>
/// </example>
/// <example>
/// <code>Get-PgActivity -IncludeBackground | Where-Object BackendType -EQ 'autovacuum worker'</code>
/// <para>Is autovacuum working on a table right now? Background processes are listed only with -IncludeBackground.</para>
/// </example>
/// <example>
/// <code>Get-PgActivity -ConnectionString postgres://ops@db.internal/app -BlockedOnly</code>
/// <para>Backends waiting on a lock, with the pids that block them in BlockedBy.</para>
/// </example>
[Cmdlet(VerbsCommon.Get, "PgActivity")]
[OutputType(typeof(PgActivity))]
public sealed class GetPgActivityCommand : PgReadCmdlet
{
    /// <summary>Keep backends in these states (active, idle, 'idle in transaction', 'idle in transaction (aborted)', fastpath function call, disabled).</summary>
    [Parameter]
    [ArgumentCompleter(typeof(PgStateCompleter))]
    public string[]? State { get; set; }

    /// <summary>Keep backends that have been in their current state at least this long (90s, 5m, 1h or hh:mm:ss). A duration: 90s, 5m, 1h, 2d, hh:mm:ss, a [timespan], or a number of seconds.</summary>
    [Parameter]
    [DurationTransformation]
    public TimeSpan? MinDuration { get; set; }

    /// <summary>Keep backends connected to these databases (wildcards allowed). Case-sensitive, as PostgreSQL names are: prod does not match Prod.</summary>
    [Parameter]
    [SupportsWildcards]
    public string[]? Database { get; set; }

    /// <summary>Keep backends of these roles (wildcards allowed). Case-sensitive, as PostgreSQL role names are.</summary>
    [Parameter]
    [SupportsWildcards]
    public string[]? User { get; set; }

    /// <summary>Keep backends whose application_name matches (wildcards allowed; case-sensitive).</summary>
    [Parameter]
    [SupportsWildcards]
    public string[]? ApplicationName { get; set; }

    /// <summary>Keep only backends waiting on another backend's lock.</summary>
    [Parameter]
    public SwitchParameter BlockedOnly { get; set; }

    /// <summary>Keep only backends that block at least one other backend.</summary>
    [Parameter]
    public SwitchParameter Blocking { get; set; }

    /// <summary>Also list the server's background processes (checkpointer, walwriter, autovacuum launcher and workers, walsenders, parallel workers), after the client sessions. Without it they are left out, except one that blocks a client session (an autovacuum worker holding a lock), which is always listed.</summary>
    [Parameter]
    public SwitchParameter IncludeBackground { get; set; }

    protected override void ProcessRecord()
    {
        foreach (var spec in Specs()) Run(spec);
    }

    private void Run(PgConnectionSpec spec)
    {
        var filter = new PgActivityFilter
        {
            State = State, MinDuration = MinDuration, Database = Database, User = User, ApplicationName = ApplicationName,
            BlockedOnly = BlockedOnly.IsPresent, Blocking = Blocking.IsPresent, IncludeBackground = IncludeBackground.IsPresent,
        };
        if (!TryInvoke(ct => Engine.Postgres.GetActivityAsync(spec, filter, ct), out var list, spec.ToString())) return;
        foreach (var a in list) WriteObject(a);
        RecordRead(spec.ToString(), "Read pg_stat_activity", $"{ReadSummary.Count(list.Count, "backend")}{ReadSummary.Groups(list.Select(a => a.State ?? "unknown"))}");
    }
}
