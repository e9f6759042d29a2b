using IncidentOps.Config;
using IncidentOps.Tests.Incidents;
using Xunit;

namespace IncidentOps.Tests.Secrets;

/// <summary>Issue 18 items 17 and 18 through the module: clear error ids, never a crash or a raw .NET exception.</summary>
public class HostileInputModuleTests(ModuleFixture fx) : IClassFixture<ModuleFixture>
{
    [Fact]
    public void NewIncidentReport_into_a_missing_folder_is_ReportFolderNotFound_naming_the_folder()
    {
        var (cfg, _) = IncidentCmdletTests.TempConfig();
        var missing = Path.Combine(Paths.TempDir("io-rep"), "no-such-folder");
        var r = fx.Run($$"""
            $c = '{{cfg}}'
            $i = New-Incident -Title 'x' -Severity P3 -ConfigPath $c
            New-IncidentReport -Id $i.Id -Path '{{missing}}/report.md' -ConfigPath $c
            """);
        var e = Assert.Single(r.Errors);
        Assert.Equal("ReportFolderNotFound,IncidentOps.Commands.NewIncidentReportCommand", e.FullyQualifiedErrorId);
        Assert.Equal(System.Management.Automation.ErrorCategory.ObjectNotFound, e.CategoryInfo.Category);
        Assert.Contains($"The folder '{missing}' does not exist", e.ToString());
        Assert.False(Directory.Exists(missing));
    }

    [Fact]
    public void TestIncidentOpsConfig_reports_deep_nesting_unclosed_lists_and_dev_zero_with_ids()
    {
        var dir = Paths.TempDir("io-hostile");
        File.WriteAllText(Path.Combine(dir, "deep.yml"), "version: 1\nenvironments: " + new string('[', 50_000) + "\n");
        File.WriteAllText(Path.Combine(dir, "open.yml"), "a: [1, 2");
        var deep = Assert.Single(fx.Run($"Test-IncidentOpsConfig -Path '{dir}/deep.yml'").AssertNoErrors().Objects<ConfigFinding>());
        Assert.Equal(("ConfigTooDeep", 2), (deep.Code, deep.Line));
        var open = Assert.Single(fx.Run($"Test-IncidentOpsConfig -Path '{dir}/open.yml'").AssertNoErrors().Objects<ConfigFinding>());
        Assert.Equal("ConfigSyntaxError", open.Code);
        Assert.StartsWith($"{dir}/open.yml:", open.Location);
        var zero = fx.Run("Test-IncidentOpsConfig -Path /dev/zero");
        Assert.Equal("ConfigTooLarge,IncidentOps.Commands.TestIncidentOpsConfigCommand", Assert.Single(zero.Errors).FullyQualifiedErrorId);
        // A cmdlet that loads ./incidentops.yml on its own stops with ConfigInvalid at the line, and the session lives on.
        var svc = fx.Run($"Get-IncidentOpsService -Path '{dir}/deep.yml'");
        var e = Assert.Single(svc.Errors);
        Assert.StartsWith("ConfigInvalid,", e.FullyQualifiedErrorId);
        Assert.Contains($"{dir}/deep.yml:2:", e.ToString());
        Assert.Equal(2, fx.Run("1 + 1").Output.Single().BaseObject);
    }
}
