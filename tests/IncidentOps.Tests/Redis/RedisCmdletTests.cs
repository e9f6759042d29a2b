using IncidentOps.Engine.Incidents;
using IncidentOps.Incidents;
using IncidentOps.Redis;
using Xunit;

namespace IncidentOps.Tests.Redis;

/// <summary>The Redis cmdlets through the built module, against the real redis-server. Databases 4-9 and 10-14 belong to this class.</summary>
public class RedisCmdletTests(ModuleFixture fx, PasswordRedisFixture pw) : IClassFixture<ModuleFixture>, IClassFixture<PasswordRedisFixture>
{
    private static string Endpoint => TestServers.Redis;

    [Fact]
    public void TestRedisConnection_returns_latency_role_and_version_and_a_boolean_with_Quiet()
    {
        var r = fx.Run($"Test-RedisConnection -ConnectionString '{Endpoint}' -Count 5").AssertNoErrors();
        var t = r.Single<RedisConnectionTest>();
        Assert.True(t.Reachable, t.Reason);
        Assert.Equal(5, t.Answered);
        Assert.Equal("master", t.Role);
        Assert.True(t.LatencyMinMs <= t.LatencyP50Ms && t.LatencyP50Ms <= t.LatencyMaxMs);
        var q = fx.Run($"Test-RedisConnection -Url 'redis://{Endpoint}/4' -Quiet").AssertNoErrors();
        Assert.True((bool)Assert.Single(q.Output).BaseObject);
    }

    [Fact]
    public void TestRedisConnection_on_a_closed_port_is_a_result_not_an_error()
    {
        var port = RedisCli.ClosedPort();
        var r = fx.Run($"Test-RedisConnection -ConnectionString '127.0.0.1:{port}' -TimeoutSec 2").AssertNoErrors();
        var t = r.Single<RedisConnectionTest>();
        Assert.False(t.Reachable);
        Assert.NotNull(t.Reason);
        var q = fx.Run($"Test-RedisConnection -ConnectionString '127.0.0.1:{port}' -TimeoutSec 2 -Quiet").AssertNoErrors();
        Assert.False((bool)Assert.Single(q.Output).BaseObject);
    }

    [Fact]
    public void GetRedisInfo_on_a_closed_port_is_RedisConnectionFailed()
    {
        var port = RedisCli.ClosedPort();
        var r = fx.Run($"Get-RedisInfo memory -ConnectionString '127.0.0.1:{port}' -TimeoutSec 2");
        var e = Assert.Single(r.Errors);
        Assert.Equal("RedisConnectionFailed,IncidentOps.Commands.GetRedisInfoCommand", e.FullyQualifiedErrorId);
        Assert.Contains($"127.0.0.1:{port}", e.ToString());
    }

    [Fact]
    public void Bad_url_is_RedisConnectionStringInvalid()
    {
        var r = fx.Run("Get-RedisClient -ConnectionString 'redis://host:notaport'");
        Assert.Equal("RedisConnectionStringInvalid,IncidentOps.Commands.GetRedisClientCommand", Assert.Single(r.Errors).FullyQualifiedErrorId);
    }

    [Fact]
    public void GetRedisInfo_returns_memory_and_one_keyspace_object_per_database()
    {
        RedisCli.Seed(5, "cmdlet-info", 3);
        var r = fx.Run($"Get-RedisInfo Memory, Keyspace -ConnectionString '{Endpoint}'").AssertNoErrors();
        var m = Assert.Single(r.Objects<RedisMemoryInfo>());
        Assert.True(m.UsedMemory > 0);
        Assert.Equal(3, Assert.Single(r.Objects<RedisKeyspaceInfo>(), k => k.Database == 5).Keys);
        var typed = fx.Run($"Get-RedisInfo -Section Keyspace -ConnectionString '{Endpoint}' | Where-Object {{ $_ -is [IncidentOps.Redis.RedisKeyspaceInfo] -and $_.Database -eq 5 }} | ForEach-Object {{ $_.Keys + 1 }}").AssertNoErrors();
        Assert.Equal(4L, Convert.ToInt64(Assert.Single(typed.Output).BaseObject));
    }

    [Fact]
    public void GetRedisSlowLog_returns_entries_as_objects()
    {
        var port = RedisCli.Shared.Port;
        var marker = "slowlog-" + Guid.NewGuid().ToString("N")[..8];
        RedisCli.Run(port, "CONFIG", "SET", "slowlog-log-slower-than", "0");
        try { RedisCli.Run(port, "-n", "6", "SET", marker, "1"); }
        finally { RedisCli.Run(port, "CONFIG", "SET", "slowlog-log-slower-than", "10000"); }
        var r = fx.Run($"Get-RedisSlowLog -ConnectionString '{Endpoint}' -Count 128").AssertNoErrors();
        var e = Assert.Single(r.Objects<RedisSlowLogEntry>(), x => x.Arguments.Contains(marker));
        Assert.Equal("SET", e.Arguments[0], ignoreCase: true);
        Assert.True(e.Time > DateTimeOffset.UtcNow.AddMinutes(-5));
    }

