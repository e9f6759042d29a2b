using IncidentOps.Engine.Postgres;
using IncidentOps.Postgres;
using Npgsql;
using Xunit;

namespace IncidentOps.Tests.Postgres;

/// <summary>Engine-level tests of PostgresService against the real test server.</summary>
public sealed class PostgresEngineTests(PgTestDatabase db) : IClassFixture<PgTestDatabase>
{
    private PgConnectionSpec Spec(string? role = null) => new() { ConnectionString = db.ConnectionString(role ?? "postgres"), TimeoutSec = 20 };
    private static string App() => "io-eng-" + Guid.NewGuid().ToString("N")[..6];

    [Fact]
    public async Task GetActivity_lists_backends_with_state_duration_query_and_own_session()
    {
        var app = App();
        var idle = await db.OpenAsync(db.AppRole, app);
        await db.OpenIdleInTransactionAsync(db.AppRole, app);
        var all = await PgTestDatabase.Service().GetActivityAsync(Spec(), null, CancellationToken.None);
        var own = Assert.Single(all, a => a.IsOwnSession);
        Assert.Equal(PgConnectionFactory.ApplicationName, own.ApplicationName);
        Assert.Equal("active", own.State);
        var mine = all.Where(a => a.ApplicationName == app).ToList();
        Assert.Equal(2, mine.Count);
        var i = Assert.Single(mine, a => a.Pid == idle.ProcessID);
        Assert.Equal("idle", i.State);
        Assert.Equal(db.AppRole, i.User);
        Assert.Equal(db.Database, i.Database);
        Assert.Equal("client backend", i.BackendType);
        Assert.Equal("127.0.0.1", i.ClientAddress);
        Assert.NotNull(i.Duration);
        Assert.NotNull(i.BackendStart);
        Assert.False(i.IsSuperuser);
        Assert.Single(mine, a => a.State == "idle in transaction" && a.TransactionStart is not null && a.Query!.StartsWith("SELECT 1", StringComparison.Ordinal));
        Assert.Contains(all, a => a.BackendType != "client backend");
    }

    [Fact]
    public async Task GetActivity_lists_client_backends_first_longest_in_state_first_then_background_processes()
    {
        var app = App();
        await db.OpenAsync(db.AppRole, app);
        await Task.Delay(300);
        await db.OpenAsync(db.AppRole, app);
        var all = await PgTestDatabase.Service().GetActivityAsync(Spec(), null, CancellationToken.None);
        var firstBackground = all.ToList().FindIndex(a => a.BackendType != "client backend");
        Assert.True(firstBackground > 0, "client backends come first");
        Assert.All(all.Skip(firstBackground), a => Assert.NotEqual("client backend", a.BackendType));
        var durations = all.Take(firstBackground).Select(a => a.Duration ?? TimeSpan.Zero).ToList();
        Assert.Equal(durations.OrderByDescending(d => d), durations);
    }

    [Fact]
    public async Task Filters_select_by_state_duration_wildcards_and_blocking()
    {
        var app = App();
        await db.OpenAsync(db.AppRole, app);
        var holder = await db.OpenAsync(db.AppRole, app);
        await using (var cmd = new NpgsqlCommand("BEGIN; LOCK TABLE locked_t IN ACCESS EXCLUSIVE MODE;", holder)) await cmd.ExecuteNonQueryAsync();
        var (blocked, _) = await db.StartAsync(db.AppRole, app, "SELECT count(*) FROM locked_t");
        await db.WaitForAsync($"SELECT count(*) FROM pg_stat_activity WHERE pid = {blocked} AND cardinality(pg_blocking_pids(pid)) > 0");
        var svc = PgTestDatabase.Service();
        async Task<IReadOnlyList<PgActivity>> Get(PgActivityFilter f) => await svc.GetActivityAsync(Spec(), f, CancellationToken.None);

        Assert.Equal(3, (await Get(new() { ApplicationName = [app[..^2] + "*"] })).Count);
        var b = Assert.Single(await Get(new() { ApplicationName = [app], BlockedOnly = true }));
        Assert.Equal(blocked, b.Pid);
        Assert.Equal([holder.ProcessID], b.BlockedBy);
        Assert.Equal(holder.ProcessID, Assert.Single(await Get(new() { ApplicationName = [app], Blocking = true })).Pid);
        Assert.Single(await Get(new() { ApplicationName = [app], State = ["idle"] }));
        Assert.Single(await Get(new() { ApplicationName = [app], State = ["IDLE IN TRANSACTION"] }));
        Assert.Empty(await Get(new() { ApplicationName = [app], MinDuration = TimeSpan.FromHours(1) }));
        Assert.Equal(3, (await Get(new() { ApplicationName = [app], Database = ["io_pg_*"], User = [db.AppRole] })).Count);
        Assert.Empty(await Get(new() { ApplicationName = [app], User = [db.OtherRole] }));
    }

