using System.Management.Automation;
using IncidentOps.Engine.Postgres;
using IncidentOps.Postgres;

namespace IncidentOps.Commands;

/// <summary>Cancels or terminates PostgreSQL backends by pid, under a safety policy, and waits until they have stopped.</summary>
/// <remarks>
/// Replaces the seed's "SELECT pg_terminate_backend(pid) ..." for long-running queries. Pids bind from
/// Get-PgActivity output, together with the service and server they were read from: a piped pid is only ever
/// stopped on the server it came from, and a piped backend from another server than -Service or -ConnectionString
/// names is refused (PipelineTargetMismatch). -Mode Cancel (pg_cancel_backend) stops the query and keeps the session; -Mode
/// Terminate (pg_terminate_backend, the default) ends the session and waits until the backend is gone.
/// With -Mode Cancel -EscalateAfter 10s a query still running after ten seconds is terminated. The policy
/// is enforced in the engine: IncidentOps' own session, non-client backends (autovacuum, walsenders,
/// background workers) and, unless -IncludeSuperuser, superuser sessions are never stopped. Each result
/// carries Pid, Action, Succeeded, Reason and the query the backend was running. A piped backend is stopped only
/// while its pid still names the session that was listed (the same backend_start): a session that ended in between
/// leaves its pid to a newer one, which is never stopped in its place. -Mode Cancel on a piped backend cancels only
/// the query that was listed (the same query_start), never one the session started since. A typed pid (-Pid 4242) is
/// read before the prompt: the prompt and -WhatIf name the session that holds it (pid, user, database, application,
/// client, backend_start, state; never the query), and the statement is pinned to that session the same way, so a
/// session that ended or started another query while the prompt was open is not stopped in its place. A pid that no
/// backend has is refused before any prompt (PgBackendNotFound). ConfirmImpact is High:
/// -WhatIf prints the exact SQL, -Force skips the prompt. With an active incident, each stop is written
/// to its timeline.
/// </remarks>
/// <example>
/// <code>Get-PgActivity -State active -MinDuration 5m | Stop-PgBackend -Mode Cancel -EscalateAfter 10s -Force</code>
/// <para>Cancels queries running for more than five minutes; terminates those that ignore the cancel for ten seconds.</para>
/// </example>
/// <example>
/// <code>Stop-PgBackend -Pid 4242 -WhatIf</code>
/// <para>Names the session that holds pid 4242 (user, database, application, client, start, state) and shows the statement, pinned to that session, that would terminate it; changes nothing.</para>
/// </example>
[Cmdlet(VerbsLifecycle.Stop, "PgBackend", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.High)]
[OutputType(typeof(PgTerminationResult))]
public sealed class StopPgBackendCommand : PgChangeCmdlet, IForceSwitch
{
    /// <summary>Process id of the backend to stop. Binds from Get-PgActivity output. A typed pid is read before the prompt, which names its session; the stop is pinned to that session. A pid no backend has is PgBackendNotFound.</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    public int[] Pid { get; set; } = [];

    /// <summary>Cancel (stop the query, keep the session) or Terminate (end the session). Default Terminate.</summary>
    [Parameter]
    public PgStopMode Mode { get; set; } = PgStopMode.Terminate;

    /// <summary>With -Mode Cancel: terminate the backend when its query is still running this long after the cancel (10s, 1m). The terminate is pinned to that query: a session that has moved on to another query by then is left running. A duration: 90s, 5m, 1h, 2d, hh:mm:ss, a [timespan], or a number of seconds.</summary>
    [Parameter]
    [DurationTransformation]
    public TimeSpan? EscalateAfter { get; set; }

    /// <summary>Also stop sessions owned by a superuser (spared by default).</summary>
    [Parameter]
    public SwitchParameter IncludeSuperuser { get; set; }

    /// <summary>Stop without asking for confirmation (for scripts). -WhatIf still only shows what would happen.</summary>
    [Parameter]
    public SwitchParameter Force { get; set; }

    /// <summary>The piped object (a PgActivity). Its Service binds by name and its Server (host:port/database) must be the server this command connects to, and a backend read through a kubectl tunnel must come through the same context (its Route): a pid read on one server is never stopped on another (PipelineTargetMismatch).</summary>
    [Parameter(ValueFromPipeline = true, DontShow = true)]
    public PSObject? InputObject { get; set; }

    // The tunnel is kept as object: no engine type in the cmdlet's fields (the engine loads in the module's own context).
    private readonly Dictionary<string, (string Target, object? Tunnel)> _targets = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string?> _routes = new(StringComparer.Ordinal);
    private Dictionary<string, object?> _explicit = new(StringComparer.OrdinalIgnoreCase);

