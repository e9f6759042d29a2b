namespace IncidentOps.Engine.Notifications.Slack;

/// <summary>The error ids of the Slack Web API channel (a contract: tests and scripts match on them).</summary>
public static class SlackErrorIds
{
    /// <summary>not_authed, invalid_auth, account_inactive, token_revoked, token_expired: the bot token is missing, wrong or revoked.</summary>
    public const string SlackAuthFailed = "SlackAuthFailed";
    /// <summary>missing_scope: the bot token lacks the scope the method needs (the message names it).</summary>
    public const string SlackMissingScope = "SlackMissingScope";
    /// <summary>name_taken, and the channel of that name was not created for this incident.</summary>
    public const string SlackChannelNameTaken = "SlackChannelNameTaken";
    /// <summary>Any other {"ok": false, "error": ...} answer, or no answer (network, 5xx, rate limit longer than the cap).</summary>
    public const string SlackApiError = "SlackApiError";
    /// <summary>A routed update to a Web API channel that has no `channel` to post to.</summary>
    public const string SlackChannelMissing = "SlackChannelMissing";
    /// <summary>chat.postMessage may have reached Slack (no answer); it is not re-posted without -Force.</summary>
    public const string SlackPostUnknown = "SlackPostUnknown";
}
