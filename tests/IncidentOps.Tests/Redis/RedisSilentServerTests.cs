using System.Net;
using System.Net.Sockets;
using IncidentOps.Redis;
using Xunit;

namespace IncidentOps.Tests.Redis;

/// <summary>
/// A TCP listener on loopback that accepts connections and never answers: the shape of a Redis that is
/// hung (or a firewall that swallows packets). Nothing may hang on it: -TimeoutSec bounds the wait and
/// Ctrl+C stops at once.
/// </summary>
public sealed class SilentServer : IDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly List<Socket> _accepted = [];
    private readonly CancellationTokenSource _cts = new();

    public SilentServer()
    {
        _listener.Start();
        Port = ((IPEndPoint)_listener.LocalEndpoint).Port;
        _ = Task.Run(async () =>
        {
            try
            {
                while (!_cts.IsCancellationRequested)
                {
                    var s = await _listener.AcceptSocketAsync(_cts.Token);
                    lock (_accepted) _accepted.Add(s);
                    Interlocked.Increment(ref _connections);
                }
            }
            catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException) { /* shutting down */ }
        });
    }

    public int Port { get; }

    private int _connections;

    /// <summary>How many connections it has accepted so far (a client that is waiting on it).</summary>
    public int Connections => Volatile.Read(ref _connections);

    public void Dispose()
    {
        _cts.Cancel();
        _listener.Stop();
        lock (_accepted) foreach (var s in _accepted) s.Dispose();
        _cts.Dispose();
    }
}

public class RedisSilentServerTests(ModuleFixture fx) : IClassFixture<ModuleFixture>
{
    [Fact]
    public void A_server_that_never_answers_is_unreachable_after_the_timeout()
    {
        using var silent = new SilentServer();
        var r = fx.Run($"Test-RedisConnection -ConnectionString '127.0.0.1:{silent.Port}' -TimeoutSec 1").AssertNoErrors();
        var t = r.Single<RedisConnectionTest>();
        Assert.False(t.Reachable);
        Assert.False(string.IsNullOrEmpty(t.Reason));
    }

    [Fact]
    public void Ctrl_C_stops_a_wait_on_a_silent_server_at_once()
    {
        using var silent = new SilentServer();
        var (latency, result) = fx.Session.RunAndStopWhen($"Get-RedisInfo -ConnectionString '127.0.0.1:{silent.Port}' -TimeoutSec 120", () => silent.Connections >= 1);
        Assert.True(result.Stopped || result.Output.Count == 0);
        Assert.True(latency < TimeSpan.FromSeconds(10), $"Stop took {latency}");
    }
}
