using System.Text.Json.Nodes;
using IncidentOps.Config;
using IncidentOps.Incidents;
using IncidentOps.Notifications;

namespace IncidentOps.Engine.Notifications.Discord;

/// <summary>
/// Discord webhooks (execute webhook with ?wait=true, so the answer carries the message id). Limits: content
/// &lt;= 2000, &lt;= 10 embeds, title &lt;= 256, description &lt;= 4096, &lt;= 25 fields, field name &lt;= 256 and value
/// &lt;= 1024, footer &lt;= 2048, and all embed text together &lt;= 6000. A 429 carries retry_after in its body.
/// </summary>
public sealed partial class DiscordChannel : ChannelProvider
{
    public override ChannelType Type => ChannelType.Discord;
    public override string TypeName => "discord";
    public override IReadOnlyList<ChannelOption> Options { get; } =
    [
        new(UrlKey, "the webhook URL", Secret: true, Required: true, Example: "env:DISCORD_WEBHOOK", IsUrl: true),
    ];

    public override Func<string, string>? Escape => Markup;

    /// <summary>
    /// Discord markdown: a backslash before a markup character shows it as text, so [text](url) cannot become a
    /// masked link and &lt;@id&gt;/&lt;#id&gt; stay text; allowed_mentions {parse: []} (on every message) keeps
    /// @everyone, @here and user or role mentions from notifying anyone.
    /// </summary>
    public static string Markup(string text) => DiscordMarkup().Replace(text, @"\$1");

    [System.Text.RegularExpressions.GeneratedRegex(@"([\\*_~`|\[\]<>#])")]
    private static partial System.Text.RegularExpressions.Regex DiscordMarkup();

    /// <summary>A 429's body carries retry_after in seconds, fractional ({"retry_after": 0.5, "global": false}).</summary>
    public override TimeSpan? RetryAfter(string body) =>
        double.TryParse(ProviderPayloads.JsonString(body, "retry_after"), System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var s)
            ? TimeSpan.FromSeconds(s) : null;

    public override string? ProviderId(Incident incident, ProviderRequest request, string? responseBody) => ProviderPayloads.JsonString(responseBody, "id");

    public override ProviderRequest Build(ResolvedChannel channel, Incident incident, IncidentUpdate update, SeverityLevel? severity, string text)
    {
        var header = ProviderPayloads.Header(incident, update, Markup);
        var title = ProviderPayloads.Truncate(header, 256);
        var footer = ProviderPayloads.Truncate($"{incident.Id} · IncidentOps", 2048);
        var fieldList = ProviderPayloads.Facts(incident, update, severity, Markup).Take(25)
            .Select(f => (Name: ProviderPayloads.Truncate(f.Name, 256), Value: ProviderPayloads.Truncate(f.Value, 1024))).ToList();
        var used = title.Length + footer.Length + fieldList.Sum(f => f.Name.Length + f.Value.Length);
        var description = ProviderPayloads.Truncate(text, Math.Min(4096, Math.Max(ProviderPayloads.TruncationMark.Length, 6000 - used)));
        var fields = new JsonArray();
        foreach (var (name, value) in fieldList) fields.Add(new JsonObject { ["name"] = name, ["value"] = value, ["inline"] = true });
        var color = update.Kind == NotificationKind.Resolved ? 0x2EB67D : severity?.Rank switch { 0 => 0xE01E5A, 1 => 0xF2711C, 2 => 0xECB22E, _ => 0x36C5F0 };
        var body = new JsonObject
        {
            ["content"] = ProviderPayloads.Truncate($"**{header}**", 2000),
            ["embeds"] = new JsonArray
            {
                new JsonObject
                {
                    ["title"] = title, ["description"] = description, ["color"] = color, ["fields"] = fields,
                    ["footer"] = new JsonObject { ["text"] = footer }, ["timestamp"] = update.CreatedAt.UtcDateTime.ToString("O"),
                },
            },
            ["allowed_mentions"] = new JsonObject { ["parse"] = new JsonArray() },
        };
        var url = channel.Url!;
        url += (url.Contains('?') ? "&" : "?") + "wait=true";
        return ProviderPayloads.Post(url, body);
    }
}
