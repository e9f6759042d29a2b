using System.Diagnostics;
using IncidentOps.Engine;
using IncidentOps.Engine.Incidents;
using IncidentOps.Engine.Redis;
using IncidentOps.Incidents;
using IncidentOps.Redis;
using Xunit;

namespace IncidentOps.Tests.Redis;

/// <summary>
/// What Clear-RedisDatabase says when the wait for a flush ends early. Once FLUSHDB was handed to the server it may run
/// there whatever becomes of its answer, so a lost connection or Ctrl+C after that point is "unconfirmed" (never
/// "failed"), while a stop before it is a plain failure, and an OK answer is a success even if counting afterwards fails.
/// Real redis-servers on loopback behind a relay that holds back or cuts one command.
/// </summary>
public class RedisFlushOutcomeTests(ModuleFixture fx) : IClassFixture<ModuleFixture>
{
    [Fact]
    public async Task A_connection_lost_after_FLUSHDB_was_sent_is_RedisFlushUnconfirmed_not_RedisConnectionFailed()
    {
        // The relay hangs up on the client, then delivers FLUSHDB: the server empties the database while the client only
        // sees its connection drop. Before: RedisConnectionFailed ("failed"), about a flush that happened.
        using var server = new PrivateRedisServer();
        using var relay = new DelayingRedisRelay(server.Port, "FLUSHDB", TimeSpan.FromMilliseconds(100), cutClient: true);
        RedisCli.Run(server.Port, "MSET", "a", "1", "b", "2");
        var engine = new IncidentOpsEngine(new CollectingSink(), NoSecretProvider.Instance);
        var request = new RedisConnectionRequest { ConnectionString = relay.Endpoint, Timeout = TimeSpan.FromSeconds(5) };
        var ex = await Assert.ThrowsAsync<IncidentOpsException>(() => engine.Redis.FlushAsync(request, 0, false, false, CancellationToken.None));
        Assert.Equal(RedisErrorIds.RedisFlushUnconfirmed, ex.ErrorId);
        Assert.Equal(IncidentOpsErrorCategory.ResourceBusy, ex.Category);
        Assert.Contains("FLUSHDB was sent to", ex.Message);
        Assert.Contains("the connection was lost before its answer came", ex.Message);
        Assert.Contains("may still complete on the server", ex.Message);
        Assert.Contains("DBSIZE", ex.Message);
        Assert.True(WaitForKeys(server.Port, 0, "0"), "the flush never ran on the server");
    }

    [Fact]
    public async Task Clear_RedisDatabase_that_loses_its_connection_mid_flush_records_Unconfirmed_on_the_incident()
    {
        using var server = new PrivateRedisServer();
        using var relay = new DelayingRedisRelay(server.Port, "FLUSHDB", TimeSpan.FromMilliseconds(100), cutClient: true);
        RedisCli.Run(server.Port, "-n", "2", "MSET", "a", "1", "b", "2");
        var (config, store, incident) = await ActiveIncidentAsync("io-redis-cut");

        var r = fx.Run($"Clear-RedisDatabase -ConnectionString '{relay.Endpoint}' -Database 2 -ConfigPath '{config}' -Force");
        Assert.Empty(r.Output);
        var e = Assert.Single(r.Errors);
        Assert.Equal("RedisFlushUnconfirmed,IncidentOps.Commands.ClearRedisDatabaseCommand", e.FullyQualifiedErrorId);
        Assert.Contains("the connection was lost", e.ToString());
        Assert.Contains("redis-cli -n 2 DBSIZE", e.ToString());

        var entry = Assert.Single(await store.ReadTimelineAsync(incident.Id, CancellationToken.None), t => t.Cmdlet == "Clear-RedisDatabase");
        Assert.Equal(TimelineOutcome.Unconfirmed, entry.Outcome);
        Assert.Contains("was sent to", entry.Result);
        Assert.Contains("may still complete on the server", entry.Result);
        Assert.True(WaitForKeys(server.Port, 2, "0"), "the flush never ran on the server");
    }

