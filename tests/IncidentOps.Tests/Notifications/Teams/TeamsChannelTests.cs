using System.Text.Json;
using System.Text.Json.Nodes;
using IncidentOps.Engine.Notifications;
using IncidentOps.Incidents;
using IncidentOps.Notifications;
using Xunit;

namespace IncidentOps.Tests.Notifications;

/// <summary>Microsoft Teams (Workflows webhook) against its loopback stub, which answers as Fixtures/teams.json records.</summary>
public class TeamsChannelTests
{
    private static JsonNode Json(CapturedRequest r) => JsonNode.Parse(r.Body)!;

    [Fact]
    [ChannelOperation("teams", "initial")]
    public async Task Teams_gets_an_Adaptive_Card_1_4_in_the_attachments_envelope_and_a_200_error_body_is_a_failure()
    {
        using var s = new NotificationScenario();
        var inc = await s.CreateIncidentAsync("P0");
        var ok = Assert.Single(await s.SendAsync(new IncidentUpdateRequest { IncidentId = inc.Id, Message = "m", Channels = ["teams"] }));
        Assert.True(ok.Delivered, ok.Error);
        Assert.Equal(202, ok.StatusCode);
        var body = Json(Assert.Single(s.Teams.Requests));
        Assert.Equal("message", body["type"]!.GetValue<string>());
        var att = Assert.Single(body["attachments"]!.AsArray())!;
        Assert.Equal("application/vnd.microsoft.card.adaptive", att["contentType"]!.GetValue<string>());
        var card = att["content"]!;
        Assert.Equal("AdaptiveCard", card["type"]!.GetValue<string>());
        Assert.Equal("1.4", card["version"]!.GetValue<string>());
        Assert.Equal("http://adaptivecards.io/schemas/adaptive-card.json", card["$schema"]!.GetValue<string>());
        var types = card["body"]!.AsArray().Select(b => b!["type"]!.GetValue<string>()).ToList();
        Assert.Equal(["RichTextBlock", "FactSet"], types.Take(2));
        Assert.All(types.Skip(2), t => Assert.Equal("RichTextBlock", t));
        Assert.Equal("[P0] Checkout returns 502", card["body"]![0]!["inlines"]![0]!["text"]!.GetValue<string>());
        Assert.Equal("TextRun", card["body"]![0]!["inlines"]![0]!["type"]!.GetValue<string>());

        s.Teams.Then(200, "Microsoft Teams endpoint returned HTTP error 413 with ContextId tcid=0");
        var bad = Assert.Single(await s.SendAsync(new IncidentUpdateRequest { IncidentId = inc.Id, Message = "m2", Channels = ["teams"] }));
        Assert.False(bad.Delivered);
        Assert.Equal(200, bad.StatusCode);
        Assert.Equal(1, bad.Attempts);
        Assert.Contains("HTTP error 413", bad.Error);
    }
}
