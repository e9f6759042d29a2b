using System.Management.Automation;
using IncidentOps.Engine.Postgres;
using IncidentOps.Postgres;
using IncidentOps.Tests.Postgres;
using Npgsql;
using Xunit;

namespace IncidentOps.Tests.Safety;

/// <summary>
/// Stop-PgBackend -Pid N typed by hand: the pid was read only after the confirmation prompt, so the prompt named a
/// number, not a session, and whatever held the pid when the user said yes (a newer session, or a query started
/// while the prompt was open) was stopped. The session is now read before the prompt, named in it and in -WhatIf, and
/// pinned in the statement as a piped backend is. Real PostgreSQL on loopback; the hosted runspace answers the prompt.
/// </summary>
public sealed class PgTypedPidTests(ModuleFixture fx, PgTestDatabase db) : IClassFixture<ModuleFixture>, IClassFixture<PgTestDatabase>
{
    private static string App() => "io-typed-" + Guid.NewGuid().ToString("N")[..6];
    private string Cs => db.ConnectionString("postgres");

    private PwshResult Run(string script) => fx.Session.Run(script, new Dictionary<string, object?> { ["cs"] = Cs });

    private static DateTime BackendStart(NpgsqlConnection session)
    {
        using var cmd = new NpgsqlCommand("SELECT backend_start FROM pg_stat_activity WHERE pid = pg_backend_pid()", session);
        return (DateTime)cmd.ExecuteScalar()!;
    }

    private static string Utc(DateTime t) => t.ToString("yyyy-MM-dd HH:mm:ss.ffffff", System.Globalization.CultureInfo.InvariantCulture) + " UTC";

    [Fact]
    public async Task StopPgBackend_WhatIf_on_a_piped_backend_names_the_session_as_it_was_listed()
    {
        // The prompt for a piped backend said only "backend N on server"; it now names the listed session, as for a typed pid.
        var app = App();
        var s = await db.OpenAsync(db.AppRole, app);
        var start = BackendStart(s);
        var r = Run($"Get-PgActivity -ConnectionString $cs -ApplicationName {app} | Stop-PgBackend -ConnectionString $cs -WhatIf").AssertNoErrors();
        Assert.Empty(r.Output);
        Assert.Contains($"What if: Terminate backend {s.ProcessID} (user {db.AppRole}, database {db.Database}, application '{app}', client 127.0.0.1, started {Utc(start)}, idle) on ", r.HostText);
        Assert.True(db.Exists(s.ProcessID));
    }

    [Fact]
    public async Task StopPgBackend_WhatIf_on_a_typed_pid_names_the_session_and_pins_it_and_changes_nothing()
    {
        var app = App();
        var s = await db.OpenAsync(db.AppRole, app);
        var start = BackendStart(s);
        var r = Run($"Stop-PgBackend -ConnectionString $cs -Pid {s.ProcessID} -WhatIf").AssertNoErrors();
        Assert.Empty(r.Output);
        Assert.Contains($"What if: Terminate backend {s.ProcessID} (user {db.AppRole}, database {db.Database}, application '{app}', client 127.0.0.1, started {Utc(start)}, idle)", r.HostText);
        Assert.Contains($"(a.pid, a.backend_start) IN (({s.ProcessID}, {PostgresService.TimestampLiteral(start)}))", r.HostText);
        Assert.True(db.Exists(s.ProcessID));

        // -Mode Cancel also pins the query the session ran when it was read.
        r = Run($"Stop-PgBackend -ConnectionString $cs -Pid {s.ProcessID} -Mode Cancel -WhatIf").AssertNoErrors();
        Assert.Contains("pg_cancel_backend", r.HostText);
        Assert.Contains("AND a.state = 'active' AND a.query_start = '", r.HostText);
        Assert.True(db.Exists(s.ProcessID));
    }

