using IncidentOps.Engine.Postgres;
using IncidentOps.Postgres;
using IncidentOps.Tests.Postgres;
using Npgsql;
using Xunit;

namespace IncidentOps.Tests.Safety;

/// <summary>
/// A pid names a session only together with its backend_start: the operating system reuses pids, so a session that
/// ends between the list a user looked at and the terminate leaves its pid to a newer session. A stale listing is
/// made here the way it arises: the listed object says the session started earlier than the one now holding the pid.
/// Real PostgreSQL on loopback.
/// </summary>
public sealed class PgSessionIdentityTests(ModuleFixture fx, PgTestDatabase db) : IClassFixture<ModuleFixture>, IClassFixture<PgTestDatabase>
{
    private static string App() => "io-pin-" + Guid.NewGuid().ToString("N")[..6];
    private string Cs => db.ConnectionString("postgres");
    private PgConnectionSpec Spec() => new() { ConnectionString = Cs, TimeoutSec = 20 };

    private PwshResult Run(string script) => fx.Session.Run(script, new Dictionary<string, object?> { ["cs"] = Cs });

    private static async Task<DateTime> BackendStartAsync(NpgsqlConnection session)
    {
        await using var cmd = new NpgsqlCommand("SELECT backend_start FROM pg_stat_activity WHERE pid = pg_backend_pid()", session);
        return (DateTime)(await cmd.ExecuteScalarAsync())!;
    }

    [Fact]
    public async Task StopPgBackend_never_stops_the_newer_session_that_got_a_piped_backends_pid()
    {
        var app = App();
        var now = await db.OpenAsync(db.AppRole, app);
        // The listed backend started 5 s before the session that holds its pid now: it ended, and the pid was reused.
        var r = Run($"Get-PgActivity -ConnectionString $cs -ApplicationName '{app}' | ForEach-Object {{ [pscustomobject]@{{ Pid = $_.Pid; Server = $_.Server; User = $_.User; BackendStart = $_.BackendStart.AddSeconds(-5) }} }} | Stop-PgBackend -ConnectionString $cs -Force").AssertNoErrors();
        var result = r.Single<PgTerminationResult>();
        Assert.Equal(now.ProcessID, result.Pid);
        Assert.False(result.Succeeded);
        Assert.Equal("None", result.Action);
        Assert.Contains("now belongs to another session", result.Reason);
        Assert.True(db.Exists(now.ProcessID));

        // The listing of the session itself stops it, and -WhatIf shows the pin it sends.
        r = Run($"Get-PgActivity -ConnectionString $cs -ApplicationName '{app}' | Stop-PgBackend -ConnectionString $cs -WhatIf").AssertNoErrors();
        Assert.Contains($"(a.pid, a.backend_start) IN (({now.ProcessID}, {PostgresService.TimestampLiteral(await BackendStartAsync(now))}))", r.HostText);
        r = Run($"Get-PgActivity -ConnectionString $cs -ApplicationName '{app}' | Stop-PgBackend -ConnectionString $cs -Force").AssertNoErrors();
        Assert.True(r.Single<PgTerminationResult>().Succeeded);
        await db.WaitGoneAsync(now.ProcessID);
    }

    [Theory]
    [InlineData(PgStopMode.Terminate)]
    [InlineData(PgStopMode.Cancel)]
    public async Task The_engine_signals_a_pid_only_while_it_names_the_listed_session(PgStopMode mode)
    {
        var (pid, running) = await db.StartAsync(db.AppRole, App(), "SELECT pg_sleep(60)");
        var svc = PgTestDatabase.Service();
        var listed = (await svc.GetActivityAsync(Spec(), null, CancellationToken.None)).Single(a => a.Pid == pid);
        var stale = await svc.StopBackendAsync(Spec(), pid, mode, null, false, CancellationToken.None, listed.BackendStart!.Value.AddMilliseconds(-1));
        Assert.False(stale.Succeeded);
        Assert.Equal("None", stale.Action);
        Assert.Equal(1, db.Scalar($"SELECT count(*) FROM pg_stat_activity WHERE pid = {pid} AND state = 'active'"));

        var same = await svc.StopBackendAsync(Spec(), pid, mode, null, false, CancellationToken.None, listed.BackendStart);
        Assert.True(same.Succeeded, same.Reason);
        await running.WaitAsync(TimeSpan.FromSeconds(20));
    }

    [Fact]
    public async Task StopIdleConnection_pins_each_pid_to_the_listed_session_so_a_reused_pid_is_spared()
    {
        var app = App();
        var a = await db.OpenAsync(db.AppRole, app);
        var b = await db.OpenAsync(db.AppRole, app);
        var svc = PgTestDatabase.Service();
        var plan = await svc.PlanIdleTerminationAsync(Spec(), new PgActivityFilter { ApplicationName = [app] }, TimeSpan.Zero, false, CancellationToken.None);
        var startA = await BackendStartAsync(a);
        var startB = await BackendStartAsync(b);
        Assert.Contains($"({a.ProcessID}, {PostgresService.TimestampLiteral(startA)})", plan.Sql);
        Assert.Contains($"({b.ProcessID}, {PostgresService.TimestampLiteral(startB)})", plan.Sql);

        // The same plan as it stands when session a ended during the prompt and a new session took its pid.
        var stale = new PgIdleConnectionReport
        {
            Matched = plan.Matched, Pids = plan.Pids,
            Sql = PostgresService.SignalSql("pg_terminate_backend", [(a.ProcessID, startA.AddSeconds(-3)), (b.ProcessID, startB)], false, ["idle"], TimeSpan.Zero),
        };
        var done = await svc.ExecuteIdleTerminationAsync(Spec(), stale, CancellationToken.None);
        Assert.Equal([b.ProcessID], done.TerminatedPids);
        Assert.Equal(1, done.Terminated);
        Assert.True(db.Exists(a.ProcessID));
        await db.WaitGoneAsync(b.ProcessID);
    }

