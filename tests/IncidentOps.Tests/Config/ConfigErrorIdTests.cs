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
    public void A_file_that_exists_but_cannot_be_read_is_ConfigUnreadable()
    {
        // /proc/self/mem exists, but reading it at offset 0 fails with an I/O error (EIO), even for root.
        var r = fx.Run("Test-IncidentOpsConfig -Path /proc/self/mem");
        var e = Assert.Single(r.Errors);
        Assert.Equal("ConfigUnreadable,IncidentOps.Commands.TestIncidentOpsConfigCommand", e.FullyQualifiedErrorId);
        Assert.Contains("cannot be read", e.ToString());
    }
}
