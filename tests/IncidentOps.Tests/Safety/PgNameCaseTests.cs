using IncidentOps.Engine.Postgres;
using IncidentOps.Postgres;
using IncidentOps.Tests.Postgres;
using Npgsql;
using Xunit;

namespace IncidentOps.Tests.Safety;

/// <summary>
/// Two databases and two roles whose names differ only in case, on the real test server. PostgreSQL names are
/// case-sensitive (a quoted "Prod" is not prod), but -Database and -User matched case-insensitively, so
/// Stop-IdleConnection -Database prod also terminated the sessions of Prod. Created per class and dropped after it.
/// </summary>
public sealed class PgCaseNames : IDisposable
{
    private readonly string _admin = new NpgsqlConnectionStringBuilder(TestServers.PostgresConnectionString) { Pooling = false }.ConnectionString;
    private readonly List<NpgsqlConnection> _sessions = [];

    public PgCaseNames()
    {
        var id = Guid.NewGuid().ToString("N")[..6];
        Upper = "IoCase_" + id;
        Lower = Upper.ToLowerInvariant();
        UpperRole = "IoRole_" + id;
        LowerRole = UpperRole.ToLowerInvariant();
        Admin($"CREATE ROLE \"{UpperRole}\" LOGIN; CREATE ROLE \"{LowerRole}\" LOGIN;");
        Admin($"CREATE DATABASE \"{Upper}\"");
        Admin($"CREATE DATABASE \"{Lower}\"");
        foreach (var d in new[] { Upper, Lower })
            Exec(ConnectionString(d, null), "CREATE TABLE public.orders (id int PRIMARY KEY); GRANT ALL ON public.orders TO PUBLIC;");
    }

    public string Upper { get; }
    public string Lower { get; }
    public string UpperRole { get; }
    public string LowerRole { get; }

    /// <summary>A connection string to one of the two databases, as the server's superuser or the given role.</summary>
    public string ConnectionString(string database, string? role, string? app = null)
    {
        var b = new NpgsqlConnectionStringBuilder(_admin) { Database = database, ApplicationName = app ?? "io-case" };
        if (role is not null) b.Username = role;
        return b.ConnectionString;
    }

    public async Task<NpgsqlConnection> OpenAsync(string database, string role, string app)
    {
        var c = new NpgsqlConnection(ConnectionString(database, role, app));
        await c.OpenAsync();
        lock (_sessions) _sessions.Add(c);
        return c;
    }

    public long Scalar(string sql)
    {
        using var c = new NpgsqlConnection(_admin);
        c.Open();
        using var cmd = new NpgsqlCommand(sql, c);
        return Convert.ToInt64(cmd.ExecuteScalar());
    }

    public bool Exists(int pid) => Scalar($"SELECT count(*) FROM pg_stat_activity WHERE pid = {pid}") > 0;

    private void Admin(string sql) => Exec(_admin, sql);

    private static void Exec(string cs, string sql) => PgTestDatabase.Exec(cs, sql);

    public void Dispose()
    {
        try
        {
            lock (_sessions)
                foreach (var s in _sessions)
                {
                    try { s.Dispose(); }
                    catch (Exception ex) when (ex is NpgsqlException or InvalidOperationException or IOException or ObjectDisposedException) { }
                }
            Admin($"DROP DATABASE IF EXISTS \"{Upper}\" WITH (FORCE); ");
            Admin($"DROP DATABASE IF EXISTS \"{Lower}\" WITH (FORCE)");
            Admin($"DROP ROLE IF EXISTS \"{UpperRole}\"; DROP ROLE IF EXISTS \"{LowerRole}\";");
        }
        catch (NpgsqlException) { /* the server may already be stopping at process exit */ }
    }
}

public sealed class PgNameCaseTests(ModuleFixture fx, PgCaseNames names) : IClassFixture<ModuleFixture>, IClassFixture<PgCaseNames>
{
    private static string App() => "io-case-" + Guid.NewGuid().ToString("N")[..6];
    private string Cs => names.ConnectionString("postgres", null);

    private PwshResult Run(string script) => fx.Session.Run(script, new Dictionary<string, object?> { ["cs"] = Cs });

