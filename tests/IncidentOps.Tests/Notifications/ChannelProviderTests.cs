using IncidentOps.Config;
using IncidentOps.Engine.Config;
using IncidentOps.Engine.Notifications;
using IncidentOps.Incidents;
using IncidentOps.Notifications;
using IncidentOps.Tests;
using Xunit;

namespace IncidentOps.Tests.Notifications;

/// <summary>The channel registry: discovery, unknown kinds, and what ConfigParser learns from the providers.</summary>
public class ChannelProviderTests
{
    private static Incident AnIncident() => new() { Id = "INC-20260101-001", Title = "Checkout returns 502", Severity = "P1", StartedAt = DateTimeOffset.UtcNow };

    [Fact]
    public void A_channel_type_without_a_provider_is_a_clear_error_not_a_generic_webhook_body()
    {
        // Before the registry, ProviderPayloads.Build's `_ =>` arm sent a generic webhook body to any type it did not know.
        var channel = new ResolvedChannel
        {
            Config = new ChannelConfig { Name = "pager2", Type = (ChannelType)99 },
            Values = new Dictionary<string, string> { ["url"] = "https://hooks.example.com/x" },
        };
        var update = new IncidentUpdate { UpdateId = "UPD-1", IncidentId = "INC-20260101-001", Kind = NotificationKind.Initial, Status = IncidentStatus.Investigating };
        var ex = Assert.Throws<IncidentOpsException>(() => ProviderPayloads.Build(channel, AnIncident(), update, null, "text"));
        Assert.Equal(NotificationErrorIds.ChannelTypeUnsupported, ex.ErrorId);
        Assert.Equal(IncidentOpsErrorCategory.InvalidData, ex.Category);
        Assert.Contains("No channel provider handles the channel type '99'", ex.Message);
        Assert.Contains("slack", ex.Message);
    }

    [Fact]
    public void An_unknown_channel_type_in_the_configuration_is_a_config_error_listing_the_registered_types()
    {
        var r = ConfigParser.Parse("channels:\n  pager: { type: victorops, routingKey: env:X }\n", "/cfg/incidentops.yml");
        var e = Assert.Single(r.Findings, f => f.Severity == FindingSeverity.Error);
        Assert.Equal("ConfigUnknownChannelType", e.Code);
        Assert.Equal(2, e.Line);
        foreach (var p in ChannelProviders.All) Assert.Contains(p.TypeName, e.Message);
        var file = Path.Combine(Paths.TempDir("io-chan"), "incidentops.yml");
        File.WriteAllText(file, "channels:\n  pager: { type: victorops, routingKey: env:X }\n");
        var load = Assert.Throws<IncidentOpsException>(() => new ConfigService().LoadOrThrow(file, Path.GetDirectoryName(file)!));
        Assert.Contains("victorops", load.Message);
    }

    [Fact]
    public void Every_channel_type_has_exactly_one_provider_with_a_unique_type_name()
    {
        foreach (var type in Enum.GetValues<ChannelType>())
            Assert.Single(ChannelProviders.All, p => p.Type == type);
        Assert.Equal(ChannelProviders.All.Count, ChannelProviders.TypeNames.Distinct(StringComparer.OrdinalIgnoreCase).Count());
        Assert.All(ChannelProviders.All, p => Assert.Equal(p.TypeName.ToLowerInvariant(), p.TypeName));
    }

    [Fact]
    public void The_parser_takes_each_providers_keys_and_refuses_another_providers_key()
    {
        var r = ConfigParser.Parse("channels:\n  chat: { type: slack, url: env:X, routingKey: env:Y }\n", "/cfg/incidentops.yml");
        var e = Assert.Single(r.Findings, f => f.Severity == FindingSeverity.Error);
        Assert.Equal("ConfigUnknownKey", e.Code);
        Assert.Contains("'routingKey' under channels.chat", e.Message);
        Assert.Contains("Valid keys: type, url, token, channel, incidentChannel, invite, templates", e.Message);
    }

    [Fact]
    public void Provider_options_land_in_the_channel_with_their_secrecy_and_the_old_properties_still_read()
    {
        var r = ConfigParser.Parse("environments: { production: { services: { api: { platform: none } } } }\nchannels:\n  pager: { type: pagerduty, routingKey: R0utingLiteralK3y, url: 'https://events.eu.pagerduty.com' }\n" +
                                   "  status: { type: statuspage, pageId: pg1, apiKey: env:SP, components: { api: c1 } }\n", "/cfg/incidentops.yml");
        Assert.DoesNotContain(r.Findings, f => f.Severity == FindingSeverity.Error);
        var pager = r.Config!.Channels.Single(c => c.Name == "pager");
        Assert.Equal(ChannelType.PagerDuty, pager.Type);
        Assert.True(pager.RoutingKey!.IsSecret);
        Assert.DoesNotContain("R0utingLiteralK3y", pager.RoutingKey.ToString());
        Assert.DoesNotContain("R0utingLiteralK3y", pager.Endpoint);
        Assert.False(pager.Url!.IsSecret);
        var status = r.Config.Channels.Single(c => c.Name == "status");
        Assert.Equal("c1", status.Components["api"].GetRawUnsafe());
        Assert.Equal("page pg1", status.Endpoint);
    }
}
