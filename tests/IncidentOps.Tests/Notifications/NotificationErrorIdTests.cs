using IncidentOps.Engine.Notifications;
using IncidentOps.Notifications;
using Xunit;

namespace IncidentOps.Tests.Notifications;

/// <summary>Sending an update where the configuration cannot say where or how: no routing for the severity, a broken template.</summary>
public class NotificationErrorIdTests
{
    [Fact]
    public async Task An_update_for_a_severity_without_routing_and_no_Channel_is_ChannelNotRouted_and_nothing_is_written()
    {
        using var s = new NotificationScenario();
        File.WriteAllText(s.ConfigPath, File.ReadAllText(s.ConfigPath).Replace("\n  P3: [audit]", "", StringComparison.Ordinal));
        Assert.DoesNotContain("P3:", File.ReadAllText(s.ConfigPath));
        var inc = await s.CreateIncidentAsync("P3");
        var ex = await Assert.ThrowsAsync<IncidentOpsException>(() => s.SendAsync(new IncidentUpdateRequest { IncidentId = inc.Id, Message = "m" }));
        Assert.Equal(NotificationErrorIds.ChannelNotRouted, ex.ErrorId);
        Assert.Contains("No channel is routed for severity P3", ex.Message);
        Assert.Contains("Add routing.P3: [channel, ...] or pass -Channel.", ex.Message);
        Assert.Empty(s.OutboxFiles(inc.Id));
        Assert.Empty(s.Webhook.Requests);
    }

    [Fact]
    public async Task A_channel_template_that_does_not_parse_is_NotificationTemplateInvalid_and_nothing_is_sent()
    {
        using var s = new NotificationScenario("  custom: { type: webhook, url: file:hook.url, templates: { initial: 'NEW {{ if severity }} unclosed' } }");
        var inc = await s.CreateIncidentAsync("P2");
        var ex = await Assert.ThrowsAsync<IncidentOpsException>(() => s.SendAsync(new IncidentUpdateRequest { IncidentId = inc.Id, Channels = ["custom"], Message = "m" }));
        Assert.Equal(NotificationErrorIds.TemplateInvalid, ex.ErrorId);
        Assert.Contains("The initial template of channel 'custom' does not parse", ex.Message);
        Assert.Contains("Fix channels.custom.templates in the configuration.", ex.Message);
        Assert.Empty(s.Webhook.Requests);
    }
}