    [Fact]
    public async Task StopIdleConnection_Database_never_terminates_the_sessions_of_a_database_that_differs_only_in_case()
    {
        var app = App();
        var upper = await names.OpenAsync(names.Upper, names.LowerRole, app);
        var lower = await names.OpenAsync(names.Lower, names.LowerRole, app);
        var r = Run($"Stop-IdleConnection -ConnectionString $cs -Database '{names.Lower}' -ApplicationName '{app}' -IdleFor 0s -WhatIf").AssertNoErrors();
        // -WhatIf names the one session, with its database in its own case, and nothing of the other database.
        Assert.Contains($"pids {lower.ProcessID} (backend {lower.ProcessID} (user {names.LowerRole}, database {names.Lower}, application '{app}'", r.HostText);
        Assert.DoesNotContain(names.Upper, r.HostText);
        Assert.True(names.Exists(lower.ProcessID));

        // A wildcard keeps working, in the name's own case.
        r = Run($"Stop-IdleConnections -ConnectionString $cs -Database '{names.Lower[..^2]}*' -ApplicationName '{app}' -IdleFor 0s -Force").AssertNoErrors();
        var report = r.Single<PgIdleConnectionReport>();
        Assert.Equal([lower.ProcessID], report.TerminatedPids);
        Assert.True(names.Exists(upper.ProcessID), $"the session of {names.Upper} was terminated by -Database {names.Lower}*");
    }

    [Fact]
    public async Task StopIdleConnection_User_never_terminates_the_sessions_of_a_role_that_differs_only_in_case()
    {
        var app = App();
        var upper = await names.OpenAsync(names.Lower, names.UpperRole, app);
        var lower = await names.OpenAsync(names.Lower, names.LowerRole, app);
        var r = Run($"Stop-IdleConnection -ConnectionString $cs -User '{names.LowerRole}' -ApplicationName '{app}' -IdleFor 0s -Force").AssertNoErrors();
        var report = r.Single<PgIdleConnectionReport>();
        Assert.Equal(1, report.Matched);
        Assert.Equal([lower.ProcessID], report.TerminatedPids);
        Assert.True(names.Exists(upper.ProcessID), $"the session of role {names.UpperRole} was terminated by -User {names.LowerRole}");

        // The application name is a case-sensitive PostgreSQL string too.
        r = Run($"Stop-IdleConnection -ConnectionString $cs -ApplicationName '{app.ToUpperInvariant()}' -IdleFor 0s -Force").AssertNoErrors();
        Assert.Equal(0, r.Single<PgIdleConnectionReport>().Matched);
        Assert.True(names.Exists(upper.ProcessID));
    }

    [Fact]
    public async Task GetPgActivity_filters_match_database_role_and_application_names_in_their_own_case()
    {
        var app = App();
        var upper = await names.OpenAsync(names.Upper, names.UpperRole, app);
        var lower = await names.OpenAsync(names.Lower, names.LowerRole, app);
        var r = Run($"Get-PgActivity -ConnectionString $cs -Database '{names.Lower}' -ApplicationName '{app}'").AssertNoErrors();
        Assert.Equal([lower.ProcessID], r.Objects<PgActivity>().Select(a => a.Pid));
        r = Run($"Get-PgActivity -ConnectionString $cs -User '{names.UpperRole[..^2]}*' -ApplicationName '{app}'").AssertNoErrors();
        Assert.Equal([upper.ProcessID], r.Objects<PgActivity>().Select(a => a.Pid));

        // What Get-PgActivity -Database lists is what Stop-PgBackend stops: the other case's session stays.
        r = Run($"Get-PgActivity -ConnectionString $cs -Database '{names.Lower}' -ApplicationName '{app}' | Stop-PgBackend -ConnectionString $cs -Force").AssertNoErrors();
        Assert.True(r.Single<PgTerminationResult>().Succeeded);
        Assert.True(names.Exists(upper.ProcessID));
    }

    [Fact]
    public async Task InvokePgMaintenance_refuses_a_table_piped_from_a_database_that_differs_only_in_case()
    {
        var upperCs = names.ConnectionString(names.Upper, null);
        var lowerCs = names.ConnectionString(names.Lower, null);
        var r = fx.Session.Run("Get-PgIndex -ConnectionString $upper | Where-Object Table -eq orders | Invoke-PgMaintenance -ConnectionString $lower -Operation Analyze -Force",
            new Dictionary<string, object?> { ["upper"] = upperCs, ["lower"] = lowerCs });
        var e = Assert.Single(r.Errors);
        Assert.Equal("PipelineTargetMismatch,IncidentOps.Commands.InvokePgMaintenanceCommand", e.FullyQualifiedErrorId);
        Assert.Contains($"/{names.Upper}", e.ToString());
        Assert.Empty(r.Output);

        // The same database on both sides still runs.
        r = fx.Session.Run("Get-PgIndex -ConnectionString $lower | Where-Object Table -eq orders | Invoke-PgMaintenance -ConnectionString $lower -Operation Analyze -Force",
            new Dictionary<string, object?> { ["lower"] = lowerCs }).AssertNoErrors();
        Assert.Single(r.Objects<PgMaintenanceResult>());
        await Task.CompletedTask;
    }

