using IncidentOps.Engine;
using IncidentOps.Engine.Config;
using IncidentOps.Engine.Postgres;
using Npgsql;

namespace IncidentOps.Tests.Postgres;

/// <summary>
/// A database and three roles of its own per test class (app: non-superuser, other: a second
/// non-superuser, su: superuser), so tests stay isolated from parallel test classes. Sessions opened
/// through <see cref="OpenAsync"/> are closed and the database dropped on dispose.
/// </summary>
public sealed class PgTestDatabase : IDisposable
{
    private readonly List<NpgsqlConnection> _sessions = [];
    private readonly NpgsqlConnectionStringBuilder _admin;

    public PgTestDatabase()
    {
        _admin = new NpgsqlConnectionStringBuilder(TestServers.PostgresConnectionString) { Pooling = false };
        var id = Guid.NewGuid().ToString("N")[..8];
        Database = "io_pg_" + id;
        AppRole = "io_app_" + id;
        OtherRole = "io_other_" + id;
        SuperRole = "io_su_" + id;
        Admin($"CREATE ROLE {AppRole} LOGIN; CREATE ROLE {OtherRole} LOGIN; CREATE ROLE {SuperRole} LOGIN SUPERUSER;");
        Admin($"CREATE DATABASE {Database}");
        Exec(ConnectionString(SuperRole), "CREATE TABLE locked_t (id int); GRANT ALL ON locked_t TO PUBLIC;");
    }

    public string Database { get; }
    public string AppRole { get; }
    public string OtherRole { get; }
    public string SuperRole { get; }
    public string Host => _admin.Host!;
    public int Port => _admin.Port;

    /// <summary>Connection string for a role on the class database (no pooling, so every open is a new backend).</summary>
    public string ConnectionString(string role, string? app = null) =>
        new NpgsqlConnectionStringBuilder(_admin.ConnectionString) { Username = role, Database = Database, ApplicationName = app ?? "io-test", Pooling = false }.ConnectionString;

    /// <summary>Opens a session that stays open (idle) until the class ends or the test closes it.</summary>
    public async Task<NpgsqlConnection> OpenAsync(string role, string app)
    {
        var c = new NpgsqlConnection(ConnectionString(role, app));
        await c.OpenAsync();
        lock (_sessions) _sessions.Add(c);
        return c;
    }

    /// <summary>Opens a session that is idle inside an open transaction.</summary>
    public async Task<NpgsqlConnection> OpenIdleInTransactionAsync(string role, string app)
    {
        var c = await OpenAsync(role, app);
        await using var cmd = new NpgsqlCommand("BEGIN; SELECT 1;", c);
        await cmd.ExecuteNonQueryAsync();
        return c;
    }

    /// <summary>Starts a statement on its own session and returns its pid; the statement keeps running.</summary>
    public async Task<(int Pid, Task Running)> StartAsync(string role, string app, string sql)
    {
        var c = await OpenAsync(role, app);
        var pid = c.ProcessID;
        var cmd = new NpgsqlCommand(sql, c) { CommandTimeout = 0 };
        var running = Task.Run(async () =>
        {
            try { await cmd.ExecuteNonQueryAsync(); }
            catch (Exception ex) when (ex is NpgsqlException or InvalidOperationException or ObjectDisposedException) { /* cancelled or terminated by the test */ }
        });
        await WaitForAsync($"SELECT count(*) FROM pg_stat_activity WHERE pid = {pid} AND state = 'active'");
        return (pid, running);
    }

    /// <summary>A DO block that swallows cancels, so only a terminate stops it.</summary>
    public const string IgnoresCancel = "DO $$ BEGIN LOOP BEGIN PERFORM pg_sleep(60); EXCEPTION WHEN query_canceled THEN NULL; END; END LOOP; END $$";

    public long Scalar(string sql)
    {
        using var c = new NpgsqlConnection(_admin.ConnectionString);
        c.Open();
        using var cmd = new NpgsqlCommand(sql, c);
        return Convert.ToInt64(cmd.ExecuteScalar());
    }