    [Fact]
    public async Task Backends_piped_into_StopIdleConnections_are_refused_and_nothing_is_terminated()
    {
        var app = App();
        var shown = await db.OpenAsync(db.AppRole, app + "-shown");
        var other = await db.OpenAsync(db.AppRole, app + "-other");
        var r = Run($"Get-PgActivity -ConnectionString $cs -ApplicationName '{app}-shown' | Stop-IdleConnections -ConnectionString $cs -ApplicationName '{app}*' -IdleFor 0s -Force");
        var e = Assert.Single(r.Errors);
        Assert.Equal("PgPipedBackendNotAccepted,IncidentOps.Commands.StopIdleConnectionCommand", e.FullyQualifiedErrorId);
        Assert.Contains("Stop-PgBackend", e.ToString());
        Assert.Empty(r.Output);
        Assert.True(db.Exists(shown.ProcessID));
        Assert.True(db.Exists(other.ProcessID));

        // Without piped input the same filters still work.
        r = Run($"Stop-IdleConnections -ConnectionString $cs -ApplicationName '{app}*' -IdleFor 0s -Force").AssertNoErrors();
        Assert.Equal(2, r.Single<PgIdleConnectionReport>().Terminated);
    }

    [Fact]
    public async Task StopIdleConnections_keeps_a_sub_second_IdleFor_in_the_statement()
    {
        var app = App();
        var s = await db.OpenAsync(db.AppRole, app);
        await Task.Delay(1000);   // idle for longer than -IdleFor, so the session is in the plan
        // The statement repeats -IdleFor for the moment it runs (after a prompt): whole seconds made 1500ms 1 s and 500ms nothing.
        var r = Run($"Stop-IdleConnections -ConnectionString $cs -ApplicationName '{app}' -IdleFor 500ms -WhatIf").AssertNoErrors();
        Assert.Contains($"pids {s.ProcessID}", r.HostText);
        Assert.Contains("a.state_change < clock_timestamp() - interval '500 milliseconds'", r.HostText);
        Assert.Contains("interval '1500 milliseconds'", PostgresService.SignalSql("pg_terminate_backend", [s.ProcessID], false, ["idle"], TimeSpan.FromMilliseconds(1500)));
        Assert.True(db.Exists(s.ProcessID));
    }

    [Fact]
    public async Task Cancel_of_a_piped_backend_never_hits_a_query_the_session_started_after_the_listing()
    {
        var (pid, running) = await db.StartAsync(db.AppRole, App(), "SELECT pg_sleep(60)");
        // As listed while the session ran an earlier query: it finished, and the one running now started later.
        var r = Run($"Get-PgActivity -ConnectionString $cs | Where-Object Pid -eq {pid} | ForEach-Object {{ [pscustomobject]@{{ Pid = $_.Pid; Server = $_.Server; BackendStart = $_.BackendStart; QueryStart = $_.QueryStart.AddSeconds(-30) }} }} | Stop-PgBackend -Mode Cancel -ConnectionString $cs -Force").AssertNoErrors();
        var result = r.Single<PgTerminationResult>();
        Assert.False(result.Succeeded);
        Assert.Equal("None", result.Action);
        Assert.Contains("has finished", result.Reason);
        Assert.Equal(1, db.Scalar($"SELECT count(*) FROM pg_stat_activity WHERE pid = {pid} AND state = 'active'"));

        // The listing of the running query cancels it, and -WhatIf shows the query pin it sends.
        r = Run($"Get-PgActivity -ConnectionString $cs | Where-Object Pid -eq {pid} | Stop-PgBackend -Mode Cancel -ConnectionString $cs -WhatIf").AssertNoErrors();
        Assert.Contains("AND a.state = 'active' AND a.query_start = '", r.HostText);
        r = Run($"Get-PgActivity -ConnectionString $cs | Where-Object Pid -eq {pid} | Stop-PgBackend -Mode Cancel -ConnectionString $cs -Force").AssertNoErrors();
        Assert.True(r.Single<PgTerminationResult>().Succeeded);
        await running.WaitAsync(TimeSpan.FromSeconds(20));
        Assert.True(db.Exists(pid));
    }

    [Fact]
    public async Task The_engine_cancels_only_the_listed_query()
    {
        var (pid, running) = await db.StartAsync(db.AppRole, App(), "SELECT pg_sleep(60)");
        var svc = PgTestDatabase.Service();
        var listed = (await svc.GetActivityAsync(Spec(), null, CancellationToken.None)).Single(a => a.Pid == pid);
        var stale = await svc.StopBackendAsync(Spec(), pid, PgStopMode.Cancel, null, false, CancellationToken.None, listed.BackendStart, listed.QueryStart!.Value.AddMilliseconds(-1));
        Assert.False(stale.Succeeded);
        Assert.Equal(1, db.Scalar($"SELECT count(*) FROM pg_stat_activity WHERE pid = {pid} AND state = 'active'"));
        var same = await svc.StopBackendAsync(Spec(), pid, PgStopMode.Cancel, null, false, CancellationToken.None, listed.BackendStart, listed.QueryStart);
        Assert.True(same.Succeeded, same.Reason);
        await running.WaitAsync(TimeSpan.FromSeconds(20));
    }
}
