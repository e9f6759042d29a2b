using System.Diagnostics;
using System.Net;
using IncidentOps.Engine;
using IncidentOps.Engine.Redis;
using IncidentOps.Redis;
using Xunit;

namespace IncidentOps.Tests.Redis;

public class RedisConnectionSettingsTests
{
    [Fact]
    public void Redis_url_gives_user_percent_decoded_password_port_and_database()
    {
        var s = RedisConnectionSettings.Parse("redis://ops%2Buser:p%40ss%3Aw%2Frd%25x@cache.example.com:6380/3");
        Assert.Equal([("cache.example.com", 6380)], s.Endpoints);
        Assert.Equal("ops+user", s.User);
        Assert.Equal("p@ss:w/rd%x", s.Password);
        Assert.Equal(3, s.Database);
        Assert.False(s.Ssl);
        Assert.DoesNotContain("p@ss", s.ToString());
        Assert.Contains(SecretRedactor.Mask, s.ToString());
    }

    [Fact]
    public void Rediss_url_means_tls_on_the_default_port_with_the_host_as_tls_name()
    {
        var s = RedisConnectionSettings.Parse("rediss://:topsecret99@redis.internal");
        Assert.True(s.Ssl);
        Assert.Null(s.User);
        Assert.Equal("topsecret99", s.Password);
        Assert.Equal([("redis.internal", 6379)], s.Endpoints);
        Assert.Null(s.Database);
        var o = s.DescribeOptions("redis.internal", 6379, TimeSpan.FromSeconds(2), allowAdmin: false);
        Assert.True(o.Ssl);
        Assert.Equal("redis.internal", o.SslHost);
        Assert.False(o.AllowAdmin);
        Assert.False(o.AbortOnConnectFail);
        Assert.Equal(2000, o.ConnectTimeoutMs);
        Assert.Equal(2000, o.SyncTimeoutMs);
        Assert.StartsWith("rediss://:********@redis.internal", s.ToString());
    }

    [Fact]
    public void An_unencoded_at_sign_in_the_password_still_splits_at_the_last_at()
    {
        var s = RedisConnectionSettings.Parse("redis://default:we@k#pass@10.0.0.5:7000");
        Assert.Equal("default", s.User);
        Assert.Equal("we@k#pass", s.Password);
        Assert.Equal([("10.0.0.5", 7000)], s.Endpoints);
    }

    [Fact]
    public void Ipv6_hosts_and_db_query_are_understood()
    {
        var s = RedisConnectionSettings.Parse("redis://[::1]:6390?db=5");
        Assert.Equal([("::1", 6390)], s.Endpoints);
        Assert.Equal(5, s.Database);
        Assert.Equal("[::1]:6390", RedisConnectionSettings.FormatEndpoint("::1", 6390));
    }

    [Fact]
    public void StackExchange_form_keeps_endpoints_password_tls_and_database()
    {
        var s = RedisConnectionSettings.Parse("10.1.1.1:6379,10.1.1.2,password=sePass123,ssl=true,defaultDatabase=4");
        Assert.Equal([("10.1.1.1", 6379), ("10.1.1.2", 6379)], s.Endpoints);
        Assert.Equal("sePass123", s.Password);
        Assert.True(s.Ssl);
        Assert.Equal(4, s.Database);
        Assert.DoesNotContain("sePass123", s.ToString());
    }

    [Theory]
    [InlineData("redis://host:99999", "port")]
    [InlineData("redis://host:6379/abc", "database")]
    [InlineData("redis://:pw@:6379", "no host")]
    [InlineData("redis://host?timeout=5", "timeout")]
    [InlineData("host:6379,nosuchoption=1", "neither")]
    public void Bad_connection_strings_say_what_is_wrong(string text, string expected)
    {
        var ex = Assert.Throws<IncidentOpsException>(() => RedisConnectionSettings.Parse(text));
        Assert.Equal("RedisConnectionStringInvalid", ex.ErrorId);
        Assert.Contains(expected, ex.Message);
    }