    [Fact]
    public void GetRedisClient_lists_connections_including_its_own()
    {
        var r = fx.Run($"Get-RedisClient -ConnectionString '{Endpoint}'").AssertNoErrors();
        var clients = r.Objects<RedisClient>().ToList();
        Assert.NotEmpty(clients);
        Assert.Contains(clients, c => c.Name == "IncidentOps" && c.LastCommand is not null && c.LastCommand.StartsWith("client", StringComparison.OrdinalIgnoreCase));
    }

    [Fact]
    public void ClearRedisDatabase_WhatIf_reports_keys_and_db_and_changes_nothing()
    {
        RedisCli.Seed(10, "whatif", 7);
        var r = fx.Run($"Clear-RedisDatabase -ConnectionString '{Endpoint}' -Database 10 -WhatIf").AssertNoErrors();
        Assert.Empty(r.Output);
        Assert.Contains("What if:", r.HostText);
        Assert.Contains("db 10", r.HostText);
        Assert.Contains("7 keys", r.HostText);
        Assert.Equal(7, RedisCli.DbSize(10));
    }

    [Fact]
    public void ClearRedisDatabase_flushes_only_the_chosen_database()
    {
        RedisCli.Seed(11, "flush", 5);
        RedisCli.Seed(12, "keep", 3);
        var r = fx.Run($"Clear-RedisDatabase -ConnectionString 'redis://{Endpoint}/12' -Database 11 -Force").AssertNoErrors();
        var f = r.Single<RedisFlushResult>();
        Assert.Equal(((int?)11, 5L, (long?)0, false), (f.Database, f.KeysBefore, f.KeysAfter, f.AllDatabases));
        Assert.Equal(0, RedisCli.DbSize(11));
        Assert.Equal(3, RedisCli.DbSize(12));
    }

    [Fact]
    public void ClearRedisDatabase_refuses_a_url_with_two_databases_and_flushes_neither()
    {
        // Before: redis://host/6?db=7 silently flushed database 7.
        RedisCli.Seed(6, "path-db", 2);
        RedisCli.Seed(7, "query-db", 3);
        var r = fx.Run($"Clear-RedisDatabase -ConnectionString 'redis://:CanaryUrlPw-4411@{Endpoint}/6?db=7' -Force");
        Assert.Empty(r.Output);
        var e = Assert.Single(r.Errors);
        Assert.Equal("RedisConnectionStringInvalid,IncidentOps.Commands.ClearRedisDatabaseCommand", e.FullyQualifiedErrorId);
        Assert.Equal(System.Management.Automation.ErrorCategory.InvalidArgument, e.CategoryInfo.Category);
        Assert.Contains("database 6 in the path (/6)", e.ToString());
        Assert.Contains("database 7 in the query (?db=7)", e.ToString());
        Assert.Contains("Keep one", e.ToString());
        Assert.DoesNotContain("CanaryUrlPw-4411", r.AllText());
        Assert.Equal((2L, 3L), (RedisCli.DbSize(6), RedisCli.DbSize(7)));
    }

    [Fact]
    public void ClearRedisDatabase_async_and_conflicting_scope()
    {
        RedisCli.Seed(13, "async", 4);
        var r = fx.Run($"Clear-RedisDatabase -ConnectionString '{Endpoint}' 13 -Async -Confirm:$false").AssertNoErrors();
        var f = r.Single<RedisFlushResult>();
        Assert.Equal("FLUSHDB ASYNC", f.Command);
        Assert.Equal(4, f.KeysBefore);
        var bad = fx.Run($"Clear-RedisDatabase -ConnectionString '{Endpoint}' -Database 13 -AllDatabases -Force");
        Assert.Equal("RedisFlushScopeConflict,IncidentOps.Commands.ClearRedisDatabaseCommand", Assert.Single(bad.Errors).FullyQualifiedErrorId);
    }

    [Fact]
    public async Task ClearRedisDatabase_records_a_timeline_entry_on_the_active_incident()
    {
        var dir = Paths.TempDir("io-redis-store");
        var config = Path.Combine(dir, "incidentops.yml");
        File.WriteAllText(config, $"version: 1\nstore:\n  path: {dir}\n");
        var store = new FileIncidentStore(dir);
        var incident = await store.CreateAsync(id => new Incident { Id = id, Title = "Redis cache corrupted", Severity = "P2" }, CancellationToken.None);
        await store.SetActiveIdAsync(incident.Id, CancellationToken.None);
        RedisCli.Seed(14, "timeline", 2);

        fx.Run($"Clear-RedisDatabase -ConnectionString '{Endpoint}' -Database 14 -ConfigPath '{config}' -WhatIf").AssertNoErrors();
        Assert.Equal(2, RedisCli.DbSize(14));
        fx.Run($"Clear-RedisDatabase -ConnectionString '{Endpoint}' -Database 14 -ConfigPath '{config}' -Force").AssertNoErrors();

        var timeline = await store.ReadTimelineAsync(incident.Id, CancellationToken.None);
        Assert.Contains(timeline, e => e.Cmdlet == "Clear-RedisDatabase" && e.Outcome == TimelineOutcome.WhatIf && e.Result!.Contains("2 keys"));
        var done = Assert.Single(timeline, e => e.Cmdlet == "Clear-RedisDatabase" && e.Outcome == TimelineOutcome.Succeeded);
        Assert.Contains("FLUSHDB", done.Result);
        Assert.Contains("db 14", done.Target);
        Assert.Equal(SecretRedactor.Mask, done.Parameters["ConnectionString"]);
    }

