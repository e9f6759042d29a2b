using System.Security.Cryptography;
using IncidentOps.Incidents;
using IncidentOps.Tests.Platforms;
using IncidentOps.Tests.Redis;
using Npgsql;
using Xunit;
using static IncidentOps.Tests.Platforms.FakeCli;

namespace IncidentOps.Tests.Incidents;

/// <summary>
/// Save-IncidentEvidence with the area sources (app-status, app-deployments, app-logs, pg-activity, redis-info)
/// against real PostgreSQL and Redis and the fake platform CLIs, through the module.
/// </summary>
public class EvidenceSourceTests(ModuleFixture fx) : IClassFixture<ModuleFixture>
{
    private const string App = "ai-affiliate-empire";

    /// <summary>
    /// A config with production/api (Fly through a fake flyctl, the test PostgreSQL with a canary password in
    /// its connection string, the test Redis) and production/cache (only a Redis at <paramref name="cacheRedis"/>).
    /// </summary>
    private static (string Config, string Store, FakeCli Cli) Setup(string canary, string cacheRedis)
    {
        var cli = new FakeCli();
        var flyctl = cli.Tool("flyctl",
            new Reply($"status -a {App} --json", "fly-status.json"),
            new Reply($"releases -a {App} --json --image", "fly-releases.json"),
            new Reply($"logs -a {App} --no-tail --json", "fly-logs.json"));
        var dir = Paths.TempDir("io-evidence");
        var store = Path.Combine(dir, "store");
        var pg = new NpgsqlConnectionStringBuilder(TestServers.PostgresConnectionString) { Password = canary }.ConnectionString;
        var config = Path.Combine(dir, "incidentops.yml");
        File.WriteAllText(config, $"""
            version: 1
            environments:
              production:
                services:
                  api:
                    platform: fly
                    app: {App}
                    postgres: '{pg}'
                    redis: 'redis://{TestServers.Redis}'
                  cache:
                    redis: '{cacheRedis}'
            tools:
              flyctl: '{flyctl}'
            store:
              path: '{store}'
            """);
        return (config, store, cli);
    }

    private static string Canary() => "canary" + Guid.NewGuid().ToString("N")[..12];

    [Fact]
    public void Sources_capture_real_platform_postgres_and_redis_data_hashed_and_referenced_and_a_down_redis_fails_alone()
    {
        var canary = Canary();
        var (cfg, store, cli) = Setup(canary, $"redis://:{canary}@127.0.0.1:{RedisCli.ClosedPort()}");
        var appName = "evidence-" + Guid.NewGuid().ToString("N")[..8];
        using var backend = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(TestServers.PostgresConnectionString) { ApplicationName = appName, Pooling = false }.ConnectionString);
        backend.Open();

        var r = fx.Run($$"""
            $c = '{{cfg}}'
            New-Incident -Title 'API 502s' -Severity P1 -Service production/api, production/cache -ConfigPath $c | Out-Null
            Save-IncidentEvidence -TimeoutSec 20 -ConfigPath $c
            """).AssertNoErrors();
        var captures = r.Objects<EvidenceCapture>().ToList();

        var failures = string.Join(" | ", captures.Where(c => !c.Succeeded));
        EvidenceCapture Ok(string source, string? service = "production/api")
        {
            var found = captures.Where(c => c.Source == source && c.Service == service && c.Succeeded).ToList();
            Assert.True(found.Count == 1, $"{source} {service}: {found.Count} successful captures; failures: {failures}");
            return found[0];
        }
        var status = File.ReadAllText(Ok("app-status").Path!);
        Assert.Contains("3d8d9e1a2b3c47", status);
        Assert.Contains("OOMKilled", status);
        Assert.Contains("v14", File.ReadAllText(Ok("app-deployments").Path!));
        Assert.Contains("3d8d9e1a2b3c47", File.ReadAllText(Ok("app-logs").Path!));
        var pg = File.ReadAllText(Ok("pg-activity").Path!);
        Assert.Contains(appName, pg);
        Assert.Contains("maxConnections", pg);
        var redis = File.ReadAllText(Ok("redis-info").Path!);
        Assert.Contains("redis_version", redis);
        Ok("config");
        Ok("timeline", null);
        Assert.Contains(cli.Calls, c => c.StartsWith($"flyctl status -a {App}"));