    [Fact]
    public void Server_names_compare_hosts_case_insensitively_and_databases_exactly()
    {
        Assert.True(PostgresService.SameTarget("DB.internal:5432/app", "db.internal:5432/app"));
        Assert.False(PostgresService.SameTarget("db.internal:5432/Prod", "db.internal:5432/prod"));
        Assert.False(PostgresService.SameTarget("db.internal:5432/app", "db.internal:5433/app"));
        Assert.True(PostgresService.SameTarget("/var/run/postgresql:5432/Orders", "/var/run/postgresql:5432/Orders"));
        Assert.False(PostgresService.SameTarget("::1:5432/Orders", "::1:5432/orders"));
    }
}

/// <summary>
/// Stop-IdleConnection lists the sessions, then (after a prompt that can take minutes) terminates them in one
/// statement. The statement itself must still require what the listing chose them by: the idle state, idle since
/// -IdleFor, and with -ApplicationName the application they were listed with.
/// </summary>
public sealed class PgIdleRecheckTests(ModuleFixture fx, PgTestDatabase db) : IClassFixture<ModuleFixture>, IClassFixture<PgTestDatabase>
{
    private static string App() => "io-recheck-" + Guid.NewGuid().ToString("N")[..6];
    private PgConnectionSpec Spec() => new() { ConnectionString = db.ConnectionString("postgres"), TimeoutSec = 20 };

    [Fact]
    public async Task A_session_whose_application_changed_after_the_listing_is_spared()
    {
        var app = App();
        var moved = await db.OpenAsync(db.AppRole, app);
        var stays = await db.OpenAsync(db.AppRole, app);
        var svc = PgTestDatabase.Service();
        var plan = await svc.PlanIdleTerminationAsync(Spec(), new PgActivityFilter { ApplicationName = [app] }, TimeSpan.Zero, false, CancellationToken.None);
        Assert.Equal(2, plan.Pids.Length);
        Assert.Contains($"(a.pid, a.application_name) IN (", plan.Sql);
        // Between the listing and the statement, a pooler hands one connection to another client, which names itself.
        await using (var cmd = new NpgsqlCommand("SET application_name = 'billing-batch'", moved)) await cmd.ExecuteNonQueryAsync();
        var done = await svc.ExecuteIdleTerminationAsync(Spec(), plan, CancellationToken.None);
        Assert.Equal([stays.ProcessID], done.TerminatedPids);
        Assert.True(db.Exists(moved.ProcessID));
    }

    [Fact]
    public async Task A_session_that_ran_a_query_after_the_listing_is_no_longer_idle_for_long_enough_and_is_spared()
    {
        var app = App();
        var busy = await db.OpenAsync(db.AppRole, app);
        await Task.Delay(1200);
        var svc = PgTestDatabase.Service();
        var plan = await svc.PlanIdleTerminationAsync(Spec(), new PgActivityFilter { ApplicationName = [app] }, TimeSpan.FromSeconds(1), false, CancellationToken.None);
        Assert.Equal([busy.ProcessID], plan.Pids);
        await using (var cmd = new NpgsqlCommand("SELECT 1", busy)) await cmd.ExecuteScalarAsync();
        var done = await svc.ExecuteIdleTerminationAsync(Spec(), plan, CancellationToken.None);
        Assert.Empty(done.TerminatedPids);
        Assert.True(db.Exists(busy.ProcessID));
    }

    [Fact]
    public async Task StopIdleConnection_State_in_upper_case_terminates_what_it_lists()
    {
        var app = App();
        var s = await db.OpenAsync(db.AppRole, app);
        var r = fx.Session.Run($"Stop-IdleConnection -ConnectionString $cs -State IDLE -ApplicationName '{app}' -IdleFor 0s -Force",
            new Dictionary<string, object?> { ["cs"] = db.ConnectionString("postgres") }).AssertNoErrors();
        var report = r.Single<PgIdleConnectionReport>();
        Assert.Equal(1, report.Matched);
        Assert.Equal([s.ProcessID], report.TerminatedPids);
        await db.WaitGoneAsync(s.ProcessID);
    }

    [Fact]
    public void An_application_name_with_a_quote_or_backslash_is_one_literal_in_the_statement()
    {
        var sql = PostgresService.SignalSql("pg_terminate_backend", [(7, (DateTime?)null)], false, ["idle"], null, [(7, "o'brien\\x")]);
        Assert.Contains("(a.pid, a.application_name) IN ((7, E'o''brien\\\\x'))", sql);
    }
}