    [Fact]
    public async Task StopPgBackend_on_a_pid_no_backend_has_is_PgBackendNotFound_before_any_prompt()
    {
        var gone = await db.OpenAsync(db.AppRole, App());
        var pid = gone.ProcessID;
        await gone.CloseAsync();
        await db.WaitGoneAsync(pid);
        var asked = false;
        fx.Session.ConfirmWith = (_, _) => { asked = true; return 2; };
        try
        {
            var r = Run($"Stop-PgBackend -ConnectionString $cs -Pid {pid}");
            var e = Assert.Single(r.Errors);
            Assert.Equal("PgBackendNotFound,IncidentOps.Commands.StopPgBackendCommand", e.FullyQualifiedErrorId);
            Assert.Equal(ErrorCategory.ObjectNotFound, e.CategoryInfo.Category);
            Assert.Contains($"No backend has pid {pid}", e.ToString());
            Assert.Contains("Get-PgActivity", e.ToString());
            Assert.Empty(r.Output);
            Assert.False(asked, "no prompt for a pid that names no session");

            // Under -WhatIf too: nothing to show a statement for.
            r = Run($"Stop-PgBackend -ConnectionString $cs -Pid {pid} -WhatIf");
            Assert.Equal("PgBackendNotFound,IncidentOps.Commands.StopPgBackendCommand", Assert.Single(r.Errors).FullyQualifiedErrorId);
            Assert.DoesNotContain("What if:", r.HostText);
        }
        finally { fx.Session.ConfirmWith = null; }
    }

    [Fact]
    public async Task StopPgBackend_Cancel_on_a_typed_pid_never_cancels_a_query_started_while_the_prompt_was_open()
    {
        var app = App();
        var s = await db.OpenAsync(db.AppRole, app);
        var pid = s.ProcessID;
        Task first = new NpgsqlCommand("SELECT pg_sleep(60)", s) { CommandTimeout = 0 }.ExecuteNonQueryAsync();
        await db.WaitForAsync($"SELECT count(*) FROM pg_stat_activity WHERE pid = {pid} AND state = 'active'");
        var firstStart = db.ExecScalarText($"SELECT to_char(query_start AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US') FROM pg_stat_activity WHERE pid = {pid}");
        Task? second = null;
        string? prompt = null;
        // While the user reads the prompt, the listed query ends and the session starts another one (same pid, same
        // backend_start, a later query_start): the cancel the user confirmed was for the first.
        fx.Session.ConfirmWith = (_, message) =>
        {
            prompt = message;
            db.Scalar($"SELECT pg_cancel_backend({pid})::int");
            try { first.Wait(TimeSpan.FromSeconds(20)); } catch (AggregateException) { /* cancelled, as intended */ }
            second = new NpgsqlCommand("SELECT pg_sleep(60)", s) { CommandTimeout = 0 }.ExecuteNonQueryAsync();
            db.WaitForAsync($"SELECT count(*) FROM pg_stat_activity WHERE pid = {pid} AND state = 'active' AND query_start > '{firstStart}+00'::timestamptz").Wait();
            return 0;
        };
        try
        {
            var r = Run($"Stop-PgBackend -ConnectionString $cs -Pid {pid} -Mode Cancel").AssertNoErrors();
            Assert.NotNull(prompt);
            Assert.Contains($"backend {pid} (user {db.AppRole}, database {db.Database}, application '{app}'", prompt);
            Assert.Contains("a.query_start = '" + firstStart, prompt);
            var result = r.Single<PgTerminationResult>();
            Assert.False(result.Succeeded, result.Reason);
            Assert.Equal("None", result.Action);
            Assert.Contains("has finished and the session runs another one", result.Reason);
            Assert.Equal(1, db.Scalar($"SELECT count(*) FROM pg_stat_activity WHERE pid = {pid} AND state = 'active'"));
        }
        finally
        {
            fx.Session.ConfirmWith = null;
            db.Scalar($"SELECT pg_cancel_backend({pid})::int");
            try { second?.Wait(TimeSpan.FromSeconds(20)); } catch (AggregateException) { /* cancelled */ }
        }
    }

    [Fact]
    public async Task StopPgBackend_on_a_typed_pid_whose_session_ended_during_the_prompt_stops_no_other_session()
    {
        var app = App();
        var s = await db.OpenAsync(db.AppRole, app);
        var pid = s.ProcessID;
        NpgsqlConnection? newer = null;
        string? prompt = null;
        // The session the prompt names ends while it is open, and another one starts.
        fx.Session.ConfirmWith = (_, message) =>
        {
            prompt = message;
            s.Close();
            db.WaitGoneAsync(pid).Wait();
            newer = db.OpenAsync(db.AppRole, app).Result;
            return 0;
        };
        try
        {
            var r = Run($"Stop-PgBackend -ConnectionString $cs -Pid {pid}").AssertNoErrors();
            Assert.Contains($"backend {pid} (user {db.AppRole}", prompt);
            var result = r.Single<PgTerminationResult>();
            Assert.False(result.Succeeded);
            Assert.Equal("None", result.Action);
            Assert.True(db.Exists(newer!.ProcessID));
        }
        finally { fx.Session.ConfirmWith = null; }
    }

