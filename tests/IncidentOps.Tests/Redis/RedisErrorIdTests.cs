using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using IncidentOps.Engine;
using IncidentOps.Engine.Redis;
using IncidentOps.Redis;
using Xunit;

namespace IncidentOps.Tests.Redis;

/// <summary>A redis-server of a test's own (a replica, or one the test pauses), so nothing it does reaches other tests.</summary>
internal sealed class PrivateRedisServer : IDisposable
{
    public PrivateRedisServer(params string[] extra)
    {
        Dir = Paths.TempDir("io-redis-own");
        Port = RedisCli.StartServer(Dir, "redis-server", ["--port"], extra)[0];
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
        // wait. The server pauses writes only: connecting is answered, a write (SET) is not.
        using var server = new PrivateRedisServer();
        var settings = RedisConnectionSettings.Parse(server.Endpoint);
        await using var conn = await IncidentOps.Engine.Redis.RedisEndpointConnection.OpenAsync(settings, "127.0.0.1", server.Port, TimeSpan.FromSeconds(1), true, CancellationToken.None);
        // Paused for 20 s: a client without its own limit would wait that long, far past the "does not hang" bound.
        RedisCli.Run(server.Port, "CLIENT", "PAUSE", "20000", "WRITE");
        var watch = Stopwatch.StartNew();
        var ex = await Assert.ThrowsAsync<IncidentOpsException>(() => conn.ExecuteAsync("SET", ["io-key", "1"], CancellationToken.None));
        watch.Stop();
        RedisCli.Run(server.Port, "CLIENT", "UNPAUSE");
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(10), $"took {watch.Elapsed}");
        Assert.Equal("RedisTimeout", ex.ErrorId);
        Assert.Contains("did not answer within 1 s", ex.Message);
    }

    [Fact]
    public async Task A_flush_with_no_answer_in_time_is_RedisFlushUnconfirmed_and_not_a_failure()
    {
        // Connecting and DBSIZE are answered at once; FLUSHDB reaches the server 3 s late (a slow link or a busy server) and
        // then runs. Before: RedisTimeout ("did not answer"), a failure, while the server went on to empty the database.
        using var server = new PrivateRedisServer();
        using var relay = new DelayingRedisRelay(server.Port, "FLUSHDB", TimeSpan.FromSeconds(3));
        RedisCli.Run(server.Port, "MSET", "a", "1", "b", "2", "c", "3");
        var engine = new IncidentOpsEngine(new CollectingSink(), NoSecretProvider.Instance);
        var request = new RedisConnectionRequest { ConnectionString = relay.Endpoint, Timeout = TimeSpan.FromSeconds(1) };
        var ex = await Assert.ThrowsAsync<IncidentOpsException>(() => engine.Redis.FlushAsync(request, 0, false, false, CancellationToken.None));
        Assert.Equal(RedisErrorIds.RedisFlushUnconfirmed, ex.ErrorId);
        Assert.Equal(IncidentOpsErrorCategory.ResourceBusy, ex.Category);
        Assert.Contains("FLUSHDB was sent to", ex.Message);
        Assert.Contains("3 keys before", ex.Message);
        Assert.Contains("may still complete on the server", ex.Message);
        Assert.Contains("Get-RedisInfo Keyspace", ex.Message);
        // And it does complete once the pause ends.
        Assert.True(WaitForEmpty(server.Port, 0), "the flush never completed on the server");
    }

    private static bool WaitForEmpty(int port, int db)
    {
        var until = DateTime.UtcNow.AddSeconds(30);   // a held-back FLUSHDB lands 12 s after it was sent
        while (DateTime.UtcNow < until)
        {
            if (RedisCli.Run(port, "-n", db.ToString(), "DBSIZE") == "0") return true;
            Thread.Sleep(200);
        }
        return false;
    }

    [Fact]
    public async Task Clear_RedisDatabase_past_its_deadline_says_the_flush_may_still_complete_and_records_that_on_the_incident()
    {
        using var server = new PrivateRedisServer();
        // FLUSHDB is held back 12 s: waiting for its answer would take that long, far past the "does not hang" bound.
        using var relay = new DelayingRedisRelay(server.Port, "FLUSHDB", TimeSpan.FromSeconds(12));
        RedisCli.Run(server.Port, "-n", "2", "MSET", "a", "1", "b", "2");
        var dir = Paths.TempDir("io-redis-unconfirmed");
        var config = Path.Combine(dir, "incidentops.yml");
        File.WriteAllText(config, $"version: 1\nstore:\n  path: {dir}\n");
        var store = new IncidentOps.Engine.Incidents.FileIncidentStore(dir);
        var incident = await store.CreateAsync(id => new IncidentOps.Incidents.Incident { Id = id, Title = "Cache serves stale data", Severity = "P2" }, CancellationToken.None);
        await store.SetActiveIdAsync(incident.Id, CancellationToken.None);

        var watch = Stopwatch.StartNew();
        var r = fx.Run($"Clear-RedisDatabase -ConnectionString '{relay.Endpoint}' -Database 2 -TimeoutSec 2 -ConfigPath '{config}' -Force");
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(8), $"took {watch.Elapsed}");
        Assert.Empty(r.Output);
        var e = Assert.Single(r.Errors);
        Assert.Equal("RedisFlushUnconfirmed,IncidentOps.Commands.ClearRedisDatabaseCommand", e.FullyQualifiedErrorId);
        Assert.Equal(System.Management.Automation.ErrorCategory.ResourceBusy, e.CategoryInfo.Category);
        Assert.Contains("may still complete on the server", e.ToString());
        Assert.Contains("db 2", e.ToString());

        var entry = Assert.Single(await store.ReadTimelineAsync(incident.Id, CancellationToken.None), t => t.Cmdlet == "Clear-RedisDatabase");
        Assert.Equal(IncidentOps.Incidents.TimelineOutcome.Unconfirmed, entry.Outcome);
        Assert.Contains("was sent to", entry.Result);
        Assert.Contains("may still complete on the server", entry.Result);
        Assert.True(WaitForEmpty(server.Port, 2), "the flush never completed on the server");
    }
}