    protected override void BeginProcessing()
    {
        // Only command-line parameters are bound here; pipeline values bind per record later.
        _explicit = new Dictionary<string, object?>(MyInvocation.BoundParameters, StringComparer.OrdinalIgnoreCase);
        base.BeginProcessing();
    }

    protected override void ProcessRecord() => Run();

    private void Run()
    {
        if (PipelineOrigin.FindMismatch(InputObject, _explicit, ["Service"]) is { } named)
        {
            WriteInputError(PipelineOrigin.MismatchErrorId, PipelineOrigin.Message(named, "backend", InputObject), InputObject?.ToString());
            return;
        }
        if (!TryResolveSpec(out var spec)) return;
        // The target is per connection: pipeline records may come from several services.
        var key = spec.ToString();
        if (_targets.TryGetValue(key, out var known))
        {
            // Describing the target notes its tunnel for the prompt and the timeline; a cached target must note it again,
            // or a record of service A after one of service B would be confirmed "through the tunnel" of B.
            Engine.Tunnels.Note((IncidentOps.Engine.Tunnels.TunnelSpec?)known.Tunnel);
        }
        else
        {
            if (!TryInvoke(ct => Engine.Postgres.DescribeTargetAsync(spec, ct), out var described, key)) return;
            _targets[key] = known = (described, Engine.Tunnels.Current);
        }
        var target = known.Target;
        if (InputObject is not null && PipedFromElsewhere(InputObject, spec, key, target)) return;
        foreach (var pid in Pid)
        {
            var listed = ListedStart(pid);
            var listedQuery = ListedTime(pid, "QueryStart");
            // A piped backend is named as it was listed (user, database, application, client, start), as a typed pid is below.
            var what = InputObject?.BaseObject is PgActivity piped && piped.Pid == pid
                ? $"{PostgresService.DescribeSession(piped)} on {target}"
                : $"backend {pid} on {target}";
            if (listed is null)
            {
                // A typed pid (or a piped one without its backend_start): read the session that holds it before asking, so
                // the prompt and -WhatIf name the session that would be stopped, and the statement is pinned to it. Read
                // after the prompt instead, a pid reused while the prompt is open would be stopped in the listed one's place.
                var p0 = pid;
                if (!TryInvoke(ct => Engine.Postgres.ReadBackendAsync(spec, p0, ct), out var session, target)) continue;
                if (session is null)
                {
                    WriteInputError(PostgresErrorIds.PgBackendNotFound,
                        $"No backend has pid {pid} on {target}: the session has ended, or the pid is wrong. Nothing was stopped. List the sessions with Get-PgActivity and pipe the one to stop into Stop-PgBackend.",
                        pid, IncidentOpsErrorCategory.ObjectNotFound);
                    continue;
                }
                listed = session.BackendStart;
                // A cancel is pinned to the query running when the session was read, as with a piped backend's QueryStart.
                if (Mode == PgStopMode.Cancel) listedQuery = session.QueryStart;
                what = $"{PostgresService.DescribeSession(session)} on {target}";
            }
            var sql = PostgresService.StopSql(pid, Mode, IncludeSuperuser.IsPresent, listed, listedQuery);
            if (Mode == PgStopMode.Cancel && EscalateAfter is not null)
                sql += $"; after {EscalateAfter.Value.TotalSeconds:0.#}s if still running: {PostgresService.EscalationSql(pid, IncludeSuperuser.IsPresent, listed, listedQuery)}";
            var p = pid;
            if (TryChange(what, Mode.ToString(), sql,
                    ct => Engine.Postgres.StopBackendAsync(spec, p, Mode, EscalateAfter, IncludeSuperuser.IsPresent, ct, listed, listedQuery),
                    r => $"{r.Action}: {(r.Succeeded ? "succeeded" : "failed")} ({r.Reason})", out var result, r => r.Succeeded))
                WriteObject(result);
        }
    }