    [Fact]
    public async Task Ctrl_C_after_FLUSHDB_was_sent_is_recorded_as_unconfirmed_and_the_console_says_how_to_check()
    {
        // FLUSHDB reaches the server 12 s late and then runs; Ctrl+C comes while the client waits for its answer (a
        // wait for that answer would last 12 s, far past the "does not hang" bound below).
        // Before: the timeline said Failed ("Stopped by the user (Ctrl+C) before it finished") about a flush that happened.
        using var server = new PrivateRedisServer();
        using var relay = new DelayingRedisRelay(server.Port, "FLUSHDB", TimeSpan.FromSeconds(12));
        RedisCli.Run(server.Port, "-n", "3", "MSET", "a", "1", "b", "2", "c", "3");
        var (config, store, incident) = await ActiveIncidentAsync("io-redis-stop-sent");

        using var session = new PwshSession();
        var (latency, result) = session.RunAndStop($"Clear-RedisDatabase -ConnectionString '{relay.Endpoint}' -Database 3 -TimeoutSec 30 -ConfigPath '{config}' -Force",
            TimeSpan.FromMilliseconds(50), () => relay.Triggered, TimeSpan.FromSeconds(20));
        Assert.True(relay.Triggered, "FLUSHDB was never sent");
        Assert.True(latency < TimeSpan.FromSeconds(8), $"Stop took {latency}");
        Assert.True(result.Stopped);

        var entry = Assert.Single(await store.ReadTimelineAsync(incident.Id, CancellationToken.None), t => t.Cmdlet == "Clear-RedisDatabase");
        Assert.Equal(TimelineOutcome.Unconfirmed, entry.Outcome);
        Assert.Contains("FLUSHDB was sent to", entry.Result);
        Assert.Contains("Ctrl+C ended the wait before its answer came", entry.Result);
        Assert.Contains("may still complete on the server", entry.Result);
        Assert.Contains("WARNING: FLUSHDB was sent to", result.HostText);
        Assert.Contains("redis-cli -n 3 DBSIZE", result.HostText);
        Assert.True(WaitForKeys(server.Port, 3, "0"), "the flush never ran on the server");
    }

    [Fact]
    public async Task Ctrl_C_before_FLUSHDB_was_sent_stays_a_failure_and_nothing_is_flushed()
    {
        // The flush's own DBSIZE (the plan's is the first) is held back: Ctrl+C comes before FLUSHDB could be sent.
        using var server = new PrivateRedisServer();
        using var relay = new DelayingRedisRelay(server.Port, "DBSIZE", TimeSpan.FromSeconds(3), occurrence: 2);
        RedisCli.Run(server.Port, "-n", "4", "MSET", "a", "1", "b", "2");
        var (config, store, incident) = await ActiveIncidentAsync("io-redis-stop-unsent");

        using var session = new PwshSession();
        var (_, result) = session.RunAndStop($"Clear-RedisDatabase -ConnectionString '{relay.Endpoint}' -Database 4 -TimeoutSec 30 -ConfigPath '{config}' -Force",
            TimeSpan.FromMilliseconds(50), () => relay.Triggered, TimeSpan.FromSeconds(20));
        Assert.True(relay.Triggered, "the flush never started");
        Assert.True(result.Stopped);

        var entry = Assert.Single(await store.ReadTimelineAsync(incident.Id, CancellationToken.None), t => t.Cmdlet == "Clear-RedisDatabase");
        Assert.Equal(TimelineOutcome.Failed, entry.Outcome);
        Assert.Contains("before FLUSHDB was sent: nothing was flushed", entry.Result);
        Assert.DoesNotContain("WARNING", result.HostText);
        // The held-back DBSIZE is delivered late; the keys stay.
        Thread.Sleep(3500);
        Assert.Equal("2", RedisCli.Run(server.Port, "-n", "4", "DBSIZE"));
    }

    [Fact]
    public async Task A_flush_answered_OK_is_a_success_even_when_the_keys_left_cannot_be_counted()
    {
        // DBSIZE before (1st) passes, FLUSHDB is answered, DBSIZE after (2nd) gets no answer in time. Before: RedisTimeout,
        // a failure, about a flush the server had confirmed.
        using var server = new PrivateRedisServer();
        using var relay = new DelayingRedisRelay(server.Port, "DBSIZE", TimeSpan.FromSeconds(3), occurrence: 2);
        RedisCli.Run(server.Port, "MSET", "a", "1", "b", "2");
        var sink = new CollectingSink();
        var engine = new IncidentOpsEngine(sink, NoSecretProvider.Instance);
        var request = new RedisConnectionRequest { ConnectionString = relay.Endpoint, Timeout = TimeSpan.FromSeconds(1) };
        var r = await engine.Redis.FlushAsync(request, 0, false, false, CancellationToken.None);
        Assert.Equal((2L, (long?)null, (long?)null, "FLUSHDB"), (r.KeysBefore, r.KeysAfter, r.KeysRemoved, r.Command));
        Assert.Contains(sink.Warnings, w => w.Contains("was done (the server answered OK), but the keys left could not be counted", StringComparison.Ordinal));
        Assert.Equal("0", RedisCli.Run(server.Port, "DBSIZE"));
    }

