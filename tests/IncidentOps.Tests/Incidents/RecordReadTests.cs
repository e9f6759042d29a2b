using IncidentOps.Incidents;
using IncidentOps.Tests.Platforms;
using IncidentOps.Tests.Redis;
using Npgsql;
using Xunit;
using static IncidentOps.Tests.Platforms.FakeCli;

namespace IncidentOps.Tests.Incidents;

/// <summary>-Record on the read-only cmdlets of the other areas: one "read" entry with -Record, none without, none without an incident.</summary>
public class RecordReadTests(ModuleFixture fx) : IClassFixture<ModuleFixture>
{
    private const string App = "ai-affiliate-empire";

    /// <summary>The reads under test, each with its expected cmdlet, target fragment and result fragment.</summary>
    private static (string Command, string Cmdlet, string Target, string Result)[] Reads(FakeCli cli, string appName)
    {
        var flyctl = cli.Tool("flyctl",
            new Reply($"status -a {App} --json", "fly-status.json"),
            new Reply($"logs -a {App} --no-tail --json", "fly-logs.json"),
            new Reply("status -a pg-app-1 --json", "fly-pg-status.json"),
            new Reply("postgres backup list -a pg-app-1", "fly-pg-backups.txt"));
        var fly = $"-Platform Fly -App {App} -FlyctlPath '{flyctl}'";
        var flyDb = $"-Platform Fly -DatabaseApp pg-app-1 -FlyctlPath '{flyctl}'";
        var pg = new NpgsqlConnectionStringBuilder(TestServers.PostgresConnectionString) { ApplicationName = appName }.ConnectionString;
        return
        [
            ($"Get-AppStatus {fly}", "Get-AppStatus", App, "1 of 2 instances running"),
            ($"Get-AppLog {fly} -Pattern 'memory|cpu'", "Get-AppLog", App, "2 log lines matching 'memory|cpu'"),
            ($"Get-AppDatabase {flyDb}", "Get-AppDatabase", "pg-app-1", "Degraded"),
            ($"Get-AppDatabaseBackup {flyDb}", "Get-AppDatabaseBackup", "pg-app-1", "4 backups, newest 2026-11-23 02:00 UTC"),
            ($"Get-PgActivity -ConnectionString '{pg}' -ApplicationName IncidentOps", "Get-PgActivity", "127.0.0.1", "backend"),
            ($"Get-PgConnectionSummary -ConnectionString '{pg}'", "Get-PgConnectionSummary", "127.0.0.1", "headroom"),
            ($"Get-RedisInfo -ConnectionString '{TestServers.Redis}'", "Get-RedisInfo", TestServers.Redis, "redis "),
            ($"Test-RedisConnection -ConnectionString '127.0.0.1:{RedisCli.ClosedPort()}' -Count 1 -TimeoutSec 2", "Test-RedisConnection", "127.0.0.1", "unreachable"),
            ($"Test-ServiceHealth -Uri http://127.0.0.1:{RedisCli.ClosedPort()}/health -TimeoutSec 2", "Test-ServiceHealth", "http://127.0.0.1", "0 of 1 probe healthy"),
        ];
    }

    private List<TimelineEntry> ReadEntries(string cfg, string id) =>
        fx.Run($"Get-IncidentTimeline -Id {id} -Kind read -ConfigPath '{cfg}'").AssertNoErrors().Objects<TimelineEntry>().ToList();

    [Fact]
    public void Record_writes_one_read_entry_per_call_on_the_active_incident_and_nothing_without_it()
    {
        var (cfg, _) = IncidentCmdletTests.TempConfig();
        var id = fx.Run($"(New-Incident -Title reads -Severity P2 -ConfigPath '{cfg}').Id").AssertNoErrors().Output.Single().ToString();
        var reads = Reads(new FakeCli(), "record-" + Guid.NewGuid().ToString("N")[..8]);

        foreach (var (command, _, _, _) in reads)
        {
            var r = fx.Run($"{command} -ConfigPath '{cfg}'");
            Assert.NotEmpty(r.Output);
        }
        Assert.Empty(ReadEntries(cfg, id));

        foreach (var (command, cmdlet, target, result) in reads)
        {
            var r = fx.Run($"{command} -Record -ConfigPath '{cfg}'");
            Assert.NotEmpty(r.Output);
            var entry = Assert.Single(ReadEntries(cfg, id), e => e.Cmdlet == cmdlet);
            Assert.Equal(TimelineOutcome.Info, entry.Outcome);
            Assert.Contains(target, entry.Target);
            Assert.Contains(result, entry.Result);
        }
        Assert.Equal(reads.Length, ReadEntries(cfg, id).Count);
    }

    [Fact]
    public void Record_without_an_active_incident_records_nothing_and_Incident_names_another_one()
    {
        var (cfg, store) = IncidentCmdletTests.TempConfig();
        var cli = new FakeCli();
        var (status, _, _, _) = Reads(cli, "x")[0];
        var r = fx.Run($"{status} -Record -ConfigPath '{cfg}'").AssertNoErrors();
        Assert.NotEmpty(r.Output);
        Assert.Empty(r.Warnings);
        Assert.False(Directory.Exists(Path.Combine(store, "incidents")) && Directory.EnumerateFileSystemEntries(Path.Combine(store, "incidents")).Any());

        var first = fx.Run($"(New-Incident -Title one -Severity P2 -ConfigPath '{cfg}').Id").AssertNoErrors().Output.Single().ToString();
        var second = fx.Run($"(New-Incident -Title two -Severity P2 -ConfigPath '{cfg}').Id").AssertNoErrors().Output.Single().ToString();
        fx.Run($"Get-RedisInfo -ConnectionString '{TestServers.Redis}' -Section Server -Record -Incident {first} -ConfigPath '{cfg}'").AssertNoErrors();
        Assert.Equal("Get-RedisInfo", Assert.Single(ReadEntries(cfg, first)).Cmdlet);
        Assert.Empty(ReadEntries(cfg, second));
    }

    [Fact]
    public void Health_reads_take_Record_and_Incident_too()
    {
        var (cfg, _) = IncidentCmdletTests.TempConfig();
        var id = fx.Run($"(New-Incident -Title tls -Severity P2 -ConfigPath '{cfg}').Id").AssertNoErrors().Output.Single().ToString();
        fx.Run($"New-Incident -Title other -Severity P3 -ConfigPath '{cfg}' | Out-Null").AssertNoErrors();
        using var leaf = IncidentOps.Tests.Health.TestCertificates.ShortLivedLeaf();
        using var tls = new IncidentOps.Tests.Health.HealthTestServer(leaf);
        var r = fx.Run($"Get-ServiceCertificate 127.0.0.1:{tls.Port} -Record -Incident {id} -ConfigPath '{cfg}'").AssertNoErrors();
        Assert.NotEmpty(r.Output);
        var entry = Assert.Single(ReadEntries(cfg, id));
        Assert.Equal(("Get-ServiceCertificate", $"127.0.0.1:{tls.Port}"), (entry.Cmdlet, entry.Target));
        Assert.Contains("expires", entry.Result);
    }
}
