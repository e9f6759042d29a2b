using System.Text.Json;
using System.Text.Json.Nodes;
using IncidentOps.Engine.Notifications;
using IncidentOps.Incidents;
using IncidentOps.Notifications;
using Xunit;

namespace IncidentOps.Tests.Notifications;

/// <summary>Discord webhooks against their loopback stub, which answers as Fixtures/discord.json records.</summary>
public class DiscordChannelTests
{
    private static JsonNode Json(CapturedRequest r) => JsonNode.Parse(r.Body)!;

    [Fact]
    [ChannelOperation("discord", "initial")]
    public async Task Discord_truncates_visibly_within_its_limits_and_honours_retry_after_in_the_429_body()
    {
        using var s = new NotificationScenario();
        s.Discord.Then(429, "{\"message\":\"You are being rate limited.\",\"retry_after\":0.25,\"global\":false}", ("Content-Type", "application/json"));
        var inc = await s.CreateIncidentAsync("P2", title: new string('T', 400));
        var r = Assert.Single(await s.SendAsync(new IncidentUpdateRequest { IncidentId = inc.Id, Message = new string('x', 9000), Channels = ["ops"] }));
        Assert.True(r.Delivered, r.Error);
        Assert.Equal(2, r.Attempts);
        Assert.Equal(TimeSpan.FromSeconds(0.25), r.RetryWait);
        Assert.Equal("1122334455", r.ProviderId);
        var req = s.Discord.Requests[1];
        Assert.Equal("?wait=true", req.Query);
        var body = Json(req);
        Assert.True(body["content"]!.GetValue<string>().Length <= 2000);
        var embeds = body["embeds"]!.AsArray();
        Assert.InRange(embeds.Count, 1, 10);
        var e = embeds[0]!;
        var title = e["title"]!.GetValue<string>();
        var description = e["description"]!.GetValue<string>();
        Assert.Equal(256, title.Length);
        Assert.EndsWith(ProviderPayloads.TruncationMark, title);
        Assert.EndsWith(ProviderPayloads.TruncationMark, description);
        var fields = e["fields"]!.AsArray();
        Assert.All(fields, f => Assert.True(f!["value"]!.GetValue<string>().Length <= 1024));
        var total = title.Length + description.Length + e["footer"]!["text"]!.GetValue<string>().Length
            + fields.Sum(f => f!["name"]!.GetValue<string>().Length + f["value"]!.GetValue<string>().Length);
        Assert.InRange(total, 1, 6000);
        Assert.Empty(body["allowed_mentions"]!["parse"]!.AsArray());
    }
}