    [Fact]
    public async Task Connection_resolves_from_the_libpq_environment()
    {
        var env = new Dictionary<string, string?>
        {
            ["PGHOST"] = db.Host, ["PGPORT"] = db.Port.ToString(), ["PGDATABASE"] = db.Database, ["PGUSER"] = db.AppRole, ["PGPASSWORD"] = "env-canary-pw",
        };
        var svc = PgTestDatabase.Service(k => env.GetValueOrDefault(k));
        var b = await svc.Connections.BuildAsync(new PgConnectionSpec(), CancellationToken.None);
        Assert.Equal("IncidentOps", b.ApplicationName);
        Assert.Contains("statement_timeout=30000", b.Options);
        Assert.False(b.Pooling);
        var own = Assert.Single(await svc.GetActivityAsync(new PgConnectionSpec(), null, CancellationToken.None), a => a.IsOwnSession);
        Assert.Equal(db.Database, own.Database);
        Assert.Equal(db.AppRole, own.User);
        Assert.Equal("[REDACTED]".Length > 0 ? SecretRedactor.Mask : "", SecretRedactor.Redact("env-canary-pw"));
    }

    [Fact]
    public async Task Connection_resolves_from_a_postgres_url_and_credentials_override_the_user()
    {
        var url = $"postgresql://{db.OtherRole}:url-canary-pw@{db.Host}:{db.Port}/{db.Database}?sslmode=disable";
        var svc = PgTestDatabase.Service();
        var own = Assert.Single(await svc.GetActivityAsync(new PgConnectionSpec { ConnectionString = url }, null, CancellationToken.None), a => a.IsOwnSession);
        Assert.Equal(db.OtherRole, own.User);
        Assert.Equal(db.Database, own.Database);
        Assert.DoesNotContain("url-canary-pw", SecretRedactor.Redact(url));
        own = Assert.Single(await svc.GetActivityAsync(new PgConnectionSpec { ConnectionString = url, UserName = db.AppRole, Password = "x" }, null, CancellationToken.None), a => a.IsOwnSession);
        Assert.Equal(db.AppRole, own.User);
    }

    [Fact]
    public async Task Connection_errors_are_distinct_and_name_host_port_and_database()
    {
        var svc = PgTestDatabase.Service();
        async Task<IncidentOpsException> Fail(string cs) =>
            await Assert.ThrowsAsync<IncidentOpsException>(() => svc.GetActivityAsync(new PgConnectionSpec { ConnectionString = cs, TimeoutSec = 5 }, null, CancellationToken.None));
        var missing = await Fail($"postgres://{db.AppRole}:missing-canary@{db.Host}:{db.Port}/no_such_db");
        Assert.Equal("PgDatabaseNotFound", missing.ErrorId);
        Assert.Contains($"{db.Host}:{db.Port}", missing.Message);
        Assert.Contains("no_such_db", missing.Message);
        Assert.DoesNotContain("missing-canary", missing.Message);
        var auth = await Fail($"Host={db.Host};Port={db.Port};Database={db.Database};Username=no_such_role_x;Password=auth-canary");
        Assert.Equal("PgAuthenticationFailed", auth.ErrorId);
        Assert.Contains(db.Database, auth.Message);
        Assert.DoesNotContain("auth-canary", auth.Message);
        var port = TestServers.FreePort();
        var down = await Fail($"Host=127.0.0.1;Port={port};Database=x;Username=y");
        Assert.Equal("PgHostUnreachable", down.ErrorId);
        Assert.Contains($"127.0.0.1:{port}", down.Message);
        // The test server offers no TLS: demanding it must say so, not look like a generic failure.
        var tls = await Fail($"Host={db.Host};Port={db.Port};Database={db.Database};Username={db.AppRole};Password=tls-canary;SSL Mode=Require");
        Assert.Equal("PgTlsRequired", tls.ErrorId);
        Assert.Equal(IncidentOpsErrorCategory.SecurityError, tls.Category);
        Assert.Contains("SSL Mode", tls.Message);
        Assert.DoesNotContain("tls-canary", tls.Message);
    }

    [Fact]
    public async Task Terminate_waits_until_the_backend_is_gone_and_reports_its_query()
    {
        var (pid, _) = await db.StartAsync(db.AppRole, App(), "SELECT pg_sleep(60)");
        var r = await PgTestDatabase.Service().StopBackendAsync(Spec(), pid, PgStopMode.Terminate, null, false, CancellationToken.None);
        Assert.True(r.Succeeded, r.Reason);
        Assert.Equal("Terminate", r.Action);
        Assert.Equal("SELECT pg_sleep(60)", r.Query);
        Assert.False(db.Exists(pid));
    }