    [Theory]
    [InlineData("redis://cache:6379/2?db=3", new[] { "database 2 in the path (/2)", "database 3 in the query (?db=3)", "Keep one", "-Database" })]
    [InlineData("redis://cache:6379?db=1&db=4", new[] { "database 1 in the query (?db=1)", "database 4 in the query (?db=4)", "Keep one" })]
    [InlineData("rediss://cache:6379?ssl=false", new[] { "rediss://", "ssl=false", "Keep one" })]
    [InlineData("redis://cache:6379?ssl=true&tls=false", new[] { "ssl=true", "tls=false", "Keep one" })]
    [InlineData("redis://cache:6379:6380/1", new[] { "cache:6379:6380", "one host:port" })]
    [InlineData("redis://a:6379,b:6379/1", new[] { "a:6379,b:6379", "one host:port" })]
    [InlineData("cache:6379,defaultDatabase=2,defaultDatabase=3", new[] { "defaultDatabase twice, as 2 and 3", "-Database" })]
    public void Conflicting_settings_in_one_connection_string_are_refused_naming_both(string text, string[] expected)
    {
        // Before: the last value silently won (redis://host/2?db=3 acted on database 3, rediss://...?ssl=false went without TLS).
        var ex = Assert.Throws<IncidentOpsException>(() => RedisConnectionSettings.Parse(text));
        Assert.Equal(RedisErrorIds.RedisConnectionStringInvalid, ex.ErrorId);
        Assert.Equal(IncidentOpsErrorCategory.InvalidArgument, ex.Category);
        foreach (var part in expected) Assert.Contains(part, ex.Message);
    }

    [Fact]
    public void A_password_given_twice_is_refused_without_showing_either_value()
    {
        var ex = Assert.Throws<IncidentOpsException>(() => RedisConnectionSettings.Parse("cache:6379,password=FirstPw-8181,password=SecondPw-8282"));
        Assert.Equal(RedisErrorIds.RedisConnectionStringInvalid, ex.ErrorId);
        Assert.Contains("the password twice", ex.Message);
        Assert.DoesNotContain("FirstPw-8181", ex.Message);
        Assert.DoesNotContain("SecondPw-8282", ex.Message);
    }

    [Theory]
    [InlineData("redis://cache:6379/3?db=3", 3, false)]
    [InlineData("rediss://cache:6379?ssl=true", null, true)]
    [InlineData("redis://cache:6379?ssl=true", null, true)]
    [InlineData("cache:6379,defaultDatabase=2,defaultDatabase=2", 2, false)]
    [InlineData("redis://::1:6379/4", 4, false)]
    public void The_same_setting_given_twice_with_one_value_is_accepted(string text, int? database, bool ssl)
    {
        var s = RedisConnectionSettings.Parse(text);
        Assert.Equal((database, ssl), (s.Database, s.Ssl));
    }

    [Fact]
    public void Credential_overrides_the_string_and_is_registered_as_a_secret()
    {
        var s = RedisConnectionSettings.Parse("redis://127.0.0.1:6379").WithCredential("alice", "CredPw-5511");
        Assert.Equal("alice", s.User);
        Assert.True(SecretRedactor.IsRegistered("CredPw-5511"));
    }

    [Theory]
    [InlineData(new[] { 3.0, 1.0, 2.0 }, 1.0, 2.0, 3.0)]
    [InlineData(new[] { 4.0, 1.0, 3.0, 2.0 }, 1.0, 2.5, 4.0)]
    [InlineData(new[] { 0.25 }, 0.25, 0.25, 0.25)]
    public void Latency_statistics_are_min_median_and_max(double[] samples, double min, double p50, double max)
    {
        var stats = RedisService.LatencyStats(samples)!.Value;
        Assert.Equal((min, p50, max), (stats.Min, stats.P50, stats.Max));
        Assert.Null(RedisService.LatencyStats([]));
    }
}

public class RedisEngineTests : IClassFixture<PasswordRedisFixture>
{
    // Databases 1-3 belong to this class (flush tests elsewhere use 10+).
    private readonly PasswordRedisFixture _pw;
    private readonly CollectingSink _sink = new();
    private readonly IncidentOpsEngine _engine;

    public RedisEngineTests(PasswordRedisFixture pw)
    {
        _pw = pw;
        _engine = new IncidentOpsEngine(_sink, NoSecretProvider.Instance);
    }

    private static RedisConnectionRequest Shared(int timeoutSec = 5) => new() { ConnectionString = TestServers.Redis, Timeout = TimeSpan.FromSeconds(timeoutSec) };