    /// <summary>
    /// True (after writing PipelineTargetMismatch) when a piped backend was read somewhere this command does not act: on
    /// another server, through a tunnel where this command connects directly (or the reverse), or through a kubectl
    /// tunnel in another context. A pid names a different session there.
    /// </summary>
    private bool PipedFromElsewhere(PSObject input, PgConnectionSpec spec, string key, string target)
    {
        if (PipelineOrigin.Property(input, "Server") is { } origin
            && origin.ToString() is { Length: > 0 } server && !PostgresService.SameTarget(server, target))
        {
            var how = _explicit.ContainsKey("ConnectionString") ? "-ConnectionString" : _explicit.ContainsKey("Service") ? $"-Service {Service}" : spec.Service is not null ? $"service {spec.Service.FullName}" : "the libpq environment (PGHOST, PGPORT, PGDATABASE)";
            WriteInputError(PipelineOrigin.MismatchErrorId,
                $"Backend {string.Join(",", Pid)} was read on {server}, but this command is connected to {target} (through {how}). A pid names a different session on another server, so nothing was stopped. Pass the same -Service or -ConnectionString to both commands.",
                input.ToString());
            return true;
        }
        if (RouteMismatch(spec) is { } route)
        {
            WriteInputError(PipelineOrigin.MismatchErrorId,
                $"Backend {string.Join(",", Pid)} was read {route.Piped}, but this command connects {route.Given}. Both name {target}, yet one goes through a tunnel and the other does not, so they can reach different servers, and a pid names a different session on each. Nothing was stopped. Pass the same -Service or -ConnectionString to both commands.",
                input.ToString());
            return true;
        }
        if (PipedRoute(input) is { } pipedRoute)
        {
            // Read through a kubectl tunnel: the pid names a session of the cluster it was read in (see RefuseOtherRoute).
            if (!_routes.TryGetValue(key, out var givenRoute))
            {
                if (!TryInvoke(ct => Engine.Postgres.DescribeRouteAsync(spec, ct), out givenRoute, key)) return true;
                _routes[key] = givenRoute;
            }
            if (RefuseOtherRoute(input, pipedRoute, givenRoute, spec, $"Backend {string.Join(",", Pid)} on {target}", "Get-PgActivity",
                    "the pid names a different session there, and nothing was stopped")) return true;
        }
        return false;
    }

    /// <summary>
    /// How the piped backend was read and how this command connects, when the two routes differ and one of them is a
    /// tunnel; null when they agree. host:port/database alone does not tell two servers apart when one is reached
    /// through a tunnel (the connection string names the far end: a database on the bastion itself is localhost:5432)
    /// and the other directly (a local server on localhost:5432).
    /// </summary>
    private (string Piped, string Given)? RouteMismatch(PgConnectionSpec spec)
    {
        if (InputObject is null || InputObject.BaseObject is string or ValueType || PipelineOrigin.Property(InputObject, "Server") is null) return null;
        var piped = PipelineOrigin.Property(InputObject, "Service") is { } v && v.ToString() is { Length: > 0 } name ? name.Trim() : null;
        var given = string.IsNullOrWhiteSpace(spec.ConnectionString) ? spec.Service : null;
        if (string.Equals(piped, given?.FullName, StringComparison.OrdinalIgnoreCase)) return null;
        bool pipedTunnel;
        if (piped is null) pipedTunnel = false;
        else
        {
            try { pipedTunnel = IncidentOps.Engine.Config.ConfigService.ResolveService(Config, null, piped).Postgres?.Tunnel is not null; }
            catch (IncidentOpsException) { pipedTunnel = true; }   // a service this command cannot see: its route is unknown
        }
        var givenTunnel = given?.Postgres?.Tunnel;
        if (!pipedTunnel && givenTunnel is null) return null;
        var how = !string.IsNullOrWhiteSpace(spec.ConnectionString) ? "directly through -ConnectionString"
            : given is not null ? $"through service {given.FullName}{(givenTunnel is null ? " directly" : $" via its tunnel ({givenTunnel})")}"
            : "directly through the libpq environment (PGHOST, PGPORT, PGDATABASE)";
        var read = piped is null ? "directly (through -ConnectionString or the libpq environment)" : $"through service {piped}{(pipedTunnel ? " via its tunnel" : "")}";
        return (read, how);
    }

    /// <summary>
    /// The backend_start of the piped session with this pid (a PgActivity, or one read back with Import-Clixml): the
    /// pid is stopped only while it still names that session, not a newer one the operating system gave the pid to.
    /// </summary>
    private DateTime? ListedStart(int pid) => ListedTime(pid, "BackendStart");

    /// <summary>A time property (BackendStart, QueryStart) of the piped backend with this pid, or null.</summary>
    private DateTime? ListedTime(int pid, string property)
    {
        if (InputObject is null || InputObject.BaseObject is string or ValueType) return null;
        var piped = PipelineOrigin.Property(InputObject, "Pid");
        if (piped is PSObject wrapped) piped = wrapped.BaseObject;
        if (piped is not int listedPid || listedPid != pid) return null;
        var value = PipelineOrigin.Property(InputObject, property);
        if (value is PSObject s) value = s.BaseObject;
        return value is DateTime d ? d : null;
    }
}
