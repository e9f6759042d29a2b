using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace IncidentOps.Tests.Redis;

/// <summary>redis-cli against the shared test server, and a private password-protected redis-server.</summary>
internal static class RedisCli
{
    public static (string Host, int Port) Shared
    {
        get
        {
            var ep = TestServers.Redis;
            var colon = ep.LastIndexOf(':');
            return (ep[..colon], int.Parse(ep[(colon + 1)..]));
        }
    }

    public static string Run(int port, params string[] args) => Run("127.0.0.1", port, null, args);

    public static string Run(string host, int port, string? password, params string[] args)
    {
        var psi = new ProcessStartInfo("/usr/bin/redis-cli") { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true };
        psi.ArgumentList.Add("-h"); psi.ArgumentList.Add(host);
        psi.ArgumentList.Add("-p"); psi.ArgumentList.Add(port.ToString());
        if (password is not null) psi.Environment["REDISCLI_AUTH"] = password;
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        p.StandardInput.Close();
        var output = p.StandardOutput.ReadToEnd();
        p.WaitForExit(10_000);
        return output.Trim();
    }

    /// <summary>Fills a database with <paramref name="count"/> keys under a prefix (empties it first).</summary>
    public static void Seed(int db, string prefix, int count)
    {
        var (_, port) = Shared;
        Run(port, "-n", db.ToString(), "FLUSHDB");
        var args = new List<string> { "-n", db.ToString(), "MSET" };
        for (var i = 0; i < count; i++) { args.Add($"{prefix}:{i}"); args.Add("v"); }
        Run(port, [.. args]);
    }

    public static long DbSize(int db) => long.Parse(Run(Shared.Port, "-n", db.ToString(), "DBSIZE"));

    /// <summary>A loopback port nothing listens on.</summary>
    public static int ClosedPort()
    {
        var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        var port = ((IPEndPoint)l.LocalEndpoint).Port;
        l.Stop();
        return port;
    }
}

/// <summary>A second redis-server with --requirepass, for authentication and canary tests; shut down after the class.</summary>
public sealed class PasswordRedisFixture : IDisposable
{
    /// <summary>A canary password with characters that need percent-encoding in a URL.</summary>
    public const string Password = "CanaryPw-7f3c@x:y/z?#%!";

    public PasswordRedisFixture()
    {
        Dir = Paths.TempDir("io-redis-pw");
        Port = TestServers.FreePort();
        var psi = new ProcessStartInfo("/usr/bin/redis-server") { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true };
        foreach (var a in new[] { "--bind", "127.0.0.1", "--port", Port.ToString(), "--daemonize", "yes", "--save", "", "--appendonly", "no",
                     "--dir", Dir, "--pidfile", Path.Combine(Dir, "redis.pid"), "--logfile", Path.Combine(Dir, "redis.log"), "--requirepass", Password })
            psi.ArgumentList.Add(a);
        using (var p = Process.Start(psi)!) { p.StandardInput.Close(); p.WaitForExit(10_000); }
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (DateTime.UtcNow < deadline)
        {
            try { using var c = new TcpClient(); c.Connect(IPAddress.Loopback, Port); return; }
            catch (SocketException) { Thread.Sleep(50); }
        }
        throw new InvalidOperationException($"redis-server --requirepass did not start on {Port}: {File.ReadAllText(Path.Combine(Dir, "redis.log"))}");
    }

    public string Dir { get; }
    public int Port { get; }
    public string Url => $"redis://:{Uri.EscapeDataString(Password)}@127.0.0.1:{Port}/0";

    public void Dispose()
    {
        RedisCli.Run("127.0.0.1", Port, Password, "SHUTDOWN", "NOSAVE");
        try { Directory.Delete(Dir, true); } catch (IOException) { /* the server may still hold its log for a moment */ }
    }
}
