using System.Text.Json;
using System.Text.Json.Nodes;

namespace IncidentOps.Engine.Notifications.Slack;

/// <summary>
/// The Slack Web API methods the bot channel uses (https://api.slack.com/methods): each call is a POST to
/// https://slack.com/api/&lt;method&gt; with Authorization: Bearer &lt;token&gt; (conversations.list is a GET). Slack answers
/// 200 with {"ok": true, ...} or {"ok": false, "error": "..."} (missing_scope adds "needed"), and 429 with Retry-After
/// when rate limited (tier 2 methods: about 20 a minute), which <see cref="NotificationSender"/> waits out.
/// </summary>
public static class SlackWebApi
{
    public const string DefaultBase = "https://slack.com/api";

    private static string Url(ResolvedChannel channel, string method) =>
        $"{(channel.Url is { Length: > 0 } u ? u : DefaultBase).TrimEnd('/')}/{method}";

    private static ProviderRequest Json(ResolvedChannel channel, string token, string method, JsonObject body, bool idempotent) => new()
    {
        Method = HttpMethod.Post,
        Url = Url(channel, method),
        Body = ProviderPayloads.Json(body),
        Headers = { ["Authorization"] = $"Bearer {token}" },
        RetryServerErrors = idempotent,
    };

    /// <summary>conversations.create {name, is_private: false}: a public channel, so responders can find and join it.</summary>
    public static ProviderRequest CreateChannel(ResolvedChannel channel, string token, string name) =>
        Json(channel, token, "conversations.create", new JsonObject { ["name"] = name, ["is_private"] = false }, idempotent: false);

    /// <summary>conversations.list: one page of the workspace's channels (archived ones too: their names are taken as well).</summary>
    public static ProviderRequest ListChannels(ResolvedChannel channel, string token, string? cursor) => new()
    {
        Method = HttpMethod.Get,
        Url = Url(channel, "conversations.list") + "?types=public_channel%2Cprivate_channel&exclude_archived=false&limit=200"
            + (string.IsNullOrEmpty(cursor) ? "" : "&cursor=" + Uri.EscapeDataString(cursor)),
        Body = "",
        Headers = { ["Authorization"] = $"Bearer {token}" },
        RetryServerErrors = true,
    };

    /// <summary>conversations.setTopic {channel, topic}: seed 002's "Topic: [P1] Service outage - ...".</summary>
    public static ProviderRequest SetTopic(ResolvedChannel channel, string token, string channelId, string topic) =>
        Json(channel, token, "conversations.setTopic", new JsonObject { ["channel"] = channelId, ["topic"] = ProviderPayloads.Truncate(topic, 250) }, idempotent: true);

    /// <summary>conversations.invite {channel, users: "U1,U2"} (up to 1000 ids, comma separated).</summary>
    public static ProviderRequest Invite(ResolvedChannel channel, string token, string channelId, IEnumerable<string> users) =>
        Json(channel, token, "conversations.invite", new JsonObject { ["channel"] = channelId, ["users"] = string.Join(",", users) }, idempotent: true);

    /// <summary>chat.postMessage {channel, text, blocks}: text is the notification and fallback, blocks the message.</summary>
    public static ProviderRequest PostMessage(ResolvedChannel channel, string token, string channelId, JsonObject message)
    {
        var body = new JsonObject { ["channel"] = channelId };
        foreach (var (k, v) in message) body[k] = v?.DeepClone();
        return Json(channel, token, "chat.postMessage", body, idempotent: false);
    }

    /// <summary>pins.add channel=&amp;timestamp= (Slack documents this method for application/x-www-form-urlencoded only).</summary>
    public static ProviderRequest Pin(ResolvedChannel channel, string token, string channelId, string ts) => new()
    {
        Method = HttpMethod.Post,
        Url = Url(channel, "pins.add"),
        Body = $"channel={Uri.EscapeDataString(channelId)}&timestamp={Uri.EscapeDataString(ts)}",
        Headers = { ["Authorization"] = $"Bearer {token}" },
        RetryServerErrors = true,
        ContentType = "application/x-www-form-urlencoded",
    };

    /// <summary>conversations.archive {channel}.</summary>
    public static ProviderRequest Archive(ResolvedChannel channel, string token, string channelId) =>
        Json(channel, token, "conversations.archive", new JsonObject { ["channel"] = channelId }, idempotent: true);

    /// <summary>True when the body is a Web API answer with "ok": false.</summary>
    public static bool IsRefusal(string? body) => ErrorCode(body) is not null;

    /// <summary>The "error" of an {"ok": false} answer, or null.</summary>
    public static string? ErrorCode(string? body)
    {
        if (string.IsNullOrWhiteSpace(body) || !body.TrimStart().StartsWith('{')) return null;
        try
        {
            using var doc = JsonDocument.Parse(body);
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("ok", out var ok) || ok.ValueKind != JsonValueKind.False) return null;
            return root.TryGetProperty("error", out var e) && e.ValueKind == JsonValueKind.String ? e.GetString() : "unknown_error";
        }
        catch (JsonException) { return null; }
    }

    /// <summary>
    /// The error id and message of a refused or failed call: Slack's error code mapped to what to do about it. The
    /// message never holds the token (the request's Authorization header is never shown).
    /// </summary>
    public static (string ErrorId, string Message) Describe(string channelName, string method, DeliveryOutcome outcome)
    {
        var code = ErrorCode(outcome.ResponseBody);
        if (code is null)
            return (SlackErrorIds.SlackApiError, $"Slack {method} for channel '{channelName}' failed: {outcome.Error}");
        var needed = ProviderPayloads.JsonString(outcome.ResponseBody, "needed");
        return code switch
        {
            "not_authed" or "invalid_auth" or "account_inactive" or "token_revoked" or "token_expired" or "not_allowed_token_type" =>
                (SlackErrorIds.SlackAuthFailed,
                    $"Slack refused the bot token of channel '{channelName}' ({method}: {code}). Check channels.{channelName}.token: it must be a bot token (xoxb-...) of an app installed in the workspace."),
            "missing_scope" =>
                (SlackErrorIds.SlackMissingScope,
                    $"The Slack app of channel '{channelName}' lacks the scope {needed ?? "(Slack did not say which)"} that {method} needs. Add it under OAuth & Permissions, reinstall the app, and retry."),
            _ => (SlackErrorIds.SlackApiError, $"Slack refused {method} for channel '{channelName}': {code}."),
        };
    }
}
