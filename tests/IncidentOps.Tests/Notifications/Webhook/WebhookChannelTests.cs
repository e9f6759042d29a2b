using System.Text.Json;
using System.Text.Json.Nodes;
using IncidentOps.Engine.Notifications;
using IncidentOps.Incidents;
using IncidentOps.Notifications;
using Xunit;

namespace IncidentOps.Tests.Notifications;

/// <summary>The generic webhook against its loopback stub, which answers as Fixtures/webhook.json records.</summary>
public class WebhookChannelTests
{
    private static JsonNode Json(CapturedRequest r) => JsonNode.Parse(r.Body)!;

    [Fact]
    [ChannelOperation("webhook", "initial")]
    public async Task Generic_webhook_gets_the_incident_fields_and_a_reset_is_not_retried()
    {
        using var s = new NotificationScenario();
        s.Webhook.ThenReset();
        var inc = await s.CreateIncidentAsync("P3");
        var r = Assert.Single(await s.SendAsync(new IncidentUpdateRequest { IncidentId = inc.Id, Message = "hello", NextUpdateIn = TimeSpan.FromMinutes(20) }));
        Assert.Equal("audit", r.Channel);
        Assert.False(r.Delivered);
        Assert.Equal(1, r.Attempts);
        Assert.Single(s.Webhook.Requests);

        var (engine, _, config) = s.NewEngine();
        var resent = Assert.Single(await engine.Notifications.SendPendingAsync(config, null, null, new IncidentOps.Engine.Incidents.ChangeContext("Send-IncidentUpdate"), CancellationToken.None));
        Assert.True(resent.Delivered, resent.Error);
        var req = s.Webhook.Requests[1];
        Assert.Equal($"{r.UpdateId}-audit", req.Headers["Idempotency-Key"]);
        var body = Json(req);
        Assert.Equal(inc.Id, body["incidentId"]!.GetValue<string>());
        Assert.Equal("Initial", body["kind"]!.GetValue<string>());
        Assert.Equal("P3", body["severity"]!.GetValue<string>());
        Assert.Equal("hello", body["message"]!.GetValue<string>());
        Assert.Contains("hello", body["text"]!.GetValue<string>());
        Assert.NotNull(body["nextUpdateDue"]);
    }
}