    [Fact]
    public async Task StopPgBackend_on_a_typed_pid_still_spares_superusers_and_non_client_backends()
    {
        var su = await db.OpenAsync(db.SuperRole, App());
        var r = Run($"Stop-PgBackend -ConnectionString $cs -Pid {su.ProcessID} -Force").AssertNoErrors();
        var result = r.Single<PgTerminationResult>();
        Assert.False(result.Succeeded);
        Assert.Contains("superuser", result.Reason);
        Assert.True(db.Exists(su.ProcessID));

        var checkpointer = db.Scalar("SELECT pid FROM pg_stat_activity WHERE backend_type = 'checkpointer'");
        r = Run($"Stop-PgBackend -ConnectionString $cs -Pid {checkpointer} -IncludeSuperuser -Force").AssertNoErrors();
        result = r.Single<PgTerminationResult>();
        Assert.False(result.Succeeded);
        Assert.Contains("not a client backend", result.Reason);
        Assert.Equal(1, db.Scalar($"SELECT count(*) FROM pg_stat_activity WHERE pid = {checkpointer}"));
    }

    private static string Through(int port) =>
        new NpgsqlConnectionStringBuilder(TestServers.PostgresConnectionString) { Host = "127.0.0.1", Port = port, Pooling = false }.ConnectionString;

    [Fact]
    public void The_read_of_a_typed_pid_ends_at_the_deadline_on_a_stalled_server_and_asks_nothing()
    {
        using var proxy = new IncidentOps.Tests.Deadlines.StallingProxy("127.0.0.1", new NpgsqlConnectionStringBuilder(TestServers.PostgresConnectionString).Port, "a.datname");
        var asked = false;
        fx.Session.ConfirmWith = (_, _) => { asked = true; return 2; };
        try
        {
            var sw = System.Diagnostics.Stopwatch.StartNew();
            var r = fx.Session.Run($"Stop-PgBackend -ConnectionString '{Through(proxy.Port)}' -Pid 4242 -TimeoutSec 2");
            sw.Stop();
            Assert.True(sw.Elapsed < TimeSpan.FromSeconds(10), $"returned after {sw.Elapsed.TotalSeconds:0.00} s");   // "does not hang": the stalled reply never ends
            Assert.True(proxy.Stalls >= 1, "the reply was never stalled: " + r.ErrorText);
            Assert.Equal("PgServerNotResponding,IncidentOps.Commands.StopPgBackendCommand", Assert.Single(r.Errors).FullyQualifiedErrorId);
            Assert.False(asked);
            Assert.Empty(r.Output);
        }
        finally { fx.Session.ConfirmWith = null; }
    }

    [Fact]
    public void Ctrl_C_stops_the_read_of_a_typed_pid_at_once()
    {
        using var proxy = new IncidentOps.Tests.Deadlines.StallingProxy("127.0.0.1", new NpgsqlConnectionStringBuilder(TestServers.PostgresConnectionString).Port, "a.datname");
        var (latency, result) = fx.Session.RunAndStopWhen($"Stop-PgBackend -ConnectionString '{Through(proxy.Port)}' -Pid 4242 -TimeoutSec 120 -Force", () => proxy.Stalls >= 1);
        Assert.True(proxy.Stalls >= 1);
        Assert.True(result.Stopped);
        Assert.True(latency < TimeSpan.FromSeconds(15), $"Stop took {latency.TotalMilliseconds:0} ms");   // "does not hang": -TimeoutSec is 120 s
    }

    [Fact]
    public async Task The_engine_reads_the_session_that_holds_a_pid_and_null_for_a_pid_no_backend_has()
    {
        var app = App();
        var s = await db.OpenAsync(db.AppRole, app);
        var svc = PgTestDatabase.Service();
        var spec = new PgConnectionSpec { ConnectionString = Cs, TimeoutSec = 20 };
        var read = await svc.ReadBackendAsync(spec, s.ProcessID, CancellationToken.None);
        Assert.NotNull(read);
        Assert.Equal((db.AppRole, db.Database, app), (read!.User, read.Database, read.ApplicationName));
        Assert.True(PostgresService.SameStart(BackendStart(s), read.BackendStart));
        Assert.Equal($"{db.Host}:{db.Port}/{db.Database}", read.Server);
        Assert.DoesNotContain("SELECT", PostgresService.DescribeSession(read));
        var pid = s.ProcessID;
        await s.CloseAsync();
        await db.WaitGoneAsync(pid);
        Assert.Null(await svc.ReadBackendAsync(spec, pid, CancellationToken.None));
    }
}
