using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using IncidentOps.Engine;
using IncidentOps.Redis;
using Xunit;

namespace IncidentOps.Tests.Redis;

/// <summary>A redis-server of a test's own (a replica, or one the test pauses), so nothing it does reaches other tests.</summary>
internal sealed class PrivateRedisServer : IDisposable
{
    public PrivateRedisServer(params string[] extra)
    {
        Dir = Paths.TempDir("io-redis-own");
        Port = TestServers.FreePort();
        var psi = new ProcessStartInfo("/usr/bin/redis-server") { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true };
        foreach (var a in new[] { "--bind", "127.0.0.1", "--port", Port.ToString(), "--daemonize", "yes", "--save", "", "--appendonly", "no",
                     "--dir", Dir, "--pidfile", Path.Combine(Dir, "redis.pid"), "--logfile", Path.Combine(Dir, "redis.log") }.Concat(extra))
            psi.ArgumentList.Add(a);
        using (var p = Process.Start(psi)!) { p.StandardInput.Close(); p.WaitForExit(10_000); }
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (DateTime.UtcNow < deadline)
        {
            try { using var c = new TcpClient(); c.Connect(IPAddress.Loopback, Port); return; }
            catch (SocketException) { Thread.Sleep(50); }
        }
        throw new InvalidOperationException($"redis-server did not start on {Port}.");
    }

    public string Dir { get; }
    public int Port { get; }
    public string Endpoint => $"127.0.0.1:{Port}";

    public void Dispose()
    {
        RedisCli.Run(Port, "SHUTDOWN", "NOSAVE");
        try { Directory.Delete(Dir, true); } catch (IOException) { /* the server may still hold its log for a moment */ }
    }
}

/// <summary>Redis error ids that had no test, each from a real server on loopback.</summary>
public sealed class RedisErrorIdTests(ModuleFixture fx) : IClassFixture<ModuleFixture>
{
    [Fact]
    public void Flushing_a_replica_is_RedisIsReplica()
    {
        using var replica = new PrivateRedisServer("--replicaof", "127.0.0.1", TestServers.FreePort().ToString());
        var r = fx.Run($"Clear-RedisDatabase -ConnectionString '{replica.Endpoint}' -Force");
        var e = Assert.Single(r.Errors);
        Assert.Equal("RedisIsReplica,IncidentOps.Commands.ClearRedisDatabaseCommand", e.FullyQualifiedErrorId);
        Assert.Contains("flush its master instead", e.ToString());
    }

    [Fact]
    public void A_flush_to_several_endpoints_is_RedisEndpointAmbiguous()
    {
        var r = fx.Run("Clear-RedisDatabase -ConnectionString '127.0.0.1:1,127.0.0.1:2' -Force");
        var e = Assert.Single(r.Errors);
        Assert.Equal("RedisEndpointAmbiguous,IncidentOps.Commands.ClearRedisDatabaseCommand", e.FullyQualifiedErrorId);
        Assert.Contains("2 endpoints", e.ToString());
    }

    [Fact]
    public void A_command_the_server_refuses_is_RedisCommandFailed_with_its_reason()
    {
        // A user that may do everything but read the slow log: the server answers SLOWLOG with NOPERM.
        var user = "io_noslow_" + Guid.NewGuid().ToString("N")[..8];
        var (_, port) = RedisCli.Shared;
        RedisCli.Run(port, "ACL", "SETUSER", user, "on", ">io-test-pw", "~*", "&*", "+@all", "-slowlog");
        try
        {
            var r = fx.Run($"Get-RedisSlowLog -ConnectionString 'redis://{user}:io-test-pw@{TestServers.Redis}'");
            var e = Assert.Single(r.Errors);
            Assert.Equal("RedisCommandFailed,IncidentOps.Commands.GetRedisSlowLogCommand", e.FullyQualifiedErrorId);
            Assert.Contains("NOPERM", e.ToString());
            Assert.DoesNotContain("io-test-pw", e.ToString());
        }
        finally { RedisCli.Run(port, "ACL", "DELUSER", user); }
    }

    [Fact]
    public void No_target_at_all_is_RedisTargetMissing()
    {
        var r = fx.Run("$saved = $env:REDIS_URL; $env:REDIS_URL = $null; try { Get-RedisInfo } finally { $env:REDIS_URL = $saved }");
        var e = Assert.Single(r.Errors);
        Assert.Equal("RedisTargetMissing,IncidentOps.Commands.GetRedisInfoCommand", e.FullyQualifiedErrorId);
        Assert.Contains("-ConnectionString", e.ToString());
    }

    [Fact]
    public async Task A_ping_count_below_one_is_RedisCountInvalid()
    {
        var engine = new IncidentOpsEngine(new CollectingSink(), NoSecretProvider.Instance);
        var ex = await Assert.ThrowsAsync<IncidentOpsException>(() =>
            engine.Redis.TestAsync(new RedisConnectionRequest { ConnectionString = TestServers.Redis }, 0, CancellationToken.None));
        Assert.Equal("RedisCountInvalid", ex.ErrorId);
    }

    [Fact]
    public async Task A_command_with_no_answer_within_its_own_limit_is_RedisTimeout()
    {
        // Outside a command's deadline (evidence capture, scripts using the engine), one call's own limit ends the
        // wait. The server pauses writes only: connecting and DBSIZE are answered, FLUSHDB never is.
        using var server = new PrivateRedisServer();
        RedisCli.Run(server.Port, "SET", "io-key", "1");
        var engine = new IncidentOpsEngine(new CollectingSink(), NoSecretProvider.Instance);
        var request = new RedisConnectionRequest { ConnectionString = server.Endpoint, Timeout = TimeSpan.FromSeconds(1) };
        RedisCli.Run(server.Port, "CLIENT", "PAUSE", "5000", "WRITE");
        var watch = Stopwatch.StartNew();
        var ex = await Assert.ThrowsAsync<IncidentOpsException>(() => engine.Redis.FlushAsync(request, 0, false, false, CancellationToken.None));
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(4.5), $"took {watch.Elapsed}");
        Assert.Equal("RedisTimeout", ex.ErrorId);
        Assert.Contains("did not answer within 1 s", ex.Message);
    }
}