    [Fact]
    public async Task Cancel_stops_the_query_and_keeps_the_session()
    {
        var (pid, running) = await db.StartAsync(db.AppRole, App(), "SELECT pg_sleep(60)");
        var r = await PgTestDatabase.Service().StopBackendAsync(Spec(), pid, PgStopMode.Cancel, null, false, CancellationToken.None);
        Assert.True(r.Succeeded, r.Reason);
        Assert.Equal("Cancel", r.Action);
        await running;
        Assert.True(db.Exists(pid));
    }

    [Fact]
    public async Task Cancel_with_EscalateAfter_terminates_a_backend_that_ignores_the_cancel()
    {
        var (pid, _) = await db.StartAsync(db.AppRole, App(), PgTestDatabase.IgnoresCancel);
        var r = await PgTestDatabase.Service().StopBackendAsync(Spec(), pid, PgStopMode.Cancel, TimeSpan.FromSeconds(1), false, CancellationToken.None);
        Assert.True(r.Succeeded, r.Reason);
        Assert.Equal("Cancel+Terminate", r.Action);
        Assert.False(db.Exists(pid));
    }

    [Fact]
    public async Task EscalateAfter_terminate_spares_a_session_that_moved_on_to_another_query()
    {
        // -EscalateAfter terminates when the cancelled query is still running at the last check. Between that check and the
        // terminate, the query can end and the session (a pooled connection) start the next request: that session must
        // not be terminated for a query it no longer runs. The escalation statement is pinned to the query that was
        // cancelled; run against a real session that moved on, it signals nothing.
        var c = await db.OpenAsync(db.AppRole, App());
        var pid = c.ProcessID;
        await using (var first = new NpgsqlCommand("SELECT pg_sleep(0.05)", c)) await first.ExecuteNonQueryAsync();
        var (backendStart, firstQuery) = Starts(pid);
        var second = new NpgsqlCommand("SELECT pg_sleep(30)", c) { CommandTimeout = 0 };
        var running = Task.Run(async () => { try { await second.ExecuteNonQueryAsync(); } catch (NpgsqlException) { } catch (InvalidOperationException) { } });
        await db.WaitForAsync($"SELECT count(*) FROM pg_stat_activity WHERE pid = {pid} AND state = 'active' AND query LIKE 'SELECT pg_sleep(30)%'");
        var (_, secondQuery) = Starts(pid);
        Assert.NotEqual(firstQuery, secondQuery);

        Assert.Equal(0, db.Scalar(PostgresService.EscalationSql(pid, false, backendStart, firstQuery)));
        Assert.True(db.Exists(pid));
        // Pinned to the query that runs now, the same statement does terminate it.
        Assert.Equal(pid, db.Scalar(PostgresService.EscalationSql(pid, false, backendStart, secondQuery)));
        await db.WaitGoneAsync(pid);
        await running.WaitAsync(TimeSpan.FromSeconds(20));
    }

    private (DateTime BackendStart, DateTime QueryStart) Starts(int pid)
    {
        using var c = new NpgsqlConnection(db.ConnectionString("postgres"));
        c.Open();
        using var cmd = new NpgsqlCommand($"SELECT backend_start, query_start FROM pg_stat_activity WHERE pid = {pid}", c);
        using var r = cmd.ExecuteReader();
        Assert.True(r.Read());
        return (r.GetFieldValue<DateTime>(0), r.GetFieldValue<DateTime>(1));
    }

    [Fact]
    public async Task Safety_policy_spares_own_session_system_backends_and_superusers_unless_asked()
    {
        var svc = PgTestDatabase.Service();
        var su = await db.OpenAsync(db.SuperRole, App());
        var r = await svc.StopBackendAsync(Spec(), su.ProcessID, PgStopMode.Terminate, null, false, CancellationToken.None);
        Assert.False(r.Succeeded);
        Assert.Contains("superuser", r.Reason);
        Assert.True(db.Exists(su.ProcessID));

        var system = (await svc.GetActivityAsync(Spec(), null, CancellationToken.None)).First(a => a.BackendType != "client backend");
        r = await svc.StopBackendAsync(Spec(), system.Pid, PgStopMode.Terminate, null, true, CancellationToken.None);
        Assert.False(r.Succeeded);
        Assert.Contains("not a client backend", r.Reason);
        Assert.True(db.Exists(system.Pid));

        Assert.Equal("this is IncidentOps' own session", PostgresService.SpareReason(new PgActivity { Pid = 1, IsOwnSession = true, BackendType = "client backend", CanSignal = true }, true));
        Assert.Null(PostgresService.SpareReason(new PgActivity { Pid = 1, BackendType = "client backend", IsSuperuser = true, CanSignal = true }, true));
        Assert.Contains("autovacuum", PostgresService.SpareReason(new PgActivity { Pid = 1, BackendType = "autovacuum launcher", CanSignal = true }, true));

        r = await svc.StopBackendAsync(Spec(), su.ProcessID, PgStopMode.Terminate, null, true, CancellationToken.None);
        Assert.True(r.Succeeded, r.Reason);
        Assert.False(db.Exists(su.ProcessID));
    }

