using System.Text.Json;
using System.Text.Json.Nodes;
using IncidentOps.Config;
using IncidentOps.Incidents;
using IncidentOps.Notifications;

namespace IncidentOps.Engine.Notifications;

/// <summary>A channel with its references resolved (the values are registered with SecretRedactor).</summary>
public sealed class ResolvedChannel
{
    public required ChannelConfig Config { get; init; }
    public string Name => Config.Name;
    public ChannelType Type => Config.Type;
    public string? Url { get; init; }
    public string? RoutingKey { get; init; }
    public string? PageId { get; init; }
    public string? ApiKey { get; init; }
    /// <summary>Statuspage component ids by service name.</summary>
    public IReadOnlyDictionary<string, string> Components { get; init; } = new Dictionary<string, string>();
}

/// <summary>One HTTP request to a provider, with the provider's retry semantics.</summary>
public sealed class ProviderRequest
{
    public required HttpMethod Method { get; init; }
    public required string Url { get; init; }
    public required string Body { get; init; }
    public Dictionary<string, string> Headers { get; init; } = [];
    /// <summary>True when a retry after a 5xx or a network error cannot duplicate the message (PagerDuty's dedup_key).</summary>
    public bool RetryServerErrors { get; init; }
    /// <summary>Status codes that mean "rate limited, wait and retry" (429; Statuspage also 420).</summary>
    public int[] RateLimitCodes { get; init; } = [429];
}

/// <summary>
/// Builds each provider's native payload, with the field names from the providers' documentation, and
/// enforces their size limits by truncating visibly (an update is never refused for being long).
/// </summary>
public static partial class ProviderPayloads
{
    public const string TruncationMark = "…[truncated]";
    public const string DefaultPagerDutyBase = "https://events.pagerduty.com";
    public const string DefaultStatuspageBase = "https://api.statuspage.io";

