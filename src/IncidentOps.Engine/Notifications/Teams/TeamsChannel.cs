using System.Text.Json.Nodes;
using IncidentOps.Config;
using IncidentOps.Incidents;
using IncidentOps.Notifications;

namespace IncidentOps.Engine.Notifications.Teams;

/// <summary>
/// Microsoft Teams Workflows webhooks: a message whose attachment is an Adaptive Card 1.4. Success: 202, or a
/// 2xx whose body reports no error (a 200 with an error body is a failure). Not idempotent.
/// </summary>
public sealed class TeamsChannel : ChannelProvider
{
    public override ChannelType Type => ChannelType.Teams;
    public override string TypeName => "teams";
    public override IReadOnlyList<ChannelOption> Options { get; } =
    [
        new(UrlKey, "the Workflows webhook URL", Secret: true, Required: true, Example: "env:TEAMS_WORKFLOW_URL", IsUrl: true),
    ];

    /// <summary>
    /// Teams Adaptive Cards: a TextRun (used for the header and the update text) is never parsed as markdown, so
    /// links and mentions in it stay text. FactSet values are markdown and mentions need msteams.entities (never
    /// sent): a zero-width space between "]" and "(" keeps [text](url) from becoming a disguised link, and one
    /// after "&lt;" keeps &lt;at&gt; from reading as a mention tag.
    /// </summary>
    public static string FactEscape(string text) => text.Replace("](", "]\u200B(").Replace("<", "<\u200B");

    public override bool IsSuccess(int status, string body)
    {
        if (status is < 200 or >= 300) return false;
        if (status == 202) return true;
        return string.IsNullOrWhiteSpace(body) || body.Trim() == "1" ||
               !(body.Contains("error", StringComparison.OrdinalIgnoreCase) || body.Contains("fail", StringComparison.OrdinalIgnoreCase));
    }

    public override ProviderRequest Build(ResolvedChannel channel, Incident incident, IncidentUpdate update, SeverityLevel? severity, string text)
    {
        var facts = new JsonArray();
        foreach (var (name, value) in ProviderPayloads.Facts(incident, update, severity, FactEscape)) facts.Add(new JsonObject { ["title"] = name, ["value"] = value });
        // Header and text are TextRuns, which Adaptive Cards never parse as markdown: one RichTextBlock per line.
        static JsonObject Run(string line, JsonObject? style = null)
        {
            var run = new JsonObject { ["type"] = "TextRun", ["text"] = line };
            if (style is not null) foreach (var (k, v) in style) run[k] = v?.DeepClone();
            return new JsonObject { ["type"] = "RichTextBlock", ["inlines"] = new JsonArray { run } };
        }
        var blocks = new JsonArray
        {
            Run(ProviderPayloads.Header(incident, update), new JsonObject { ["weight"] = "Bolder", ["size"] = "Medium", ["color"] = update.Kind == NotificationKind.Resolved ? "Good" : "Attention" }),
            new JsonObject { ["type"] = "FactSet", ["facts"] = facts },
        };
        var gap = true;
        foreach (var line in ProviderPayloads.Truncate(text, 20000).Split('\n'))
        {
            if (string.IsNullOrWhiteSpace(line)) { gap = true; continue; }
            var block = Run(line);
            block["spacing"] = gap ? "Medium" : "None";
            gap = false;
            blocks.Add(block);
        }
        var card = new JsonObject
        {
            ["$schema"] = "http://adaptivecards.io/schemas/adaptive-card.json",
            ["type"] = "AdaptiveCard",
            ["version"] = "1.4",
            ["body"] = blocks,
        };
        var body = new JsonObject
        {
            ["type"] = "message",
            ["attachments"] = new JsonArray { new JsonObject { ["contentType"] = "application/vnd.microsoft.card.adaptive", ["contentUrl"] = null, ["content"] = card } },
        };
        return ProviderPayloads.Post(channel.Url!, body);
    }
}