    [Fact]
    public async Task Test_pings_count_times_and_reports_role_version_and_ordered_latencies()
    {
        var r = Assert.Single(await _engine.Redis.TestAsync(Shared(), 7, CancellationToken.None));
        Assert.True(r.Reachable, r.Reason);
        Assert.Equal(7, r.Count);
        Assert.Equal(7, r.Answered);
        Assert.Equal("master", r.Role);
        Assert.StartsWith("7.", r.Version);
        Assert.True(r.LatencyMinMs <= r.LatencyP50Ms && r.LatencyP50Ms <= r.LatencyMaxMs);
        Assert.True(r.LatencyMinMs > 0);
        Assert.Null(r.Reason);
    }

    [Fact]
    public async Task A_refused_port_is_an_unreachable_result_well_within_a_hang()
    {
        var port = RedisCli.ClosedPort();
        var sw = Stopwatch.StartNew();
        var r = Assert.Single(await _engine.Redis.TestAsync(new RedisConnectionRequest { ConnectionString = $"127.0.0.1:{port}", Timeout = TimeSpan.FromSeconds(2) }, 3, CancellationToken.None));
        sw.Stop();
        Assert.False(r.Reachable);
        Assert.Equal($"127.0.0.1:{port}", r.Endpoint);
        Assert.Contains("connect", r.Reason);
        Assert.Null(r.LatencyP50Ms);
        // A hang guard, not a performance assertion: the call is bounded by the 2 s timeout plus a margin.
        Assert.True(sw.Elapsed < TimeSpan.FromSeconds(15), $"took {sw.Elapsed}");
    }

    [Fact]
    public async Task A_refused_port_says_refused_at_once_instead_of_waiting_out_a_long_timeout_as_no_answer()
    {
        // A Redis that is down refuses the port. StackExchange.Redis retried until the connect timeout, so the user
        // waited the whole -TimeoutSec and read "no answer within 30 s"; redis-cli says "Connection refused" at once.
        var port = RedisCli.ClosedPort();
        var sw = Stopwatch.StartNew();
        var r = Assert.Single(await _engine.Redis.TestAsync(new RedisConnectionRequest { ConnectionString = $"127.0.0.1:{port}", Timeout = TimeSpan.FromSeconds(30) }, 1, CancellationToken.None));
        sw.Stop();
        Assert.False(r.Reachable);
        Assert.Equal("connection refused: nothing listens on that port", r.Reason);
        var ex = await Assert.ThrowsAsync<RedisUnavailableException>(() => _engine.Redis.GetInfoAsync(
            new RedisConnectionRequest { ConnectionString = $"redis://127.0.0.1:{port}", Timeout = TimeSpan.FromSeconds(30) }, [RedisInfoSection.Memory], CancellationToken.None));
        Assert.Contains("is unreachable: connection refused: nothing listens on that port. Check that the server runs", ex.Message);
        // A hang guard, not a performance assertion: well under the 30 s timeout the old code waited out.
        Assert.True(sw.Elapsed < TimeSpan.FromSeconds(20), $"took {sw.Elapsed}");
    }

    [Fact]
    public async Task Rediss_against_a_plain_server_fails_the_tls_handshake_as_a_result()
    {
        var r = Assert.Single(await _engine.Redis.TestAsync(new RedisConnectionRequest { ConnectionString = $"rediss://{TestServers.Redis}", Timeout = TimeSpan.FromSeconds(2) }, 1, CancellationToken.None));
        Assert.False(r.Reachable);
        Assert.True(r.Tls);
        Assert.False(string.IsNullOrEmpty(r.Reason));
    }

    [Fact]
    public async Task A_refused_port_is_a_RedisConnectionFailed_error_for_info()
    {
        var port = RedisCli.ClosedPort();
        var ex = await Assert.ThrowsAsync<RedisUnavailableException>(() => _engine.Redis.GetInfoAsync(
            new RedisConnectionRequest { ConnectionString = $"redis://127.0.0.1:{port}", Timeout = TimeSpan.FromSeconds(2) }, [RedisInfoSection.Memory], CancellationToken.None));
        Assert.Equal("RedisConnectionFailed", ex.ErrorId);
        Assert.Contains($"127.0.0.1:{port}", ex.Message);
    }

