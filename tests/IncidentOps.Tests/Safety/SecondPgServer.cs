using System.Diagnostics;
using Npgsql;

namespace IncidentOps.Tests.Safety;

/// <summary>
/// A second, separate PostgreSQL 15 cluster on its own loopback port (the main test server is the first): a pid
/// means a different session on each, which is what the pipeline-identity tests need. max_connections is tiny
/// (6, with 3 reserved for superusers) so that exhausting it (SQLSTATE 53300) takes a handful of sessions.
/// Stopped and removed on dispose.
/// </summary>
public sealed class SecondPgServer : IDisposable
{
    private const string Bin = "/usr/lib/postgresql/15/bin";
    private readonly string _root;
    private readonly List<NpgsqlConnection> _sessions = [];

    public SecondPgServer()
    {
        _root = Path.Combine(Path.GetTempPath(), "io-pg-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(_root);
        // Same owner-file convention as TestServers, so an orphan left by a killed run is reaped next time.
        File.WriteAllText(Path.Combine(_root, "owner.pid"), Environment.ProcessId.ToString());
        TestServers.Shell($"chown postgres:postgres {_root}");
        TestServers.Shell($"runuser -u postgres -- {Bin}/initdb -D {_root}/data -U postgres -A trust -E UTF8 --locale=C.UTF-8 --no-sync");
        var log = Path.Combine(_root, "server.log");
        // A free port, tried again on a fresh one when another process took it before the server bound it.
        Port = TestServers.StartOnFreePort(port =>
        {
            File.Delete(log);
            TestServers.Shell($"runuser -u postgres -- {Bin}/pg_ctl -D {_root}/data -l {log} -w -t 60 -o \"-c listen_addresses=127.0.0.1 -p {port} -k {_root} -c fsync=off -c max_connections=6 -c superuser_reserved_connections=3\" start");
        }, _ => TestServers.PgLogSaysPortTaken(log));
        Exec("CREATE ROLE io_plain LOGIN");
    }

    public int Port { get; }
    public const string Host = "127.0.0.1";

    public string ConnectionString(string role = "postgres", string database = "postgres", string app = "io-second") =>
        $"Host={Host};Port={Port};Username={role};Database={database};Application Name={app};Pooling=false";

    public async Task<NpgsqlConnection> OpenAsync(string role, string app)
    {
        var c = new NpgsqlConnection(ConnectionString(role, app: app));
        await c.OpenAsync();
        lock (_sessions) _sessions.Add(c);
        return c;
    }

    public bool Exists(int pid)
    {
        using var c = new NpgsqlConnection(ConnectionString());
        c.Open();
        using var cmd = new NpgsqlCommand($"SELECT count(*) FROM pg_stat_activity WHERE pid = {pid}", c);
        return Convert.ToInt64(cmd.ExecuteScalar()) > 0;
    }

    public void Exec(string sql)
    {
        using var c = new NpgsqlConnection(ConnectionString());
        c.Open();
        using var cmd = new NpgsqlCommand(sql, c);
        cmd.ExecuteNonQuery();
    }

    public void CloseSessions()
    {
        lock (_sessions)
        {
            foreach (var s in _sessions) { try { s.Dispose(); } catch (Exception ex) when (ex is NpgsqlException or IOException or InvalidOperationException) { } }
            _sessions.Clear();
        }
    }

    public void Dispose()
    {
        CloseSessions();
        try { TestServers.Shell($"runuser -u postgres -- {Bin}/pg_ctl -D {_root}/data -m immediate -w stop"); } catch (InvalidOperationException) { }
        try { Directory.Delete(_root, true); } catch (IOException) { }
    }
}
