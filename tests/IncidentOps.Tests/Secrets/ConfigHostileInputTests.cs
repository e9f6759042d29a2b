using IncidentOps.Config;
using IncidentOps.Engine;
using IncidentOps.Engine.Config;
using Xunit;

namespace IncidentOps.Tests.Secrets;

/// <summary>Issue 18 items 17, 18 (config part) and 19 (config part): hostile configuration files give clear errors, never crashes.</summary>
public class ConfigHostileInputTests
{
    private static ConfigFinding SingleError(ConfigLoadResult r) =>
        Assert.Single(r.Findings, f => f.Severity == FindingSeverity.Error);

    [Fact]
    public void Fifty_thousand_nested_brackets_are_ConfigTooDeep_at_the_line_not_a_stack_overflow()
    {
        var text = "version: 1\nenvironments: " + new string('[', 50_000) + new string(']', 50_000) + "\n";
        var e = SingleError(ConfigParser.Parse(text, "/cfg/incidentops.yml"));
        Assert.Equal("ConfigTooDeep", e.Code);
        Assert.Equal(2, e.Line);
        Assert.Equal("/cfg/incidentops.yml:2:" + e.Column, e.Location);
        Assert.Contains(ConfigParser.MaxDepth.ToString(), e.Message);
        // Unclosed, and as mappings: the same.
        Assert.Equal("ConfigTooDeep", SingleError(ConfigParser.Parse("a: " + new string('[', 50_000), "/cfg/x.yml")).Code);
        Assert.Equal("ConfigTooDeep", SingleError(ConfigParser.Parse("a: " + string.Concat(Enumerable.Repeat("{b: ", 5_000)), "/cfg/x.yml")).Code);
    }

    [Fact]
    public void An_ordinary_config_is_well_inside_the_depth_limit()
    {
        var r = new ConfigService().Load(Path.Combine(Paths.Examples, "incidentops.yml"));
        Assert.Empty(r.Findings);
    }

    [Theory]
    [InlineData("a: [1, 2")]
    [InlineData("a: {b: 1")]
    [InlineData("version: 1\nchannels: [x")]
    public void An_unclosed_flow_collection_is_ConfigSyntaxError_with_a_location(string text)
    {
        var e = SingleError(ConfigParser.Parse(text, "/cfg/incidentops.yml"));
        Assert.Equal("ConfigSyntaxError", e.Code);
        Assert.True(e.Line >= 1 && e.Column >= 1, e.ToString());
        Assert.StartsWith("/cfg/incidentops.yml:", e.ToString());
        Assert.DoesNotContain("Unexpected", e.Message);
        Assert.DoesNotContain("Exception", e.Message);
    }

    [Fact]
    public void A_config_pointed_at_dev_zero_is_ConfigTooLarge_not_out_of_memory()
    {
        var ex = Assert.Throws<IncidentOps.IncidentOpsException>(() => new ConfigService().Load("/dev/zero"));
        Assert.Equal("ConfigTooLarge", ex.ErrorId);
        Assert.Contains("/dev/zero", ex.Message);
        Assert.Contains("4 MB", ex.Message);
    }

    [Fact]
    public void A_config_over_the_cap_is_ConfigTooLarge_and_one_under_it_loads()
    {
        var dir = Paths.TempDir("io-big");
        var big = Path.Combine(dir, "big.yml");
        File.WriteAllText(big, "version: 1\n# " + new string('x', ConfigService.MaxConfigBytes) + "\n");
        Assert.Equal("ConfigTooLarge", Assert.Throws<IncidentOps.IncidentOpsException>(() => new ConfigService().Load(big)).ErrorId);
        var ok = Path.Combine(dir, "ok.yml");
        File.WriteAllText(ok, "\uFEFFversion: 1\n# " + new string('x', 1_000_000) + "\n");
        Assert.Empty(new ConfigService().Load(ok).Findings);
    }

    [Theory]
    [InlineData("http://hooks.example.com/incidents/s3cr3t-path", "use https://")]
    [InlineData("ftp://hooks.example.com/s3cr3t-path", "scheme 'ftp'")]
    [InlineData("hooks.example.com/s3cr3t-path", "not an absolute URL")]
    [InlineData("mailto:s3cr3t-path@example.com", "scheme 'mailto'")]
    public void Channel_urls_must_be_https_with_a_host_and_the_error_never_shows_the_url(string url, string says)
    {
        var r = ConfigParser.Parse($"version: 1\nchannels:\n  ops: {{ type: slack, url: '{url}' }}\n", "/cfg/incidentops.yml");
        var e = SingleError(r);
        Assert.Equal("ConfigInvalidUrl", e.Code);
        Assert.Equal(3, e.Line);
        Assert.Contains("channels.ops.url", e.Message);
        Assert.Contains(says, e.Message);
        Assert.DoesNotContain("s3cr3t-path", e.ToString());
    }

    [Theory]
    [InlineData("https://hooks.slack.com/services/T/B/X")]
    [InlineData("http://127.0.0.1:8080/hook")]
    [InlineData("http://localhost/hook")]
    [InlineData("http://[::1]:9000/hook")]
    [InlineData("env:SOME_WEBHOOK")]
    public void Https_loopback_http_and_references_are_accepted_by_the_parser(string url) =>
        Assert.DoesNotContain(ConfigParser.Parse($"version: 1\nchannels:\n  ops: {{ type: slack, url: '{url}' }}\n", "/cfg/incidentops.yml").Findings, f => f.Severity == FindingSeverity.Error);

    [Fact]
    public async Task A_channel_url_behind_a_reference_is_checked_when_it_resolves()
    {
        var name = "IO_TEST_WEBHOOK_" + Guid.NewGuid().ToString("N")[..8].ToUpperInvariant();
        Environment.SetEnvironmentVariable(name, "http://hooks.example.com/s3cr3t-path");
        try
        {
            var file = Path.Combine(Paths.TempDir("io-ref"), "incidentops.yml");
            File.WriteAllText(file, $"version: 1\nchannels:\n  ops: {{ type: slack, url: 'env:{name}' }}\n");
            var findings = await ConfigValidator.ValidateAsync(new ConfigService(), file, new ReferenceResolver(NoSecretProvider.Instance), true, CancellationToken.None);
            var e = Assert.Single(findings, f => f.Severity == FindingSeverity.Error);
            Assert.Equal("ConfigInvalidUrl", e.Code);
            Assert.Equal(3, e.Line);
            Assert.Contains($"env:{name}", e.Message);
            Assert.DoesNotContain("s3cr3t-path", e.ToString());
        }
        finally { Environment.SetEnvironmentVariable(name, null); }
    }
}