    [Fact]
    public async Task Every_info_section_is_parsed_into_numbers()
    {
        RedisCli.Seed(2, "engine-info", 4);
        RedisCli.Run(RedisCli.Shared.Port, "-n", "2", "EXPIRE", "engine-info:0", "600");
        var all = await _engine.Redis.GetInfoAsync(Shared(), [RedisInfoSection.All], CancellationToken.None);
        var server = Assert.Single(all.OfType<RedisServerInfo>());
        Assert.StartsWith("7.", server.Version);
        Assert.Equal(RedisCli.Shared.Port, server.TcpPort);
        Assert.True(server.UptimeSeconds >= 0);
        Assert.NotNull(server.UptimeHuman);
        Assert.True(Assert.Single(all.OfType<RedisClientsInfo>()).ConnectedClients >= 1);
        var memory = Assert.Single(all.OfType<RedisMemoryInfo>());
        Assert.True(memory.UsedMemory > 0);
        Assert.NotNull(memory.UsedMemoryHuman);
        Assert.NotNull(memory.MaxMemory);
        Assert.NotNull(memory.EvictionPolicy);
        Assert.NotNull(memory.FragmentationRatio);
        Assert.NotNull(memory.EvictedKeys);
        Assert.NotNull(Assert.Single(all.OfType<RedisPersistenceInfo>()).AofEnabled);
        var stats = Assert.Single(all.OfType<RedisStatsInfo>());
        Assert.True(stats.TotalCommandsProcessed > 0);
        Assert.NotNull(stats.EvictedKeys);
        var repl = Assert.Single(all.OfType<RedisReplicationInfo>());
        Assert.Equal("master", repl.Role);
        Assert.Equal(0, repl.ConnectedReplicas);
        var db2 = Assert.Single(all.OfType<RedisKeyspaceInfo>(), k => k.Database == 2);
        Assert.Equal(4, db2.Keys);
        Assert.Equal(1, db2.Expires);
        Assert.True(db2.AvgTtlMs >= 0);
        Assert.Equal(7, all.Select(i => i.Section).Distinct().Count());
    }

    [Fact]
    public async Task One_section_returns_only_that_section()
    {
        var r = await _engine.Redis.GetInfoAsync(Shared(), [RedisInfoSection.Clients], CancellationToken.None);
        Assert.IsType<RedisClientsInfo>(Assert.Single(r));
    }

    [Fact]
    public void Info_text_parsing_handles_headers_crlf_and_replica_lines()
    {
        var raw = "# Replication\r\nrole:master\r\nconnected_slaves:2\r\nslave0:ip=10.0.0.2,port=6379,state=online,offset=10,lag=0\r\nslave1:ip=10.0.0.3,port=6379,state=wait_bgsave,offset=0,lag=1\r\n\r\n# Keyspace\r\ndb0:keys=10,expires=2,avg_ttl=5000\r\ndb12:keys=1,expires=0,avg_ttl=0\r\n";
        var parsed = RedisService.ParseInfo(raw);
        Assert.Equal("2", parsed["Replication"]["connected_slaves"]);
        Assert.Equal("keys=1,expires=0,avg_ttl=0", parsed["keyspace"]["db12"]);
    }

    [Fact]
    public async Task Memory_above_85_percent_of_maxmemory_warns()
    {
        // A private server, so changing maxmemory cannot disturb other tests.
        var used = long.Parse(RedisService.ParseInfo(RedisCli.Run("127.0.0.1", _pw.Port, PasswordRedisFixture.Password, "INFO", "memory"))["Memory"]["used_memory"]);
        RedisCli.Run("127.0.0.1", _pw.Port, PasswordRedisFixture.Password, "CONFIG", "SET", "maxmemory", (used + used / 10).ToString());
        try
        {
            var r = await _engine.Redis.GetInfoAsync(new RedisConnectionRequest { ConnectionString = _pw.Url }, [RedisInfoSection.Memory], CancellationToken.None);
            var m = Assert.IsType<RedisMemoryInfo>(Assert.Single(r));
            Assert.True(m.UsedPercentOfMax > 85, $"{m.UsedPercentOfMax}");
            Assert.Contains(_sink.Warnings, w => w.Contains("of maxmemory"));
        }
        finally { RedisCli.Run("127.0.0.1", _pw.Port, PasswordRedisFixture.Password, "CONFIG", "SET", "maxmemory", "0"); }
    }

    [Fact]
    public async Task A_password_with_special_characters_in_a_url_authenticates()
    {
        var r = Assert.Single(await _engine.Redis.TestAsync(new RedisConnectionRequest { ConnectionString = _pw.Url }, 2, CancellationToken.None));
        Assert.True(r.Reachable, r.Reason);
        Assert.DoesNotContain(PasswordRedisFixture.Password, r.ToString());
    }