        // The down Redis fails on its own; everything else succeeded.
        var failed = Assert.Single(captures, c => !c.Succeeded);
        Assert.Equal(("redis-info", "production/cache"), (failed.Source, failed.Service));
        Assert.Null(failed.Path);
        Assert.False(string.IsNullOrEmpty(failed.Error));
        Assert.Contains(r.Warnings, w => w.Contains("redis-info") && w.Contains("production/cache"));
        // The cache service has no platform and no postgres: those sources skip it.
        Assert.DoesNotContain(captures, c => c.Service == "production/cache" && c.Source is "app-status" or "app-deployments" or "app-logs" or "pg-activity");

        // Hashes match the bytes on disk, each capture is referenced from the timeline.
        var entries = fx.Run($"Get-IncidentTimeline -Kind evidence -ConfigPath '{cfg}'").AssertNoErrors().Objects<TimelineEntry>().ToList();
        foreach (var c in captures.Where(c => c.Succeeded))
        {
            Assert.StartsWith(Path.Combine(store, "incidents", c.IncidentId, "evidence"), c.Path);
            var bytes = File.ReadAllBytes(c.Path!);
            Assert.Equal(Convert.ToHexString(SHA256.HashData(bytes)).ToLowerInvariant(), c.Sha256);
            Assert.Equal(bytes.Length, c.Bytes);
            Assert.Contains(c.Sha256!, File.ReadAllText(c.Path + ".sha256"));
            Assert.Single(entries, e => e.Outcome == TimelineOutcome.Succeeded && e.Result!.Contains(Path.GetFileName(c.Path)!) && e.Result.Contains(c.Sha256!));
        }
        Assert.Single(entries, e => e.Outcome == TimelineOutcome.Failed && e.Target == "redis-info production/cache");

        // The canary password never reaches a file, the output or the timeline.
        var evidenceDir = Path.Combine(store, "incidents", captures[0].IncidentId);
        foreach (var file in Directory.EnumerateFiles(evidenceDir, "*", SearchOption.AllDirectories))
            Assert.DoesNotContain(canary, File.ReadAllText(file));
        Assert.DoesNotContain(canary, r.AllText());
    }

    [Fact]
    public void The_area_sources_are_discovered_in_the_engine_assembly()
    {
        var names = IncidentOps.Engine.Incidents.EvidenceSources.All.Select(s => s.Name).ToList();
        foreach (var n in new[] { "config", "timeline", "app-status", "app-deployments", "app-logs", "pg-activity", "redis-info" })
            Assert.Contains(n, names);
        Assert.Equal(names.Count, names.Distinct().Count());
    }

    [Fact]
    public void Source_selects_the_new_sources_by_name()
    {
        var (cfg, _, cli) = Setup(Canary(), $"redis://{TestServers.Redis}");
        var r = fx.Run($$"""
            $c = '{{cfg}}'
            New-Incident -Title 'cache' -Severity P2 -Service production/cache -ConfigPath $c | Out-Null
            Save-IncidentEvidence -Source redis-info, app-status -ConfigPath $c
            """).AssertNoErrors();
        var capture = Assert.Single(r.Objects<EvidenceCapture>());
        Assert.Equal(("redis-info", "production/cache", true), (capture.Source, capture.Service, capture.Succeeded));
        Assert.Empty(cli.Calls);
    }

    [Fact]
    public void CtrlC_stops_a_capture_stuck_on_a_silent_redis_and_reports_nothing_as_saved()
    {
        using var silent = new SilentServer();
        var (cfg, store, _) = Setup(Canary(), $"redis://127.0.0.1:{silent.Port}");
        var id = fx.Run($"(New-Incident -Title 'hang' -Severity P2 -Service production/cache -ConfigPath '{cfg}').Id").AssertNoErrors().Output.Single().ToString();

        var (latency, result) = fx.Session.RunAndStopWhen($"Save-IncidentEvidence -Source config, redis-info -TimeoutSec 600 -ConfigPath '{cfg}'", () => silent.Connections >= 1);

        Assert.True(result.Stopped, "the pipeline was not stopped");
        Assert.True(latency < TimeSpan.FromSeconds(10), $"Stop took {latency}");
        Assert.Empty(result.Output);
        var evidence = Path.Combine(store, "incidents", id, "evidence");
        var files = Directory.Exists(evidence) ? Directory.GetFiles(evidence) : [];
        Assert.DoesNotContain(files, f => f.Contains("redis-info"));
        Assert.DoesNotContain(files, f => f.EndsWith(".tmp", StringComparison.Ordinal));
        var entries = fx.Run($"Get-IncidentTimeline -Id {id} -Kind evidence -ConfigPath '{cfg}'").AssertNoErrors().Objects<TimelineEntry>().ToList();
        Assert.DoesNotContain(entries, e => e.Outcome == TimelineOutcome.Succeeded && e.Result!.Contains("redis-info"));
    }
}