    [Fact]
    public async Task Clear_RedisDatabase_whose_deadline_passes_while_counting_after_an_OK_flush_reports_it_done()
    {
        // The plan's DBSIZE (1st) and the flush's (2nd) pass; the count after the flush (3rd) is held 12 s, far past -TimeoutSec.
        using var server = new PrivateRedisServer();
        using var relay = new DelayingRedisRelay(server.Port, "DBSIZE", TimeSpan.FromSeconds(12), occurrence: 3);
        RedisCli.Run(server.Port, "-n", "5", "MSET", "a", "1", "b", "2");
        var (config, store, incident) = await ActiveIncidentAsync("io-redis-done");

        var watch = Stopwatch.StartNew();
        var r = fx.Run($"Clear-RedisDatabase -ConnectionString '{relay.Endpoint}' -Database 5 -TimeoutSec 2 -ConfigPath '{config}' -Force");
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(8), $"took {watch.Elapsed}");   // "does not hang": waiting for the held count would take 12 s
        Assert.Empty(r.Errors);
        var f = r.Single<RedisFlushResult>();
        Assert.Equal((5, 2L, (long?)null), (f.Database, f.KeysBefore, f.KeysAfter));
        Assert.Contains(r.Warnings, w => w.Contains("keys left", StringComparison.Ordinal) && w.Contains("FLUSHDB", StringComparison.Ordinal));
        var entry = Assert.Single(await store.ReadTimelineAsync(incident.Id, CancellationToken.None), t => t.Cmdlet == "Clear-RedisDatabase");
        Assert.Equal(TimelineOutcome.Succeeded, entry.Outcome);
        Assert.Equal("0", RedisCli.Run(server.Port, "-n", "5", "DBSIZE"));
    }

    [Fact]
    public async Task An_attempt_abandoned_before_sending_never_sends_the_flush()
    {
        // Ctrl+C can land between the last check of the token and the send: the cmdlet then abandons the attempt and says
        // "nothing was flushed", so the engine must not send the flush after that.
        using var server = new PrivateRedisServer();
        RedisCli.Run(server.Port, "-n", "6", "MSET", "a", "1", "b", "2");
        var engine = new IncidentOpsEngine(new CollectingSink(), NoSecretProvider.Instance);
        var request = new RedisConnectionRequest { ConnectionString = server.Endpoint, Timeout = TimeSpan.FromSeconds(5) };
        var plan = await engine.Redis.PlanFlushAsync(request, 6, false, false, CancellationToken.None);
        var attempt = new RedisService.FlushAttempt();
        Assert.Null(attempt.Abandon());
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => engine.Redis.FlushAsync(plan, request, CancellationToken.None, attempt));
        Assert.Null(attempt.Sent);
        Assert.Equal("2", RedisCli.Run(server.Port, "-n", "6", "DBSIZE"));
    }

    [Fact]
    public async Task An_attempt_reports_what_was_sent_once_the_flush_went_out()
    {
        using var server = new PrivateRedisServer();
        RedisCli.Run(server.Port, "-n", "6", "MSET", "a", "1");
        var engine = new IncidentOpsEngine(new CollectingSink(), NoSecretProvider.Instance);
        var request = new RedisConnectionRequest { ConnectionString = server.Endpoint, Timeout = TimeSpan.FromSeconds(5) };
        var plan = await engine.Redis.PlanFlushAsync(request, 6, false, false, CancellationToken.None);
        var attempt = new RedisService.FlushAttempt();
        var r = await engine.Redis.FlushAsync(plan, request, CancellationToken.None, attempt);
        Assert.True(attempt.Answered);
        var sent = attempt.Abandon();
        Assert.Equal((server.Endpoint, "FLUSHDB", (int?)6, 1L), (sent!.Endpoint, sent.Command, sent.Database, sent.KeysBefore));
        Assert.Equal((long?)0, r.KeysAfter);
    }

    [Fact]
    public void A_refused_connection_is_a_plain_failure_and_records_nothing_as_done()
    {
        var port = RedisCli.ClosedPort();
        var r = fx.Run($"Clear-RedisDatabase -ConnectionString '127.0.0.1:{port}' -TimeoutSec 2 -Force");
        Assert.Empty(r.Output);
        Assert.Equal("RedisConnectionFailed,IncidentOps.Commands.ClearRedisDatabaseCommand", Assert.Single(r.Errors).FullyQualifiedErrorId);
        Assert.DoesNotContain("may still complete", r.ErrorText);
    }

    private static async Task<(string Config, FileIncidentStore Store, Incident Incident)> ActiveIncidentAsync(string prefix)
    {
        var dir = Paths.TempDir(prefix);
        var config = Path.Combine(dir, "incidentops.yml");
        File.WriteAllText(config, $"version: 1\nstore:\n  path: {dir}\n");
        var store = new FileIncidentStore(dir);
        var incident = await store.CreateAsync(id => new Incident { Id = id, Title = "Cache serves stale data", Severity = "P2" }, CancellationToken.None);
        await store.SetActiveIdAsync(incident.Id, CancellationToken.None);
        return (config, store, incident);
    }

    private static bool WaitForKeys(int port, int db, string expected)
    {
        var until = DateTime.UtcNow.AddSeconds(30);   // a held-back FLUSHDB lands 12 s after it was sent
        while (DateTime.UtcNow < until)
        {
            if (RedisCli.Run(port, "-n", db.ToString(), "DBSIZE") == expected) return true;
            Thread.Sleep(200);
        }
        return false;
    }
}