    public bool Exists(int pid) => Scalar($"SELECT count(*) FROM pg_stat_activity WHERE pid = {pid}") > 0;

    /// <summary>
    /// True once Stop-PgBackend -Mode Cancel has sent its cancel for <paramref name="pid"/> and is waiting for it to take: a
    /// module session (application IncidentOps) on the backend's database that connected after the backend started has, as
    /// its latest statement, the poll of a backend's state (PostgresService.WaitCancelledAsync; the pid is a parameter, so
    /// not in the text). Each test class has a database of its own and runs its tests one at a time, so such a session is
    /// this test's: a loaded run once matched another class's poll when the database was not compared. Module sessions are
    /// never pooled, so one left from an earlier test of the class started before this backend.
    /// </summary>
    public bool WaitingForCancelOf(int pid) => Scalar(
        "SELECT count(*) FROM pg_stat_activity w JOIN pg_stat_activity t ON t.pid = " + pid.ToString(System.Globalization.CultureInfo.InvariantCulture) +
        " WHERE w.application_name = '" + IncidentOps.Engine.Postgres.PgConnectionFactory.ApplicationName + "' AND w.datname = t.datname AND w.backend_start > t.backend_start" +
        " AND w.query LIKE 'SELECT state, query_start FROM pg_stat_activity WHERE pid = %'") > 0;

    /// <summary>Waits (bounded) until a count query returns non-zero.</summary>
    public async Task WaitForAsync(string countSql, int expected = 1)
    {
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (Scalar(countSql) < expected)
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException("condition never held: " + countSql);
            await Task.Delay(20);
        }
    }

    public async Task WaitGoneAsync(int pid)
    {
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (Exists(pid))
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"backend {pid} still exists");
            await Task.Delay(20);
        }
    }

    public static PostgresService Service(Func<string, string?>? env = null, IOperationSink? sink = null) =>
        new(new ReferenceResolver(new NoSecrets()), sink ?? NullSink.Instance, env);

    private sealed class NoSecrets : ISecretProvider
    {
        public Task<string?> GetSecretAsync(string name, CancellationToken cancellationToken) => Task.FromResult<string?>(null);
    }

    /// <summary>A scalar read on the class database as the superuser role.</summary>
    public string ExecScalarText(string sql)
    {
        using var c = new NpgsqlConnection(ConnectionString(SuperRole));
        c.Open();
        using var cmd = new NpgsqlCommand(sql, c);
        return Convert.ToString(cmd.ExecuteScalar()) ?? "";
    }

    /// <summary>Runs SQL on the class database as the given role.</summary>
    public void ExecAs(string role, string sql) => Exec(ConnectionString(role), sql);

    private void Admin(string sql) => Exec(_admin.ConnectionString, sql);

    /// <summary>Runs one statement on its own connection (test set-up and clean-up).</summary>
    internal static void Exec(string cs, string sql)
    {
        using var c = new NpgsqlConnection(cs);
        c.Open();
        using var cmd = new NpgsqlCommand(sql, c);
        cmd.ExecuteNonQuery();
    }

    public void Dispose()
    {
        try
        {
            Admin($"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{Database}'");
            lock (_sessions)
                foreach (var s in _sessions)
                {
                    try { s.Dispose(); }
                    // Already terminated above; a command a test left running on this connection may still be
                    // unwinding on another thread, and Npgsql's Dispose can then trip over it (seen once as a NullReferenceException).
                    catch (Exception ex) when (ex is NpgsqlException or InvalidOperationException or IOException or NullReferenceException or ObjectDisposedException) { }
                }
            Admin($"DROP DATABASE IF EXISTS {Database} WITH (FORCE)");
            Admin($"DROP ROLE IF EXISTS {AppRole}; DROP ROLE IF EXISTS {OtherRole}; DROP ROLE IF EXISTS {SuperRole};");
        }
        catch (NpgsqlException) { /* the server may already be stopping at process exit */ }
    }
}
