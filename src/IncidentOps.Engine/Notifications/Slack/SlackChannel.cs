using System.Text.Json.Nodes;
using IncidentOps.Config;
using IncidentOps.Incidents;
using IncidentOps.Notifications;

namespace IncidentOps.Engine.Notifications.Slack;

/// <summary>
/// Slack incoming webhooks (https://api.slack.com/messaging/webhooks): Block Kit blocks plus a top-level text used
/// for notifications and as the fallback. Success: any 2xx ("ok"). Not idempotent: a repeat posts twice.
/// </summary>
public sealed class SlackChannel : ChannelProvider
{
    public override ChannelType Type => ChannelType.Slack;
    public override string TypeName => "slack";
    public override IReadOnlyList<ChannelOption> Options { get; } =
    [
        new(UrlKey, "the incoming-webhook URL", Secret: true, Required: true, Example: "env:WEBHOOK_URL", IsUrl: true),
    ];

    public override Func<string, string>? Escape => Markup;

    /// <summary>
    /// Slack treats &amp;, &lt; and &gt; as control characters (&lt;!channel&gt;, &lt;@U123&gt;, &lt;http://x|text&gt;) and
    /// documents escaping them as &amp;amp; &amp;lt; &amp;gt; wherever they are not meant for parsing.
    /// </summary>
    public static string Markup(string text) => text.Replace("&", "&amp;").Replace("<", "&lt;").Replace(">", "&gt;");

    // Limits: header text 150, section text 3000, fields 10 of 2000 each.
    public override ProviderRequest Build(ResolvedChannel channel, Incident incident, IncidentUpdate update, SeverityLevel? severity, string text)
    {
        var fields = new JsonArray();
        foreach (var (name, value) in ProviderPayloads.Facts(incident, update, severity, Markup).Take(10))
            fields.Add(new JsonObject { ["type"] = "mrkdwn", ["text"] = ProviderPayloads.Truncate($"*{name}*\n{value}", 2000) });
        var header = ProviderPayloads.Header(incident, update, Markup);
        var body = new JsonObject
        {
            ["text"] = ProviderPayloads.Truncate($"{header}: {text}", 3000),
            ["blocks"] = new JsonArray
            {
                new JsonObject { ["type"] = "header", ["text"] = new JsonObject { ["type"] = "plain_text", ["text"] = ProviderPayloads.Truncate(header, 150), ["emoji"] = true } },
                new JsonObject { ["type"] = "section", ["fields"] = fields },
                new JsonObject { ["type"] = "section", ["text"] = new JsonObject { ["type"] = "mrkdwn", ["text"] = ProviderPayloads.Truncate(text, 3000) } },
                new JsonObject { ["type"] = "context", ["elements"] = new JsonArray { new JsonObject { ["type"] = "mrkdwn", ["text"] = $"{incident.Id} · {update.Kind} · IncidentOps" } } },
            },
        };
        return ProviderPayloads.Post(channel.Url!, body);
    }
}