    [Fact]
    public void Configured_services_pipe_into_the_redis_cmdlets()
    {
        var dir = Paths.TempDir("io-redis-cfg");
        var urlFile = Path.Combine(dir, "redis-url");
        File.WriteAllText(urlFile, $"redis://{Endpoint}/4\n");
        var config = Path.Combine(dir, "incidentops.yml");
        File.WriteAllText(config, $"version: 1\nenvironments:\n  production:\n    services:\n      cache:\n        platform: systemd\n        unit: redis\n        redis: file:{urlFile}\n      web:\n        platform: systemd\n        unit: web\nstore:\n  path: {dir}\n");
        var r = fx.Run($"Get-IncidentOpsService -Path '{config}' -Name cache | Test-RedisConnection -ConfigPath '{config}' -Count 2").AssertNoErrors();
        var t = r.Single<RedisConnectionTest>();
        Assert.True(t.Reachable, t.Reason);
        Assert.Equal("production/cache", t.Service);
        var missing = fx.Run($"Get-RedisInfo Server -Service production/web -ConfigPath '{config}'");
        Assert.Equal("RedisNotConfigured,IncidentOps.Commands.GetRedisInfoCommand", Assert.Single(missing.Errors).FullyQualifiedErrorId);
    }

    [Fact]
    public void A_configured_connection_without_a_password_stays_readable_and_only_a_password_is_masked()
    {
        var dir = Paths.TempDir("io-redis-plain");
        var closed = RedisCli.ClosedPort();
        var canary = "PlainCanary" + Guid.NewGuid().ToString("N")[..8];
        var config = Path.Combine(dir, "incidentops.yml");
        File.WriteAllText(config, $"version: 1\nenvironments:\n  production:\n    services:\n      plain:\n        redis: '127.0.0.1:{closed}'\n      secret:\n        redis: '127.0.0.1:{closed + 1},password={canary}'\nstore:\n  path: {dir}\n");
        var r = fx.Run($"Get-RedisInfo Server -Service production/plain, production/secret -ConfigPath '{config}' -TimeoutSec 2");
        Assert.Equal(2, r.Errors.Count);
        // The endpoint is what the responder needs to see; it is not a secret.
        Assert.Contains($"127.0.0.1:{closed}", r.Errors[0].ToString());
        Assert.Contains($"127.0.0.1:{closed + 1}", r.Errors[1].ToString());
        Assert.DoesNotContain(canary, r.AllText());
        var shown = fx.Run($"Get-IncidentOpsConfig -Path '{config}' | ForEach-Object {{ $_.ToString() }}; Get-IncidentOpsService -Path '{config}' | ForEach-Object {{ \"$($_.Redis)\" }}").AssertNoErrors();
        Assert.DoesNotContain(canary, shown.AllText());
    }

    [Fact]
    public void A_canary_password_never_appears_in_any_stream()
    {
        var url = pw.Url;
        var wrongUrl = $"redis://default:{Uri.EscapeDataString("WrongCanary-" + PasswordRedisFixture.Password)}@127.0.0.1:{pw.Port}/0";
        var r = fx.Run($$"""
            Test-RedisConnection -ConnectionString '{{url}}' -Verbose
            Get-RedisInfo Server -ConnectionString '{{url}}' -Verbose
            Test-RedisConnection -ConnectionString '{{wrongUrl}}' -TimeoutSec 3 -Verbose
            Get-RedisInfo Memory -ConnectionString '{{wrongUrl}}' -TimeoutSec 3 -Verbose
            $cred = [pscredential]::new('default', [Net.NetworkCredential]::new('', '{{PasswordRedisFixture.Password.Replace("'", "''")}}').SecurePassword)
            Get-RedisClient -ConnectionString '127.0.0.1:{{pw.Port}}' -Credential $cred -Verbose | ForEach-Object { $_.ToString() }
            Clear-RedisDatabase -ConnectionString '{{url}}' -WhatIf -Verbose
            """);
        var tests = r.Objects<RedisConnectionTest>().ToList();
        Assert.Equal([true, false], tests.Select(t => t.Reachable));
        Assert.Contains("authentication", tests[1].Reason);
        Assert.Equal("RedisAuthenticationFailed,IncidentOps.Commands.GetRedisInfoCommand", Assert.Single(r.Errors).FullyQualifiedErrorId);
        Assert.Contains(r.Output, o => o.BaseObject is string s && s.Contains(" db"));
        var all = r.AllText();
        Assert.DoesNotContain(PasswordRedisFixture.Password, all);
        Assert.DoesNotContain(Uri.EscapeDataString(PasswordRedisFixture.Password), all);
        Assert.DoesNotContain("CanaryPw-7f3c", all);
    }
}