    private static readonly JsonSerializerOptions Compact = new() { WriteIndented = false, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static string Truncate(string? text, int max)
    {
        text ??= "";
        if (text.Length <= max) return text;
        return text[..Math.Max(0, max - TruncationMark.Length)] + TruncationMark;
    }

    public static string Header(Incident incident, IncidentUpdate update, Func<string, string>? escape = null)
    {
        var title = escape is null ? incident.Title : escape(incident.Title);
        return update.Kind switch
        {
            NotificationKind.Initial => $"[{incident.Severity}] {title}",
            NotificationKind.Resolved => $"[{incident.Severity}] Resolved: {title}",
            _ => $"[{incident.Severity}] Update: {title}",
        };
    }

    /// <summary>
    /// Slack treats &amp;, &lt; and &gt; as control characters (&lt;!channel&gt;, &lt;@U123&gt;, &lt;http://x|text&gt;) and
    /// documents escaping them as &amp;amp; &amp;lt; &amp;gt; wherever they are not meant for parsing.
    /// </summary>
    public static string SlackEscape(string text) => text.Replace("&", "&amp;").Replace("<", "&lt;").Replace(">", "&gt;");

    /// <summary>
    /// Discord markdown: a backslash before a markup character shows it as text, so [text](url) cannot become a
    /// masked link and &lt;@id&gt;/&lt;#id&gt; stay text; allowed_mentions {parse: []} (on every message) keeps
    /// @everyone, @here and user or role mentions from notifying anyone.
    /// </summary>
    public static string DiscordEscape(string text) => DiscordMarkup().Replace(text, @"\$1");

    /// <summary>
    /// Teams Adaptive Cards: a TextRun (used for the header and the update text) is never parsed as markdown, so
    /// links and mentions in it stay text. FactSet values are markdown and mentions need msteams.entities (never
    /// sent): a zero-width space between "]" and "(" keeps [text](url) from becoming a disguised link, and one
    /// after "&lt;" keeps &lt;at&gt; from reading as a mention tag.
    /// </summary>
    public static string TeamsFactEscape(string text) => text.Replace("](", "]\u200B(").Replace("<", "<\u200B");

    /// <summary>What a person's text goes through before it reaches a channel's template.</summary>
    public static Func<string, string>? EscapeFor(ChannelType type) => type switch
    {
        ChannelType.Slack => SlackEscape,
        ChannelType.Discord => DiscordEscape,
        _ => null,
    };

    [System.Text.RegularExpressions.GeneratedRegex(@"([\\*_~`|\[\]<>#])")]
    private static partial System.Text.RegularExpressions.Regex DiscordMarkup();

    private static List<(string Name, string Value)> Facts(Incident incident, IncidentUpdate update, SeverityLevel? severity, Func<string, string>? escape = null)
    {
        var facts = new List<(string, string)>
        {
            ("Severity", $"{incident.Severity} ({incident.SeverityName ?? severity?.Name ?? incident.Severity})"),
            ("Status", update.Status.ToString()),
            ("Started", NotificationTemplates.FormatTime(incident.StartedAt)),
            ("Duration", Duration.Format(NotificationTemplates.NotNegative((update.Status == IncidentStatus.Resolved ? incident.ResolvedAt ?? update.CreatedAt : update.CreatedAt) - incident.StartedAt))),
        };
        if (update.NextUpdateDue is { } n && update.Status != IncidentStatus.Resolved) facts.Add(("Next update", NotificationTemplates.FormatTime(n)));
        if (!string.IsNullOrWhiteSpace(incident.Impact)) facts.Add(("Impact", escape is null ? incident.Impact! : escape(incident.Impact!)));
        return facts;
    }

    public static ProviderRequest Build(ResolvedChannel channel, Incident incident, IncidentUpdate update, SeverityLevel? severity, string text) => channel.Type switch
    {
        ChannelType.Slack => Slack(channel, incident, update, severity, text),
        ChannelType.Teams => Teams(channel, incident, update, severity, text),
        ChannelType.Discord => Discord(channel, incident, update, severity, text),
        ChannelType.PagerDuty => PagerDuty(channel, incident, update, severity, text),
        ChannelType.Statuspage => Statuspage(channel, incident, update, severity, text),
        _ => Webhook(channel, incident, update, severity, text),
    };

    // Slack incoming webhook: Block Kit blocks plus a top-level text used for notifications and as the fallback.
    // Limits: header text 150, section text 3000, fields 10 of 2000 each.
    public static ProviderRequest Slack(ResolvedChannel channel, Incident incident, IncidentUpdate update, SeverityLevel? severity, string text)
    {
        var fields = new JsonArray();
        foreach (var (name, value) in Facts(incident, update, severity, SlackEscape).Take(10))
            fields.Add(new JsonObject { ["type"] = "mrkdwn", ["text"] = Truncate($"*{name}*\n{value}", 2000) });
        var header = Header(incident, update, SlackEscape);
        var body = new JsonObject
        {
            ["text"] = Truncate($"{header}: {text}", 3000),
            ["blocks"] = new JsonArray
            {
                new JsonObject { ["type"] = "header", ["text"] = new JsonObject { ["type"] = "plain_text", ["text"] = Truncate(header, 150), ["emoji"] = true } },
                new JsonObject { ["type"] = "section", ["fields"] = fields },
                new JsonObject { ["type"] = "section", ["text"] = new JsonObject { ["type"] = "mrkdwn", ["text"] = Truncate(text, 3000) } },
                new JsonObject { ["type"] = "context", ["elements"] = new JsonArray { new JsonObject { ["type"] = "mrkdwn", ["text"] = $"{incident.Id} · {update.Kind} · IncidentOps" } } },
            },
        };
        return Post(channel.Url!, body);
    }

    // Teams Workflows webhook: a message whose attachment is an Adaptive Card 1.4.
    public static ProviderRequest Teams(ResolvedChannel channel, Incident incident, IncidentUpdate update, SeverityLevel? severity, string text)
    {
        var facts = new JsonArray();
        foreach (var (name, value) in Facts(incident, update, severity, TeamsFactEscape)) facts.Add(new JsonObject { ["title"] = name, ["value"] = value });
        // Header and text are TextRuns, which Adaptive Cards never parse as markdown: one RichTextBlock per line.
        static JsonObject Run(string line, JsonObject? style = null)
        {
            var run = new JsonObject { ["type"] = "TextRun", ["text"] = line };
            if (style is not null) foreach (var (k, v) in style) run[k] = v?.DeepClone();
            return new JsonObject { ["type"] = "RichTextBlock", ["inlines"] = new JsonArray { run } };
        }
        var blocks = new JsonArray
        {
            Run(Header(incident, update), new JsonObject { ["weight"] = "Bolder", ["size"] = "Medium", ["color"] = update.Kind == NotificationKind.Resolved ? "Good" : "Attention" }),
            new JsonObject { ["type"] = "FactSet", ["facts"] = facts },
        };
        var gap = true;
        foreach (var line in Truncate(text, 20000).Split('\n'))
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
        return Post(channel.Url!, body);
    }

    // Discord webhook: content <= 2000, <= 10 embeds, title <= 256, description <= 4096, <= 25 fields,
    // field name <= 256 and value <= 1024, footer <= 2048, and all embed text together <= 6000.
    public static ProviderRequest Discord(ResolvedChannel channel, Incident incident, IncidentUpdate update, SeverityLevel? severity, string text)
    {
        var header = Header(incident, update, DiscordEscape);
        var title = Truncate(header, 256);
        var footer = Truncate($"{incident.Id} · IncidentOps", 2048);
        var fieldList = Facts(incident, update, severity, DiscordEscape).Take(25).Select(f => (Name: Truncate(f.Name, 256), Value: Truncate(f.Value, 1024))).ToList();
        var used = title.Length + footer.Length + fieldList.Sum(f => f.Name.Length + f.Value.Length);
        var description = Truncate(text, Math.Min(4096, Math.Max(TruncationMark.Length, 6000 - used)));
        var fields = new JsonArray();
        foreach (var (name, value) in fieldList) fields.Add(new JsonObject { ["name"] = name, ["value"] = value, ["inline"] = true });
        var color = update.Kind == NotificationKind.Resolved ? 0x2EB67D : severity?.Rank switch { 0 => 0xE01E5A, 1 => 0xF2711C, 2 => 0xECB22E, _ => 0x36C5F0 };
        var body = new JsonObject
        {
            ["content"] = Truncate($"**{header}**", 2000),
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
        return Post(url, body);
    }

    public static string DedupKey(Incident incident) => $"incidentops-{incident.Id}";

    public static string PagerDutySeverity(SeverityLevel? severity)
    {
        var s = severity?.PagerDutySeverity?.ToLowerInvariant();
        if (s is "critical" or "error" or "warning" or "info") return s;
        return severity?.Rank switch { 0 => "critical", 1 => "error", 2 => "warning", _ => "info" };
    }

    public static string PagerDutyAction(IncidentUpdate update) => update.Kind switch
    {
        NotificationKind.Resolved => "resolve",
        NotificationKind.Initial => "trigger",
        _ when update.Status is IncidentStatus.Resolved => "resolve",
        _ when update.Status is IncidentStatus.Identified or IncidentStatus.Monitoring => "acknowledge",
        _ => "trigger",
    };

    // PagerDuty Events API v2 (POST /v2/enqueue). The dedup_key is derived from the incident id, so a retry
    // (or a re-trigger) lands on the same alert.
    public static ProviderRequest PagerDuty(ResolvedChannel channel, Incident incident, IncidentUpdate update, SeverityLevel? severity, string text)
    {
        var action = PagerDutyAction(update);
        var body = new JsonObject
        {
            ["routing_key"] = channel.RoutingKey,
            ["event_action"] = action,
            ["dedup_key"] = DedupKey(incident),
        };
        if (action == "trigger")
        {
            var details = new JsonObject { ["incident_id"] = incident.Id, ["status"] = update.Status.ToString(), ["update"] = Truncate(text, 4000) };
            var payload = new JsonObject
            {
                ["summary"] = Truncate($"{Header(incident, update)} - {update.Status}{(string.IsNullOrWhiteSpace(update.Message) ? "" : ": " + update.Message)}", 1024),
                ["source"] = incident.Services.FirstOrDefault() ?? "incidentops",
                ["severity"] = PagerDutySeverity(severity),
                ["timestamp"] = update.CreatedAt.UtcDateTime.ToString("O"),
                ["custom_details"] = details,
            };
            if (incident.Services.Length > 0) payload["component"] = incident.Services[0];
            body["payload"] = payload;
            body["client"] = "IncidentOps";
        }
        return new ProviderRequest
        {
            Method = HttpMethod.Post, Url = PagerDutyBase(channel) + "/v2/enqueue", Body = body.ToJsonString(Compact), RetryServerErrors = true,
        };
    }

    /// <summary>A PagerDuty Change event (POST /v2/change/enqueue), for example a rollback.</summary>
    public static ProviderRequest PagerDutyChange(ResolvedChannel channel, string summary, string source, IReadOnlyDictionary<string, string> details, DateTimeOffset at)
    {
        var custom = new JsonObject();
        foreach (var (k, v) in details) custom[k] = v;
        var body = new JsonObject
        {
            ["routing_key"] = channel.RoutingKey,
            ["payload"] = new JsonObject
            {
                ["summary"] = Truncate(summary, 1024), ["timestamp"] = at.UtcDateTime.ToString("O"), ["source"] = source, ["custom_details"] = custom,
            },
        };
        // Change events have no dedup_key, so a retry after a 5xx could post the change twice: do not.
        return new ProviderRequest { Method = HttpMethod.Post, Url = PagerDutyBase(channel) + "/v2/change/enqueue", Body = body.ToJsonString(Compact) };
    }

    private static string PagerDutyBase(ResolvedChannel channel)
    {
        var b = (channel.Url ?? DefaultPagerDutyBase).TrimEnd('/');
        return b.EndsWith("/v2/enqueue", StringComparison.OrdinalIgnoreCase) ? b[..^"/v2/enqueue".Length] : b;
    }

    public static string StatuspageExternalIdKey(string channel) => $"statuspage:{channel}";

    public static string StatuspageImpact(SeverityLevel? severity)
    {
        var s = severity?.StatuspageImpact?.ToLowerInvariant();
        if (s is "critical" or "major" or "minor" or "none") return s;
        return severity?.Rank switch { 0 => "critical", 1 => "major", 2 => "minor", _ => "none" };
    }

    public static string ComponentStatus(string impact, IncidentStatus status) => status == IncidentStatus.Resolved ? "operational" : impact switch
    {
        "critical" => "major_outage",
        "major" => "partial_outage",
        "minor" => "degraded_performance",
        _ => "operational",
    };

    /// <summary>The top-level metadata key under which IncidentOps records its ids on a Statuspage incident.</summary>
    public const string StatuspageMetadataKey = "incidentops";

    /// <summary>
    /// Component ids for the incident's services. A components key may be a service name (`api`, as in the
    /// README) or `environment/service` (`production/api`, as incidents record services); either matches either.
    /// </summary>
    public static List<string> StatuspageComponentIds(IReadOnlyDictionary<string, string> components, IReadOnlyList<string> services)
    {
        if (components.Count == 0) return [];
        if (services.Count == 0) return components.Values.Distinct().ToList();
        static string Name(string s) => s.Contains('/') ? s[(s.LastIndexOf('/') + 1)..] : s;
        var ids = new List<string>();
        foreach (var service in services)
        {
            if (components.TryGetValue(service, out var exact)) { ids.Add(exact); continue; }
            if (service.Contains('/') && components.TryGetValue(Name(service), out var byName)) { ids.Add(byName); continue; }
            if (!service.Contains('/'))
            {
                var qualified = components.Where(kv => kv.Key.Contains('/') && Name(kv.Key).Equals(service, StringComparison.OrdinalIgnoreCase)).ToList();
                if (qualified.Count == 1) ids.Add(qualified[0].Value);
            }
        }
        return ids.Distinct().ToList();
    }

    /// <summary>
    /// Looks up the Statuspage incident of an IncidentOps incident: GET .../incidents/{id} when its id is known,
    /// else GET .../incidents/unresolved (the incident a concurrent or interrupted create left is unresolved).
    /// </summary>
    public static ProviderRequest StatuspageLookup(ResolvedChannel channel, string? knownId)
    {
        var pages = StatuspageIncidents(channel);
        return new ProviderRequest
        {
            Method = HttpMethod.Get,
            Url = knownId is null ? $"{pages}/unresolved?per_page=100" : $"{pages}/{Uri.EscapeDataString(knownId)}",
            Body = "",
            Headers = { ["Authorization"] = $"OAuth {channel.ApiKey}" },
            RetryServerErrors = true,
            RateLimitCodes = [420, 429],
        };
    }

    private static string StatuspageIncidents(ResolvedChannel channel) =>
        $"{(channel.Url ?? DefaultStatuspageBase).TrimEnd('/')}/v1/pages/{Uri.EscapeDataString(channel.PageId ?? "")}/incidents";

    // Statuspage: POST /v1/pages/{page_id}/incidents on the first update, PATCH .../incidents/{id} after. Each
    // request carries metadata.incidentops {incident_id, update_id}, by which a later send finds the incident
    // and knows whether it already carries an update.
    public static ProviderRequest Statuspage(ResolvedChannel channel, Incident incident, IncidentUpdate update, SeverityLevel? severity, string text)
    {
        var impact = StatuspageImpact(severity);
        var componentIds = StatuspageComponentIds(channel.Components, incident.Services);
        var components = new JsonObject();
        var ids = new JsonArray();
        foreach (var id in componentIds) { components[id] = ComponentStatus(impact, update.Status); ids.Add(id); }
        var inner = new JsonObject
        {
            ["name"] = Truncate(incident.Title, 255),
            ["status"] = update.Status.ToString().ToLowerInvariant(),
            ["body"] = Truncate(text, 25000),
            ["impact_override"] = impact,
        };
        if (componentIds.Count > 0) { inner["component_ids"] = ids; inner["components"] = components; }
        inner["metadata"] = new JsonObject { [StatuspageMetadataKey] = new JsonObject { ["incident_id"] = incident.Id, ["update_id"] = update.UpdateId } };
        var existing = incident.ExternalIds.TryGetValue(StatuspageExternalIdKey(channel.Name), out var spId) ? spId : null;
        if (existing is null) inner["deliver_notifications"] = true;
        var pages = StatuspageIncidents(channel);
        return new ProviderRequest
        {
            Method = existing is null ? HttpMethod.Post : HttpMethod.Patch,
            Url = existing is null ? pages : $"{pages}/{Uri.EscapeDataString(existing)}",
            Body = new JsonObject { ["incident"] = inner }.ToJsonString(Compact),
            Headers = { ["Authorization"] = $"OAuth {channel.ApiKey}" },
            RateLimitCodes = [420, 429],
        };
    }

    // Generic JSON webhook: the incident's fields and the rendered text. Idempotency-Key lets a receiver drop repeats.
    public static ProviderRequest Webhook(ResolvedChannel channel, Incident incident, IncidentUpdate update, SeverityLevel? severity, string text)
    {
        var body = new JsonObject
        {
            ["updateId"] = update.UpdateId,
            ["incidentId"] = incident.Id,
            ["kind"] = update.Kind.ToString(),
            ["severity"] = incident.Severity,
            ["severityName"] = incident.SeverityName ?? severity?.Name,
            ["title"] = incident.Title,
            ["status"] = update.Status.ToString(),
            ["message"] = update.Message,
            ["impact"] = incident.Impact,
            ["startedAt"] = incident.StartedAt.UtcDateTime.ToString("O"),
            ["nextUpdateDue"] = update.NextUpdateDue?.UtcDateTime.ToString("O"),
            ["services"] = new JsonArray(incident.Services.Select(s => (JsonNode?)JsonValue.Create(s)).ToArray()),
            ["text"] = text,
        };
        var request = Post(channel.Url!, body);
        request.Headers["Idempotency-Key"] = $"{update.UpdateId}-{channel.Name}";
        return request;
    }

    private static ProviderRequest Post(string url, JsonObject body) =>
        new() { Method = HttpMethod.Post, Url = url, Body = body.ToJsonString(Compact) };
}