    [Fact]
    public async Task A_non_superuser_tool_spares_sessions_it_may_not_signal_and_stops_its_own_roles()
    {
        var app = App();
        var other = await db.OpenAsync(db.OtherRole, app);
        var mine = await db.OpenAsync(db.AppRole, app);
        var svc = PgTestDatabase.Service();
        var r = await svc.StopBackendAsync(Spec(db.AppRole), other.ProcessID, PgStopMode.Terminate, null, false, CancellationToken.None);
        Assert.False(r.Succeeded);
        Assert.Contains("may not signal", r.Reason);
        Assert.True(db.Exists(other.ProcessID));
        var plan = await svc.PlanIdleTerminationAsync(Spec(db.AppRole), new PgActivityFilter { ApplicationName = [app] }, TimeSpan.Zero, false, CancellationToken.None);
        Assert.Equal([mine.ProcessID], plan.Pids);
        var done = await svc.ExecuteIdleTerminationAsync(Spec(db.AppRole), plan, CancellationToken.None);
        Assert.Equal([mine.ProcessID], done.TerminatedPids);
        Assert.True(db.Exists(other.ProcessID));
        Assert.False(db.Exists(mine.ProcessID));
    }

    [Fact]
    public async Task Idle_termination_is_one_statement_with_the_policy_in_its_where_clause()
    {
        var app = App();
        var sessions = new List<int>();
        for (var i = 0; i < 5; i++) sessions.Add((await db.OpenAsync(db.AppRole, app)).ProcessID);
        var inTx = await db.OpenIdleInTransactionAsync(db.AppRole, app);
        var su = await db.OpenAsync(db.SuperRole, app);
        var svc = PgTestDatabase.Service();
        var plan = await svc.PlanIdleTerminationAsync(Spec(), new PgActivityFilter { ApplicationName = [app] }, TimeSpan.Zero, false, CancellationToken.None);
        Assert.Equal(6, plan.Matched);
        Assert.Equal(sessions.Order(), plan.Pids.Order());
        Assert.Equal(su.ProcessID, Assert.Single(plan.SparedSessions).Pid);
        Assert.Equal(1, plan.Sql.Split("pg_terminate_backend").Length - 1);
        Assert.Contains("a.pid <> pg_backend_pid()", plan.Sql);
        Assert.Contains("a.backend_type = 'client backend'", plan.Sql);
        Assert.Contains("NOT coalesce(r.rolsuper, false)", plan.Sql);
        Assert.Contains("a.state IN ('idle')", plan.Sql);
        var before = db.Scalar($"SELECT coalesce(sum(calls), 0) FROM pg_stat_statements WHERE query LIKE 'SELECT a.pid, pg_terminate_backend%' AND dbid = (SELECT oid FROM pg_database WHERE datname = '{db.Database}')");
        var done = await svc.ExecuteIdleTerminationAsync(Spec(), plan, CancellationToken.None);
        Assert.Equal(5, done.Terminated);
        foreach (var pid in sessions) Assert.False(db.Exists(pid));
        Assert.True(db.Exists(inTx.ProcessID));
        Assert.True(db.Exists(su.ProcessID));
        var after = db.Scalar($"SELECT coalesce(sum(calls), 0) FROM pg_stat_statements WHERE query LIKE 'SELECT a.pid, pg_terminate_backend%' AND dbid = (SELECT oid FROM pg_database WHERE datname = '{db.Database}')");
        Assert.Equal(1, after - before);
    }

    [Fact]
    public async Task Idle_termination_spares_sessions_idle_for_less_than_IdleFor_and_can_add_idle_in_transaction()
    {
        var app = App();
        var idle = await db.OpenAsync(db.AppRole, app);
        var inTx = await db.OpenIdleInTransactionAsync(db.AppRole, app);
        var svc = PgTestDatabase.Service();
        var plan = await svc.PlanIdleTerminationAsync(Spec(), new PgActivityFilter { ApplicationName = [app] }, TimeSpan.FromHours(1), false, CancellationToken.None);
        Assert.Equal(0, plan.Matched);
        plan = await svc.PlanIdleTerminationAsync(Spec(), new PgActivityFilter { ApplicationName = [app], State = ["idle in transaction"] }, TimeSpan.Zero, false, CancellationToken.None);
        Assert.Equal([inTx.ProcessID], plan.Pids);
        await svc.ExecuteIdleTerminationAsync(Spec(), plan, CancellationToken.None);
        Assert.False(db.Exists(inTx.ProcessID));
        Assert.True(db.Exists(idle.ProcessID));
    }
}
