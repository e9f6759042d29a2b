using System.Diagnostics;
using IncidentOps.Config;
using Xunit;

namespace IncidentOps.Tests.Module;

public class ConfigCmdletTests(ModuleFixture fx) : IClassFixture<ModuleFixture>
{
    private static string Example => Path.Combine(Paths.Examples, "incidentops.yml");

    [Fact]
    public void GetIncidentOpsService_returns_the_seed_services_of_an_environment()
    {
        var r = fx.Run($"Get-IncidentOpsService -Path '{Example}' -Environment production").AssertNoErrors();
        var services = r.Objects<ServiceTarget>().ToList();
        Assert.Equal(["production/api", "production/portfolio", "production/marketing", "production/fastapi"], services.Select(s => s.FullName));
    }

    [Fact]
    public void GetIncidentOpsService_filters_by_wildcard_and_reports_unknown_names()
    {
        var r = fx.Run($"Get-IncidentOpsService -Path '{Example}' -Name 'port*','nope'");
        Assert.Equal(["production/portfolio"], r.Objects<ServiceTarget>().Select(s => s.FullName));
        var e = Assert.Single(r.Errors);
        Assert.Equal("ServiceNotFound,IncidentOps.Commands.GetIncidentOpsServiceCommand", e.FullyQualifiedErrorId);
        Assert.Contains("production/api", e.ToString());
        Assert.DoesNotContain("Did you mean", e.ToString());

        var slip = Assert.Single(fx.Run($"Test-ServiceHealth -Service production/apii -ConfigPath '{Example}'").Errors);
        Assert.Equal("ServiceNotFound,IncidentOps.Commands.TestServiceHealthCommand", slip.FullyQualifiedErrorId);
        Assert.Contains("No service 'production/apii' in ", slip.ToString());
        Assert.Contains("Did you mean 'production/api'?", slip.ToString());
        Assert.Contains("Did you mean 'production/portfolio'?",
            Assert.Single(fx.Run($"Get-IncidentOpsService -Path '{Example}' -Environment production -Name portfolo").Errors).ToString());
    }

    [Fact]
    public void Services_flow_through_a_pipeline_as_objects_a_script_can_name()
    {
        var r = fx.Run($"Get-IncidentOpsService -Path '{Example}' | Where-Object {{ $_.Platform -eq [IncidentOps.Config.PlatformKind]::Kubernetes }} | ForEach-Object {{ $_.Deployment }}").AssertNoErrors();
        Assert.Equal("marketing", Assert.Single(r.Output).ToString());
    }

    [Fact]
    public void Invalid_config_stops_with_ConfigInvalid_naming_file_line_and_column()
    {
        var dir = Paths.TempDir();
        var file = Path.Combine(dir, "incidentops.yml");
        File.WriteAllText(file, "environments:\n  prod:\n    services:\n      api:\n        platfrom: fly\n");
        var r = fx.Run($"Get-IncidentOpsService -Path '{file}'");
        var e = Assert.Single(r.Errors);
        Assert.Equal("ConfigInvalid,IncidentOps.Commands.GetIncidentOpsServiceCommand", e.FullyQualifiedErrorId);
        Assert.Equal("InvalidData", e.CategoryInfo.Category.ToString());
        Assert.Contains($"{file}:5:9", e.ToString());
        Assert.Contains("Did you mean 'platform'?", e.ToString());
    }

    [Fact]
    public void Missing_config_path_is_ConfigNotFound()
    {
        var r = fx.Run("Get-IncidentOpsConfig -Path /nonexistent/incidentops.yml");
        Assert.Equal("ConfigNotFound,IncidentOps.Commands.GetIncidentOpsConfigCommand", Assert.Single(r.Errors).FullyQualifiedErrorId);
    }

