using IncidentOps.Config;
using Xunit;

namespace IncidentOps.Tests.Config;

/// <summary>Config error ids that had no test: each from the input that produces it, as Test-IncidentOpsConfig reports it.</summary>
public sealed class ConfigErrorIdTests(ModuleFixture fx) : IClassFixture<ModuleFixture>
{
    private List<ConfigFinding> Findings(string yaml)
    {
        var path = Path.Combine(Paths.TempDir("io-cfgid"), "incidentops.yml");
        File.WriteAllText(path, yaml);
        return fx.Run($"Test-IncidentOpsConfig -Path '{path}'").AssertNoErrors().Objects<ConfigFinding>().ToList();
    }

    [Fact]
    public void A_version_other_than_1_is_ConfigUnsupportedVersion()
    {
        var f = Assert.Single(Findings("version: 2\n"), x => x.Code == "ConfigUnsupportedVersion");
        Assert.Contains("this module reads version 1", f.Message);
        Assert.Equal(1, f.Line);
    }

    [Fact]
    public void A_file_that_is_not_a_mapping_is_ConfigInvalidShape()
    {
        var f = Assert.Single(Findings("- just\n- a list\n"), x => x.Code == "ConfigInvalidShape");
        Assert.Contains("must be a mapping", f.Message);
    }

    [Fact]
    public void A_reference_with_no_name_is_ConfigInvalidReference_at_its_line()
    {
        var f = Assert.Single(Findings("version: 1\nenvironments:\n  production:\n    services:\n      api:\n        redis: 'env:'\n"), x => x.Code == "ConfigInvalidReference");
        Assert.Equal(6, f.Line);
        Assert.Contains("Write env:NAME", f.Message);
    }

    [Fact]
    public void A_reference_in_a_name_that_picks_the_target_is_ConfigInvalidReference_at_its_line_never_passed_on_as_text()
    {
        // Before, host: env:X and context: env:X were accepted and reached ssh and kubectl as the text 'env:X'.
        var yaml = "version: 1\nenvironments:\n  production:\n    services:\n      marketing:\n        platform: kubernetes\n        deployment: marketing\n" +
                   "        context: env:IO_KUBE_CONTEXT\n      fastapi:\n        platform: systemd\n        unit: fastapi\n        host: env:IO_FASTAPI_HOST\n";
        var findings = Findings(yaml).Where(x => x.Code == "ConfigInvalidReference").OrderBy(x => x.Line).ToList();
        Assert.Equal([8, 12], findings.Select(f => f.Line));
        Assert.Contains("environments.production.services.marketing.context is 'env:IO_KUBE_CONTEXT'", findings[0].Message);
        Assert.Contains("environments.production.services.fastapi.host is 'env:IO_FASTAPI_HOST'", findings[1].Message);
        Assert.All(findings, f => Assert.Contains("Write the name itself", f.Message));
        Assert.All(findings, f => Assert.EndsWith("incidentops.yml", f.File));
    }

    [Fact]
    public void A_file_that_exists_but_cannot_be_read_is_ConfigUnreadable()
    {
        // /proc/self/mem exists, but reading it at offset 0 fails with an I/O error (EIO), even for root.
        var r = fx.Run("Test-IncidentOpsConfig -Path /proc/self/mem");
        var e = Assert.Single(r.Errors);
        Assert.Equal("ConfigUnreadable,IncidentOps.Commands.TestIncidentOpsConfigCommand", e.FullyQualifiedErrorId);
        Assert.Contains("cannot be read", e.ToString());
    }
}