    [Fact]
    public async Task A_credential_supplies_the_password_for_a_plain_endpoint()
    {
        var r = Assert.Single(await _engine.Redis.TestAsync(new RedisConnectionRequest
        {
            ConnectionString = $"127.0.0.1:{_pw.Port}", Credential = new NetworkCredential("", PasswordRedisFixture.Password),
        }, 1, CancellationToken.None));
        Assert.True(r.Reachable, r.Reason);
    }

    [Fact]
    public async Task A_wrong_password_is_reported_as_an_authentication_failure_without_the_password()
    {
        var wrong = "WrongCanary-93@1";
        var r = Assert.Single(await _engine.Redis.TestAsync(new RedisConnectionRequest
        {
            ConnectionString = $"redis://default:{Uri.EscapeDataString(wrong)}@127.0.0.1:{_pw.Port}", Timeout = TimeSpan.FromSeconds(3),
        }, 1, CancellationToken.None));
        Assert.False(r.Reachable);
        Assert.Contains("authentication", r.Reason);
        Assert.DoesNotContain(wrong, r.Reason);
        var ex = await Assert.ThrowsAsync<RedisUnavailableException>(() => _engine.Redis.GetClientsAsync(new RedisConnectionRequest
        {
            ConnectionString = $"127.0.0.1:{_pw.Port},password={wrong}", Timeout = TimeSpan.FromSeconds(3),
        }, CancellationToken.None));
        Assert.Equal("RedisAuthenticationFailed", ex.ErrorId);
        Assert.DoesNotContain(wrong, ex.Message);
        Assert.DoesNotContain(wrong, string.Join("\n", _sink.VerboseMessages));
    }

    [Fact]
    public async Task A_missing_and_a_wrong_password_each_say_so_in_plain_words()
    {
        // StackExchange.Redis words both as "UnableToResolvePhysicalConnection: SimpleError: NOAUTH Authentication required.
        // Verify if the Redis password provided is correct. Attempted command: ECHO"; the row says which one it is.
        var missing = Assert.Single(await _engine.Redis.TestAsync(new RedisConnectionRequest
        {
            ConnectionString = $"127.0.0.1:{_pw.Port}", Timeout = TimeSpan.FromSeconds(3),
        }, 1, CancellationToken.None));
        Assert.Equal("authentication failed: the server requires a password and none was given (NOAUTH)", missing.Reason);
        var wrong = Assert.Single(await _engine.Redis.TestAsync(new RedisConnectionRequest
        {
            ConnectionString = $"127.0.0.1:{_pw.Port},password=WrongCanary-77", Timeout = TimeSpan.FromSeconds(3),
        }, 1, CancellationToken.None));
        Assert.Equal("authentication failed: wrong user name or password", wrong.Reason);
    }

    [Theory]
    [InlineData("UnableToResolvePhysicalConnection: SimpleError: NOAUTH Authentication required.", "", false, RedisEndpointConnection.PasswordMissing)]
    [InlineData("UnableToResolvePhysicalConnection: SimpleError: NOAUTH Authentication required.", "", true, RedisEndpointConnection.WrongPassword)]
    [InlineData("AuthenticationFailure: something", "WRONGPASS invalid username-password pair", false, RedisEndpointConnection.WrongPassword)]
    [InlineData("AuthenticationFailure: something else", "", true, "AuthenticationFailure: something else")]
    public void The_authentication_detail_names_the_cause(string detail, string log, bool passwordGiven, string expected) =>
        Assert.Equal(expected, RedisEndpointConnection.AuthenticationDetail(detail, log, passwordGiven));

    [Fact]
    public async Task Flush_removes_only_the_chosen_database_and_reports_counts()
    {
        RedisCli.Seed(3, "engine-flush", 6);
        RedisCli.Seed(1, "engine-keep", 2);
        var plan = await _engine.Redis.PlanFlushAsync(Shared(), 3, false, false, CancellationToken.None);
        Assert.Equal(6, plan.Keys);
        Assert.Equal(6, RedisCli.DbSize(3));
        var r = await _engine.Redis.FlushAsync(Shared(), 3, false, false, CancellationToken.None);
        Assert.Equal((6L, (long?)0, (long?)6, "FLUSHDB"), (r.KeysBefore, r.KeysAfter, r.KeysRemoved, r.Command));
        Assert.Equal(0, RedisCli.DbSize(3));
        Assert.Equal(2, RedisCli.DbSize(1));
    }

