using IncidentOps.Platforms;
using IncidentOps.Tests.Health;
using Xunit;
using static IncidentOps.Tests.Platforms.FakeCli;

namespace IncidentOps.Tests.Platforms;

/// <summary>-VerifyHealth and -Wait run the configured service's health checks through the health engine (a real loopback HTTP server).</summary>
public class PlatformHealthVerifyTests(ModuleFixture fx) : IClassFixture<ModuleFixture>
{
    private static (FakeCli Cli, string Config, string Root) Service(string healthUrl)
    {
        var dir = Paths.TempDir("verify");
        var root = Path.Combine(dir, "releases");
        Directory.CreateDirectory(Path.Combine(root, "r1"));
        Directory.CreateDirectory(Path.Combine(root, "r2"));
        File.CreateSymbolicLink(Path.Combine(root, "current"), Path.Combine(root, "r2"));
        var cli = new FakeCli();
        var systemctl = cli.Tool("systemctl", new Reply("restart fastapi", Text: ""),
            new Reply("show fastapi --timestamp=unix", Text: "ActiveState=active\nSubState=running\nMainPID=4242\n"));
        var config = Path.Combine(dir, "incidentops.yml");
        File.WriteAllText(config,
            $"environments:\n  production:\n    services:\n      api:\n        platform: systemd\n        unit: fastapi\n        releases: {root}\n        health:\n          - {healthUrl}\n" +
            $"tools:\n  systemctl: {systemctl}\nstore: {{ path: {dir} }}\n");
        return (cli, config, root);
    }

    [Fact]
    public void InvokeRollback_VerifyHealth_probes_the_health_endpoint_until_it_answers_200()
    {
        using var server = new HealthTestServer();
        var (cli, config, root) = Service(server.Url("/flaky?n=1"));
        var r = fx.Run($"Invoke-Rollback -Service production/api -ConfigPath '{config}' -VerifyHealth -TimeoutSec 60 -Force -Verbose").AssertNoErrors();
        var result = r.Single<RollbackResult>();
        Assert.Equal(("r2", "r1", true, true), (result.From, result.To, result.HealthyAfter, result.Succeeded));
        Assert.StartsWith("verified: healthy after 2 round(s) of health checks", result.Steps[^1]);
        Assert.Contains("/flaky?n=1 healthy", result.Steps[^1]);
        Assert.Equal(2, server.Requests);
        // The health engine decided, not the platform status: systemctl show never ran.
        Assert.Equal(["systemctl restart fastapi"], cli.Calls);
        Assert.Contains(r.Verbose, v => v.Contains("configured health check(s)", StringComparison.Ordinal));
        Assert.Equal(Path.Combine(root, "r1"), new FileInfo(Path.Combine(root, "current")).LinkTarget);
    }

    [Fact]
    public void InvokeRollback_VerifyHealth_reports_not_healthy_when_the_endpoint_keeps_failing()
    {
        using var server = new HealthTestServer();
        var (_, config, _) = Service(server.Url("/503"));
        // 5 s: room for the rollback and a probe answered 503 on a loaded machine before the verification gives up.
        var result = fx.Run($"Invoke-Rollback -Service production/api -ConfigPath '{config}' -VerifyHealth -TimeoutSec 5 -Force").AssertNoErrors().Single<RollbackResult>();
        Assert.Equal((false, false), (result.HealthyAfter, result.Succeeded));
        Assert.StartsWith("verified: not healthy within 5 s", result.Steps[^1]);
        Assert.Contains("503", result.Steps[^1]);
    }

    [Fact]
    public void CtrlC_while_verifying_health_stops_at_once()
    {
        using var server = new HealthTestServer();
        var (_, config, root) = Service(server.Url("/503"));
        var (latency, result) = fx.Session.RunAndStopWhen($"Invoke-Rollback -Service production/api -ConfigPath '{config}' -VerifyHealth -TimeoutSec 600 -Force", () => server.Requests >= 1);
        Assert.True(result.Stopped);
        Assert.True(latency < TimeSpan.FromSeconds(15), $"Stop took {latency}");   // "does not hang": -TimeoutSec is 600 s
        // The rollback itself had happened; only the verification was cut short.
        Assert.Equal(Path.Combine(root, "r1"), new FileInfo(Path.Combine(root, "current")).LinkTarget);
        Assert.True(server.Requests >= 1);
    }

    [Fact]
    public void RestartApp_Wait_uses_the_health_checks_too()
    {
        using var server = new HealthTestServer();
        var (cli, config, _) = Service(server.Url("/flaky?n=1"));
        var result = fx.Run($"Restart-App -Service production/api -ConfigPath '{config}' -Wait -TimeoutSec 60 -Force").AssertNoErrors().Single<AppActionResult>();
        Assert.Equal((true, AppState.Healthy), (result.Succeeded, result.StateAfter));
        Assert.Contains("of health checks", result.Output);
        Assert.Equal(["systemctl restart fastapi"], cli.Calls);
    }

    [Fact]
    public void Without_health_endpoints_VerifyHealth_falls_back_to_the_platform_status_and_says_so()
    {
        var root = Paths.TempDir("releases");
        Directory.CreateDirectory(Path.Combine(root, "r1"));
        Directory.CreateDirectory(Path.Combine(root, "r2"));
        File.CreateSymbolicLink(Path.Combine(root, "current"), Path.Combine(root, "r2"));
        var cli = new FakeCli();
        var path = cli.Tool("systemctl", new Reply("restart fastapi", Text: ""),
            new Reply("show fastapi --timestamp=unix", Text: "ActiveState=active\nSubState=running\nMainPID=4242\n"));
        var r = fx.Run($"Invoke-Rollback -Platform Systemd -Unit fastapi -ReleasesPath '{root}' -SystemctlPath '{path}' -VerifyHealth -Force -Verbose").AssertNoErrors();
        Assert.Equal("verified: healthy (platform status)", r.Single<RollbackResult>().Steps[^1]);
        Assert.Contains(r.Verbose, v => v.Contains("no health endpoints", StringComparison.Ordinal) && v.Contains("platform status", StringComparison.Ordinal));
    }
}
