using IncidentOps.Config;
using IncidentOps.Engine.Alerting;
using IncidentOps.Engine.Config;
using Xunit;

namespace IncidentOps.Tests.Alerting;

public class AlertingConfigTests
{
    private const string Base = """
        environments:
          production:
            services:
              api: { health: [https://api.example.com/health] }
              web: { health: [https://web.example.com/health] }
        channels:
          ops: { type: webhook, url: https://hooks.example.com/x }
        routing:
          P1: [ops]
        """;

    private static ConfigLoadResult Parse(string alerting) => ConfigParser.Parse(Base + "\nalerting:\n" + alerting, "/cfg/incidentops.yml");

    [Fact]
    public void Defaults_at_the_top_and_overrides_per_service_resolve_per_service()
    {
        var r = Parse("""
              failureThreshold: 4
              severity: P2
              autoResolveAfter: 30m
              evidence: [config]
              services:
                production/api: { failureThreshold: 2, severity: P1, channels: [ops] }
                web: { autoResolveAfter: off }
            """);
        Assert.DoesNotContain(r.Findings, f => f.Severity == FindingSeverity.Error);
        var api = AlertRules.For(r.Config!, "production/api");
        Assert.Equal((2, 2, "P1", TimeSpan.FromMinutes(30)), (api.FailureThreshold, api.SuccessThreshold, api.Severity.Id, api.AutoResolveAfter!.Value));
        Assert.Equal(["ops"], api.Channels!);
        Assert.Equal(["health", "config"], api.Evidence);
        Assert.Equal(TimeSpan.FromMinutes(30), api.UpdateEvery); // P1's updateEvery in the default matrix
        var web = AlertRules.For(r.Config!, "production/web");
        Assert.Equal((4, "P2"), (web.FailureThreshold, web.Severity.Id));
        Assert.Null(web.AutoResolveAfter);
        Assert.Null(web.Channels);
    }

    [Fact]
    public void Without_an_alerting_section_the_built_in_rules_apply_and_autoResolve_is_off()
    {
        var r = ConfigParser.Parse(Base, "/cfg/incidentops.yml");
        var rule = AlertRules.For(r.Config!, "production/api");
        Assert.Equal((3, 2, "P1"), (rule.FailureThreshold, rule.SuccessThreshold, rule.Severity.Id));
        Assert.Null(rule.AutoResolveAfter);
        Assert.Equal(["health"], rule.Evidence);
    }

    [Theory]
    [InlineData("failureThreshold: 0", AlertingErrorIds.ThresholdInvalid, "alerting.failureThreshold is '0'", 2)]
    [InlineData("successThreshold: two", AlertingErrorIds.ThresholdInvalid, "whole number from 1 to 1000", 2)]
    [InlineData("severity: P9", AlertingErrorIds.SeverityUnknown, "alerting.severity is 'P9', which is not defined", 2)]
    [InlineData("channels: [opz]", AlertingErrorIds.ChannelUnknown, "Did you mean 'ops'?", 2)]
    [InlineData("evidence: [helth]", AlertingErrorIds.EvidenceSourceUnknown, "Did you mean 'health'?", 2)]
    [InlineData("autoResolveAfter: soon", AlertingErrorIds.DurationInvalid, "alerting.autoResolveAfter", 2)]
    [InlineData("services:\n    production/apx: { severity: P1 }", AlertingErrorIds.ServiceUnknown, "Did you mean 'production/api'?", 3)]
    [InlineData("services:\n    api: 3", AlertingErrorIds.RuleInvalid, "alerting.services.api must be a mapping", 3)]
    [InlineData("failureTreshold: 3", "ConfigUnknownKey", "Did you mean 'failureThreshold'?", 2)]
    public void Bad_rules_are_errors_with_their_id_line_and_a_way_out(string alerting, string id, string text, int lineInSection)
    {
        var r = Parse("  " + alerting);
        var error = Assert.Single(r.Findings, f => f.Severity == FindingSeverity.Error);
        Assert.Equal(id, error.Code);
        Assert.Contains(text, error.Message);
        Assert.Equal("/cfg/incidentops.yml", error.File);
        Assert.Equal(Base.Split('\n').Length + lineInSection, error.Line);
    }
}
