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

    /// <summary>
    /// Starts a daemonized redis-server of the tests' own in <paramref name="dir"/> (no persistence, its pid and log file
    /// there) with <paramref name="args"/>, and waits up to 10 s until <paramref name="port"/> accepts connections.
    /// </summary>
    /// <summary>
    /// Starts a daemonized redis-server with its files in <paramref name="dir"/> on free loopback ports, one for each of
    /// <paramref name="portOptions"/> ("--port", "--cluster-port", "--tls-port"), and <paramref name="args"/> besides;
    /// returns the ports once it listens. redis-server writes its pid file only once it listens, and logs "Address already
    /// in use" and exits when another process took a probed port first: then it is started again on fresh ports.
    /// </summary>
    public static int[] StartServer(string dir, string what, string[] portOptions, IEnumerable<string> args)
    {
        var pidFile = Path.Combine(dir, "redis.pid");
        var log = Path.Combine(dir, "redis.log");
        for (var attempt = 1; ; attempt++)
        {
            File.Delete(pidFile);
            File.Delete(log);
            var ports = new List<int>();
            while (ports.Count < portOptions.Length)
            {
                var p = TestServers.FreePort();
                if (!ports.Contains(p)) ports.Add(p);
            }
            var psi = new ProcessStartInfo("/usr/bin/redis-server") { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true };
            foreach (var a in new[] { "--bind", "127.0.0.1" }.Concat(portOptions.SelectMany((o, i) => new[] { o, ports[i].ToString() })).Concat(args)
                         .Concat(["--daemonize", "yes", "--save", "", "--appendonly", "no", "--dir", dir, "--pidfile", pidFile, "--logfile", log]))
                psi.ArgumentList.Add(a);
            using (var p = Process.Start(psi)!) { p.StandardInput.Close(); p.WaitForExit(10_000); }
            var deadline = DateTime.UtcNow.AddSeconds(20);
            var text = "";
            while (true)
            {
                if (File.Exists(pidFile)) return [.. ports];
                text = File.Exists(log) ? File.ReadAllText(log) : "";
                if (text.Contains("Address already in use", StringComparison.Ordinal)) break;
                if (DateTime.UtcNow > deadline) throw new InvalidOperationException($"{what} did not start on {string.Join(", ", ports)}: {(text.Length > 0 ? text : "no log")}");
                Thread.Sleep(50);
            }
            if (attempt >= 10) throw new InvalidOperationException($"{what} found no free port in {attempt} attempts (another process took each one first): {text}");
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
        Port = RedisCli.StartServer(Dir, "redis-server --requirepass", ["--port"], ["--requirepass", Password])[0];
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

/// <summary>
/// A TCP relay on loopback in front of a real redis-server that holds back the client's bytes carrying one command (a
/// slow link or a busy server: the command reaches the server late) and still delivers them after the client has hung up,
/// then closes. So a command the client gave up waiting for really runs on the server, later, deterministically.
/// </summary>
/// With <c>cutClient</c>, it instead hangs up on the client first and then delivers the command: the server runs it, and
/// the client only sees its connection lost before any answer (a link that broke mid-command). <c>occurrence</c> picks
/// which sighting of the command (counted over every connection, 1-based) is held back; the others pass at once.
public sealed class DelayingRedisRelay : IDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource _cts = new();
    private readonly int _upstreamPort;
    private readonly byte[] _trigger;
    private readonly TimeSpan _delay;
    private readonly int _occurrence;
    private readonly bool _cutClient;
    private int _seen;
    private volatile bool _triggered;

    public DelayingRedisRelay(int upstreamPort, string command, TimeSpan delay, int occurrence = 1, bool cutClient = false)
    {
        _upstreamPort = upstreamPort;
        _trigger = System.Text.Encoding.ASCII.GetBytes(command);
        _delay = delay;
        _occurrence = occurrence;
        _cutClient = cutClient;
        _listener.Start();
        Port = ((IPEndPoint)_listener.LocalEndpoint).Port;
        _ = Task.Run(AcceptAsync);
    }

    public int Port { get; }
    public string Endpoint => $"127.0.0.1:{Port}";

    /// <summary>True once the client has sent the held-back command (it is on its way, so the client counts it as sent).</summary>
    public bool Triggered => _triggered;

    private async Task AcceptAsync()
    {
        try
        {
            while (!_cts.IsCancellationRequested)
            {
                var client = await _listener.AcceptTcpClientAsync(_cts.Token);
                _ = Task.Run(() => RelayAsync(client));
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException) { /* shutting down */ }
    }

    private async Task RelayAsync(TcpClient client)
    {
        using var owned = client;
        using var upstream = new TcpClient();
        try
        {
            await upstream.ConnectAsync(IPAddress.Loopback, _upstreamPort, _cts.Token);
            var fromClient = client.GetStream();
            var toServer = upstream.GetStream();
            _ = Task.Run(async () =>
            {
                try { await toServer.CopyToAsync(fromClient, _cts.Token); }
                catch (Exception ex) when (ex is IOException or OperationCanceledException or ObjectDisposedException or SocketException) { /* either side closed */ }
            });
            var buffer = new byte[64 * 1024];
            while (true)
            {
                int n;
                try { n = await fromClient.ReadAsync(buffer, _cts.Token); }
                catch (Exception ex) when (ex is IOException or SocketException or ObjectDisposedException) { n = 0; }
                if (n == 0) break;
                if (buffer.AsSpan(0, n).IndexOf(_trigger) >= 0 && Interlocked.Increment(ref _seen) == _occurrence)
                {
                    _triggered = true;
                    if (_cutClient) client.Client.Close();
                    await Task.Delay(_delay, _cts.Token);
                    if (_cutClient)
                    {
                        await toServer.WriteAsync(buffer.AsMemory(0, n), _cts.Token);
                        break;
                    }
                }
                await toServer.WriteAsync(buffer.AsMemory(0, n), _cts.Token);
            }
            // The client hung up: let the server read what was delivered before it sees the close.
            await Task.Delay(500, _cts.Token);
        }
        catch (Exception ex) when (ex is IOException or OperationCanceledException or ObjectDisposedException or SocketException) { /* shutting down */ }
    }

    public void Dispose()
    {
        _cts.Cancel();
        _listener.Stop();
    }
}
