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

    /// <summary>
    /// A loopback port that was free a moment ago. Another process can take it before a server binds it: use it for a
    /// port nothing may listen on, or with <see cref="StartOnFreePort"/> / <see cref="StartHttpListener"/>, which try again.
    /// </summary>
    public static int FreePort()
    {
        using var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        return ((IPEndPoint)l.LocalEndpoint).Port;
    }

    /// <summary>
    /// Runs <paramref name="start"/> (a server started on the port it is given) on a free loopback port and returns that
    /// port. When it throws and <paramref name="portTaken"/> says another process had taken the port first (the window
    /// between probing a free port and binding it), it runs again on a fresh port, at most <paramref name="attempts"/> times.
    /// </summary>
    public static int StartOnFreePort(Action<int> start, Func<int, bool> portTaken, int attempts = 10)
    {
        for (var attempt = 1; ; attempt++)
        {
            var port = FreePort();
            try { start(port); return port; }
            catch (InvalidOperationException) when (attempt < attempts && portTaken(port)) { }
        }
    }

    /// <summary>Whether a PostgreSQL server log says it could not listen because its port was in use.</summary>
    public static bool PgLogSaysPortTaken(string logFile) =>
        File.Exists(logFile) && File.ReadAllText(logFile).Contains("Address already in use", StringComparison.Ordinal);

    /// <summary>
    /// A started <see cref="HttpListener"/> on a free loopback port (it cannot listen on port 0), and that port. A
    /// listener whose Start failed is disposed, so each attempt gets a fresh port and a fresh listener.
    /// </summary>
    public static (HttpListener Listener, int Port) StartHttpListener(int attempts = 20)
    {
        for (var attempt = 1; ; attempt++)
        {
            var port = FreePort();
            var listener = new HttpListener();
            listener.Prefixes.Add($"http://127.0.0.1:{port}/");
            try { listener.Start(); return (listener, port); }
            catch (HttpListenerException) when (attempt < attempts) { listener.Close(); }
        }
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
        Run("runuser", $"-u postgres -- {bin}/initdb -D {root}/data -U postgres -A trust -E UTF8 --locale=C.UTF-8 --no-sync");
        var log = Path.Combine(root, "server.log");
        var port = StartOnFreePort(p =>
        {
            File.Delete(log);
            Run("runuser", $"-u postgres -- {bin}/pg_ctl -D {root}/data -l {log} -w -t 60 -o \"-c listen_addresses=127.0.0.1 -p {p} -k {root} -c shared_preload_libraries=pg_stat_statements -c fsync=off -c max_connections=1200\" start");
        }, _ => PgLogSaysPortTaken(log));
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
        var port = IncidentOps.Tests.Redis.RedisCli.StartServer(dir, "the test redis-server", ["--port"], [])[0];
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