    [Fact]
    public async Task A_confirmed_flush_goes_to_the_planned_server_even_when_the_services_reference_changed_since()
    {
        // The prompt (or -WhatIf) showed db 3 of the service's Redis; while the person read it, the file behind the
        // service's redis: reference was rewritten to another server (a failover tool, another shell). Before: the flush
        // read the reference again and emptied db 3 of that other server, which nobody had confirmed.
        using var other = new PrivateRedisServer();
        RedisCli.Run(other.Port, "-n", "3", "MSET", "x", "1", "y", "2");
        RedisCli.Seed(3, "engine-planned", 4);
        var urlFile = Path.Combine(Paths.TempDir("io-redis-ref"), "redis-url");
        File.WriteAllText(urlFile, $"redis://{TestServers.Redis}/3");
        var request = new RedisConnectionRequest
        {
            Service = new IncidentOps.Config.ServiceTarget { Environment = "production", Service = "cache", Redis = new IncidentOps.Config.ConfigValue($"file:{urlFile}", true, null) },
            Timeout = TimeSpan.FromSeconds(5),
        };
        var plan = await _engine.Redis.PlanFlushAsync(request, null, false, false, CancellationToken.None);
        Assert.Equal((TestServers.Redis, 3, 4L), (plan.Endpoint, plan.Database, plan.Keys));
        File.WriteAllText(urlFile, $"redis://{other.Endpoint}/3");

        var r = await _engine.Redis.FlushAsync(plan, request, CancellationToken.None);
        Assert.Equal((TestServers.Redis, (int?)3, 4L, (long?)0), (r.Endpoint, r.Database, r.KeysBefore, r.KeysAfter));
        Assert.Equal(0, RedisCli.DbSize(3));
        Assert.Equal("2", RedisCli.Run(other.Port, "-n", "3", "DBSIZE"));
    }

    [Fact]
    public async Task AllDatabases_flushes_every_database_of_a_private_server()
    {
        // FLUSHALL only ever runs against this class's own server, never the shared one.
        RedisCli.Run("127.0.0.1", _pw.Port, PasswordRedisFixture.Password, "-n", "0", "MSET", "a", "1", "b", "2");
        RedisCli.Run("127.0.0.1", _pw.Port, PasswordRedisFixture.Password, "-n", "5", "SET", "c", "3");
        var request = new RedisConnectionRequest { ConnectionString = _pw.Url };
        var plan = await _engine.Redis.PlanFlushAsync(request, null, allDatabases: true, async: false, CancellationToken.None);
        Assert.Equal((3L, "FLUSHALL", (int?)null), (plan.Keys, plan.Command, plan.Database));
        var r = await _engine.Redis.FlushAsync(request, null, allDatabases: true, async: true, CancellationToken.None);
        Assert.Equal((3L, "FLUSHALL ASYNC", true), (r.KeysBefore, r.Command, r.AllDatabases));
        Assert.Equal("0", RedisCli.Run("127.0.0.1", _pw.Port, PasswordRedisFixture.Password, "-n", "5", "DBSIZE"));
    }

    [Fact]
    public async Task Missing_target_and_service_without_redis_are_clear_errors()
    {
        var svc = new IncidentOps.Config.ServiceTarget { Environment = "production", Service = "api" };
        var ex = await Assert.ThrowsAsync<IncidentOpsException>(() => _engine.Redis.TestAsync(new RedisConnectionRequest { Service = svc }, 1, CancellationToken.None));
        Assert.Equal("RedisNotConfigured", ex.ErrorId);
        Assert.Contains("production/api", ex.Message);
    }

    [Fact]
    public async Task A_service_redis_reference_is_resolved_through_the_config()
    {
        var dir = Paths.TempDir();
        var file = Path.Combine(dir, "redis-url.txt");
        File.WriteAllText(file, $"redis://{TestServers.Redis}/1\n");
        var svc = new IncidentOps.Config.ServiceTarget { Environment = "production", Service = "portfolio", Redis = IncidentOps.Config.ConfigValue.Literal($"file:{file}", isSecret: true) };
        var r = Assert.Single(await _engine.Redis.TestAsync(new RedisConnectionRequest { Service = svc }, 1, CancellationToken.None));
        Assert.True(r.Reachable, r.Reason);
        Assert.Equal("production/portfolio", r.Service);
    }
}