    [Fact]
    public void TestIncidentOpsConfig_returns_findings_and_a_boolean_with_Quiet()
    {
        var dir = Paths.TempDir();
        var bad = Path.Combine(dir, "bad.yml");
        File.WriteAllText(bad, "version: 1\nchannels:\n  pager: { type: pagerduty }\nstore: { kind: disk }\n");
        var findings = fx.Run($"Test-IncidentOpsConfig -Path '{bad}'").AssertNoErrors().Objects<ConfigFinding>().ToList();
        Assert.Equal([("ConfigMissingField", 3), ("ConfigInvalidValue", 4)], findings.Select(f => (f.Code, f.Line)));
        Assert.False((bool)fx.Run($"Test-IncidentOpsConfig -Path '{bad}' -Quiet").Output.Single().BaseObject);
        Assert.True((bool)fx.Run($"Test-IncidentOpsConfig -Path '{Example}' -SkipReferences -Quiet").Output.Single().BaseObject);
    }

    [Fact]
    public void GetIncidentOpsConfig_never_shows_a_literal_or_resolved_secret()
    {
        var dir = Paths.TempDir();
        var file = Path.Combine(dir, "incidentops.yml");
        var canary = "CANARY" + Guid.NewGuid().ToString("N");
        File.WriteAllText(file, $"channels:\n  audit: {{ type: webhook, url: 'https://hooks.example.com/x/{canary}' }}\n  pager: {{ type: pagerduty, routingKey: {canary}R }}\n");
        var r = fx.Run($"Get-IncidentOpsConfig -Path '{file}' -Verbose; (Get-IncidentOpsConfig -Path '{file}').Channels | ForEach-Object {{ \"$($_.Url) $($_.RoutingKey)\" }}").AssertNoErrors();
        Assert.DoesNotContain(canary, r.AllText());
        Assert.Contains("https://hooks.example.com/", r.AllText());
    }

    [Fact]
    public void Importing_after_another_YamlDotNet_is_loaded_works_and_survives_Remove_Module()
    {
        var psi = new ProcessStartInfo("dotnet", [Paths.IsolationHost, Paths.Module, Example]) { RedirectStandardOutput = true, RedirectStandardError = true };
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        Assert.True(p.WaitForExit(120_000), "isolation host timed out");
        var output = stdout.Result + stderr.Result;
        Assert.True(p.ExitCode == 0, output);
        Assert.Contains("preloaded YamlDotNet 16.0.0.0", output);
        Assert.Contains("round 1: production/api,production/portfolio,production/marketing,production/fastapi", output);
        Assert.Contains("round 2: production/api,production/portfolio,production/marketing,production/fastapi", output);
        Assert.Contains("loaded YamlDotNet 16.0.0.0 in Default", output);
        Assert.Contains("loaded YamlDotNet 18.0.0.0 in IncidentOps", output);
        Assert.Contains("loaded IncidentOps.Engine 0.1.0.0 in IncidentOps", output);
        Assert.Contains("loaded IncidentOps.Models 0.1.0.0 in Default", output);
        Assert.Matches(@"loaded Npgsql [\d.]+ in IncidentOps", output);
        Assert.DoesNotMatch(@"loaded System\.Diagnostics\.DiagnosticSource [\d.]+ in IncidentOps", output);
    }
}

[CollectionDefinition(nameof(IncidentOpsConfigEnvironment), DisableParallelization = true)]
public sealed class IncidentOpsConfigEnvironment;

/// <summary>
/// $env:INCIDENTOPS_CONFIG is process-wide: while it is set, every command of a test class running at the same time
/// without -ConfigPath would read the example configuration (its services, tools and store). So these run alone.
/// </summary>
[Collection(nameof(IncidentOpsConfigEnvironment))]
public class ConfigEnvironmentCmdletTests(ModuleFixture fx) : IClassFixture<ModuleFixture>
{
    private static string Example => Path.Combine(Paths.Examples, "incidentops.yml");

    [Fact]
    public void Config_comes_from_INCIDENTOPS_CONFIG_when_no_path_is_given()
    {
        // Set and cleared within one script, and in a collection that runs alone (see the class).
        var r = fx.Run($"$env:INCIDENTOPS_CONFIG = '{Example}'; try {{ @(Get-IncidentOpsService -Environment staging).Count }} finally {{ [Environment]::SetEnvironmentVariable('INCIDENTOPS_CONFIG', $null) }}").AssertNoErrors();
        Assert.Equal(1, (int)r.Output.Single().BaseObject);
    }
}
