using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace IncidentOps.Tests;

/// <summary>
/// The real PostgreSQL and Redis servers the tests use. .ci/run starts them and exports
/// INCIDENTOPS_TEST_PG (a connection string) and INCIDENTOPS_TEST_REDIS (host:port). When those are not
/// set, the first test that needs a server starts one itself on a free loopback port (as .ci/run would).
/// When neither is possible the test fails with the reason: it never silently skips.
/// </summary>
public static class TestServers
{
    private static readonly Lazy<string> Pg = new(StartPostgres, LazyThreadSafetyMode.ExecutionAndPublication);
    private static readonly Lazy<string> RedisEndpoint = new(StartRedis, LazyThreadSafetyMode.ExecutionAndPublication);

    /// <summary>Npgsql connection string for the postgres superuser on the test server.</summary>
    public static string PostgresConnectionString => Pg.Value;

    /// <summary>host:port of the test Redis.</summary>
    public static string Redis => RedisEndpoint.Value;

    public static int FreePort()
    {
        using var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        return ((IPEndPoint)l.LocalEndpoint).Port;
    }

    private static string StartPostgres()
    {
        var fromEnv = Environment.GetEnvironmentVariable("INCIDENTOPS_TEST_PG");
        if (!string.IsNullOrEmpty(fromEnv)) return fromEnv;
        var bin = "/usr/lib/postgresql/15/bin";
        if (!File.Exists(Path.Combine(bin, "initdb")))
            throw new InvalidOperationException("PostgreSQL is required: set INCIDENTOPS_TEST_PG or install postgresql-15 (bash .ci/run does both).");
        ReapOrphans();
        var root = Path.Combine(Path.GetTempPath(), "io-pg-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(root);
        File.WriteAllText(Path.Combine(root, OwnerFile), Environment.ProcessId.ToString());
        Run("chown", $"postgres:postgres {root}");
        var port = FreePort();
        Run("runuser", $"-u postgres -- {bin}/initdb -D {root}/data -U postgres -A trust -E UTF8 --locale=C.UTF-8 --no-sync");
        Run("runuser", $"-u postgres -- {bin}/pg_ctl -D {root}/data -l {root}/server.log -w -t 60 -o \"-c listen_addresses=127.0.0.1 -p {port} -k {root} -c shared_preload_libraries=pg_stat_statements -c fsync=off -c max_connections=1200\" start");
        TestRunCleanup.Register(() =>
        {
            try { Run("runuser", $"-u postgres -- {bin}/pg_ctl -D {root}/data -m immediate -w stop"); } catch (Exception ex) when (ex is InvalidOperationException or TimeoutException) { /* reaped next run */ }
            Paths.DeleteTree(root);
        });
        var cs = $"Host=127.0.0.1;Port={port};Username=postgres;Database=postgres";
        Run("psql", $"-X -h 127.0.0.1 -p {port} -U postgres -qAt -c \"CREATE EXTENSION IF NOT EXISTS pg_stat_statements\"");
        return cs;
    }

    private static string StartRedis()
    {
        var fromEnv = Environment.GetEnvironmentVariable("INCIDENTOPS_TEST_REDIS");
        if (!string.IsNullOrEmpty(fromEnv)) return fromEnv;
        if (!File.Exists("/usr/bin/redis-server"))
            throw new InvalidOperationException("Redis is required: set INCIDENTOPS_TEST_REDIS or apt-get install redis-server (bash .ci/run does both).");
        ReapOrphans();
        var dir = Path.Combine(Path.GetTempPath(), "io-redis-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(dir);
        File.WriteAllText(Path.Combine(dir, OwnerFile), Environment.ProcessId.ToString());
        var port = FreePort();
        Run("/usr/bin/redis-server", $"--bind 127.0.0.1 --port {port} --daemonize yes --save '' --appendonly no --dir {dir} --pidfile {dir}/redis.pid --logfile {dir}/redis.log");
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (DateTime.UtcNow < deadline)
        {
            try { using var c = new TcpClient(); c.Connect(IPAddress.Loopback, port); break; }
            catch (SocketException) { Thread.Sleep(50); }
        }
        TestRunCleanup.Register(() =>
        {
            try { Run("redis-cli", $"-p {port} shutdown nosave"); } catch (Exception ex) when (ex is InvalidOperationException or TimeoutException) { /* reaped next run */ }
            Paths.DeleteTree(dir);
        });
        return $"127.0.0.1:{port}";
    }

    private const string OwnerFile = "owner.pid";
    private static readonly Lazy<bool> Reaped = new(ReapOrphansOnce, LazyThreadSafetyMode.ExecutionAndPublication);

    private static void ReapOrphans() => _ = Reaped.Value;

    /// <summary>
    /// The test host can be killed before the run's cleanup (TestRunCleanup) runs, which would leave the
    /// servers a developer's earlier `dotnet test` started. Stop those whose owning test process is gone.
    /// </summary>
    private static bool ReapOrphansOnce()
    {
        foreach (var dir in Directory.EnumerateDirectories(Path.GetTempPath(), "io-*"))
        {
            var owner = Path.Combine(dir, OwnerFile);
            if (!File.Exists(owner) || !int.TryParse(File.ReadAllText(owner).Trim(), out var pid) || Directory.Exists($"/proc/{pid}")) continue;
            try
            {
                if (Path.GetFileName(dir).StartsWith("io-pg-", StringComparison.Ordinal) && File.Exists(Path.Combine(dir, "data", "postmaster.pid")))
                    Run("runuser", $"-u postgres -- /usr/lib/postgresql/15/bin/pg_ctl -D {dir}/data -m immediate -w stop");
                else if (File.Exists(Path.Combine(dir, "redis.pid")) && int.TryParse(File.ReadAllText(Path.Combine(dir, "redis.pid")).Trim(), out var redisPid))
                    Run("kill", redisPid.ToString());
                Directory.Delete(dir, true);
            }
            catch (Exception ex) when (ex is InvalidOperationException or IOException or UnauthorizedAccessException or TimeoutException)
            {
                // Another run may be reaping the same directory; what is left is retried next time.
            }
        }
        return true;
    }

    private static void Run(string file, string args) => Shell($"{file} {args}");

    /// <summary>Runs <paramref name="command"/> under /bin/sh (120 s at most); throws with its output when it fails.</summary>
    public static void Shell(string command)
    {
        var psi = new ProcessStartInfo("/bin/sh", ["-c", command]) { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true };
        using var p = Process.Start(psi)!;
        p.StandardInput.Close();
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(120_000)) { p.Kill(true); throw new TimeoutException($"{command} did not finish"); }
        if (p.ExitCode != 0) throw new InvalidOperationException($"{command} failed ({p.ExitCode}): {stderr.Result}{stdout.Result}");
    }
}
