using IncidentOps.Config;
using IncidentOps.Tests.Incidents;
using Xunit;

namespace IncidentOps.Tests.Module;

/// <summary>
/// Values nested in output objects show as text, not as type names: Format-List of an incident printed
/// "SeverityHistory : {IncidentOps.Incidents.SeverityChange}", and the configuration's alerting rules and tool paths
/// printed their type names too.
/// </summary>
public sealed class NestedValueTextTests(ModuleFixture fx) : IClassFixture<ModuleFixture>
{
    [Fact]
    public void An_incidents_severity_history_reads_as_levels_and_times()
    {
        var (cfg, _) = IncidentCmdletTests.TempConfig();
        var incident = fx.Run($$"""
            $c = '{{cfg}}'
            New-Incident -Title 'API 502s' -Severity P1 -StartedAt '2026-11-30T23:40:00Z' -ConfigPath $c | Out-Null
            Set-Incident -Severity P2 -ConfigPath $c | Out-Null
            Get-Incident -Active -ConfigPath $c
            """).AssertNoErrors().Single<IncidentOps.Incidents.Incident>();
        var history = incident.SeverityHistory.Select(h => h.ToString()).ToList();
        Assert.Equal(2, history.Count);
        Assert.Matches(@"^P1 at 2026-\d\d-\d\d \d\d:\d\d:\d\dZ$", history[0]);
        Assert.Matches(@"^P2 at 2026-\d\d-\d\d \d\d:\d\d:\d\dZ$", history[1]);
        Assert.Equal($"P2 at {incident.SeverityHistory[1].At.UtcDateTime:yyyy-MM-dd HH:mm:ss}Z", history[1]);
    }

    [Fact]
    public void Alerting_rules_and_tool_paths_say_what_they_set()
    {
        Assert.Equal("built-in defaults", new AlertRule().ToString());
        Assert.Equal("failures 5, recoveries 3, P2, channels ops+status, auto-resolve after 00:30:00, evidence pg-activity",
            new AlertRule { FailureThreshold = 5, SuccessThreshold = 3, Severity = "P2", Channels = ["ops", "status"], AutoResolveAfter = TimeSpan.FromMinutes(30), Evidence = ["pg-activity"] }.ToString());
        Assert.Equal("no auto-resolve", new AlertRule { AutoResolveAfter = TimeSpan.Zero }.ToString());
        Assert.Equal("PATH", new ToolPaths().ToString());
        Assert.Equal("kubectl=/opt/bin/kubectl, ssh=/usr/bin/ssh", new ToolPaths { Ssh = "/usr/bin/ssh", Kubectl = "/opt/bin/kubectl" }.ToString());
    }

    [Fact]
    public void The_configurations_tools_and_alerting_defaults_read_as_what_the_file_set()
    {
        var (cfg, _) = IncidentCmdletTests.TempConfig("tools:\n  kubectl: /opt/bin/kubectl\nalerting:\n  failureThreshold: 4\n");
        var config = fx.Run($"Get-IncidentOpsConfig -Path '{cfg}'").AssertNoErrors().Single<IncidentOpsConfig>();
        Assert.Equal("kubectl=/opt/bin/kubectl", config.Tools.ToString());
        Assert.Equal("failures 4", config.Alerting.Defaults.ToString());
    }
}
