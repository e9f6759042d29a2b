using System.Text.Json.Nodes;
using IncidentOps.Config;
using IncidentOps.Incidents;
using IncidentOps.Notifications;

namespace IncidentOps.Engine.Notifications.Slack;

/// <summary>
/// Slack, two ways. With `url` only: an incoming webhook (https://api.slack.com/messaging/webhooks), Block Kit blocks
/// plus a top-level text used for notifications and as the fallback; success is any 2xx ("ok"). With `token`: the
/// Web API as a bot (https://api.slack.com/web), chat.postMessage to `channel` with Authorization: Bearer, success
/// is {"ok": true}; and with `incidentChannel`, the incident's own channel (<see cref="SlackIncidentChannel"/>).
/// Not idempotent: a repeat posts twice.
/// </summary>
public sealed class SlackChannel : ChannelProvider
{
    public const string TokenKey = "token";
    public const string ChannelKey = "channel";
    public const string IncidentChannelKey = "incidentChannel";
    public const string InviteKey = "invite";

    public override ChannelType Type => ChannelType.Slack;
    public override string TypeName => "slack";
    public override IReadOnlyList<ChannelOption> Options { get; } =
    [
        new(UrlKey, $"the incoming-webhook URL; with a token, the Web API base (default {SlackWebApi.DefaultBase})", Secret: true, Example: "env:WEBHOOK_URL", IsUrl: true),
        new(TokenKey, "a bot token (xoxb-...) for the Web API, sent as Authorization: Bearer", Secret: true, Example: "secret:SlackBotToken"),
        new(ChannelKey, "with a token: the channel id (C0123456789) routed updates are posted to with chat.postMessage", Example: "C0123456789"),
        new(IncidentChannelKey, "with a token: the name pattern of the incident's own channel, created by New-Incident and archived by Close-Incident (e.g. incident-{yyyy}-{MM}-{dd}-{NNN})"),
        new(InviteKey, "with a token: the Slack user ids invited to the incident's channel", Shape: ChannelOptionShape.List),
    ];

    public override IReadOnlyList<string> Operations { get; } =
        ["initial", "update", "resolved", "channel-create", "channel-invite", "channel-post", "channel-pin", "channel-archive"];

    public override Func<string, string>? Escape => Markup;

    /// <summary>
    /// Slack treats &amp;, &lt; and &gt; as control characters (&lt;!channel&gt;, &lt;@U123&gt;, &lt;http://x|text&gt;) and
    /// documents escaping them as &amp;amp; &amp;lt; &amp;gt; wherever they are not meant for parsing.
    /// </summary>
    public static string Markup(string text) => text.Replace("&", "&amp;").Replace("<", "&lt;").Replace(">", "&gt;");

    /// <summary>True when the channel talks to the Web API with a bot token (not a webhook).</summary>
    public static bool IsBot(ChannelConfig channel) => channel.Option(TokenKey) is not null;

    public override string Endpoint(ChannelConfig channel) => IsBot(channel)
        ? $"Web API{(channel.Option(ChannelKey) is { } c ? $" {c}" : "")}{(channel.Option(IncidentChannelKey) is { } p ? $", incident channel {p}" : "")}"
        : base.Endpoint(channel);

    public override IEnumerable<ChannelOptionProblem> CheckOptions(IReadOnlyDictionary<string, ConfigValue> values,
        IReadOnlyDictionary<string, IReadOnlyDictionary<string, ConfigValue>> maps)
    {
        var bot = values.ContainsKey(TokenKey);
        if (!bot && !values.ContainsKey(UrlKey))
            yield return new(null, Config.ConfigErrorIds.ConfigMissingField,
                "needs a url (an incoming webhook, for example: url: env:WEBHOOK_URL) or a token (a bot token for the Web API, for example: token: secret:SlackBotToken).");
        if (!bot)
        {
            foreach (var key in new[] { ChannelKey, IncidentChannelKey, InviteKey })
                if (values.ContainsKey(key) || maps.ContainsKey(key))
                    yield return new(key, Config.ConfigErrorIds.ConfigMissingField,
                        $"'{key}' needs the Web API: add a bot token (token: secret:SlackBotToken); an incoming webhook cannot create channels or choose where it posts.");
            yield break;
        }
        if (!values.ContainsKey(ChannelKey) && !values.ContainsKey(IncidentChannelKey))
            yield return new(null, Config.ConfigErrorIds.ConfigMissingField,
                "has a token but nowhere to post: add channel (the channel id routed updates go to, for example: channel: C0123456789) or incidentChannel (a name pattern, for example: incidentChannel: incident-{yyyy}-{MM}-{dd}-{NNN}).");
        if (values.TryGetValue(IncidentChannelKey, out var pattern) && !pattern.IsReference && SlackChannelName.Problem(pattern.GetRawUnsafe()) is { } problem)
            yield return new(IncidentChannelKey, Config.ConfigErrorIds.ConfigInvalidName, problem);
    }

    // Limits: header text 150, section text 3000, fields 10 of 2000 each.
    public override ProviderRequest Build(ResolvedChannel channel, Incident incident, IncidentUpdate update, SeverityLevel? severity, string text)
    {
        var body = Blocks(incident, update, severity, text);
        if (channel.Get(TokenKey) is not { } token) return ProviderPayloads.Post(channel.Url!, body);
        var target = channel.Get(ChannelKey)
            ?? throw new IncidentOpsException(SlackErrorIds.SlackChannelMissing, IncidentOpsErrorCategory.InvalidData,
                $"Channel '{channel.Name}' (slack, Web API) has no 'channel' to post routed updates to; it posts only in the incident's own channel. " +
                $"Add channels.{channel.Name}.channel: C0123456789, or leave '{channel.Name}' out of routing.");
        return SlackWebApi.PostMessage(channel, token, target, body);
    }

    /// <summary>The Block Kit message of an update (a webhook body, or chat.postMessage's text and blocks).</summary>
    internal static JsonObject Blocks(Incident incident, IncidentUpdate update, SeverityLevel? severity, string text)
    {
        var fields = new JsonArray();
        foreach (var (name, value) in ProviderPayloads.Facts(incident, update, severity, Markup).Take(10))
            fields.Add(new JsonObject { ["type"] = "mrkdwn", ["text"] = ProviderPayloads.Truncate($"*{name}*\n{value}", 2000) });
        var header = ProviderPayloads.Header(incident, update, Markup);
        return new JsonObject
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
    }

    /// <summary>A webhook answers 2xx "ok"; the Web API answers 200 with {"ok": false, "error": ...} when it refused.</summary>
    public override bool IsSuccess(int status, string body) => status is >= 200 and < 300 && !SlackWebApi.IsRefusal(body);

    /// <summary>chat.postMessage's ts (the message's id in its channel).</summary>
    public override string? ProviderId(Incident incident, ProviderRequest request, string? responseBody) =>
        request.Url.EndsWith("/chat.postMessage", StringComparison.Ordinal) ? ProviderPayloads.JsonString(responseBody, "ts") : null;
}
